"""The gloss-to-text reference of the SynthSign benchmark (BENCHMARK.md section 1).

The same frozen LM with the same adapters as Sign2GPT stage 2 (LoRA + gated cross-attention,
sinusoidal position encoding + linear), fed the ground-truth gloss sequence of each sentence
instead of video features: an `nn.Embedding` over the training glosses gives one `sign_dim`
feature per gloss, in sign order. It bounds what the decoder side can do when the visual side
is perfect. Training is stage 2's exactly: `TranslateModule` (label-smoothed cross-entropy),
`TranslateTask` (best dev BLEU-4), the engine `Trainer`, the same config file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.loggers import CSVLogger
from torch import nn

from sign2gpt.checkpoint import load_checkpoint, load_model_tensors
from sign2gpt.config import to_dict
from sign2gpt.data import LengthGroupedBatchSampler
from sign2gpt.data.readers.phoenix import corpus_file
from sign2gpt.devices import parse_device
from sign2gpt.errors import CheckpointError, DataError
from sign2gpt.generation import GenerationSettings
from sign2gpt.inference.decoding import generate_split
from sign2gpt.inference.evaluation import evaluation_folder, write_evaluation
from sign2gpt.inference.trained import load_tokenizer
from sign2gpt.io import write_json
from sign2gpt.models.config import ModelConfig
from sign2gpt.models.decoder import build_decoder
from sign2gpt.models.tokenizer import TextTokenizer
from sign2gpt.output_paths import check_output_folder
from sign2gpt.run_config import RunConfig, run_config_from_dict
from sign2gpt.train.engine import EpochData, Progress, Trainer, make_fabric
from sign2gpt.train.run_dir import RunDir
from sign2gpt.train.translate_stage import TranslateModule, TranslateTask

UNKNOWN = "<unk>"  # glosses never seen in training (row 0 of the embedding)
VOCAB_FILE = "gloss_vocab.json"


@dataclass(frozen=True)
class GlossSentence:
    """One corpus row: its id, gloss sequence (sign order) and translation."""

    id: str
    glosses: tuple[str, ...]
    text: str


def read_gloss_sentences(root: str | Path, split: str) -> list[GlossSentence]:
    """The `name`, `orth` and `translation` columns of a Phoenix14T-layout corpus CSV."""
    path = corpus_file(Path(root), split)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DataError(path, "corpus file does not exist") from None
    rows = list(csv.DictReader(lines, delimiter="|", quoting=csv.QUOTE_NONE))
    if not rows or not {"name", "orth", "translation"} <= set(rows[0]):
        raise DataError(path, "no rows with the columns name, orth and translation")
    return [GlossSentence(r["name"], tuple(r["orth"].split()), r["translation"]) for r in rows]


class GlossVocab:
    """Training glosses -> embedding rows (0 = unknown)."""

    def __init__(self, glosses: Sequence[str]):
        self.words = [UNKNOWN, *glosses]
        self.index = {g: i for i, g in enumerate(self.words)}

    @classmethod
    def from_sentences(cls, sentences: Sequence[GlossSentence]) -> GlossVocab:
        return cls(sorted({g for s in sentences for g in s.glosses}))

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, glosses: Sequence[str]) -> list[int]:
        return [self.index.get(g, 0) for g in glosses]

    def save(self, path: Path) -> None:
        write_json(path, {"glosses": self.words[1:]})

    @classmethod
    def load(cls, path: str | Path) -> GlossVocab:
        path = Path(path)
        try:
            return cls(json.loads(path.read_text(encoding="utf-8"))["glosses"])
        except (OSError, ValueError, KeyError) as exc:
            raise DataError(path, f"not a gloss vocabulary ({exc})") from None


@dataclass
class GlossBatch:
    """Gloss ids (B, S) right-padded with mask (B, S), plus the sentences and ids."""

    gloss_ids: torch.Tensor
    mask: torch.Tensor
    texts: list[str]
    ids: list[str]

    def to(self, device: torch.device) -> GlossBatch:
        return GlossBatch(self.gloss_ids.to(device), self.mask.to(device), self.texts, self.ids)

    def __len__(self) -> int:
        return len(self.ids)


def collate_glosses(sentences: Sequence[GlossSentence], vocab: GlossVocab) -> GlossBatch:
    encoded = [vocab.encode(s.glosses) for s in sentences]
    length = max(len(e) for e in encoded)
    ids = torch.zeros(len(encoded), length, dtype=torch.long)  # (B, S)
    mask = torch.zeros(len(encoded), length, dtype=torch.bool)
    for row, e in enumerate(encoded):
        ids[row, : len(e)] = torch.tensor(e)
        mask[row, : len(e)] = True
    return GlossBatch(ids, mask, [s.text for s in sentences], [s.id for s in sentences])


def training_batches(
    sentences: Sequence[GlossSentence], vocab: GlossVocab, batch_size: int, seed: int,
    group_batches: int,
) -> EpochData:  # fmt: skip
    """Stage 2's batching (length-grouped, order from (seed, epoch)) over gloss sequences."""
    sampler = LengthGroupedBatchSampler(
        [len(s.glosses) for s in sentences], batch_size, seed=seed, group_batches=group_batches
    )

    def batches(epoch: int, start: int) -> Iterator[GlossBatch]:
        sampler.set_epoch(epoch)
        for indices in list(sampler)[start:]:
            yield collate_glosses([sentences[i] for i in indices], vocab)

    return EpochData(steps_per_epoch=len(sampler), loader=batches)


def evaluation_batches(
    sentences: Sequence[GlossSentence], vocab: GlossVocab, batch_size: int
) -> list[GlossBatch]:
    """Fixed-order, length-sorted batches of a split."""
    sampler = LengthGroupedBatchSampler(
        [len(s.glosses) for s in sentences], batch_size, shuffle=False
    )
    return [collate_glosses([sentences[i] for i in indices], vocab) for indices in sampler]


class GlossToText(nn.Module):
    """Gloss embedding -> the stage-2 decoder (frozen LM + adapters)."""

    def __init__(self, cfg: ModelConfig, num_glosses: int, dropout: float = 0.1):
        super().__init__()
        self.cfg = cfg
        self.gloss_embedding = nn.Embedding(num_glosses, cfg.decoder.sign_dim)
        self.dropout = nn.Dropout(dropout)
        self.decoder = build_decoder(cfg.decoder)
        for name, param in self.named_parameters():
            param.requires_grad_(self.is_trainable(name))

    def is_trainable(self, name: str) -> bool:
        """The embedding trains; in the decoder only what trains in stage 2."""
        part, _, rest = name.partition(".")
        return part != "decoder" or self.decoder.is_trainable(rest)

    def load_pretrained(self) -> None:
        if self.cfg.decoder.pretrained is not None:
            self.decoder.load_pretrained(self.cfg.decoder.pretrained)

    def embed(self, gloss_ids: torch.Tensor) -> torch.Tensor:
        """(B, S) gloss ids -> (B, S, sign_dim) features."""
        return self.dropout(self.gloss_embedding(gloss_ids))

    def checkpoint_tensors(self) -> dict[str, torch.Tensor]:
        """Trainable tensors, plus the frozen LM when no pretrained folder provides it."""
        frozen_external = self.cfg.decoder.pretrained is not None
        return {
            k: v
            for k, v in self.state_dict().items()
            if self.is_trainable(k) or not (frozen_external and k.startswith("decoder."))
        }


class GlossToTextModule(TranslateModule):
    """Stage 2's module with gloss embeddings in place of the video encoder."""

    def __init__(self, model: GlossToText, tokenizer: TextTokenizer, label_smoothing: float = 0.1):
        super().__init__(model, (), tokenizer, label_smoothing)  # (): no video transforms

    def sign_features(self, batch: GlossBatch) -> tuple[torch.Tensor, torch.Tensor]:
        batch = batch.to(self.device)
        return self.model.embed(batch.gloss_ids), batch.mask


class GlossToTextTask(TranslateTask):
    """Stage 2's task (best dev BLEU-4); checkpoints hold the gloss model's tensors."""

    def checkpoint_tensors(self, model: nn.Module) -> dict[str, torch.Tensor]:
        return model.model.checkpoint_tensors()

    def load_tensors(self, tensors: dict[str, torch.Tensor], path: str) -> None:
        model = self.model.model
        load_model_tensors(model, tensors, path, expected=model.checkpoint_tensors())


def build_gloss_to_text(cfg: RunConfig, vocab: GlossVocab) -> GlossToTextModule:
    """The module for a stage-2 config (its decoder, tokenizer and label smoothing)."""
    model = GlossToText(cfg.model, len(vocab))
    model.load_pretrained()
    return GlossToTextModule(model, load_tokenizer(cfg), cfg.train.label_smoothing)


def train_gloss_to_text(cfg: RunConfig, run: RunDir) -> Progress:
    """Train the reference on `cfg.data.root`'s gloss sequences with stage-2 config `cfg`."""
    fabric = make_fabric(cfg.train, [CSVLogger(run.logs, name="csv")])
    return fabric.launch(_train_process, cfg, run)


def _train_process(fabric, cfg: RunConfig, run: RunDir) -> Progress:
    fabric.seed_everything(cfg.train.seed)
    train = read_gloss_sentences(cfg.data.root, cfg.data.train_split)
    dev = read_gloss_sentences(cfg.data.root, cfg.data.dev_split)
    vocab = GlossVocab.from_sentences(train)
    vocab_path = run.root / VOCAB_FILE
    vocab.save(vocab_path)
    module = build_gloss_to_text(cfg, vocab)
    t = cfg.train
    task = GlossToTextTask(
        module,
        evaluation_batches(dev, vocab, cfg.data.batch_size),
        lang=cfg.text.lang,
        epochs=t.epochs,
        bleu_every=t.bleu_every,
        generation=t.generation,
        selection=t.translate_selection,
        convention=t.bleu_convention,
    )
    group = cfg.data.group_batches if cfg.data.length_grouping else 1
    data = training_batches(train, vocab, cfg.data.batch_size, t.seed, group)
    meta = {"config": to_dict(cfg), "stage": "gloss_to_text", "gloss_vocab": str(vocab_path)}
    return Trainer(t, run, task, data, fabric, meta=meta).fit()


def load_gloss_to_text(
    checkpoint: str | Path, device: str = "cpu"
) -> tuple[GlossToTextModule, GlossVocab, RunConfig]:
    """Rebuild a trained reference (eval mode) from its checkpoint."""
    ckpt = load_checkpoint(checkpoint)
    if ckpt.meta.get("stage") != "gloss_to_text":
        raise CheckpointError(checkpoint, "is not a gloss-to-text checkpoint")
    cfg = run_config_from_dict(ckpt.meta["config"], where=f"{checkpoint}:config")
    vocab = GlossVocab.load(ckpt.meta["gloss_vocab"])
    module = build_gloss_to_text(cfg, vocab)
    load_model_tensors(
        module.model, ckpt.model, checkpoint, expected=module.model.checkpoint_tensors()
    )
    return module.to(parse_device(device)).eval(), vocab, cfg


def evaluate_gloss_to_text(
    checkpoint: str | Path,
    split: str,
    *,
    out: str | Path | None = None,
    generation: GenerationSettings | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Translate the gloss sequences of `split` and score them (like `evaluate_checkpoint`)."""
    check_output_folder(evaluation_folder(checkpoint, out))
    module, vocab, cfg = load_gloss_to_text(checkpoint, device)
    sentences = read_gloss_sentences(cfg.data.root, split)
    batches = evaluation_batches(sentences, vocab, cfg.data.batch_size)
    with torch.no_grad():
        ids, hyps, refs = generate_split(module, batches, generation or GenerationSettings())
    return write_evaluation(
        checkpoint,
        split,
        out,
        ids=ids,
        hypotheses=hyps,
        references=refs,
        lang=cfg.text.lang,
        extra={"sentences": len(ids)},
        convention=cfg.train.bleu_convention,
    )
