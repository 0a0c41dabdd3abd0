"""`sign2gpt evaluate`: beam-search translations of a split, scored and written to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sign2gpt.data import build_dataset
from sign2gpt.devices import resolve_device
from sign2gpt.errors import CheckpointError
from sign2gpt.generation import GenerationSettings
from sign2gpt.inference.predict import translate_dataset
from sign2gpt.inference.trained import load_trained
from sign2gpt.io import write_json, write_text
from sign2gpt.metrics import BleuConvention, translation_scores
from sign2gpt.output_paths import check_output_folder


def evaluate_checkpoint(
    checkpoint: str | Path,
    split: str,
    *,
    out: str | Path | None = None,
    generation: GenerationSettings | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    skip_bad: bool = False,
) -> dict[str, Any]:
    """Translate `split` with the checkpoint's model and score it; returns the scores JSON."""
    generation = generation or GenerationSettings()
    device = resolve_device(device)
    out = check_output_folder(evaluation_folder(checkpoint, out))  # before the work, not after
    trained = load_trained(checkpoint, device)
    if trained.cfg.stage != "translate":
        raise CheckpointError(checkpoint, "is a stage-1 checkpoint; evaluate needs stage 2")
    dataset = build_dataset(trained.cfg.data, split, skip_bad=skip_bad, augment=False)
    results = list(translate_dataset(trained, dataset, generation, batch_size=batch_size))
    results.sort(key=lambda r: r.id)
    extra = {
        "videos": len(results),
        "num_beams": generation.num_beams,
        "max_new_tokens": generation.max_new_tokens,
        "seconds_per_video": sum(r.seconds for r in results) / max(len(results), 1),
    }
    return write_evaluation(
        checkpoint,
        split,
        out,
        ids=[r.id for r in results],
        hypotheses=[r.text for r in results],
        references=[r.reference for r in results],
        lang=trained.cfg.text.lang,
        extra=extra,
        convention=trained.cfg.train.bleu_convention,
    )


def evaluation_folder(checkpoint: str | Path, out: str | Path | None) -> Path:
    """Where an evaluation is written: `out`, by default <run>/eval for a checkpoint file and
    DIR-eval beside an exported model folder DIR (so the model folder stays as exported)."""
    if out:
        return Path(out)
    checkpoint = Path(checkpoint).resolve()
    if checkpoint.is_dir():
        return checkpoint.parent / f"{checkpoint.name}-eval"
    return checkpoint.parent.parent / "eval"


def write_evaluation(
    checkpoint: str | Path,
    split: str,
    out: str | Path | None,
    *,
    ids: list[str],
    hypotheses: list[str],
    references: list[str],
    lang: str,
    extra: dict[str, Any],
    convention: BleuConvention | None = None,
) -> dict[str, Any]:
    """Score a split's translations and write hypotheses, references, ids and the scores JSON
    to `out` (default: <run>/eval); returns the scores JSON. `convention`: the BLEU
    tokenisation and smoothing (the run's `train.bleu_tokenize` / `bleu_smooth`)."""
    scores = translation_scores(hypotheses, references, lang=lang, convention=convention)
    out = evaluation_folder(checkpoint, out)
    files = {
        "hypotheses": out / f"{split}.hyp.txt",
        "references": out / f"{split}.ref.txt",
        "ids": out / f"{split}.ids.txt",
        "scores": out / f"{split}.json",
    }
    for key, lines in (("hypotheses", hypotheses), ("references", references), ("ids", ids)):
        write_text(files[key], "".join(line + "\n" for line in lines))
    result = {
        **scores,
        "split": split,
        "checkpoint": str(checkpoint),
        **extra,
        "files": {k: str(v) for k, v in files.items()},
    }
    write_json(files["scores"], result)
    return result

