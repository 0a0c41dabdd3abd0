"""The synthetic benchmark's LLM stand-in: a tokenizer and a small LM trained on text only.

BENCHMARK.md: "a small XGLM-architecture decoder (same code path as XGLM-1.7B) with its own
tokenizer, both trained on the training translations only, then frozen". The architecture is
the config's `decoder.family` (XGLM by default; `llama` / `qwen2` give a stand-in of theirs).
The result is saved as that family's Hugging Face folder (config.json + model.safetensors +
tokenizer), so stage 2 loads it through exactly the path that loads the real LM
(`model.decoder.pretrained`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tqdm.auto import tqdm

from sign2gpt.io import atomic_path, write_json
from sign2gpt.models.config import DecoderConfig
from sign2gpt.models.decoder import build_decoder
from sign2gpt.models.tokenizer import TextTokenizer
from sign2gpt.train.schedule import one_cycle_cosine
from sign2gpt.train.teacher_forcing import IGNORE, teacher_forcing_batch


@dataclasses.dataclass
class LMTraining:
    """Settings of the stand-in LM's text-only training."""

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    seed: int = 0


def train_language_model(
    texts: Sequence[str],
    cfg: DecoderConfig,
    out_dir: str | Path,
    settings: LMTraining | None = None,
    progress: bool = True,
) -> DecoderConfig:
    """Train tokenizer + causal LM on `texts`, save both to `out_dir`; return the LM config.

    Args:
        texts: training sentences (the training translations only).
        cfg: decoder architecture; `vocab_size` is an upper bound for the tokenizer.
        out_dir: the Hugging Face style folder to write.
        settings: optimisation settings.
        progress: show a progress bar.
    """
    settings = settings or LMTraining()
    torch.manual_seed(settings.seed)
    tokenizer = TextTokenizer.train(texts, cfg.vocab_size)
    cfg = dataclasses.replace(
        cfg,
        vocab_size=tokenizer.vocab_size,
        bos_id=tokenizer.bos_id,
        eos_id=tokenizer.eos_id,
        pad_id=tokenizer.pad_id,
        pretrained=None,
    )
    model = build_decoder(cfg)
    base = [p for n, p in model.named_parameters() if not model.is_trainable(n)]
    for param in model.parameters():
        param.requires_grad_(False)
    for param in base:
        param.requires_grad_(True)
    encoded = [tokenizer.encode(t)[: cfg.max_positions - 1] for t in texts]
    steps_per_epoch = math.ceil(len(encoded) / settings.batch_size)
    optimizer = torch.optim.AdamW(base, lr=settings.lr, weight_decay=settings.weight_decay)
    total = settings.epochs * steps_per_epoch
    scheduler = one_cycle_cosine(optimizer, total, round(settings.warmup_fraction * total))
    generator = torch.Generator().manual_seed(settings.seed)
    model.train()
    bar = tqdm(total=total, desc="stand-in LM", disable=not progress, dynamic_ncols=True)
    for _ in range(settings.epochs):
        order = torch.randperm(len(encoded), generator=generator).tolist()
        for start in range(0, len(order), settings.batch_size):
            batch = [encoded[i] for i in order[start : start + settings.batch_size]]
            inputs, labels = teacher_forcing_batch(batch, cfg.bos_id, cfg.eos_id, cfg.pad_id)
            logits = model(inputs, (labels != IGNORE).long())
            loss = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(base, 1.0)
            optimizer.step()
            scheduler.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    # The LM only: adapters are added on top of it by every model that loads this folder.
    state = {n: t for n, t in model.state_dict().items() if not model.is_trainable(n)}
    save_hf_folder(out_dir, model.hf_config(), state)
    tokenizer.save(out_dir)
    return dataclasses.replace(cfg, pretrained=Path(out_dir))


def save_hf_folder(out_dir: str | Path, config: dict, state: dict[str, torch.Tensor]) -> None:
    """Write config.json + model.safetensors (the layout of `transformers`' `save_pretrained`)."""
    out_dir = Path(out_dir)
    write_json(out_dir / "config.json", config)
    tensors = {name: tensor.detach().contiguous() for name, tensor in state.items()}
    with atomic_path(out_dir / "model.safetensors") as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt"})
