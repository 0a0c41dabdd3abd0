"""`DataConfig`: where a corpus lives, how its frames are sampled, and how they are augmented.

The `data:` section of a YAML config is built into this dataclass with
`sign2gpt.config.from_dict(DataConfig, section, where="<file>:data")`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sign2gpt.data.keypoints.config import KeypointAugmentation

DataFormat = Literal["phoenix14t", "csl-daily", "manifest"]


@dataclass
class DataConfig:
    """Corpus location, frame sampling, augmentation strengths and loader settings.

    Relative paths (`root`, `cache_dir`) are relative to the current working directory;
    `manifest` and `features_dir` are relative to `root`.
    """

    format: DataFormat = "phoenix14t"
    root: str = ""
    # Manifest file (CSV or JSONL) relative to `root`; `{split}` in the name is replaced by
    # the split, otherwise the manifest needs a `split` column.
    manifest: str | None = None
    manifest_format: Literal["auto", "csv", "jsonl"] = "auto"
    csv_delimiter: str = ","
    # Frame folder relative to `root`; None = the format's standard place.
    features_dir: str | None = None
    train_split: str = "train"
    dev_split: str = "dev"
    test_split: str = "test"
    extra_splits: list[str] = field(default_factory=list)

    # Temporal sampling (SPEC: every 2nd frame, at most 256 frames after the stride).
    frame_stride: int = 2
    max_frames: int = 256
    min_frames: int = 2
    # Training: random first frame in [0, temporal_shift] and random last frame in
    # [N - 1 - end_shift, N - 1] (the authors' code: [0, 3] and [N - 5, N - 1]).
    temporal_shift: int = 4
    end_shift: int = 0
    # Clips longer than max_frames after the stride: "even" = evenly spaced frames; "random"
    # = a random sorted subset (the authors' code), also at evaluation, where it is seeded
    # by the video's index so that dev / test scores are reproducible.
    long_clip_sampling: Literal["even", "random"] = "even"

    # Spatial sizes: frames are resized to resize x resize when loaded, then cropped to crop.
    resize: int = 256
    crop: int = 224
    # Evaluation frames: "crop" = the centre crop x crop of the resize x resize frame; "squash"
    # = the whole frame resized to crop x crop (the authors' code).
    eval_resize: Literal["crop", "squash"] = "crop"

    # Training augmentation (evaluation only resizes): one random resized crop + rotation +
    # flip warp, then colour jitter and grayscale, all with one set of parameters per video.
    # spatial_augmentation false: training frames get the evaluation transform too (short runs
    # on synthetic video learn faster without it; see configs/synth-small).
    spatial_augmentation: bool = True
    crop_scale_min: float = 0.7  # random resized crop keeps this share of the area, up to 1
    crop_ratio_min: float = 3 / 4  # ... with an aspect ratio (w / h) in [min, max]
    crop_ratio_max: float = 4 / 3
    rotation_degrees: float = 5.0  # rotation angle in [-x, x] ...
    rotation_prob: float = 1.0  # ... on this share of the videos
    flip_prob: float = 0.5  # horizontal flip
    color_jitter: float = 0.2  # brightness, contrast, saturation factors in [1 - x, 1 + x]
    hue_jitter: float = 0.0  # hue shift in [-x, x] of the colour circle
    color_jitter_prob: float = 1.0  # share of the videos that get the colour jitter (and hue)
    grayscale_prob: float = 0.0  # share of the videos turned grey (after the jitter)
    # Keypoint corpora (`model.spatial.kind: pose`) get these instead (docs/pose.md).
    keypoint_augmentation: KeypointAugmentation = field(default_factory=KeypointAugmentation)

    # Loader.
    batch_size: int = 8
    num_workers: int = 4
    length_grouping: bool = True
    group_batches: int = 50

    # Decoded-frame cache (`sign2gpt data cache`); None = no cache.
    cache_dir: str | None = None
    use_cache: bool = True

    allow_absolute_paths: bool = False

    def __post_init__(self) -> None:
        if not self.root:
            raise ValueError("root: the corpus folder must be set")
        if self.format == "manifest" and not self.manifest:
            raise ValueError("manifest: format 'manifest' needs the manifest file name")
        if len(self.csv_delimiter) != 1:
            raise ValueError(f"csv_delimiter: expected one character, got {self.csv_delimiter!r}")
        splits = self.all_splits
        if any(not s for s in splits) or len(set(splits)) != len(splits):
            raise ValueError(f"split names must be non-empty and distinct, got {splits}")
        _check_at_least("frame_stride", self.frame_stride, 1)
        _check_at_least("max_frames", self.max_frames, 1)
        _check_at_least("min_frames", self.min_frames, 1)
        _check_at_least("temporal_shift", self.temporal_shift, 0)
        _check_at_least("crop", self.crop, 8)
        if self.resize < self.crop:
            raise ValueError(f"resize ({self.resize}) must be at least crop ({self.crop})")
        _check_at_least("end_shift", self.end_shift, 0)
        if not 0.0 <= self.color_jitter < 1.0:
            raise ValueError(f"color_jitter: expected 0 <= x < 1, got {self.color_jitter}")
        if not 0.0 <= self.hue_jitter <= 0.5:
            raise ValueError(f"hue_jitter: expected 0 <= x <= 0.5, got {self.hue_jitter}")
        if not 0.0 < self.crop_scale_min <= 1.0:
            raise ValueError(f"crop_scale_min: expected 0 < x <= 1, got {self.crop_scale_min}")
        if not 0.0 < self.crop_ratio_min <= self.crop_ratio_max:
            raise ValueError(
                f"crop_ratio_min, crop_ratio_max: expected 0 < min <= max, got "
                f"{self.crop_ratio_min}, {self.crop_ratio_max}"
            )
        if not 0.0 <= self.rotation_degrees <= 45.0:
            raise ValueError(
                f"rotation_degrees: expected 0..45 (a small rotation), got {self.rotation_degrees}"
            )
        for name in ("flip_prob", "rotation_prob", "color_jitter_prob", "grayscale_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}: expected a probability, got {getattr(self, name)}")
        _check_at_least("batch_size", self.batch_size, 1)
        _check_at_least("num_workers", self.num_workers, 0)
        _check_at_least("group_batches", self.group_batches, 1)

    @property
    def all_splits(self) -> list[str]:
        """Every split this corpus has, in order: train, dev, test, then the extra ones."""
        return [self.train_split, self.dev_split, self.test_split, *self.extra_splits]


def _check_at_least(name: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise ValueError(f"{name}: expected at least {minimum}, got {value}")
