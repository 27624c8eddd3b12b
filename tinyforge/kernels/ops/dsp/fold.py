"""Build-time work for the DSP-extension kernels (firmware/kernels/dsp/): folding the input offset
and the requantization into constants, packing them for int8 weights, and laying weights out
(int8, or expanded to int16 with `--optimize speed`) in the order the kernels read them. The
packers in tinyforge/kernels/ops/dsp/*.py call these.

Folded requantization. TFLM computes, per output channel with (mult, shift) from QuantizeMultiplier,

    acc = bias + sum(w * (x + input_offset))
    out = clamp(RDBP(SRDHM(acc << ls, mult), rs) + out_zp),   ls = max(shift, 0), rs = max(-shift, 0)

(SRDHM: SaturatingRoundingDoublingHighMul, RDBP: RoundingDivideByPOT, ties away from zero). The
DSP kernels instead keep a = acc * 2^(ls+1) in the accumulator (bias and weights are scaled by
2^(ls+1) here, and bias also holds input_offset * sum(w)), and compute

    out = clamp((SMMLAR(a, mult, kq) + (a >> 31)) >> rs),   kq = 2^(rs-1) + out_zp * 2^rs

which is the same integer when nothing overflows:
  * SMMLAR(a, m, kq) = kq + floor((a*m + 2^31) / 2^32) = kq + floor((X*m + 2^30) / 2^31) with
    X = acc << ls, and floor((X*m + 2^30) / 2^31) equals SRDHM(X, m) = trunc((X*m + nudge) / 2^31)
    for both signs of X*m (m > 0, so the saturating case INT32_MIN * INT32_MIN cannot occur);
  * RDBP(r, rs) = floor((r + 2^(rs-1) - [r < 0]) / 2^rs) for rs >= 1; a < 0 exactly when r < 0
    or r == 0 with a < 0, and in that last case both forms give 0; adding out_zp * 2^rs before
    the arithmetic shift adds out_zp after it.
A channel whose weights are all 0 (pruned; converters give them tiny scales and huge biases) has
a constant output v, computed here: a = 8 (v - out_zp), mult 2^30, rshift 1 and the usual
kq = 2 out_zp + 1 make the kernel produce it ((2v + 1) >> 1 = 2v >> 1 = v, with or without the
sign correction), so kq stays a function of rshift and the zero point for every channel.
`fold_requant` checks, per channel and from the weights' actual values, that |a| < 2^31 for
every int8 input, that kq + SMMLAR's product part cannot overflow, that the scaled weights fit
int16, and that rs >= 1. A layer that fails any check keeps the portable kernel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tinyforge.kernels import packing as pk
from tinyforge.kernels.quant import INT32_MAX, multiply_by_quantized_multiplier, wrap32

INT16_MAX = 2**15 - 1
LANE_ORDER = (0, 2, 1, 3)  # a group of 4 taps as SXTB16 leaves it: words (k0, k2), (k1, k3)


@dataclass(frozen=True)
class FoldedRequant:
    """Per output channel: scaled bias, multiplier, rounding constant, right shift, and the factor
    2^scale_shift the weights must be multiplied by."""

    bias: tuple[int, ...]
    mult: tuple[int, ...]
    kq: tuple[int, ...]
    rshift: tuple[int, ...]
    scale_shift: tuple[int, ...]


def input_range_abs(input_offset: int) -> int:
    """max |x + input_offset| over int8 x."""
    return max(abs(-128 + input_offset), abs(127 + input_offset))


def fold_requant(
    bias: Sequence[int] | np.ndarray | None,
    weights: np.ndarray,
    input_offset: int,
    pairs: Sequence[tuple[int, int]],
    out_zp: int,
) -> FoldedRequant | str:
    """Fold input offset and requantization for weights [out_channels, taps] (int, zero point
    already applied). Returns the constants, or the reason the DSP kernels cannot be exact."""
    w = np.asarray(weights, dtype=np.int64)
    channels = w.shape[0]
    if len(pairs) == 1 and channels > 1:
        pairs = list(pairs) * channels
    if len(pairs) != channels:
        raise ValueError(f"{len(pairs)} multipliers for {channels} channels")
    b = np.zeros(channels, dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64)
    xmax = input_range_abs(input_offset)
    w_sum = w.sum(axis=1)
    w_abs = np.abs(w).sum(axis=1)
    w_max = np.abs(w).max(axis=1) if w.shape[1] else np.zeros(channels, dtype=np.int64)
    out_b, out_m, out_k, out_r, out_s = [], [], [], [], []
    for c in range(channels):
        mult, shift = int(pairs[c][0]), int(pairs[c][1])
        ls, rs = max(shift, 0), max(-shift, 0)
        if w_abs[c] == 0:
            # a dead channel (all weights 0): its output is a constant v (see the module docstring)
            v = multiply_by_quantized_multiplier(int(b[c]), mult, shift) + out_zp
            v = min(max(v, -32768), 32767)  # any value beyond int8 clamps the same way
            out_b.append(8 * (v - out_zp))
            out_m.append(1 << 30)
            out_k.append(2 * out_zp + 1)
            out_r.append(1)
            out_s.append(1)
            continue
        if mult <= 0:
            return f"channel {c} has a zero multiplier"
        if rs < 1:
            return f"channel {c} has a multiplier >= 0.5 (no right shift to round)"
        scale = 1 << (ls + 1)
        bound = (abs(int(b[c])) + int(w_abs[c]) * xmax) * scale
        if bound > INT32_MAX:
            return f"channel {c}: the scaled accumulator can reach {bound}, beyond int32"
        if int(w_max[c]) * scale > INT16_MAX:
            return f"channel {c}: the scaled weights do not fit int16"
        kq = (1 << (rs - 1)) + out_zp * (1 << rs)
        high = ((bound * mult + (1 << 31)) >> 32) + 1
        if high + abs(kq) + 1 > INT32_MAX:
            return f"channel {c}: the rounding constant overflows (right shift {rs})"
        out_b.append((int(b[c]) + input_offset * int(w_sum[c])) * scale)
        out_m.append(mult)
        out_k.append(kq)
        out_r.append(rs)
        out_s.append(ls + 1)
    return FoldedRequant(tuple(out_b), tuple(out_m), tuple(out_k), tuple(out_r), tuple(out_s))


def fold_weights(
    weights: np.ndarray,
    bias: np.ndarray | None,
    input_offset: int,
    pairs: Sequence[tuple[int, int]],
    out_zp: int,
) -> tuple[FoldedRequant, np.ndarray] | str:
    """`fold_requant` of weights [out_channels, taps] and the weights scaled to match it, or the
    reason the DSP kernels cannot be exact."""
    folded = fold_requant(bias, weights, input_offset, pairs, out_zp)
    if isinstance(folded, str):
        return folded
    return folded, scaled_weights(weights, folded)


def clamp_fields(act: tuple[int, int], out_zp: int) -> pk.Fields:
    """fast, act_min, act_max: the clamp and whether the rounding correction may be skipped."""
    return (("fast", fast_requant(act[0], act[1], out_zp)), *pk.clamp_fields(act))


START_BITS = 26  # int8 weights: |accumulator start| < 2^26 leaves 5 bits for the right shift


@dataclass(frozen=True)
class Int8Requant:
    """The per-channel constants of the int8-weight kernels (tf_dsp_common.h): `packed` =
    start << 5 | rshift per channel, `mult` per channel or a single one. When some start needs
    more than START_BITS bits (a huge bias), `packed` holds the starts themselves and `rshift`
    the right shifts (one byte per channel more)."""

    packed: tuple[int, ...]
    mult: tuple[int, ...]
    rshift: tuple[int, ...] = ()

    @property
    def per_channel(self) -> bool:
        return len(self.mult) > 1


def int8_requant(folded: FoldedRequant, out_zp: int, halve: bool) -> Int8Requant | str:
    """Pack `folded` for int8 weights (no scaling of the weights possible): every channel must
    have scale_shift 1 (no left shift; the kernel doubles the sum, or the input values). `halve`:
    the start is the folded bias / 2 (the sum is doubled after it is complete, start included)."""
    starts, shifts, mults = [], [], []
    for c in range(len(folded.bias)):
        if folded.scale_shift[c] != 1:
            return f"channel {c} has a multiplier >= 1 (a left shift int8 weights cannot hold)"
        start = folded.bias[c] // 2 if halve else folded.bias[c]
        if halve and folded.bias[c] % 2:
            raise ValueError("a folded bias with scale_shift 1 is even")
        rs = folded.rshift[c]
        if not 1 <= rs <= 31 or folded.kq[c] != ((2 * out_zp + 1) << rs) >> 1:
            raise ValueError(f"channel {c}: unexpected rounding constant")
        if abs(folded.kq[c]) >= 1 << 30:
            return f"channel {c}: the rounding constant needs more than 30 bits"
        starts.append(start)
        shifts.append(rs)
        mults.append(folded.mult[c])
    if len(set(mults)) == 1:
        mults = mults[:1]
    if all(abs(v) < 1 << START_BITS for v in starts):
        return Int8Requant(tuple((v << 5) | r for v, r in zip(starts, shifts, strict=True)), tuple(mults))
    return Int8Requant(tuple(starts), tuple(mults), tuple(shifts))


def fast_requant(act_min: int, act_max: int, out_zp: int) -> int:
    """1 when the kernels may skip the rounding correction (tf_dsp_common.h tf_dsp_requant_fast):
    the activation range is all of int8 and the output zero point is -128, so every negative
    accumulator ends at -128 however its last shift rounds."""
    return int(act_min == -128 and act_max == 127 and out_zp == -128)


def scaled_weights(weights: np.ndarray, folded: FoldedRequant) -> np.ndarray:
    """weights [channels, taps] * 2^scale_shift per channel, as int64."""
    w = np.asarray(weights, dtype=np.int64)
    return w * (np.int64(1) << np.asarray(folded.scale_shift, dtype=np.int64))[:, None]


def round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def pad_to(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    out = np.zeros((rows, cols), dtype=np.int64)
    out[: a.shape[0], : a.shape[1]] = a
    return out


def lane_order(w: np.ndarray) -> np.ndarray:
    """[channels, taps (multiple of 4)] -> the same with each group of 4 taps as (k0, k2, k1, k3)."""
    ch, taps = w.shape
    return w.reshape(ch, taps // 4, 4)[:, :, list(LANE_ORDER)].reshape(ch, taps)


def interleave(w: np.ndarray, group: int) -> np.ndarray:
    """[channels (multiple of group), taps (multiple of 4)] -> int16 stream
    [channels/group][taps/4][group][4]: each LDRD of 4 int16 is one channel's next 4 taps."""
    ch, taps = w.shape
    return w.reshape(ch // group, group, taps // 4, 4).transpose(0, 2, 1, 3).reshape(-1)


def int16_words(values: np.ndarray) -> np.ndarray:
    """An even-length int16 stream as int32 words (little endian: the first value in the low half)."""
    v = np.asarray(values, dtype=np.int64)
    if v.size % 2:
        v = np.append(v, 0)
    if v.size and (v.min() < -32768 or v.max() > INT16_MAX):
        raise ValueError("value outside int16")
    return v.astype("<i2").view("<i4").astype(np.int32)


# ---- what the DSP kernels compute (Python ints), for tests -----------------------------------


def folded_requant_value(a: int, mult: int, kq: int, rshift: int) -> int:
    """What the DSP kernels compute from the scaled accumulator a (before the clamp)."""
    t = wrap32(kq + ((a * mult + (1 << 31)) >> 32))
    return wrap32(t + (a >> 31)) >> rshift
