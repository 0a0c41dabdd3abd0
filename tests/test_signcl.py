"""SignCL (`model.sign_encoder.contrastive`): the loss as defined, its margin rule, that it
trains features apart, and that off / weight 0 leaves both stages' losses exactly as they were."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sign2gpt.config import merge, to_dict
from sign2gpt.data.batch import VideoBatch
from sign2gpt.errors import ConfigError
from sign2gpt.models import Sign2GPT, model_config_from_dict
from sign2gpt.models.config import ContrastiveConfig, SignEncoderConfig
from sign2gpt.models.contrastive import auto_margins, contrastive_term, signcl_loss
from sign2gpt.models.sign_encoder import SignEncoder
from sign2gpt.text import PseudoGlossVocab
from sign2gpt.train.pretrain_stage import PretrainModule
from sign2gpt.train.translate_stage import TranslateModule

TEXTS = ["regen und wind im norden", "sonne im süden"]


def test_loss_matches_the_definition_on_three_frames():
    # T = 3, margin 1: frames 0 and 2 each have one positive (1) and one negative (each
    # other); frame 1 has no frame more than 1 step away, so it is no anchor.
    features = torch.tensor([[[0.0, 0.0], [1.0, 2.0], [4.0, 0.0]]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    cfg = ContrastiveConfig(enabled=True, max_distance=2.5)
    loss = signcl_loss(features, mask, cfg, torch.tensor([1]))
    delta = torch.tensor(2.5)
    anchor0 = F.softplus(3.0 - delta) + F.softplus(delta - 4.0)  # |f0-f1|_1 = 3, |f0-f2|_1 = 4
    anchor2 = F.softplus(5.0 - delta) + F.softplus(delta - 4.0)  # |f2-f1|_1 = 5
    assert loss.item() == pytest.approx(((anchor0 + anchor2) / 2).item(), rel=1e-6)


def test_padding_is_never_an_anchor_or_a_partner():
    features = torch.randn(1, 6, 4)
    mask = torch.tensor([[True, True, True, False, False, False]])
    cfg = ContrastiveConfig(enabled=True)
    alone = signcl_loss(features[:, :3], mask[:, :3], cfg, torch.tensor([1]))
    features[:, 3:] = 1e3  # what padding holds must not matter
    assert signcl_loss(features, mask, cfg, torch.tensor([1])).item() == pytest.approx(
        alone.item()
    )


def test_auto_margin_is_the_papers_rule():
    lengths, words = torch.tensor([100, 200, 30]), torch.tensor([10, 10, 10])
    # (100 // 10 + 1) * 2.3 = 25.3 -> 25 -> 50, capped at (100 - 4) // 2 = 48; 200: 48 * 2 = 96;
    # 30: max(10, 9) * 2 = 20, capped at 13.
    assert auto_margins(lengths, words, 4).tolist() == [48, 96, 13]


def test_keys_are_validated_in_one_line():
    with pytest.raises(ConfigError, match=r"contrastive\.weight must be >= 0"):
        model_config_from_dict({"sign_encoder": {"contrastive": {"weight": -1.0}}}, where="x")
    with pytest.raises(ConfigError, match="negative_margin"):
        model_config_from_dict({"sign_encoder": {"contrastive": {"negative_margin": "far"}}})


def test_training_on_signcl_separates_distant_frames():
    torch.manual_seed(0)
    cfg = SignEncoderConfig(dim=16, num_heads=2, ffn_dim=32, blocks_before=1, blocks_after=1,
                            window=None, dropout=0.0, drop_path=0.0, downsample=False)  # fmt: skip
    encoder = SignEncoder(cfg)
    frames = torch.randn(2, 40, 16) * 0.1 + torch.randn(2, 1, 16)  # all frames alike
    mask = torch.ones(2, 40, dtype=torch.bool)
    signcl = ContrastiveConfig(enabled=True, weight=1.0, negative_margin=10, max_distance=8.0)
    optimizer = torch.optim.Adam(encoder.parameters(), lr=3e-3)

    def far_distance() -> float:
        with torch.no_grad():
            out, _ = encoder(frames, mask)
        return (out[:, :10] - out[:, -10:]).abs().sum(-1).mean().item()

    losses, far_before = [], far_distance()
    for _ in range(60):
        out, out_mask = encoder(frames, mask)
        loss = contrastive_term(out, out_mask, signcl, TEXTS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.5 * sum(losses[:5]) / 5
    assert far_distance() > far_before + 4.0  # distant frames moved apart


class Identity:
    """Stands in for the frame transform: the batch already holds float frames."""

    def __call__(self, frames: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return frames


class WordTokenizer:
    bos_id, eos_id, pad_id = 0, 2, 1

    def encode(self, text: str) -> list[int]:
        return [3 + len(word) % 60 for word in text.split()]


def tiny_model(stage: str, contrastive: dict | None) -> Sign2GPT:
    torch.manual_seed(0)
    overrides = {"stage": stage, "sign_encoder": {"contrastive": contrastive or {}}}
    cfg = model_config_from_dict(merge(to_dict(model_config_from_dict({"preset": "tiny"})),
                                       overrides))  # fmt: skip
    return Sign2GPT(cfg, num_glosses=4)


def batch() -> VideoBatch:
    generator = torch.Generator().manual_seed(1)
    frames = torch.randn(2, 12, 3, 28, 28, generator=generator)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 9:] = False
    return VideoBatch(frames, mask, mask.sum(1), TEXTS, ["a", "b"], ["s", "s"])


def stage_module(stage: str, contrastive: dict | None):
    model = tiny_model(stage, contrastive)
    if stage == "pretrain":
        vocab = PseudoGlossVocab(["regen", "wind", "sonne", "norden"], [2, 1, 1, 1], "de", "x")
        targets = {TEXTS[0]: ["regen", "wind", "norden"], TEXTS[1]: ["sonne"]}
        return PretrainModule(model, (Identity(), Identity()), vocab, targets).train()
    return TranslateModule(model, (Identity(), Identity()), WordTokenizer()).train()


def loss_and_logs(stage: str, contrastive: dict | None):
    module = stage_module(stage, contrastive)
    torch.manual_seed(5)  # the same dropout masks for every variant
    loss, logs = module(batch())
    return loss, logs


@pytest.mark.parametrize("stage", ["pretrain", "translate"])
def test_weight_zero_or_off_is_todays_loss_and_on_adds_the_logged_term(stage):
    off, off_logs = loss_and_logs(stage, None)
    zero, zero_logs = loss_and_logs(stage, {"enabled": True, "weight": 0.0})
    assert torch.equal(off, zero) and off_logs == zero_logs and "signcl" not in off_logs
    on, logs = loss_and_logs(stage, {"enabled": True, "weight": 0.5, "negative_margin": 3})
    assert logs["task_loss"] == pytest.approx(off.item())
    assert logs["signcl"] > 0
    assert on.item() == pytest.approx(off.item() + 0.5 * logs["signcl"], rel=1e-5)
