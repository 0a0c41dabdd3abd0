"""The paper's remaining ablations as configs: each turns one key, its model differs from the
base config's in exactly that part (state-dict keys and shapes on the meta device), and its
`info` counts are pinned."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sign2gpt.config import load_config, load_yaml
from sign2gpt.errors import CheckpointError
from sign2gpt.models import Sign2GPT, model_config_from_dict
from sign2gpt.models.resnet import ResNet18, load_resnet18
from sign2gpt.models.sign_encoder import SignEncoder
from sign2gpt.run_config import load_run_config
from sign2gpt.text.pseudo_glosses import build_pseudo_glosses, pseudo_glosses_of
from sign2gpt.text.taggers import Token
from test_models_counts import PAPER_DECODER, PAPER_ENCODER, PAPER_SPATIAL

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
K = 2533  # the Phoenix14T pseudo-gloss vocabulary (Table 1a), as `info` uses
RESNET18_NO_FC = 11_689_512 - (512 * 1000 + 1000)  # torchvision's count minus the fc head
LEARNED_PE = 512 * 512  # (sign_pe_max_len, sign_dim)
PAPER_HEAD = 512 * 300 + 300 + K * 300 + 2

# config -> (base, the leaf keys its run config changes, the state-dict part that changes,
#            counts per part that differ from the paper model's)
ABLATIONS = {
    "phoenix14t/ablations/no-downsampling.yaml": (
        "phoenix14t/translate.yaml", {"model.sign_encoder.downsample"}, None, {},
    ),
    "phoenix14t/ablations/learned-pe-zero.yaml": (
        "phoenix14t/translate.yaml", {"model.decoder.sign_pe_kind"}, "decoder.sign_proj.",
        {"decoder": {"params": PAPER_DECODER["params"] + LEARNED_PE,
                     "trainable": PAPER_DECODER["trainable"] + LEARNED_PE}},
    ),
    "phoenix14t/ablations/learned-pe-random.yaml": (
        "phoenix14t/translate.yaml", {"model.decoder.sign_pe_kind"}, "decoder.sign_proj.",
        {"decoder": {"params": PAPER_DECODER["params"] + LEARNED_PE,
                     "trainable": PAPER_DECODER["trainable"] + LEARNED_PE}},
    ),
    "phoenix14t/ablations/resnet18.yaml": (
        "phoenix14t/translate.yaml", {"model.spatial.kind"}, "spatial.",
        # ResNet18 without fc + Linear(512 -> 512) + BatchNorm1d(512), all trained
        {"spatial": {"params": RESNET18_NO_FC + 512 * 512 + 512 + 1024,
                     "trainable": RESNET18_NO_FC + 512 * 512 + 512 + 1024}},
    ),
    "csl-daily/ablations/resnet18.yaml": (
        "csl-daily/translate.yaml", {"model.spatial.kind"}, "spatial.",
        {"spatial": {"params": 11_440_192, "trainable": 11_440_192}},
    ),
    "phoenix14t/ablations/no-sign-encoder-pretrain.yaml": (
        "phoenix14t/pretrain.yaml",
        {f"model.sign_encoder.{k}" for k in ("blocks_before", "blocks_after", "downsample",
                                             "input_pe")},
        "sign_encoder.", {"sign_encoder": {"params": 0, "trainable": 0}},
    ),
    "phoenix14t/ablations/all-words-pretrain.yaml": (
        "phoenix14t/pretrain.yaml", {"text.gloss_tokens"}, None, {},
    ),
    "phoenix14t/ablations/signcl.yaml": (
        "phoenix14t/translate.yaml", {"model.sign_encoder.contrastive.enabled"}, None, {},
    ),
    "phoenix14t/ablations/signcl-pretrain.yaml": (
        "phoenix14t/pretrain.yaml", {"model.sign_encoder.contrastive.enabled"}, None, {},
    ),
}  # fmt: skip


def leaves(data: object, prefix: str = "") -> dict[str, object]:
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, object] = {}
    for key, value in data.items():
        out.update(leaves(value, f"{prefix}.{key}" if prefix else key))
    return out


def build(config: str) -> tuple[dict, dict[str, tuple[int, ...]]]:
    cfg = model_config_from_dict(load_config(CONFIGS / config)["model"], where=config)
    with torch.device("meta"):
        model = Sign2GPT(cfg, num_glosses=K)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    return model.parameter_counts(), shapes


@pytest.fixture(scope="module")
def bases() -> dict[str, dict[str, tuple[int, ...]]]:
    return {base: build(base)[1] for base in {entry[0] for entry in ABLATIONS.values()}}


@pytest.mark.parametrize("config", sorted(ABLATIONS))
def test_ablation_differs_from_its_base_in_exactly_one_part(config, bases):
    base, keys, part, count_changes = ABLATIONS[config]
    ablation, original = load_run_config(CONFIGS / config), load_run_config(CONFIGS / base)
    from sign2gpt.config import to_dict

    new, old = leaves(to_dict(ablation)), leaves(to_dict(original))
    changed = {k for k in new if new[k] != old[k] and k != "name"}
    assert changed == keys
    counts, shapes = build(config)
    base_shapes = bases[base]
    differing = {k for k in shapes.keys() | base_shapes.keys()
                 if shapes.get(k) != base_shapes.get(k)}  # fmt: skip
    if part is None:
        assert not differing
    else:
        assert differing and all(k.startswith(part) for k in differing)
    expected = {"spatial": PAPER_SPATIAL, "sign_encoder": PAPER_ENCODER}
    expected["prototype_head" if "pretrain" in config else "decoder"] = (
        {"params": PAPER_HEAD, "trainable": PAPER_HEAD - K * 300}  # fixed prototypes
        if "pretrain" in config
        else PAPER_DECODER
    )
    expected.update(count_changes)
    assert {k: v for k, v in counts.items() if k != "total"} == expected


def test_learned_position_tables_start_at_zero_or_random_and_train():
    cfg = {"preset": "tiny", "decoder": {"sign_pe_kind": "learned_zero", "sign_pe_max_len": 8}}
    zero = Sign2GPT(model_config_from_dict(cfg)).decoder.sign_proj.position
    cfg["decoder"]["sign_pe_kind"] = "learned_random"
    model = Sign2GPT(model_config_from_dict(cfg))
    random = model.decoder.sign_proj.position
    assert zero.shape == random.shape == (8, 32) and not zero.any()
    assert 0.01 < random.std().item() < 0.03 and random.requires_grad
    assert "decoder.sign_proj.position" in model.trainable_state_dict()
    signs = torch.randn(1, 9, 32)
    with pytest.raises(ValueError, match="sign_pe_max_len is 8"):
        model.decoder.sign_proj(signs)
    assert torch.allclose(model.decoder.sign_proj(signs[:, :3]),
                          model.decoder.sign_proj.linear(signs[:, :3] + random[:3]))  # fmt: skip


def test_no_downsampling_keeps_the_frame_rate_and_no_sign_encoder_is_the_identity():
    tiny = model_config_from_dict({"preset": "tiny"}).sign_encoder
    x, mask = torch.randn(2, 9, 32), torch.ones(2, 9, dtype=torch.bool)
    assert SignEncoder(tiny)(x, mask)[0].shape[1] < 9
    cfg = model_config_from_dict({"preset": "tiny", "sign_encoder": {"downsample": False}})
    assert SignEncoder(cfg.sign_encoder).eval()(x, mask)[0].shape == (2, 9, 32)
    none = {"blocks_before": 0, "blocks_after": 0, "downsample": False, "input_pe": False}
    cfg = model_config_from_dict({"preset": "tiny", "sign_encoder": none})
    out, out_mask = SignEncoder(cfg.sign_encoder)(x, mask)
    assert torch.equal(out, x) and torch.equal(out_mask, mask)


def torchvision_layout() -> dict[str, tuple[int, ...]]:
    """torchvision's resnet18 state-dict keys and shapes (resnet18-f37072fd.pth), fc included."""
    def bn(name: str, c: int) -> dict[str, tuple[int, ...]]:
        stats = {f"{name}.{k}": (c,) for k in ("weight", "bias", "running_mean", "running_var")}
        return {**stats, f"{name}.num_batches_tracked": ()}

    layout = {"conv1.weight": (64, 3, 7, 7), **bn("bn1", 64)}
    for layer, (c_in, c) in enumerate([(64, 64), (64, 128), (128, 256), (256, 512)], start=1):
        for block in (0, 1):
            p = f"layer{layer}.{block}"
            first_in = c_in if block == 0 else c
            layout |= {f"{p}.conv1.weight": (c, first_in, 3, 3), **bn(f"{p}.bn1", c),
                       f"{p}.conv2.weight": (c, c, 3, 3), **bn(f"{p}.bn2", c)}  # fmt: skip
            if block == 0 and layer > 1:
                layout |= {f"{p}.downsample.0.weight": (c, c_in, 1, 1),
                           **bn(f"{p}.downsample.1", c)}  # fmt: skip
    return layout | {"fc.weight": (1000, 512), "fc.bias": (1000,)}


def random_torchvision_state() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {k: (torch.rand(shape, generator=generator) if shape else torch.tensor(7))
            for k, shape in torchvision_layout().items()}  # fmt: skip


def test_resnet18_has_torchvisions_parameters_without_fc():
    net = ResNet18()
    assert sum(p.numel() for p in net.parameters()) == RESNET18_NO_FC == 11_176_512
    layout = torchvision_layout()
    assert sum(math_prod(s) for k, s in layout.items()
               if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))) == (
        11_689_512  # torchvision's published count, fc included
    )  # fmt: skip
    ours = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert ours == {k: s for k, s in layout.items() if not k.startswith("fc.")}
    assert net(torch.randn(2, 3, 56, 56)).shape == (2, 512)


def math_prod(shape: tuple[int, ...]) -> int:
    out = 1
    for size in shape:
        out *= size
    return out


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_resnet18_loads_a_torchvision_weights_file(tmp_path, suffix):
    state = random_torchvision_state()
    path = tmp_path / f"resnet18{suffix}"
    if suffix == ".pth":
        torch.save(state, path)
    else:
        from safetensors.torch import save_file

        save_file(state, str(path))
    model = Sign2GPT(model_config_from_dict(
        {"preset": "tiny", "spatial": {"kind": "resnet18", "pretrained": str(path)}}
    ))  # fmt: skip
    model.load_pretrained()
    loaded = model.spatial.resnet.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in loaded)
    assert all(p.requires_grad for p in model.spatial.parameters())  # trained whole
    assert model(torch.rand(1, 2, 3, 28, 28), torch.ones(1, 2, dtype=torch.bool),
                 torch.tensor([[0, 5]])).shape == (1, 2, 64)  # fmt: skip


def test_resnet18_file_that_does_not_fit_is_one_checkpoint_error(tmp_path):
    state = random_torchvision_state()
    del state["layer3.1.conv2.weight"]
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"missing weight 'layer3\.1\.conv2\.weight'"):
        load_resnet18(ResNet18(), path)


def test_all_words_keeps_every_word_and_the_vocabulary_remembers_it(tmp_path):
    tokens = [Token("der", "der", "DET"), Token("regen", "Regen", "NOUN"),
              Token("und", "und", "CCONJ"), Token(".", ".", "PUNCT")]  # fmt: skip
    assert pseudo_glosses_of(tokens) == ["regen"]
    assert pseudo_glosses_of(tokens, all_words=True) == ["der", "regen", "und"]
    result = build_pseudo_glosses(["der regen und der wind ."], "de", "hanta", progress=False,
                                  all_words=True)  # fmt: skip
    assert {"der", "und"} <= set(result.vocab.words)
    result.save(tmp_path)
    from sign2gpt.text import PseudoGlossVocab

    loaded = PseudoGlossVocab.load(tmp_path)
    assert loaded.all_words and "und" in loaded.extract("regen und schnee")
    assert load_yaml(tmp_path / "vocab.json")["tokens"] == "all_words"


def test_a_glosses_folder_built_the_other_way_is_one_data_error(tmp_path):
    from sign2gpt.errors import DataError
    from sign2gpt.run_config import run_config_from_dict
    from sign2gpt.text import PseudoGlossVocab
    from sign2gpt.train.builders import prepare_glosses

    PseudoGlossVocab(["regen"], [1], "de", "hanta", sentences=1).save(tmp_path)
    cfg = run_config_from_dict({"data": {"root": "."},
                                "text": {"glosses": str(tmp_path), "gloss_tokens": "all_words"}})
    with pytest.raises(DataError, match=r"built from pseudo-glosses, but text\.gloss_tokens"):
        prepare_glosses(cfg, None, tmp_path)


def test_the_glosses_command_builds_an_all_words_folder_that_training_tells_apart(tmp_path):
    from sign2gpt.cli import main
    from sign2gpt.run_config import run_config_from_dict
    from sign2gpt.text import PseudoGlossVocab
    from sign2gpt.train.builders import prepare_glosses

    text = tmp_path / "train.txt"
    text.write_text("der regen und der wind .\nmorgen scheint die sonne .\n", encoding="utf-8")
    for flag, folder in (([], "content"), (["--all-words"], "all")):
        args = ["glosses", "--lang", "de", "--backend", "hanta", "--input", str(text),
                "--out", str(tmp_path / folder), "--no-prototypes", *flag]  # fmt: skip
        assert main(args) == 0
    content, every = (PseudoGlossVocab.load(tmp_path / f) for f in ("content", "all"))
    assert not content.all_words and every.all_words
    assert {"der", "und"} <= set(every.words) and not {"der", "und"} & set(content.words)
    cfg = run_config_from_dict({"data": {"root": "."},
                                "text": {"glosses": str(tmp_path / "content"),
                                         "gloss_tokens": "all_words"}})  # fmt: skip
    with pytest.raises(Exception, match="built from pseudo-glosses"):
        prepare_glosses(cfg, None, tmp_path)
