"""Our XGLM decoder against `transformers`' XGLMForCausalLM (eager attention), same weights.

A random-init Hugging Face model is saved with `save_pretrained` and loaded into ours; our
adapters start closed (gates 0, LoRA B = 0), so both compute the same function (checked
below before timing). Measured side by side in one run:

- training: forward + backward tokens/s of the plain LM, no dropout, cross-entropy on the
  logits; `train_speedup` with every weight trainable in both (equal work; ours also runs
  its LoRA branches), `train_speedup_frozen_lm` with the LM frozen (Sign2GPT's setting);
- generation: sentences/s with beam 4 and exactly `--new-tokens` tokens for both
  (EOS forbidden until then: `min_new_tokens` in both), same batch of sentences, and again
  for one sentence at a time (as `sign2gpt translate` runs a single video). Ours also
  runs its sign cross-attention (64 sign positions), which the plain LM does not have. On a
  GPU ours replays each step as a CUDA graph; a third row shows the search without graphs
  (`fixed_shapes=False`);
- with `--compile`: ours again with its layers `torch.compile`d (mode reduce-overhead on a
  GPU, i.e. CUDA graphs), training only (`train_speedup_compiled`).

Sizes: `mid` (6 layers, d=1024, 16 heads, FFN 4096, vocab 32,768: the vocabulary is cut so
the layers, not the output projection, dominate) on CPU; `full` (XGLM-1.7B shape, vocab
256,008, bf16) on a GPU.

    python bench/decoder.py [--device cuda] [--quick] [--compile]
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from common import (
    RESULTS_DIR,
    compare,
    machine_info,
    markdown_table,
    save_results,
)  # fmt: skip
from sign2gpt.io import write_json
from sign2gpt.models.config import DecoderConfig, LoRAConfig
from sign2gpt.models.decoder.xglm import XGLMSignDecoder
from sign2gpt.models.performance import compile_model


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
COMPILED = "ours, blocks compiled (GPU: CUDA graphs)"
NO_GRAPHS = "ours, generation without CUDA graphs"


def build_pair(shape: Shape, device: str, dtype: torch.dtype):
    """(reference HF model, ours) with identical weights, dropout off, every weight trainable.

    Both are built directly on `device` in `dtype`: initialising XGLM-1.7B twice in fp32 on
    the host would take longer than the benchmark.
    """
    import transformers

    torch.manual_seed(0)
    hf_config = transformers.XGLMConfig(
        vocab_size=shape.vocab_size, d_model=shape.d_model, num_layers=shape.num_layers,
        attention_heads=shape.num_heads, ffn_dim=shape.ffn_dim, dropout=0.0,
        attention_dropout=0.0, activation_dropout=0.0,
    )  # fmt: skip
    with torch.device(device):
        reference = transformers.XGLMForCausalLM._from_config(
            hf_config, attn_implementation="eager", dtype=dtype
        )
        ours = XGLMSignDecoder(
            DecoderConfig(
                vocab_size=shape.vocab_size,
                d_model=shape.d_model,
                num_layers=shape.num_layers,
                num_heads=shape.num_heads,
                ffn_dim=shape.ffn_dim,
                dropout=0.0,
                attention_dropout=0.0,
                lora=LoRAConfig(dropout=0.0),
                sign_dim=SIGN_DIM,
            )
        ).to(dtype)
    with tempfile.TemporaryDirectory() as folder:
        reference.save_pretrained(folder)
        ours.load_pretrained(folder)
    for param in [*reference.parameters(), *ours.parameters()]:
        param.requires_grad_(True)
    return reference, ours


def check_same_function(reference, ours, shape: Shape, device: str) -> float:
    """Largest logit difference on a random batch (must be rounding-sized)."""
    ids = torch.randint(3, shape.vocab_size, (2, 16), device=device)
    with torch.no_grad():
        diff = (reference(input_ids=ids).logits - ours(ids)).abs().max().item()
    return diff


def train_step(
    model, is_reference: bool, mode: str, batch: int, length: int, vocab: int, device: str,
    dtype: torch.dtype,
):  # fmt: skip
    """A forward + backward language-modelling step of `batch` x `length` tokens.

    mode "finetune": every weight trains (equal work; ours adds its LoRA branches).
    mode "frozen": the LM is frozen and gradients flow through it (the reference: to
    `inputs_embeds`; ours: to its LoRA adapters). Neither runs sign features here: the plain
    LM has no cross-attention, so that work would not be comparable.
    """
    ids = torch.randint(3, vocab, (batch, length), device=device)
    for name, param in model.named_parameters():
        param.requires_grad_(mode == "finetune" or (not is_reference and model.is_trainable(name)))
    model.train()
    if is_reference:
        embeds = torch.randn(batch, length, model.config.d_model, device=device, dtype=dtype)
        inputs = {"inputs_embeds": embeds.requires_grad_(mode == "frozen")}
        inputs = inputs if mode == "frozen" else {"input_ids": ids}

        def forward():
            return model(**inputs).logits
    else:

        def forward():
            return model(ids)

    def step():
        torch.compiler.cudagraph_mark_step_begin()  # new iteration for CUDA-graph'd blocks
        logits = forward()
        loss = F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), ids[:, 1:].flatten())
        loss.backward()
        model.zero_grad(set_to_none=True)

    return step


def generate_run(model, is_reference: bool, batch: int, new_tokens: int, device: str,
                 dtype: torch.dtype, fixed_shapes: bool | None = None):  # fmt: skip
    """Beam-4 generation of `batch` sentences with exactly `new_tokens` tokens each.

    `fixed_shapes` (ours only): None = our default (CUDA graphs on a GPU); False = the
    growing-cache search without graphs.
    """
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
            out = model.generate(signs, mask, 4, new_tokens, min_new_tokens=new_tokens,
                                 fixed_shapes=fixed_shapes)  # fmt: skip
            assert all(len(row) == new_tokens for row in out)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", choices=sorted(SHAPES), help="default: mid on CPU, full on GPU")
    parser.add_argument("--quick", action="store_true", help="small CPU run (< 1 min), JSON only")
    parser.add_argument("--train-batch", type=int, default=None)
    parser.add_argument("--train-length", type=int, default=64)
    parser.add_argument("--gen-batch", type=int, default=None)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, interleaved")
    parser.add_argument("--threads", type=int, help="torch CPU threads (--quick: 1)")
    parser.add_argument(
        "--compile", action="store_true",
        help="also train ours with torch.compile'd layers (mode reduce-overhead on a GPU)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.threads or args.quick:  # quick: one thread, steadier on a shared machine
        torch.set_num_threads(args.threads or 1)
    on_gpu = args.device.startswith("cuda")
    size = args.size or ("full" if on_gpu else "mid")
    shape = SHAPES[size]
    dtype = torch.bfloat16 if on_gpu else torch.float32
    train_batch = args.train_batch or (8 if on_gpu else 2 if args.quick else 8)
    gen_batch = args.gen_batch or (32 if on_gpu else 2 if args.quick else 8)
    train_length = 32 if args.quick else args.train_length
    new_tokens = 16 if args.quick else args.new_tokens
    repeat = 3 if args.quick else args.repeat

    reference, ours = build_pair(shape, args.device, dtype)
    max_diff = check_same_function(reference, ours, shape, args.device)
    trainers = {"transformers (eager)": (reference, True), "ours": (ours, False)}
    if args.compile:
        compiled = copy.deepcopy(ours)
        compile_model(compiled, dynamic=False, mode="reduce-overhead" if on_gpu else None)
        trainers[COMPILED] = (compiled, False)
    results = {name: {} for name in trainers}
    for mode in ("frozen", "finetune"):
        steps = {
            name: train_step(model, is_ref, mode, train_batch, train_length,
                             shape.vocab_size, args.device, dtype)
            for name, (model, is_ref) in trainers.items()
        }  # fmt: skip
        for name, seconds in compare(steps, args.device, repeat=repeat).items():
            results[name][f"train_{mode}_tokens_per_s"] = train_batch * train_length / seconds
    runs = {
        "transformers (eager)": generate_run(reference, True, gen_batch, new_tokens,
                                             args.device, dtype),
        "ours": generate_run(ours, False, gen_batch, new_tokens, args.device, dtype),
    }  # fmt: skip
    if on_gpu:  # where the generation speed comes from: the same search without graphs
        runs[NO_GRAPHS] = generate_run(ours, False, gen_batch, new_tokens, args.device, dtype,
                                       fixed_shapes=False)  # fmt: skip
    for name, seconds in compare(runs, args.device, repeat=repeat).items():
        results.setdefault(name, {})["generate_sentences_per_s"] = gen_batch / seconds
    if not args.quick:  # one video at a time: batch x beams = 4 rows per step
        single = {
            "transformers (eager)": generate_run(reference, True, 1, new_tokens, args.device,
                                                 dtype),
            "ours": generate_run(ours, False, 1, new_tokens, args.device, dtype),
        }  # fmt: skip
        for name, seconds in compare(single, args.device, repeat=repeat).items():
            results[name]["generate_one_sentence_per_s"] = 1 / seconds
    ref, own = results["transformers (eager)"], results["ours"]
    summary = {
        "train_speedup": own["train_finetune_tokens_per_s"] / ref["train_finetune_tokens_per_s"],
        "train_speedup_frozen_lm": (
            own["train_frozen_tokens_per_s"] / ref["train_frozen_tokens_per_s"]
        ),
        "generate_speedup": own["generate_sentences_per_s"] / ref["generate_sentences_per_s"],
    }
    if "generate_one_sentence_per_s" in own:
        summary["generate_speedup_one_sentence"] = (
            own["generate_one_sentence_per_s"] / ref["generate_one_sentence_per_s"]
        )
    if COMPILED in results:
        summary["train_speedup_compiled"] = (
            results[COMPILED]["train_finetune_tokens_per_s"] / ref["train_finetune_tokens_per_s"]
        )
    if NO_GRAPHS in results:
        summary["generate_speedup_without_cuda_graphs"] = (
            results[NO_GRAPHS]["generate_sentences_per_s"] / ref["generate_sentences_per_s"]
        )
    columns = {
        "train tokens/s, full fine-tune": "train_finetune_tokens_per_s",
        "train tokens/s, frozen LM": "train_frozen_tokens_per_s",
        "generate sentences/s": "generate_sentences_per_s",
        "generate sentences/s, one at a time": "generate_one_sentence_per_s",
    }
    rows = [
        {"implementation": name, **{c: values.get(k, "") for c, k in columns.items()}}
        for name, values in results.items()
    ]
    rows.append({"implementation": "speedup (ours / transformers)", **{
        c: own[k] / ref[k] for c, k in columns.items() if k in own}})  # fmt: skip
    record = {
        **summary,
        "machine": machine_info(args.device),
        "size": size,
        "shape": vars(shape),
        "dtype": str(dtype),
        "settings": {"train_batch": train_batch, "train_length": train_length,
                     "gen_batch": gen_batch, "num_beams": 4, "new_tokens": new_tokens,
                     "sign_positions": SIGN_LENGTH, "repeat": repeat, "quick": args.quick,
                     "compile": args.compile},
        "max_logit_difference": max_diff,
        "results": results,
    }  # fmt: skip
    name = f"decoder_{'gpu' if on_gpu else 'cpu'}{'_quick' if args.quick else ''}"
    if args.quick:
        write_json(RESULTS_DIR / f"{name}.json", record)
        print(json.dumps({**summary, "max_logit_difference": max_diff}))
        return
    title = f"Decoder: ours vs transformers XGLM ({size} size, {dtype})"
    save_results(name, record, markdown_table(rows, ["implementation", *columns]), title=title)


if __name__ == "__main__":
    main()
