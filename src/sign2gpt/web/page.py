"""The Gradio page of `sign2gpt serve` (the only module that imports Gradio)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from sign2gpt.web.session import PageResult, WebTranslator

# Gradio's way to ask for a progress bar: a gr.Progress default on the handler.
PROGRESS = gr.Progress()

INTRO = """# Sign2GPT
Upload a sign language video (MP4, WebM, AVI, MKV, MOV) or record one with your webcam, then
**Translate**. Below the sentence: when each pseudo-gloss was signed, every beam with its
score, and how long each step took."""


def build_page(service: WebTranslator, examples: list[Path]) -> gr.Blocks:
    """The page; every request runs on `service`'s one model, one request at a time."""
    with gr.Blocks(title="Sign2GPT", analytics_enabled=False) as page:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=1):
                upload = gr.File(
                    label="Video file", type="filepath", file_count="single", elem_id="upload"
                )
                webcam = gr.Video(
                    label="Or record one", sources=["webcam"],
                    webcam_options=gr.WebcamOptions(mirror=False),
                    include_audio=False, elem_id="webcam",
                )  # fmt: skip
                most = max(8, service.num_beams)
                beams = gr.Slider(1, most, value=service.num_beams, step=1, label="Beams")
                button = gr.Button("Translate", variant="primary", elem_id="translate")
                if examples:
                    gr.Examples(
                        [[str(clip)] for clip in examples], inputs=[upload],
                        label="Test clips of the model's corpus (click one, then Translate)",
                    )  # fmt: skip
            with gr.Column(scale=2):
                text = gr.Textbox(label="Translation", interactive=False, elem_id="translation")
                # Always shown (empty when all is well): API callers get a plain string.
                error = gr.Textbox(label="Error", interactive=False, elem_id="error")
                timeline = gr.Image(label="Pseudo-gloss timeline", type="pil", interactive=False)
                glosses = gr.Dataframe(
                    headers=["pseudo-gloss", "start (s)", "end (s)", "peak"],
                    label="When each pseudo-gloss was signed", interactive=False,
                )
                found = gr.Dataframe(
                    headers=["beam", "sentence", "score"], label="Beams (best first)",
                    interactive=False,
                )  # fmt: skip
                timings = gr.Dataframe(
                    headers=["step", "seconds"], label="Time per step", interactive=False
                )
        outputs = [text, error, timeline, glosses, found, timings]

        def translate_file(video: str | None, num_beams: float, progress=PROGRESS):
            result = service.run(video, int(num_beams), lambda f, desc: progress(f, desc=desc))
            return shown(result)

        button.click(translate_file, [upload, beams], outputs, api_name="translate")
        webcam.stop_recording(translate_file, [webcam, beams], outputs, api_name=False)
    # One worker: requests queue on the one model instead of each getting a copy.
    page.queue(default_concurrency_limit=1)
    return page


def shown(result: PageResult) -> tuple:
    """The outputs' values, in `build_page`'s order."""
    return (
        result.text,
        result.error,
        result.timeline,
        [[s.gloss, round(s.start, 2), round(s.end, 2), round(s.peak, 3)] for s in result.glosses],
        [[i, sentence, round(score, 4)] for i, (sentence, score) in enumerate(result.beams, 1)],
        [[step, round(seconds, 3)] for step, seconds in result.seconds.items()],
    )
