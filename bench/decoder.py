"""Our XGLM decoder against `transformers`' XGLMForCausalLM (eager attention), same weights.

A random-init Hugging Face model is saved with `save_pretrained` and loaded into ours; our
adapters start closed (gates 0, LoRA B = 0), so both compute the same function (checked
below before timing). Measured side by side in one run:

- training: forward + backward tokens/s, every weight trainable in both (equal work; ours
  also runs its LoRA branches), no dropout, cross-entropy on the logits;
- generation: sentences/s with beam 4 and exactly `--new-tokens` tokens for both
  (EOS forbidden until then: `min_new_tokens` in both), same batch of sentences. Ours also
  runs its sign cross-attention (64 sign positions), which the plain LM does not have.

Sizes: `mid` (6 layers, d=1024, 16 heads, FFN 4096, vocab 32,768: the vocabulary is cut so
the layers, not the output projection, dominate) on CPU; `full` (XGLM-1.7B shape, vocab
256,008, bf16) on a GPU.

    python bench/decoder.py [--device cuda] [--quick]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from common import machine_info, markdown_table, peak_memory_gib, save_results, time_call

from sign2gpt.models.config import DecoderConfig, LoRAConfig
from sign2gpt.models.decoder.xglm import XGLMSignDecoder


@dataclass
class Shape:
    vocab_size: int
    d_model: int
    num_layers: int
    num_heads: int
    ffn_dim: int


SHAPES = {
    "mid": Shape(vocab_size=32768, d_model=1024, num_layers=6, num_heads=16, ffn_dim=4096),
    "full": Shape(vocab_size=256008, d_model=2048, num_layers=24, num_heads=16, ffn_dim=8192),
}
SIGN_DIM, SIGN_LENGTH = 512, 64


def build_pair(shape: Shape, device: str, dtype: torch.dtype):
    """(reference HF model, ours) with identical weights, dropout off, every weight trainable."""
    import transformers

    torch.manual_seed(0)
    hf_config = transformers.XGLMConfig(
        vocab_size=shape.vocab_size, d_model=shape.d_model, num_layers=shape.num_layers,
        attention_heads=shape.num_heads, ffn_dim=shape.ffn_dim, dropout=0.0,
        attention_dropout=0.0, activation_dropout=0.0,
    )  # fmt: skip
    reference = transformers.XGLMForCausalLM._from_config(hf_config, attn_implementation="eager")
    ours = XGLMSignDecoder(
        DecoderConfig(
            vocab_size=shape.vocab_size, d_model=shape.d_model, num_layers=shape.num_layers,
            num_heads=shape.num_heads, ffn_dim=shape.ffn_dim, dropout=0.0,
            attention_dropout=0.0, lora=LoRAConfig(dropout=0.0), sign_dim=SIGN_DIM,
        )  # fmt: skip
    )
    with tempfile.TemporaryDirectory() as folder:
        reference.save_pretrained(folder)
        ours.load_pretrained(folder)
    reference.to(device, dtype)
    ours.to(device, dtype)
    for param in [*reference.parameters(), *ours.parameters()]:
        param.requires_grad_(True)
    return reference, ours


def check_same_function(reference, ours, shape: Shape, device: str) -> float:
    """Largest logit difference on a random batch (must be rounding-sized)."""
    ids = torch.randint(3, shape.vocab_size, (2, 16), device=device)
    with torch.no_grad():
        diff = (reference(input_ids=ids).logits - ours(ids)).abs().max().item()
    return diff


def train_tokens_per_s(model, is_reference: bool, batch: int, length: int, vocab: int,
                       device: str, repeat: int) -> float:  # fmt: skip
    """Forward + backward tokens/s of a language-modelling step."""
    ids = torch.randint(3, vocab, (batch, length), device=device)
    model.train()

    def step():
        logits = model(input_ids=ids).logits if is_reference else model(ids)
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten())
        loss.backward()
        model.zero_grad(set_to_none=True)

    seconds = time_call(step, device, warmup=1, repeat=repeat)
    return batch * length / seconds


def generate_sentences_per_s(model, is_reference: bool, batch: int, new_tokens: int,
                             device: str, dtype: torch.dtype, repeat: int) -> float:  # fmt: skip
    """Beam-4 sentences/s with exactly `new_tokens` tokens per sentence."""
    model.eval()
    if is_reference:
        ids = torch.full((batch, 1), model.config.bos_token_id, device=device)

        def run():
            with torch.no_grad():
                out = model.generate(
                    ids, num_beams=4, do_sample=False, max_new_tokens=new_tokens,
                    min_new_tokens=new_tokens, early_stopping=False,
                )  # fmt: skip
            assert out.shape[1] == 1 + new_tokens
    else:
        signs = torch.randn(batch, SIGN_LENGTH, SIGN_DIM, device=device, dtype=dtype)
        mask = torch.ones(batch, SIGN_LENGTH, dtype=torch.bool, device=device)

        def run():
            out = model.generate(signs, mask, 4, new_tokens, min_new_tokens=new_tokens)
            assert all(len(row) == new_tokens for row in out)

    return batch / time_call(run, device, warmup=1 if device != "cpu" else 0, repeat=repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", choices=sorted(SHAPES), help="default: mid on CPU, full on GPU")
    parser.add_argument("--quick", action="store_true", help="small CPU run (< 1 min), JSON only")
    parser.add_argument("--train-batch", type=int, default=None)
    parser.add_argument("--train-length", type=int, default=64)
    parser.add_argument("--gen-batch", type=int, default=None)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    on_gpu = args.device.startswith("cuda")
    size = args.size or ("full" if on_gpu else "mid")
    shape = SHAPES[size]
    dtype = torch.bfloat16 if on_gpu else torch.float32
    train_batch = args.train_batch or (8 if on_gpu else 4 if args.quick else 8)
    gen_batch = args.gen_batch or (32 if on_gpu else 2 if args.quick else 8)
    new_tokens = 24 if args.quick else args.new_tokens
    repeat = 1 if args.quick else args.repeat

    reference, ours = build_pair(shape, args.device, dtype)
    max_diff = check_same_function(reference, ours, shape, args.device)
    rows, results = [], {}
    for name, model, is_ref in (("transformers (eager)", reference, True), ("ours", ours, False)):
        if on_gpu:
            torch.cuda.reset_peak_memory_stats()
        train = train_tokens_per_s(
            model, is_ref, train_batch, args.train_length, shape.vocab_size, args.device, repeat
        )
        generate = generate_sentences_per_s(
            model, is_ref, gen_batch, new_tokens, args.device, dtype, repeat
        )
        results[name] = {"train_tokens_per_s": train, "generate_sentences_per_s": generate,
                         "peak_memory_gib": peak_memory_gib(args.device)}  # fmt: skip
        rows.append({"implementation": name, "train tokens/s": train,
                     "generate sentences/s": generate})  # fmt: skip
    ref, own = results["transformers (eager)"], results["ours"]
    summary = {
        "train_speedup": own["train_tokens_per_s"] / ref["train_tokens_per_s"],
        "generate_speedup": own["generate_sentences_per_s"] / ref["generate_sentences_per_s"],
    }
    rows.append({"implementation": "speedup (ours / transformers)",
                 "train tokens/s": summary["train_speedup"],
                 "generate sentences/s": summary["generate_speedup"]})  # fmt: skip
    record = {
        **summary,
        "machine": machine_info(args.device),
        "size": size,
        "shape": vars(shape),
        "dtype": str(dtype),
        "settings": {"train_batch": train_batch, "train_length": args.train_length,
                     "gen_batch": gen_batch, "num_beams": 4, "new_tokens": new_tokens,
                     "sign_positions": SIGN_LENGTH, "repeat": repeat, "quick": args.quick},
        "max_logit_difference": max_diff,
        "results": results,
    }  # fmt: skip
    name = f"decoder_{'gpu' if on_gpu else 'cpu'}{'_quick' if args.quick else ''}"
    if args.quick:
        from common import RESULTS_DIR

        from sign2gpt.io import write_json

        write_json(RESULTS_DIR / f"{name}.json", record)
        print(json.dumps({**summary, "max_logit_difference": max_diff}))
        return
    columns = ["implementation", "train tokens/s", "generate sentences/s"]
    title = f"Decoder: ours vs transformers XGLM ({size} size, {dtype})"
    save_results(name, record, markdown_table(rows, columns), title=title)


if __name__ == "__main__":
    main()
