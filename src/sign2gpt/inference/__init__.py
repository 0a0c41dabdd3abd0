"""Inference on trained models: loading checkpoints, decoding, translation and localization
over datasets, evaluation. Part of the model library: it never imports the training stack."""
