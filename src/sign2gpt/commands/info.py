"""Show a model config's parameter counts per part (the paper's Table 1b).

The model is built on the `meta` device from the config's `model:` section alone, so no
weights are read and no memory is used even for the full 1.7B-parameter model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# Table 1a: the Phoenix14T pseudo-gloss vocabulary, used for pretrain configs by default.
DEFAULT_NUM_GLOSSES = 2533


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, required=True, help="YAML config file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--num-glosses",
        type=int,
        default=DEFAULT_NUM_GLOSSES,
        help="pseudo-gloss vocabulary size for a pretrain config (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    import torch

    from sign2gpt.config import load_config
    from sign2gpt.models import Sign2GPT, model_config_from_dict

    data = load_config(args.config)
    cfg = model_config_from_dict(data.get("model"), where=f"{args.config}:model")
    with torch.device("meta"):
        model = Sign2GPT(cfg, num_glosses=args.num_glosses)
    counts = model.parameter_counts()
    if args.json:
        print(json.dumps(counts))
        return 0
    print(f"{args.config} (stage: {cfg.stage})")
    print(f"{'part':<16}{'params':>16}{'trainable':>16}")
    for part, count in counts.items():
        print(f"{part:<16}{count['params']:>16,}{count['trainable']:>16,}")
    return 0
