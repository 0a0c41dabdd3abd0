"""The `README.md` model card of an exported folder, written from its manifest.

The YAML front matter uses the Hugging Face Hub's model-card keys (licence, language, tags,
library), so the folder can be uploaded as it is and the hub shows the card.
"""

from __future__ import annotations

from typing import Any

LANGUAGES = {"de": "German", "zh": "Chinese"}


def model_card(manifest: dict[str, Any]) -> str:
    """Markdown model card: what the model is, its training data, metrics, provenance, files."""
    cfg = manifest["config"]
    data, model, text = cfg["data"], cfg["model"], cfg["text"]
    lang = text["lang"]
    lines = [
        "---",
        f"license: {manifest['licence']}",
        "library_name: sign2gpt",
        f"language: [{lang}]",
        "tags: [sign-language-translation, sign2gpt, gloss-free]",
        "---",
        "",
        f"# Sign2GPT: {cfg['name']}",
        "",
        "A gloss-free sign language translation model (Sign2GPT, ICLR 2024): a per-frame ViT",
        "with LoRA, a local-attention sign encoder and a frozen LM with LoRA and zero-gated",
        f"cross-attention. It translates videos into {LANGUAGES.get(lang, lang)} text.",
        "",
        "## Use",
        "",
        "```python",
        "from sign2gpt import Translator",
        'translator = Translator.from_pretrained("path/to/this/folder")',
        'print(translator.translate("clip.mp4").text)',
        "```",
        "",
        "or `sign2gpt translate --model path/to/this/folder clip.mp4`.",
        "",
        "## Training data",
        "",
        f"- corpus format: `{data['format']}`, root `{data['root']}`",
        f"- trained on split `{data['train_split']}`, selected on `{data['dev_split']}`",
        f"- language: {lang}; frames resized to {data['resize']}, cropped to {data['crop']}, "
        f"stride {data['frame_stride']}",
        f"- LM family: `{model['decoder']['family']}`; stage-1 pseudo-gloss head included: "
        f"{'yes' if manifest['stage1'] else 'no'}",
        "",
        "## Metrics (from the training run)",
        "",
    ]
    lines += _metric_lines(manifest["metrics"])
    lines += [
        "",
        "## Provenance",
        "",
        f"- exported: {manifest['created']} with sign2gpt {manifest['sign2gpt_version']}",
        f"- commit: {manifest['commit'] or 'unknown (not a git checkout)'}",
        f"- weights stored as {manifest['dtype']}",
        f"- licence: {manifest['licence']}",
        "",
        "## Files",
        "",
        "| file | sha256 |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | `{digest}` |" for name, digest in manifest["files"].items()]
    for part, entry in manifest["pretrained"].items():
        lines += ["", f"Referenced pretrained {part} weights (not copied): `{entry['path']}`"]
        lines += [f"- `{path}`: `{digest}`" for path, digest in entry["sha256"].items()]
    return "\n".join(lines) + "\n"


def _metric_lines(metrics: dict[str, Any]) -> list[str]:
    selection = metrics.get("selection", {})
    lines = []
    if selection.get("value") is not None:
        lines.append(
            f"- best {selection['metric']}: {selection['value']:.2f} (epoch {selection['epoch']})"
        )
    for split, result in metrics.get("evaluate", {}).items():
        scores = ", ".join(f"{k} {result[k]:.2f}" for k in ("bleu4", "rouge_l") if k in result)
        lines.append(f"- `sign2gpt evaluate` on {split}: {scores}")
    return lines or ["- none recorded"]
