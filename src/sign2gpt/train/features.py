"""Sign(Z)2GPT: the frozen stage-1 features Z of a split, extracted once and trained on.

`sign2gpt extract` runs the stage-1 spatial model and sign encoder over every video of a split
and writes the features as safetensors shards; `train` with `features=DIR` then trains only
the decoder adapters and the linear before the decoder, with no video decoding at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from sign2gpt.data import DataConfig, EvaluationBatches, build_dataset
from sign2gpt.errors import DataError
from sign2gpt.inference.trained import TrainedModel
from sign2gpt.io import atomic_path, write_json

SHARD_VIDEOS = 500


@dataclass
class FeatureRecord:
    id: str
    text: str
    where: str


@dataclass
class FeatureBatch:
    """Padded stage-1 features: (B, T', D) with mask (B, T'), plus texts and ids."""

    features: torch.Tensor
    mask: torch.Tensor
    texts: list[str]
    ids: list[str]

    def to(self, device: torch.device | str) -> FeatureBatch:
        return FeatureBatch(self.features.to(device), self.mask.to(device), self.texts, self.ids)

    def __len__(self) -> int:
        return len(self.ids)


def index_file(folder: str | Path, split: str) -> Path:
    return Path(folder) / f"{split}.json"


def extract_features(
    trained: TrainedModel, split: str, out: str | Path, *, skip_bad: bool = False
) -> Path:
    """Write the features of every video of `split` under `out`; returns the index file."""
    out = Path(out)
    dataset = build_dataset(trained.cfg.data, split, skip_bad=skip_bad, augment=False)
    videos: dict[str, dict[str, str]] = {}
    shard: dict[str, torch.Tensor] = {}
    shard_number = 0

    def flush() -> None:
        nonlocal shard, shard_number
        if shard:
            name = f"{split}-{shard_number:05d}.safetensors"
            with atomic_path(out / name) as tmp:
                save_file(shard, str(tmp))
            shard, shard_number = {}, shard_number + 1

    batches = EvaluationBatches(dataset)
    with torch.no_grad():
        for batch in tqdm(batches, desc=f"extracting {split}", unit="batch"):
            features, mask = trained.encode(batch.frames, batch.mask)
            for i, video_id in enumerate(batch.ids):
                shard[video_id] = features[i][mask[i]].float().cpu().contiguous()  # (T'_i, D)
                name = f"{split}-{shard_number:05d}.safetensors"
                videos[video_id] = {"shard": name, "text": batch.texts[i]}
                if len(shard) >= SHARD_VIDEOS:
                    flush()
    flush()
    index = index_file(out, split)
    write_json(
        index,
        {"split": split, "checkpoint": str(trained.path.resolve()), "dim": features.size(-1),
         "videos": videos},
    )  # fmt: skip
    return index


class FeatureDataset(Dataset):
    """The extracted features of one split, held in memory (they are small)."""

    def __init__(self, cfg: DataConfig, folder: str | Path, split: str):
        self.cfg = cfg
        path = index_file(folder, split)
        if not path.is_file():
            raise DataError(path, f"no features for split {split!r}; run `sign2gpt extract`")
        try:
            index = json.loads(path.read_text(encoding="utf-8"))
            videos = index["videos"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(path, f"not a feature index ({exc})") from None
        self.index_path = path
        self.source = index.get("checkpoint")  # the stage-1 checkpoint that wrote them
        self.records = [FeatureRecord(i, v["text"], f"{path}:{i}") for i, v in videos.items()]
        self.features = {}
        for shard in sorted({v["shard"] for v in videos.values()}):
            try:
                with safe_open(str(Path(folder) / shard), framework="pt") as handle:
                    self.features.update({k: handle.get_tensor(k) for k in handle.keys()})  # noqa: SIM118
            except (SafetensorError, OSError) as exc:
                raise DataError(Path(folder) / shard, f"unreadable feature shard ({exc})") from None

    def __len__(self) -> int:
        return len(self.records)

    @property
    def lengths(self) -> list[int]:
        return [len(self.features[r.id]) for r in self.records]

    def set_epoch(self, epoch: int, seed: int = 0) -> None:
        """Features are fixed: nothing is random per epoch."""

    def __getitem__(self, index: int) -> tuple[torch.Tensor, FeatureRecord]:
        record = self.records[index]
        return self.features[record.id], record


def check_feature_source(init: str | None, features: FeatureDataset) -> None:
    """The run must start from the checkpoint that wrote the features: its checkpoint keeps
    that visual side, so translating videos with it gives the features the decoder learned on.
    """
    source = features.source
    if source and (init is None or Path(init).resolve() != Path(source).resolve()):
        raise DataError(
            features.index_path,
            f"these features come from {source}; start the run from it (--init {source}) "
            "so that its checkpoint encodes videos as they were encoded here",
        )


def collate_features(items: list[tuple[torch.Tensor, FeatureRecord]]) -> FeatureBatch:
    lengths = torch.tensor([len(f) for f, _ in items])
    features = torch.nn.utils.rnn.pad_sequence([f for f, _ in items], batch_first=True)
    mask = torch.arange(features.size(1))[None] < lengths[:, None]
    return FeatureBatch(features, mask, [r.text for _, r in items], [r.id for _, r in items])
