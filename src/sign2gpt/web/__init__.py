"""`sign2gpt serve`: a web page (Gradio) over one `Translator`.

`session` and `examples` are plain Python (no Gradio); only `page` imports Gradio, and only
`sign2gpt serve` imports `page`, so `import sign2gpt` never loads it.
"""
