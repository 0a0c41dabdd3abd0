"""FixedLinear: the packed CPU path computes what F.linear computes."""

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from sign2gpt.models.layers.fixed_linear import FixedLinear, can_pack


@pytest.mark.parametrize("activation", [None, "gelu"])
@pytest.mark.parametrize("with_bias", [True, False])
def test_fixed_linear_equals_f_linear(activation, with_bias):
    torch.manual_seed(0)
    weight, bias = torch.randn(48, 16), torch.randn(48) if with_bias else None
    fixed = FixedLinear(weight, bias, activation=activation, rows=8)
    assert fixed.packed == can_pack(weight)
    for shape in [(8, 16), (3, 5, 16), (1, 16)]:  # other row counts than the packing's
        x = torch.randn(shape)
        expected = F.linear(x, weight, bias)
        expected = expected if activation is None else F.gelu(expected)
        torch.testing.assert_close(fixed(x), expected, atol=1e-5, rtol=1e-5)


def test_cpu_fp32_weights_are_packed_where_onednn_exists():
    if not torch.backends.mkldnn.is_available():
        pytest.skip("this torch build has no oneDNN")
    assert can_pack(torch.zeros(2, 2))
    assert not can_pack(torch.zeros(2, 2, dtype=torch.bfloat16))


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="activation"):
        FixedLinear(torch.zeros(2, 2), activation="relu")


def test_packing_is_skipped_when_the_copies_would_not_fit(monkeypatch):
    from sign2gpt.models.layers import fixed_linear

    weights = [torch.zeros(256, 256)]  # 256 KiB
    monkeypatch.setattr(fixed_linear, "memory_available", lambda: 1 << 30)
    assert fixed_linear.packing_fits(weights) == can_pack(weights[0])
    monkeypatch.setattr(fixed_linear, "memory_available", lambda: 300 << 10)  # 300 KiB free
    assert not fixed_linear.packing_fits(weights)
    fixed = FixedLinear(weights[0], pack=False)
    assert not fixed.packed
    torch.testing.assert_close(fixed(torch.ones(2, 256)), torch.zeros(2, 256))


def test_memory_available_reads_a_positive_amount():
    from sign2gpt.models.layers.fixed_linear import memory_available

    available = memory_available()
    if Path("/proc/meminfo").is_file():  # Linux: MemAvailable is always there
        assert available is not None
    assert available is None or available > 0
