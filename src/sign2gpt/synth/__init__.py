"""SynthSign: a procedural signing avatar that turns gloss sequences into Phoenix14T-layout videos.

Pieces, one job each: `grammar` (our own weather-report sentences for the `small` size),
`sources` (the real Phoenix14T text for `full`), `recipes` (each gloss's fixed sign recipe),
`signers` (the 9 signers), `motion` (timing, co-articulation, camera), `render` (numpy avatar),
`png` (a fast PNG encoder) and `writer` (the corpus on disk).
"""
