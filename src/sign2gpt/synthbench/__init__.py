"""The synthetic benchmark and demo: SynthSign corpora, the stand-in LM and ViT, the
gloss-to-text reference, video reliance and the pipeline `sign2gpt demo` and `bench/` share.

It may import `sign2gpt.train`; nothing in `sign2gpt.train` imports it.
"""
