"""Export a stage-2 checkpoint as a self-contained model folder (safetensors + JSON only).

The folder holds the resolved config, every weight the model needs (the frozen pretrained
ones too, unless --reference-pretrained), the tokenizer, the stage-1 pseudo-gloss head and
vocabulary (for localization) and a README.md model card with the run's metrics and every
file's sha256. It keeps working after the run folders and the LM / ViT folders are deleted
or the folder is moved; it can be uploaded to a model hub as it is.

Example:
  sign2gpt export --checkpoint runs/.../checkpoints/best.safetensors --out my-model
  sign2gpt translate --model my-model clip.mp4
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", type=Path, required=True, help="stage-2 checkpoint")
    parser.add_argument("--out", type=Path, required=True, help="new (or empty) model folder")
    parser.add_argument(
        "--dtype",
        choices=("fp32", "bf16", "fp16"),
        default="fp32",
        help="how weights are stored (default: %(default)s; bf16/fp16 halve the size)",
    )
    parser.add_argument(
        "--reference-pretrained",
        action="store_true",
        help="record the pretrained ViT / LM files (paths + sha256) instead of copying them",
    )
    parser.add_argument(
        "--licence",
        default="other",
        help="model card licence field, a model-hub licence id (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    from sign2gpt.inference.export import export_model

    out = export_model(
        args.checkpoint,
        args.out,
        dtype=args.dtype,
        reference_pretrained=args.reference_pretrained,
        licence=args.licence,
    )
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({size / 2**20:.1f} MiB)")
    return 0
