"""The Llama and Qwen2 families against `transformers` (float32, atol 1e-5).

Tiny random `LlamaForCausalLM` / `Qwen2ForCausalLM` models (grouped-query attention, `llama3`
rotary scaling, tied and untied heads, random norms and biases) are saved with
`save_pretrained` and loaded into ours.
"""

from __future__ import annotations

import json

import pytest
import torch

from conftest import assert_gates_closed_parity, tiny_model_config
from sign2gpt.errors import CheckpointError
from sign2gpt.models.config import DecoderConfig, RopeScalingConfig
from sign2gpt.models.decoder import build_decoder
from sign2gpt.models.decoder.kv_cache import KVCache
from sign2gpt.synthbench.language_model import LMTraining, train_language_model

transformers = pytest.importorskip("transformers")

ATOL = 1e-5
VOCAB, BOS, EOS, PAD = 96, 1, 2, 0
LLAMA3 = {"factor": 4.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
          "original_max_position_embeddings": 64}  # fmt: skip
# name -> (HF class, HF config extras, our DecoderConfig extras)
VARIANTS = {
    "llama-llama3-rope-tied": (
        "Llama",
        {"rope_parameters": {"rope_type": "llama3", "rope_theta": 10000.0, **LLAMA3},
         "tie_word_embeddings": True},
        {"family": "llama", "rope_scaling": RopeScalingConfig(**LLAMA3)},
    ),
    "llama-untied": (
        "Llama",
        {"rope_parameters": {"rope_type": "default", "rope_theta": 500.0},
         "tie_word_embeddings": False},
        {"family": "llama", "rope_theta": 500.0, "tie_embeddings": False},
    ),
    "qwen2": (
        "Qwen2",
        {"rope_parameters": {"rope_type": "default", "rope_theta": 1e6},
         "tie_word_embeddings": True},
        {"family": "qwen2", "rope_theta": 1e6},
    ),
}  # fmt: skip


def our_config(**changes) -> DecoderConfig:
    base = dict(
        vocab_size=VOCAB, d_model=32, num_layers=2, num_heads=4, num_kv_heads=2, ffn_dim=64,
        max_positions=128, norm_eps=1e-6, bos_id=BOS, eos_id=EOS, pad_id=PAD, sign_dim=16,
        dropout=0.0, attention_dropout=0.0,
    )  # fmt: skip
    return DecoderConfig(**{**base, **changes})


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def hf_model(request, tmp_path_factory):
    kind, hf_extra, ours_extra = VARIANTS[request.param]
    torch.manual_seed(3)  # a seed whose searches give varied tokens and end with EOS
    config = getattr(transformers, f"{kind}Config")(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, intermediate_size=64, max_position_embeddings=128,
        rms_norm_eps=1e-6, bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD, **hf_extra,
    )  # fmt: skip
    model = getattr(transformers, f"{kind}ForCausalLM")(config).eval()
    with torch.no_grad():  # random norms and biases, so a wrong mapping or a missing bias shows
        for name, param in model.named_parameters():
            if "norm" in name:
                param.uniform_(0.5, 1.5)
            elif name.endswith("bias"):
                param.normal_(std=0.05)
            else:  # larger than the init: the layers, not the residual, pick the next token
                param.normal_(std=0.4)
        # EOS (never an input here) likelier, so the searches end sentences before the limit.
        model.get_output_embeddings().weight[EOS] *= 2.5
    folder = tmp_path_factory.mktemp(request.param)
    model.save_pretrained(folder)
    return model, folder, ours_extra


def load_ours(folder, extra):
    torch.manual_seed(1)
    ours = build_decoder(our_config(**extra))
    ours.load_pretrained(folder)
    return ours.eval()


def test_logits_match_transformers_with_gates_closed(hf_model):
    reference, folder, extra = hf_model
    assert_gates_closed_parity(load_ours(folder, extra), reference, VOCAB, sign_dim=16)


def test_cached_steps_match_transformers(hf_model):
    reference, folder, extra = hf_model
    ours = load_ours(folder, extra)
    input_ids = torch.randint(3, VOCAB, (2, 8))
    signs, sign_mask = torch.randn(2, 3, 16), torch.ones(2, 3, dtype=torch.bool)
    with torch.no_grad():
        expected = reference(input_ids=input_ids).logits
        memory = ours.encode_signs(signs, sign_mask)
        cache = KVCache(ours.cfg.num_layers)
        # a 3-token prompt, then one token at a time over the cache
        chunks = [(0, 3), *((i, i + 1) for i in range(3, 8))]
        stepped = [
            ours.forward_tokens(input_ids[:, a:b], torch.arange(a, b), None, memory, cache)
            for a, b in chunks
        ]
    torch.testing.assert_close(torch.cat(stepped, dim=1), expected, atol=ATOL, rtol=0)


def test_left_padding_matches_transformers(hf_model):
    reference, folder, extra = hf_model
    ours = load_ours(folder, extra)
    input_ids = torch.randint(3, VOCAB, (2, 7))
    attention_mask = torch.ones(2, 7, dtype=torch.long)
    attention_mask[1, :3] = 0  # left padding: the mask must hide these keys
    with torch.no_grad():
        expected = reference(input_ids=input_ids, attention_mask=attention_mask).logits
        logits = ours(input_ids, attention_mask)
        unmasked = ours(input_ids)
    torch.testing.assert_close(logits[0], expected[0], atol=ATOL, rtol=0)
    torch.testing.assert_close(logits[1, 3:], expected[1, 3:], atol=ATOL, rtol=0)
    assert not torch.allclose(unmasked[1, 3:], expected[1, 3:], atol=1e-3)


def hf_generate(reference, num_beams: int, max_new_tokens: int) -> list[int]:
    out = reference.generate(
        input_ids=torch.tensor([[BOS]]), attention_mask=torch.ones(1, 1, dtype=torch.long),
        do_sample=False, num_beams=num_beams, max_new_tokens=max_new_tokens,
        length_penalty=1.0, early_stopping=False, eos_token_id=EOS, pad_token_id=PAD,
    )[0, 1:].tolist()  # fmt: skip
    return out[: out.index(EOS)] if EOS in out else out


@pytest.mark.parametrize("fixed_shapes", [False, True])
def test_greedy_and_beam_generation_equal_transformers(hf_model, fixed_shapes):
    reference, folder, extra = hf_model
    ours = load_ours(folder, extra)
    signs, sign_mask = torch.randn(1, 4, 16), torch.ones(1, 4, dtype=torch.bool)
    for beams in (1, 4):
        expected = hf_generate(reference, beams, 12)
        assert len(set(expected)) > 1  # not a degenerate repetition
        got = ours.generate(signs, sign_mask, beams, 12, fixed_shapes=fixed_shapes)
        assert got == [expected], beams


def test_a_mismatched_folder_is_a_clear_error(hf_model, tmp_path):
    _, folder, extra = hf_model
    with pytest.raises(CheckpointError, match="num_key_value_heads"):
        build_decoder(our_config(**extra, num_kv_heads=4)).load_pretrained(folder)
    other = "qwen2" if extra["family"] == "llama" else "llama"
    with pytest.raises(CheckpointError, match="model_type"):
        build_decoder(our_config(**{**extra, "family": other})).load_pretrained(folder)
    # a rope scaling the folder does not have (or lacks) changes every position: refuse
    config = json.loads((folder / "config.json").read_text())
    config["rope_parameters"] = {"rope_type": "yarn", "rope_theta": 1.0, "factor": 2.0}
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "model.safetensors").symlink_to(folder / "model.safetensors")
    with pytest.raises(CheckpointError, match="rope type 'yarn'"):
        build_decoder(our_config(**extra)).load_pretrained(tmp_path)


def test_sharded_safetensors_folder_loads(hf_model, tmp_path):
    reference, _, extra = hf_model
    reference.save_pretrained(tmp_path, max_shard_size="20KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    ours = load_ours(tmp_path, extra)
    input_ids = torch.randint(3, VOCAB, (1, 6))
    with torch.no_grad():
        expected = reference(input_ids=input_ids).logits
        torch.testing.assert_close(ours(input_ids), expected, atol=ATOL, rtol=0)


def write_hf_tokenizer(folder, specials: list[str], prefix: str | None, config: dict) -> None:
    """A byte-level BPE tokenizer folder laid out like the released Llama 3 / Qwen2.5 ones:
    tokenizer.json (its post-processor prepends `prefix`, if any) + tokenizer_config.json."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    backend.train_from_iterator(["guten morgen", "heute regnet es", "今天天气很好"], trainer)
    if prefix is not None:
        backend.post_processor = processors.TemplateProcessing(
            single=f"{prefix} $A", special_tokens=[(prefix, backend.token_to_id(prefix))]
        )
    folder.mkdir()
    backend.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


def test_llama3_and_qwen2_tokenizer_folders_give_their_special_ids(tmp_path):
    from sign2gpt.models.tokenizer import TextTokenizer

    llama = tmp_path / "llama"
    write_hf_tokenizer(
        llama, ["<|begin_of_text|>", "<|end_of_text|>"], "<|begin_of_text|>",
        {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"},
    )  # fmt: skip
    tokenizer = TextTokenizer.load(llama)
    # BOS = what the tokenizer prepends; no pad token: EOS pads.
    assert (tokenizer.bos_id, tokenizer.eos_id, tokenizer.pad_id) == (0, 1, 1)
    qwen = tmp_path / "qwen"
    write_hf_tokenizer(
        qwen, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], None,
        {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
    )  # fmt: skip
    tokenizer = TextTokenizer.load(qwen)
    # No BOS: sequences start with EOS.
    assert (tokenizer.bos_id, tokenizer.eos_id, tokenizer.pad_id) == (2, 2, 0)
    assert tokenizer.decode(tokenizer.encode("今天天气很好")) == "今天天气很好"


@pytest.mark.parametrize("family", ["llama", "qwen2"])
def test_a_trained_stand_in_is_a_folder_transformers_loads(family, tmp_path):
    texts = ["heute regnet es im norden", "morgen scheint die sonne", "es wird kalt im osten"]
    cfg = tiny_model_config(family=family).decoder
    lm = train_language_model(texts, cfg, tmp_path, LMTraining(epochs=1), progress=False)
    reference = transformers.AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    assert type(reference).__name__ == {"llama": "Llama", "qwen2": "Qwen2"}[family] + "ForCausalLM"
    ours = build_decoder(lm)
    ours.load_pretrained(lm.pretrained)
    input_ids = torch.randint(3, lm.vocab_size, (2, 6))
    with torch.no_grad():
        expected = reference(input_ids=input_ids).logits
        torch.testing.assert_close(ours.eval()(input_ids), expected, atol=ATOL, rtol=0)
