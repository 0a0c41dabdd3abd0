"""The `sign2gpt` command: one subcommand per module in `sign2gpt.commands`.

Each command module keeps its top-level imports light (no torch) so that `--help` is fast,
and defines `add_arguments(parser)` and `run(args) -> int`. Its docstring is the help text.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sign2gpt import __version__
from sign2gpt.errors import Sign2GPTError

# name -> module under sign2gpt.commands, in the order `--help` lists them.
COMMANDS: dict[str, str] = {
    "synth": "synth",
    "data": "data",
    "pose": "pose",
    "glosses": "glosses",
    "lm": "lm",
    "info": "info",
    "config": "config",
    "pretrain": "pretrain",
    "train": "train",
    "extract": "extract",
    "evaluate": "evaluate",
    "translate": "translate",
    "export": "export",
    "localize": "localize",
    "score": "score",
    "serve": "serve",
    "demo": "demo",
}


class OneLineParser(argparse.ArgumentParser):
    """A bad option is one line and exit 2 (the usage is in `--help`), not a usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="sign2gpt",
        description="Sign2GPT: gloss-free sign language translation with a frozen LLM.",
    )
    parser.add_argument("--version", action="version", version=f"sign2gpt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"sign2gpt.commands.{module_name}")
        doc = (module.__doc__ or "").strip()
        command = sub.add_parser(
            name,
            help=doc.partition("\n")[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except Sign2GPTError as exc:
        print(f"sign2gpt {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"sign2gpt {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
