"""Serve a web page to try a model: upload or record a video, see the translation.

The page (Gradio; `pip install 'sign2gpt[web]'`) shows the translation, when each pseudo-gloss
was signed, every beam with its score and the time each step took. Requests queue on one
loaded model. The first test clips of the corpus the model was trained on (its `data.root`),
when that is on this machine, are one click away. See docs/web.md.

Example:
  sign2gpt serve --checkpoint runs/.../checkpoints/best.safetensors
  sign2gpt serve --model my-model --port 8080          (a folder from `sign2gpt export`)
"""

from __future__ import annotations

import argparse

from sign2gpt.commands.options import add_device, add_model_arguments, model_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, "stage-2")
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--beams", type=int, default=4, help="default beam size (default: 4)")
    parser.add_argument(
        "--max-new-tokens", type=int, default=64, help="longest output (default: 64)"
    )
    parser.add_argument("--examples", type=int, default=3, help="test clips shown (default: 3)")
    add_device(parser)


def run(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from sign2gpt.errors import ConfigError

    check_options(args)
    try:
        from sign2gpt.web.page import build_page
    except ImportError as exc:  # gradio is the optional extra `[web]`
        raise ConfigError(f"serve needs Gradio: pip install 'sign2gpt[web]' ({exc})") from None
    from sign2gpt.inference.translator import Translator
    from sign2gpt.web.examples import example_clips
    from sign2gpt.web.session import WebTranslator

    translator = Translator.from_pretrained(model_path(args), device=args.device)
    service = WebTranslator(translator, args.beams, args.max_new_tokens)
    work = Path(tempfile.mkdtemp(prefix="sign2gpt-serve-"))
    examples = example_clips(translator.model.cfg.data, work, args.examples)
    page = build_page(service, examples)
    print(f"sign2gpt serve: http://{args.host}:{args.port} (Ctrl+C stops)", flush=True)
    page.launch(
        server_name=args.host, server_port=args.port, allowed_paths=[str(work)], quiet=True
    )
    return 0


def check_options(args: argparse.Namespace) -> None:
    """Bad options fail before the model loads."""
    from sign2gpt.errors import CheckpointError, ConfigError

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port: {args.port} is not a port (1-65535)")
    if args.beams < 1 or args.max_new_tokens < 1 or args.examples < 0:
        raise ConfigError("--beams and --max-new-tokens must be >= 1, --examples >= 0")
    if not model_path(args).exists():
        raise CheckpointError(model_path(args), "does not exist")
