"""The folded requantization of the DSP kernels (tinyforge/kernels/ops/dsp/fold.py) equals TFLM's
MultiplyByQuantizedMultiplier + zero point + clamp for every accumulator the range checks allow,
including the `fast` form without the rounding correction; the checks refuse what cannot be exact."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyforge.kernels import quant
from tinyforge.kernels.ops.dsp import fold


def tflm(acc: int, mult: int, shift: int, zp: int, lo: int, hi: int) -> int:
    return min(max(quant.multiply_by_quantized_multiplier(acc, mult, shift) + zp, lo), hi)


def folded(acc: int, f: fold.FoldedRequant, c: int, lo: int, hi: int, fast: bool) -> int:
    a = acc << f.scale_shift[c]
    assert -(2**31) <= a < 2**31
    if fast:  # tf_dsp_requant_fast: SMMLAR, ASR, SSAT
        v = quant.wrap32(f.kq[c] + ((a * f.mult[c] + (1 << 31)) >> 32)) >> f.rshift[c]
        return min(max(v, -128), 127)
    return min(max(fold.folded_requant_value(a, f.mult[c], f.kq[c], f.rshift[c]), lo), hi)


@settings(max_examples=400, deadline=None)
@given(
    mult=st.integers(1 << 30, (1 << 31) - 1),
    shift=st.integers(-24, 2),
    zp=st.integers(-128, 127),
    bias=st.integers(-50_000, 50_000),
    in_off=st.integers(-127, 128),
    seed=st.integers(0, 2**32 - 1),
)
def test_fold_matches_tflm(mult: int, shift: int, zp: int, bias: int, in_off: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (1, 9))
    f = fold.fold_requant([bias], w, in_off, [(mult, shift)], zp)
    if isinstance(f, str):
        assert any(why in f for why in ("right shift", "beyond int32", "int16", "rounding constant"))
        return
    ws = fold.scaled_weights(w, f)
    for _ in range(40):
        x = rng.integers(-128, 128, 9)
        acc = bias + int(np.dot(w[0], x + in_off))
        a = f.bias[0] + int(np.dot(ws[0], x))  # what the kernel accumulates
        assert a == acc << f.scale_shift[0]
        assert folded(acc, f, 0, -128, 127, False) == tflm(acc, mult, shift, zp, -128, 127)
        relu_lo = max(zp, -128)
        assert folded(acc, f, 0, relu_lo, 127, False) == tflm(acc, mult, shift, zp, relu_lo, 127)
        if zp == -128:
            assert folded(acc, f, 0, -128, 127, True) == tflm(acc, mult, shift, zp, -128, 127)


@settings(max_examples=300, deadline=None)
@given(
    a=st.integers(-(2**31), 2**31 - 1),
    mult=st.integers(1 << 30, (1 << 31) - 1),
    rs=st.integers(1, 20),
    zp=st.integers(-128, 127),
)
def test_rounding_identity_on_the_scaled_accumulator(a: int, mult: int, rs: int, zp: int) -> None:
    """SMMLAR + sign correction + ASR == SRDHM then RDBP, for any a = 2x (x the TFLM input)."""
    a &= ~1  # the kernels' accumulator is acc * 2^(ls+1): even
    kq = (1 << (rs - 1)) + zp * (1 << rs)
    high = abs((a * mult + (1 << 31)) >> 32) + 1
    if high + abs(kq) + 1 > quant.INT32_MAX:
        return
    want = quant.rdbp(quant.srdhm(a // 2, mult), rs) + zp
    assert fold.folded_requant_value(a, mult, kq, rs) == want


@pytest.mark.parametrize("zp", [-128, -3, 0, 77])
@pytest.mark.parametrize("bias", [1 << 30, -(1 << 30), 12345, 0])
def test_dead_channel_is_a_constant(zp: int, bias: int) -> None:
    """A channel whose weights are all 0: the kernel's accumulator is the folded bias alone, and
    the usual constants (kq made from the right shift and the zero point) give TFLM's output."""
    w = np.zeros((1, 16), dtype=np.int64)
    f = fold.fold_requant([bias], w, 128, [(1_282_601_889, -28)], zp)
    assert not isinstance(f, str)
    assert f.kq[0] == ((2 * zp + 1) << f.rshift[0]) >> 1
    want = tflm(bias, 1_282_601_889, -28, zp, -128, 127)
    a = f.bias[0]  # weights 0: what the kernel accumulates
    v = fold.folded_requant_value(a, f.mult[0], f.kq[0], f.rshift[0])
    assert min(max(v, -128), 127) == want
    fast = fold.wrap32(f.kq[0] + ((a * f.mult[0] + (1 << 31)) >> 32)) >> f.rshift[0]
    assert min(max(fast, -128), 127) == want


@pytest.mark.parametrize(
    ("pairs", "bias", "reason"),
    [
        ([(1 << 30, 0)], [0], "no right shift"),
        ([(0, -5)], [0], "zero multiplier"),
        ([(1 << 30, -3)], [2**30], "beyond int32"),
        ([(1 << 30, -30)], [0], "rounding constant"),
    ],
)
def test_unfoldable_layers_are_refused(pairs: list[tuple[int, int]], bias: list[int], reason: str) -> None:
    w = np.ones((1, 4), dtype=np.int64)
    got = fold.fold_requant(bias, w, 0, pairs, 127)
    assert isinstance(got, str) and reason in got


def test_wide_stream_puts_each_pairs_constants_beside_its_weights() -> None:
    """`--optimize speed` conv weights (dsp/conv.py wide_stream): per channel pair the starts
    (s0 s1 s0 s1), the int16 weight words, (m0 m1 kq0 kq1 rs0 rs1), the last pair's rs1 flagged;
    an odd out_c pads its last channel with valid constants."""
    from tinyforge.kernels.ops.dsp.conv import LAST_PAIR_FLAG, wide_stream

    f = fold.FoldedRequant((10, 11, 12), (1 << 30, 1 << 29, 1 << 28), (5, 6, 7), (3, 4, 5), (1, 1, 1))
    ws = np.arange(4 * 8).reshape(4, 8)  # 4 channels (3 + padding), 8 taps
    s = wide_stream(ws, f, 3).tolist()
    assert len(s) == 2 * (4 + 8 + 6)
    assert s[:4] == [10, 11, 10, 11] and s[12:18] == [1 << 30, 1 << 29, 5, 6, 3, 4]
    assert s[18:22] == [12, 0, 12, 0]
    assert s[30:36] == [1 << 28, 1 << 30, 7, 0, 5, 1 | LAST_PAIR_FLAG]
    words = fold.int16_words(fold.interleave(ws, 2)).tolist()
    assert s[4:12] == words[:8] and s[22:30] == words[8:]
