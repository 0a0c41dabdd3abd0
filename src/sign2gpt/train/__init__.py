"""Training, evaluation and the demo (Lightning Fabric). Imported only by the CLI commands."""
