"""Issue 18, model and text items: each difference from the authors' release is a config key,
the paper configs default to the authors' behaviour, and the behaviour is what the key says."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from sign2gpt.errors import ConfigError, DataError
from sign2gpt.models import PRESETS, Sign2GPT
from sign2gpt.models.config import DecoderConfig, LoRAConfig, tiny_config
from sign2gpt.models.decoder.sign_attention import SignCrossAttention, SignMemory
from sign2gpt.models.decoder.xglm import XGLMAttention
from sign2gpt.models.layers.lora import LoRA, stacked_lora
from sign2gpt.models.layers.sinusoidal import interleaved_sinusoidal_encoding
from sign2gpt.models.layers.temporal_pool import masked_avg_pool, zero_padded_avg_pool
from sign2gpt.models.sign_encoder import SignEncoder
from sign2gpt.models.spatial import SpatialBackbone
from sign2gpt.run_config import load_run_config, run_config_from_dict
from sign2gpt.text import PseudoGlossVocab, save_prototypes

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
PAPER = [CONFIGS / "phoenix14t" / "translate.yaml", CONFIGS / "csl-daily" / "translate.yaml"]


@pytest.fixture(scope="module")
def paper():
    return load_run_config(PAPER[0])


@pytest.mark.parametrize("path", PAPER + [p.with_name("pretrain.yaml") for p in PAPER])
def test_paper_configs_default_to_the_authors_code(path):
    cfg = load_run_config(path)
    model, text = cfg.model, cfg.text
    assert model.sign_encoder.input_pe is True
    assert model.sign_encoder.drop_path_schedule == "linear"
    assert model.sign_encoder.temporal_pool == "zero_padded"
    assert model.prototype_head.trainable_prototypes is False
    assert model.spatial.lora.init_std == 0.02
    assert model.decoder.lora.init_std == 0.2  # the decoder's LoRAs stay N(0, 0.2)
    assert model.decoder.sign_kv_lora_init == "linear"
    assert model.decoder.sign_attention_dropout == 0.1
    assert model.decoder.lora_shared_dropout is False
    assert model.decoder.out_proj_lora_dropout is False
    assert text.max_gloss_frequency == 0.4
    assert text.gloss_vocabulary == "train"  # the stated exception: no test translations


@pytest.mark.parametrize("preset", ["synth", "tiny", "full"])
def test_presets_keep_todays_behaviour(preset):
    cfg = PRESETS[preset]()
    encoder, decoder = cfg.sign_encoder, cfg.decoder
    assert (encoder.input_pe, encoder.drop_path_schedule, encoder.temporal_pool) == (
        False, "constant", "real_frames"
    )  # fmt: skip
    assert cfg.prototype_head.trainable_prototypes and cfg.spatial.lora.init_std == 0.2
    assert (decoder.sign_kv_lora_init, decoder.sign_attention_dropout) == ("zero_b", 0.0)
    assert decoder.lora_shared_dropout and decoder.out_proj_lora_dropout
    synth = load_run_config(CONFIGS / "synth-small" / "pretrain.yaml").text
    assert (synth.max_gloss_frequency, synth.gloss_vocabulary) == (None, "train")


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("model.sign_encoder.drop_path_schedule", "rising", "drop_path_schedule"),
        ("model.sign_encoder.temporal_pool", "mean", "temporal_pool"),
        ("model.decoder.sign_kv_lora_init", "xavier", "sign_kv_lora_init"),
        ("model.decoder.sign_attention_dropout", "1.5", "sign_attention_dropout"),
        ("text.max_gloss_frequency", "0", "max_gloss_frequency"),
        ("text.max_gloss_frequency", "1.2", "max_gloss_frequency"),
        ("text.gloss_vocabulary", "dev", "gloss_vocabulary"),
    ],
)
def test_bad_values_are_one_line_config_errors(key, value, words):
    with pytest.raises(ConfigError, match=words) as info:
        load_run_config(PAPER[0], [f"{key}={value}"])
    assert "\n" not in str(info.value)


# --- 1. sinusoidal input encoding of the sign encoder --------------------------------------------


def test_interleaved_encoding_formula():
    dim = 8
    table = interleaved_sinusoidal_encoding(torch.arange(6), dim)
    for pos in range(6):
        for i in range(dim // 2):
            angle = pos / 10000 ** (2 * i / dim)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def boosted(encoder: SignEncoder) -> SignEncoder:
    """Layer scales of 1e-5 hide what the branches do; make them count."""
    with torch.no_grad():
        for name, param in encoder.named_parameters():
            if name.endswith("gamma"):
                param.fill_(0.5)
    return encoder.eval()


def test_input_encoding_is_added_before_the_first_block():
    base = tiny_config().sign_encoder
    torch.manual_seed(0)
    plain = boosted(SignEncoder(base))
    with_pe = SignEncoder(dataclasses.replace(base, input_pe=True)).eval()
    with_pe.load_state_dict(plain.state_dict())  # no parameters of its own: same keys
    x, mask = torch.randn(2, 9, 32), torch.ones(2, 9, dtype=torch.bool)
    with torch.no_grad():
        out, _ = with_pe(x, mask)
        assert not torch.allclose(out, plain(x, mask)[0], atol=1e-4)
        shifted = x + interleaved_sinusoidal_encoding(torch.arange(9), 32)
        torch.testing.assert_close(out, plain(shifted, mask)[0])


# --- 2. frozen prototypes ------------------------------------------------------------------------


def test_frozen_prototypes_get_no_gradient_but_stay_in_checkpoints():
    from sign2gpt.train.checkpointing import checkpoint_tensors

    cfg = tiny_config("pretrain")
    cfg = dataclasses.replace(
        cfg, prototype_head=dataclasses.replace(cfg.prototype_head, trainable_prototypes=False)
    )
    torch.manual_seed(0)
    model = Sign2GPT(cfg, prototypes=torch.randn(5, 16))
    before = model.prototype_head.prototypes.detach().clone()
    video, mask = torch.randn(2, 5, 3, 28, 28), torch.ones(2, 5, dtype=torch.bool)
    model.train()
    model(video, mask).scores.sum().backward()
    head = model.prototype_head
    assert head.prototypes.grad is None and head.proj.weight.grad is not None
    trainable = [p for p in model.parameters() if p.requires_grad]
    torch.optim.AdamW(trainable, lr=0.1).step()
    torch.testing.assert_close(head.prototypes.detach(), before, rtol=0, atol=0)
    assert "prototype_head.prototypes" in checkpoint_tensors(model)
    assert "prototype_head.prototypes" not in model.trainable_state_dict()
    trained = Sign2GPT(tiny_config("pretrain"), prototypes=torch.randn(5, 16))
    assert trained.prototype_head.prototypes.requires_grad


def test_paper_pretrain_counts_only_the_frozen_prototypes_as_untrainable():
    cfg = load_run_config(CONFIGS / "phoenix14t" / "pretrain.yaml").model
    with torch.device("meta"):
        counts = Sign2GPT(cfg, num_glosses=2306).parameter_counts()
    head = 512 * 300 + 300 + 2306 * 300 + 2
    assert counts["prototype_head"] == {"params": head, "trainable": head - 2306 * 300}


# --- 3. DINOv2 LoRA init -------------------------------------------------------------------------


def test_spatial_lora_starts_at_std_0_02_with_zero_b(paper):
    lora_cfg = paper.model.spatial.lora
    torch.manual_seed(0)
    draws = torch.cat([LoRA(384, 1152, lora_cfg).A.flatten() for _ in range(40)])
    assert draws.std().item() == pytest.approx(0.02, rel=0.02)
    assert draws.mean().abs().item() < 1e-3
    # The backbone builds its adapters from that config: tiny ViT, the paper's LoRA settings.
    spatial_cfg = dataclasses.replace(tiny_config().spatial, lora=lora_cfg, lora_blocks=2)
    spatial = SpatialBackbone(spatial_cfg)
    a = torch.cat([p.flatten() for n, p in spatial.named_parameters() if n.endswith("lora.A")])
    b = [p for n, p in spatial.named_parameters() if n.endswith("lora.B")]
    assert a.numel() > 1000 and 0.017 < a.std().item() < 0.023
    assert b and all((p == 0).all() for p in b)


# --- 4. cross-attention LoRA'_k / LoRA'_v init ---------------------------------------------------


def test_linear_init_of_cross_attention_kv_loras():
    lora = LoRAConfig()
    torch.manual_seed(0)
    attn = SignCrossAttention(64, 64, 64, 4, lora, kv_init="linear")
    for part in (attn.lora_k, attn.lora_v):
        bound_a, bound_b = 1 / math.sqrt(64), 1 / math.sqrt(lora.r)  # nn.Linear: 1/sqrt(fan_in)
        assert part.B.abs().max() <= bound_b and part.B.abs().min() > 0
        assert part.A.abs().max() <= bound_a
        assert part.B.std().item() == pytest.approx(bound_b / math.sqrt(3), rel=0.15)
    assert (attn.lora_q.B == 0).all()  # LoRA'_q keeps N(0, init_std) / 0
    assert attn.lora_q.A.std().item() == pytest.approx(lora.init_std, rel=0.15)
    zero = SignCrossAttention(64, 64, 64, 4, lora)
    assert (zero.lora_k.B == 0).all() and (zero.lora_v.B == 0).all()


def test_a_fresh_model_with_linear_kv_init_still_ignores_the_video():
    cfg = tiny_config()
    decoder = dataclasses.replace(cfg.decoder, sign_kv_lora_init="linear")
    cfg = dataclasses.replace(cfg, decoder=decoder)
    torch.manual_seed(0)
    model = Sign2GPT(cfg).eval()
    layer = model.decoder.model.layers[0].self_attn.sign
    assert (layer.lora_k.B != 0).any()
    ids = torch.tensor([[0, 5, 7, 9]])
    masks = torch.ones(1, 5, dtype=torch.bool)
    with torch.no_grad():
        a = model(torch.randn(1, 5, 3, 28, 28), masks, ids)
        b = model(torch.randn(1, 5, 3, 28, 28), masks, ids)
    torch.testing.assert_close(a, b)  # zero gates: the LM alone, whatever k/v say


# --- 5. cross-attention dropout and per-LoRA dropout masks ---------------------------------------


def open_cross_attention(dropout: float) -> tuple[SignCrossAttention, torch.Tensor, SignMemory]:
    torch.manual_seed(0)
    attn = SignCrossAttention(32, 32, 32, 4, LoRAConfig(), dropout=dropout)
    with torch.no_grad():
        attn.gate.fill_(1.0)
    memory = SignMemory(
        torch.randn(2, 4, 6, 8), torch.randn(2, 4, 6, 8), torch.ones(2, 1, 1, 6, dtype=torch.bool)
    )
    return attn, torch.randn(2, 4, 3, 8), memory


def test_cross_attention_dropout_only_in_training():
    attn, query, memory = open_cross_attention(0.1)
    attn.train()
    assert not torch.allclose(attn(query, memory), attn(query, memory))
    attn.eval()
    torch.testing.assert_close(attn(query, memory), attn(query, memory))
    plain, query, memory = open_cross_attention(0.0)
    plain.train()
    torch.testing.assert_close(plain(query, memory), plain(query, memory))


def test_xglm_attention_follows_the_dropout_keys():
    decoder = dataclasses.replace(
        tiny_config().decoder, sign_attention_dropout=0.1, lora_shared_dropout=False,
        out_proj_lora_dropout=False,
    )  # fmt: skip
    attn = XGLMAttention(decoder, 0)
    assert attn.sign.dropout == 0.1 and attn.shared_dropout is False
    assert attn.out_proj.lora.dropout.p == 0.0 and attn.q_proj.lora.dropout.p == 0.1
    with torch.no_grad():
        attn.out_proj.lora.B.normal_()
    attn.train()
    x = torch.randn(2, 3, 32)
    torch.testing.assert_close(attn.out_proj(x), attn.out_proj(x))  # no mask on out-proj LoRA
    default = XGLMAttention(tiny_config().decoder, 0)
    assert default.out_proj.lora.dropout.p == 0.1 and default.shared_dropout is True


def twin_loras(count: int) -> list[LoRA]:
    torch.manual_seed(0)
    first = LoRA(16, 8, LoRAConfig(dropout=0.5))
    with torch.no_grad():
        first.B.normal_()
    twins = [LoRA(16, 8, LoRAConfig(dropout=0.5)) for _ in range(count - 1)]
    for twin in twins:
        twin.load_state_dict(first.state_dict())
    return [first, *twins]


@pytest.mark.parametrize("shared", [True, False])
def test_stacked_lora_dropout_masks(shared):
    loras = twin_loras(3)
    x = torch.randn(4, 16)
    torch.manual_seed(1)
    out = stacked_lora(x, loras, shared_dropout=shared).split(8, dim=-1)
    same = [torch.equal(out[0], part) for part in out[1:]]
    assert all(same) if shared else not any(same)  # identical LoRAs differ only by their masks
    for lora in loras:
        lora.eval()
    outs = stacked_lora(x, loras, shared_dropout=shared).split(8, dim=-1)
    for part in outs:
        torch.testing.assert_close(part, loras[0](x))


# --- 6. the stage-1 frequency filter -------------------------------------------------------------


def frequency_vocab() -> PseudoGlossVocab:
    # 10 sentences: "region" in 5, "und" in 4 (= 40%), "sonne" in 3, "wind" in 1.
    targets = [["region", "und"]] * 4 + [["region", "sonne"]] + [["sonne"]] * 2 + [["wind"]]
    return PseudoGlossVocab.from_targets(targets + [[]] * 2, "de", "hanta")


def test_frequency_filter_drops_exactly_the_glosses_in_40_percent_of_sentences():
    vocab = frequency_vocab()
    assert vocab.sentences == 10 and vocab.counts == [5, 4, 3, 1]
    filtered = vocab.without_frequent(0.4)
    assert filtered.excluded == {"region", "und"}
    assert filtered.words == vocab.words and len(filtered) == 4  # K and the prototypes stay
    targets = filtered.multi_hot([["region", "und", "sonne"], ["wind", "und"]])
    columns = {w: targets[:, i].tolist() for i, w in enumerate(filtered.words)}
    assert columns == {"region": [0, 0], "und": [0, 0], "sonne": [1, 0], "wind": [0, 1]}
    assert filtered.target_counts() == [0, 0, 3, 1]
    assert vocab.without_frequent(0.41).excluded == {"region"}
    assert vocab.multi_hot([["region"]]).sum() == 1  # unfiltered: every gloss is a target


def test_sentence_count_round_trips_and_old_files_fail_clearly(tmp_path):
    vocab = frequency_vocab()
    vocab.save(tmp_path)
    assert PseudoGlossVocab.load(tmp_path).sentences == 10
    old = PseudoGlossVocab(vocab.words, vocab.counts, "de", "hanta")
    with pytest.raises(ValueError, match="sentence count"):
        old.without_frequent(0.4)


def glosses_folder(tmp_path: Path, vocab: PseudoGlossVocab) -> Path:
    from sign2gpt.text.pseudo_glosses import PseudoGlossResult

    texts = [f"satz {i}" for i in range(10)]
    targets = [["region", "und"]] * 4 + [["region", "sonne"]] + [["sonne"]] * 2 + [["wind"]]
    result = PseudoGlossResult(texts, [[t] for t in texts], targets + [[]] * 2, vocab, "test")
    result.save(tmp_path)
    save_prototypes(tmp_path, vocab.words, torch.randn(len(vocab), 16), "test")
    return tmp_path


@pytest.mark.parametrize(("limit", "excluded"), [(0.4, {"region", "und"}), (None, set())])
def test_prepare_glosses_applies_the_configured_filter(tmp_path, limit, excluded):
    from sign2gpt.train.builders import prepare_glosses

    folder = glosses_folder(tmp_path / "g", frequency_vocab())
    cfg = run_config_from_dict({
        "model": {"preset": "tiny", "stage": "pretrain"}, "data": {"root": str(tmp_path)},
        "text": {"glosses": str(folder), "max_gloss_frequency": limit},
    })  # fmt: skip
    glosses = prepare_glosses(cfg, None, tmp_path / "unused")
    assert glosses.vocab.excluded == excluded and len(glosses.vocab) == 4


def test_prepare_glosses_names_the_file_without_a_sentence_count(tmp_path):
    from sign2gpt.train.builders import prepare_glosses

    vocab = frequency_vocab()
    folder = glosses_folder(tmp_path / "g", PseudoGlossVocab(vocab.words, vocab.counts, "de", "x"))
    cfg = run_config_from_dict({
        "model": {"preset": "tiny", "stage": "pretrain"}, "data": {"root": str(tmp_path)},
        "text": {"glosses": str(folder), "max_gloss_frequency": 0.4},
    })  # fmt: skip
    with pytest.raises(DataError, match=r"vocab\.json.*max_gloss_frequency"):
        prepare_glosses(cfg, None, tmp_path / "unused")


# --- 7. drop path rising linearly ----------------------------------------------------------------


def test_linear_drop_path_rates_per_block(paper):
    cfg = paper.model.sign_encoder
    expected = [0.0, 1 / 30, 2 / 30, 0.1]
    assert cfg.drop_path_rates() == pytest.approx(expected, abs=1e-6)
    with torch.device("meta"):
        encoder = SignEncoder(cfg)
    blocks = [*encoder.blocks_before, *encoder.blocks_after]
    assert [b.drop_path.p for b in blocks] == pytest.approx(expected, abs=1e-6)
    constant = dataclasses.replace(cfg, drop_path_schedule="constant").drop_path_rates()
    assert constant == [0.1] * 4
    single = dataclasses.replace(cfg, blocks_before=1, blocks_after=0).drop_path_rates()
    assert single == [0.0]


# --- 8. temporal pooling -------------------------------------------------------------------------


def test_zero_padded_pool_is_avg_pool1d_over_zeroed_frames_with_any_valid_mask():
    torch.manual_seed(0)
    lengths = [7, 4, 1]
    x = torch.randn(3, 7, 5)
    mask = torch.arange(7)[None] < torch.tensor(lengths)[:, None]
    x[~mask] = 9.0  # junk in the padding must not leak in
    pooled, valid = zero_padded_avg_pool(x, mask)
    zeroed = (x * mask[..., None]).transpose(1, 2)
    expected = F.avg_pool1d(zeroed, 3, stride=2, padding=1, count_include_pad=True)
    torch.testing.assert_close(pooled, expected.transpose(1, 2))
    # Step t covers frames 2t-1 .. 2t+1; valid if any is real, step 0 always.
    rule = [[t == 0 or any(0 <= f < n for f in (2 * t - 1, 2 * t, 2 * t + 1)) for t in range(4)]
            for n in lengths]  # fmt: skip
    assert valid.tolist() == rule == [[True] * 4, [True, True, True, False], [True] + [False] * 3]
    # Not the mean over real frames: step 0 is divided by 3, not by its 2 (video 2: 1) frames.
    mean, centres = masked_avg_pool(x, mask)
    torch.testing.assert_close(pooled[:2, 0], mean[:2, 0] * 2 / 3)
    torch.testing.assert_close(pooled[2, 0], mean[2, 0] / 3)
    assert centres[1].tolist() == [True, True, False, False]


def test_zero_padded_pool_gives_a_video_the_same_steps_alone_as_in_a_batch():
    torch.manual_seed(0)
    cfg = dataclasses.replace(
        tiny_config().sign_encoder, temporal_pool="zero_padded", input_pe=True, blocks_after=2
    )
    encoder = boosted(SignEncoder(cfg))
    videos = [torch.randn(n, 32) for n in (13, 6, 9)]
    batch = torch.full((3, 13, 32), 7.0)
    mask = torch.zeros(3, 13, dtype=torch.bool)
    for i, video in enumerate(videos):
        batch[i, : len(video)], mask[i, : len(video)] = video, True
    with torch.no_grad():
        out, out_mask = encoder(batch, mask)
        for i, video in enumerate(videos):
            alone, alone_mask = encoder(video[None], torch.ones(1, len(video), dtype=torch.bool))
            steps = len(video) // 2 + 1  # an even-length video ends on (x[-1] + 0 + 0) / 3
            assert alone_mask.sum() == out_mask[i].sum() == steps
            torch.testing.assert_close(out[i, :steps], alone[0, :steps], atol=1e-5, rtol=0)


# --- 15. vocabulary from train + dev + test (option) ---------------------------------------------


def test_gloss_vocabulary_all_reads_dev_and_test(tmp_path):
    from conftest import make_phoenix_corpus
    from sign2gpt.data import build_dataset
    from sign2gpt.train.builders import vocabulary_records

    root = make_phoenix_corpus(tmp_path, {"train": 3, "dev": 2, "test": 1}, num_frames=2)
    everything = ["train"] * 3 + ["dev"] * 2 + ["test"]
    for choice, splits in (("train", ["train"] * 3), ("all", everything)):
        cfg = run_config_from_dict({
            "model": {"preset": "tiny", "stage": "pretrain"}, "data": {"root": str(root)},
            "text": {"gloss_vocabulary": choice},
        })  # fmt: skip
        train = build_dataset(cfg.data, "train", progress=False)
        assert [r.split for r in vocabulary_records(cfg, train)] == splits


def test_decoder_config_rejects_bad_dropout():
    with pytest.raises(ValueError, match="sign_attention_dropout"):
        DecoderConfig(sign_attention_dropout=-0.1)


# --- all of them together --------------------------------------------------------------------

AUTHORS = {
    "sign_encoder": {"input_pe": True, "drop_path_schedule": "linear",
                     "temporal_pool": "zero_padded"},
    "prototype_head": {"trainable_prototypes": False},
    "spatial": {"lora": {"init_std": 0.02}},
    "decoder": {"sign_kv_lora_init": "linear", "sign_attention_dropout": 0.1,
                "lora_shared_dropout": False, "out_proj_lora_dropout": False},
}  # fmt: skip


@pytest.mark.parametrize("stage", ["pretrain", "translate"])
def test_both_stages_train_and_translate_with_every_authors_key(stage):
    from sign2gpt.models import model_config_from_dict

    cfg = model_config_from_dict({"preset": "tiny", "stage": stage, **AUTHORS})
    torch.manual_seed(0)
    model = Sign2GPT(cfg, num_glosses=5).train()
    video = torch.randn(2, 6, 3, 28, 28)
    mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    if stage == "pretrain":
        loss = model(video, mask).scores.sum()
    else:
        loss = model(video, mask, torch.tensor([[0, 5, 7, 2], [0, 9, 2, 1]])).logsumexp(-1).sum()
    loss.backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None}
    assert grads == {n for n, p in model.named_parameters() if p.requires_grad}
    if stage == "translate":
        model.eval()
        out = model.translate(video, mask, num_beams=2, max_new_tokens=3)
        assert len(out) == 2 and all(len(ids) <= 3 for ids in out)
