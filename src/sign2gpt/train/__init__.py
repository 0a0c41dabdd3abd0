"""Training (Lightning Fabric): run setup, the engine, the two stage modules, warm start."""
