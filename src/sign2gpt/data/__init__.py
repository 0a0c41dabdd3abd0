"""Data layer: corpus readers, frame decoding, batching, length-grouped sampling, augmentation.

Phoenix14T, CSL-Daily and manifest corpora all give the same `Sample`; batches are padded
`VideoBatch`es; `VideoTransform` augments a whole batch on CPU or GPU.
"""

from sign2gpt.data.batch import Sample, VideoBatch, collate_samples
from sign2gpt.data.config import DataConfig
from sign2gpt.data.dataset import VideoDataset, build_dataset
from sign2gpt.data.loader import EvaluationBatches, build_dataloader
from sign2gpt.data.sampler import LengthGroupedBatchSampler
from sign2gpt.data.transforms import IMAGENET_MEAN, IMAGENET_STD, VideoTransform

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "DataConfig",
    "EvaluationBatches",
    "LengthGroupedBatchSampler",
    "Sample",
    "VideoBatch",
    "VideoDataset",
    "VideoTransform",
    "build_dataloader",
    "build_dataset",
    "collate_samples",
]
