"""Spatial backbone, sign encoder and prototype head on tiny sizes."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from sign2gpt.models.config import PrototypeHeadConfig, tiny_config
from sign2gpt.models.layers.temporal_pool import masked_avg_pool
from sign2gpt.models.prototype_head import PrototypeHead
from sign2gpt.models.sign_encoder import SignEncoder
from sign2gpt.models.spatial import SpatialBackbone


def pad_batch(videos: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    length = max(v.size(0) for v in videos)
    batch = torch.full((len(videos), length, videos[0].size(1)), 7.0)  # junk in the padding
    mask = torch.zeros(len(videos), length, dtype=torch.bool)
    for i, video in enumerate(videos):
        batch[i, : video.size(0)] = video
        mask[i, : video.size(0)] = True
    return batch, mask


@pytest.mark.parametrize("window", [7, None])
def test_sign_encoder_padded_batch_equals_each_video_alone(window):
    torch.manual_seed(0)
    cfg = dataclasses.replace(tiny_config().sign_encoder, window=window, blocks_after=2)
    encoder = SignEncoder(cfg).eval()
    with torch.no_grad():  # layer scales of 1e-5 would hide mistakes; make branches count
        for name, param in encoder.named_parameters():
            if name.endswith("gamma"):
                param.fill_(0.5)
    videos = [torch.randn(n, 32) for n in (13, 6, 9)]
    batch, mask = pad_batch(videos)
    with torch.no_grad():
        out, out_mask = encoder(batch, mask)
        for i, video in enumerate(videos):
            alone, alone_mask = encoder(video[None], torch.ones(1, video.size(0), dtype=torch.bool))
            length = alone.size(1)
            assert length == (video.size(0) + 1) // 2
            assert out_mask[i].sum() == length and alone_mask.all()
            torch.testing.assert_close(out[i, :length], alone[0], atol=1e-5, rtol=0)


def test_local_window_limits_what_a_frame_sees():
    torch.manual_seed(0)
    cfg = dataclasses.replace(tiny_config().sign_encoder, blocks_after=0, window=3)
    encoder = SignEncoder(cfg).eval()
    x = torch.randn(1, 12, 32)
    changed = x.clone()
    changed[0, 11] += 1.0  # one block of window 3 reaches 1 frame away
    mask = torch.ones(1, 12, dtype=torch.bool)
    with torch.no_grad():
        (a, _), (b, _) = encoder(x, mask), encoder(changed, mask)
    # Pooled position t covers frames 2t-1..2t+1; frame 11 reaches frames 10..11 -> t = 5, 6.
    torch.testing.assert_close(a[0, :5], b[0, :5])
    assert not torch.allclose(a[0, 5:], b[0, 5:])


def test_masked_pool_halves_length_and_ignores_padding():
    x = torch.arange(10, dtype=torch.float32).view(1, 5, 2)
    mask = torch.tensor([[True, True, True, False, False]])
    pooled, pooled_mask = masked_avg_pool(x, mask)
    assert pooled_mask.tolist() == [[True, True, False]]
    # windows: {pad, 0, 1} -> mean of frames 0,1; {1, 2, 3} -> frames 1, 2 (3 is padding)
    torch.testing.assert_close(pooled[0, 0], x[0, :2].mean(0))
    torch.testing.assert_close(pooled[0, 1], x[0, 1:3].mean(0))


def test_sign_encoder_init():
    encoder = SignEncoder(tiny_config().sign_encoder)
    gammas = [p for n, p in encoder.named_parameters() if n.endswith("gamma")]
    assert gammas and all(torch.all(g == 1e-5) for g in gammas)
    biases = [p for n, p in encoder.named_parameters() if n.endswith(("qkv.bias", "fc1.bias"))]
    assert all(torch.count_nonzero(b) == 0 for b in biases)


def test_spatial_encode_video_runs_real_frames_in_chunks():
    torch.manual_seed(0)
    backbone = SpatialBackbone(tiny_config().spatial).eval()  # chunk_size 3
    video = torch.randn(2, 4, 3, 28, 28)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    with torch.no_grad():
        out = backbone.encode_video(video, mask)
        direct = backbone(video[mask])
    assert out.shape == (2, 4, 32)
    torch.testing.assert_close(out[mask], direct)
    assert torch.count_nonzero(out[~mask]) == 0


def make_head(num_glosses: int = 6) -> PrototypeHead:
    torch.manual_seed(0)
    return PrototypeHead(PrototypeHeadConfig(word_dim=16), 32, num_glosses).eval()


def test_head_temperatures_start_at_0_1_and_clamp():
    head = make_head()
    assert [t.item() for t in head.temperatures()] == pytest.approx([0.1, 0.1])
    with torch.no_grad():
        head.temperature_class.fill_(5.0)
        head.temperature_time.fill_(0.0001)
    assert [t.item() for t in head.temperatures()] == pytest.approx([1.0, 0.01])


def test_head_scores_zero_prototype_and_masked_time_softmax():
    head = make_head()
    x = torch.randn(2, 5, 32)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    out = head(x, mask)
    assert out.scores.shape == (2, 6) and out.class_probs.shape == (2, 5, 7)
    assert torch.count_nonzero(out.similarity[..., -1]) == 0  # the "no sign" prototype
    torch.testing.assert_close(out.class_probs.sum(-1), torch.ones(2, 5))
    assert ((out.scores >= 0) & (out.scores <= 1)).all()
    # Reference: scores by the formula, over the real frames of sample 1 only.
    sim = out.similarity[1, :3]
    expected = ((sim / 0.1).softmax(-1) * (sim / 0.1).softmax(0)).sum(0)[:-1]
    torch.testing.assert_close(out.scores[1], expected)
    junk = x.clone()
    junk[1, 3:] = 100.0
    torch.testing.assert_close(head(junk, mask).scores, out.scores)


def test_head_loss_is_weighted_bce_with_clamped_scores():
    head = make_head()
    scores = torch.tensor([[0.0, 0.5, 0.9], [0.2, 1.0, 0.1]])
    targets = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    expected = 10 * F.binary_cross_entropy(scores.clamp(1e-8, 1.0), targets)
    torch.testing.assert_close(head.loss(scores, targets), expected)
    assert torch.isfinite(head.loss(scores, targets))


def test_head_takes_initial_prototypes_and_trains_them():
    vectors = torch.randn(4, 16)
    head = PrototypeHead(PrototypeHeadConfig(word_dim=16), 32, 4, vectors)
    torch.testing.assert_close(head.prototypes.detach(), vectors)
    assert head.prototypes.requires_grad
    with pytest.raises(ValueError, match="shape"):
        PrototypeHead(PrototypeHeadConfig(word_dim=16), 32, 5, vectors)


def test_drop_path_drops_whole_samples_only_in_training():
    from sign2gpt.models.layers.drop_path import DropPath

    torch.manual_seed(0)
    drop = DropPath(0.5)
    x = torch.ones(64, 3, 4)
    out = drop(x)
    per_sample = out.flatten(1)
    assert set(per_sample.unique().tolist()) == {0.0, 2.0}  # kept samples rescaled by 1 / 0.5
    assert (per_sample.min(1).values == per_sample.max(1).values).all()
    assert torch.equal(drop.eval()(x), x)


def test_r_precision_counts_top_n_hits_per_video():
    from sign2gpt.train.pretrain_stage import r_precision_hits

    targets = torch.tensor([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]], dtype=torch.float)
    scores = torch.tensor([[0.9, 0.1, 0.8, 0.0], [0.1, 0.2, 0.3, 0.0], [0.5, 0.5, 0.5, 0.5]])
    # video 0: top-2 = {0, 2}, one of 2 targets; video 1: top-1 = {2}, a hit; video 2: no targets
    assert r_precision_hits(scores, targets) == (1.5, 2)
    # one shared ranking (a frequency prior) for every video
    assert r_precision_hits(torch.tensor([4.0, 3.0, 2.0, 1.0]), targets) == (1.0, 2)
