"""Subcommands of the `sign2gpt` CLI (see `sign2gpt.cli`)."""
