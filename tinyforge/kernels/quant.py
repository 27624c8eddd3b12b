"""Quantization arithmetic of TFLite Micro's int8 kernels, done once in Python at code generation.

Every function reproduces what TFLM computes in its Prepare step, with the same floating-point
types (double where TFLM uses double, float32 where it uses float), so that the integers handed to
our C kernels equal the ones TFLM's reference kernels use:

    real_multiplier = quantized_multiplier * 2^(shift - 31),  quantized_multiplier in [2^30, 2^31)

Pure functions, no state; unit-tested against known values in tests/unit/test_quant.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
_QRANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767)}


def round_half_away(x: float) -> int:
    """std::round / TfLiteRound on a double: halves go away from zero (Python's round() does not)."""
    if x < 0:
        return -round_half_away(-x)
    r = math.floor(x)
    return int(r) + (1 if x - r >= 0.5 else 0)


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLM QuantizeMultiplier: (multiplier, shift) with real == multiplier * 2^(shift-31).

    frexp-based; a significand that rounds up to 2^31 is halved (shift + 1); shifts below -31
    flush to (0, 0), as TFLM does (no TFLITE_SINGLE_ROUNDING: shifts above 30 are kept).
    """
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed > (1 << 31):
        raise ValueError(f"cannot quantize multiplier {real!r}")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_smaller_than_one_exp(real: float) -> tuple[int, int]:
    """TFLM QuantizeMultiplierSmallerThanOneExp: real in (0, 1), shift <= 0."""
    if not 0.0 < real < 1.0:
        raise ValueError(f"multiplier {real!r} must lie in (0, 1)")
    m, shift = quantize_multiplier(real)
    if shift > 0:
        raise ValueError(f"multiplier {real!r} gave a left shift")
    return m, shift


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """TFLM QuantizeMultiplierGreaterThanOne: real > 1, shift >= 0."""
    if not real > 1.0:
        raise ValueError(f"multiplier {real!r} must be greater than 1")
    m, shift = quantize_multiplier(real)
    if shift < 0:
        raise ValueError(f"multiplier {real!r} gave a right shift")
    return m, shift


def f32(x: float) -> np.float32:
    return np.float32(x)


def quantize_value(scale: float, zero_point: int, value: float) -> int:
    """TFLM's Quantize helper of CalculateActivationRangeQuantized: zp + roundf(value / scale) in float."""
    tmp = float(np.float32(np.float32(value) / np.float32(scale)))
    return int(zero_point) + round_half_away(tmp)


def activation_range(activation: str, scale: float, zero_point: int, dtype: str = "int8") -> tuple[int, int]:
    """TFLM CalculateActivationRangeQuantized: the clamp of a fused activation in output units."""
    qmin, qmax = _QRANGE[dtype]
    if activation == "RELU":
        return max(qmin, quantize_value(scale, zero_point, 0.0)), qmax
    if activation == "RELU6":
        return (
            max(qmin, quantize_value(scale, zero_point, 0.0)),
            min(qmax, quantize_value(scale, zero_point, 6.0)),
        )
    if activation == "RELU_N1_TO_1":
        return (
            max(qmin, quantize_value(scale, zero_point, -1.0)),
            min(qmax, quantize_value(scale, zero_point, 1.0)),
        )
    if activation == "NONE":
        return qmin, qmax
    raise ValueError(f"unsupported fused activation {activation}")


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def compute_out_size(padding: str, image: int, filt: int, stride: int, dilation: int = 1) -> int:
    """TFLM ComputeOutSize for SAME / VALID."""
    eff = (filt - 1) * dilation + 1
    if stride == 0:
        return 0
    if padding == "SAME":
        return _c_div(image + stride - 1, stride)
    if padding == "VALID":
        return _c_div(image + stride - eff, stride)
    return 0


def compute_padding(stride: int, dilation: int, in_size: int, filt: int, out_size: int) -> tuple[int, int]:
    """TFLM ComputePaddingWithOffset: (padding before, extra padding after: the offset)."""
    eff = (filt - 1) * dilation + 1
    total = max((out_size - 1) * stride + eff - in_size, 0)
    return total // 2, total % 2


@dataclass(frozen=True)
class Padding2D:
    out_h: int
    out_w: int
    pad_h: int  # rows of zeros above (the kernels use only this and pad_w)
    pad_w: int
    pad_h_offset: int  # an odd total adds one more row below / column right
    pad_w_offset: int


def padding_2d(
    padding: str,
    in_h: int,
    in_w: int,
    k_h: int,
    k_w: int,
    stride_h: int,
    stride_w: int,
    dil_h: int = 1,
    dil_w: int = 1,
) -> Padding2D:
    """TFLM ComputePaddingHeightWidth."""
    out_w = compute_out_size(padding, in_w, k_w, stride_w, dil_w)
    out_h = compute_out_size(padding, in_h, k_h, stride_h, dil_h)
    ph, ph_off = compute_padding(stride_h, dil_h, in_h, k_h, out_h)
    pw, pw_off = compute_padding(stride_w, dil_w, in_w, k_w, out_w)
    return Padding2D(out_h, out_w, ph, pw, ph_off, pw_off)


def conv_multipliers(
    input_scale: float, filter_scales: Sequence[float], output_scale: float
) -> list[tuple[int, int]]:
    """TFLM PopulateConvolutionQuantizationParams (int8): per channel, in double."""
    return [quantize_multiplier(float(input_scale) * float(fs) / float(output_scale)) for fs in filter_scales]


def fc_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> tuple[int, int]:
    """Per-tensor FULLY_CONNECTED: input_scale * filter_scale / output_scale in double.

    (Some TFLite sources form the scale product in float32; the tflite_micro reference does not:
    ad01's last layer differs in one output byte with the float product.)
    """
    return quantize_multiplier(float(input_scale) * float(filter_scale) / float(output_scale))


@dataclass(frozen=True)
class AddSubParams:
    left_shift: int
    input1_mult: int
    input1_shift: int
    input2_mult: int
    input2_shift: int
    output_mult: int
    output_shift: int


def add_params(s1: float, s2: float, s_out: float, left_shift: int = 20) -> AddSubParams:
    """TFLM CalculateOpDataAdd (int8): twice the larger input scale as the common scale, in double."""
    twice_max = 2 * float(max(np.float32(s1), np.float32(s2)))
    r1 = float(s1) / twice_max
    r2 = float(s2) / twice_max
    r_out = twice_max / ((1 << left_shift) * float(s_out))
    m1, sh1 = quantize_multiplier_smaller_than_one_exp(r1)
    m2, sh2 = quantize_multiplier_smaller_than_one_exp(r2)
    mo, sho = quantize_multiplier_smaller_than_one_exp(r_out)
    return AddSubParams(left_shift, m1, sh1, m2, sh2, mo, sho)


def sub_params(s1: float, s2: float, s_out: float, left_shift: int = 20) -> AddSubParams:
    """TFLM CalculateOpDataSub (int8): the ADD scheme, in double.

    (Some TFLM sources compute SUB's multipliers in float32; the tflite_micro reference uses
    double, which tests/toolchain/test_kernels_sweep.py checks on every int8 pair.)
    """
    return add_params(s1, s2, s_out, left_shift)


def mul_multiplier(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """TFLM CalculateOpDataMul: s1 * s2 / s_out in double."""
    return quantize_multiplier(float(s1) * float(s2) / float(s_out))


SOFTMAX_SCALED_DIFF_BITS = 5


def preprocess_softmax_scaling(beta: float, input_scale: float, input_integer_bits: int) -> tuple[int, int]:
    """TFLM PreprocessSoftmaxScaling: beta * input_scale in Q(input_integer_bits), capped at 2^31 - 1."""
    real = min(float(beta) * float(input_scale) * (1 << (31 - input_integer_bits)), float((1 << 31) - 1))
    return quantize_multiplier_greater_than_one(real)


def calculate_input_radius(
    input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31
) -> int:
    """TFLM CalculateInputRadius: the largest input difference that the scaled exp() still sees."""
    max_input_rescaled = (
        1.0
        * ((1 << input_integer_bits) - 1)
        * (1 << (total_signed_bits - input_integer_bits))
        / (1 << input_left_shift)
    )
    return int(math.floor(max_input_rescaled))


@dataclass(frozen=True)
class SoftmaxParams:
    input_multiplier: int
    input_left_shift: int
    diff_min: int


def softmax_params(beta: float, input_scale: float) -> SoftmaxParams:
    """TFLM CalculateSoftmaxParams for int8 input (beta is the float32 option)."""
    beta_d = float(np.float32(beta))
    mult, shift = preprocess_softmax_scaling(beta_d, input_scale, SOFTMAX_SCALED_DIFF_BITS)
    diff_min = -calculate_input_radius(SOFTMAX_SCALED_DIFF_BITS, shift)
    return SoftmaxParams(mult, shift, diff_min)


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> tuple[int, int]:
    """TFLM MEAN (int8, different quantization): input/output scale with 1/count folded in.

    QuantizeMultiplier(in/out), then the multiplier absorbs floor(log2(count)) extra bits and is
    divided by the count in int64 (reference QuantizedMeanOrSum).
    """
    mult, shift = quantize_multiplier(float(input_scale) / float(output_scale))
    if count <= 0:
        return mult, shift
    extra = count.bit_length() - 1  # 63 - CountLeadingZeros(count)
    extra = min(extra, 32)
    extra = min(extra, 31 + shift)
    mult = (mult << extra) // count if extra >= 0 else mult
    return int(mult), int(shift - extra)


# ---- the kernels' integer arithmetic on Python ints (table builders, DSP folding, tests) -------

INT32_MAX = 2**31 - 1


def wrap32(x: int) -> int:
    """Two's-complement wrap of an integer to int32."""
    return ((x + 2**31) % 2**32) - 2**31


def srdhm(a: int, b: int) -> int:
    """TFLM (gemmlowp) SaturatingRoundingDoublingHighMul on int32 values (C division truncates)."""
    if a == b == -(2**31):
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    q = ab + nudge
    return q >> 31 if q >= 0 else -((-q) >> 31)


def rdbp(x: int, exponent: int) -> int:
    """TFLM (gemmlowp) RoundingDivideByPOT: halves go away from zero."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x: int, mult: int, shift: int) -> int:
    """tf_multiply_by_quantized_multiplier (firmware/kernels/tf_common.h), TFLM's
    MultiplyByQuantizedMultiplier: the left shift wraps to int32 as in the C kernels."""
    ls, rs = max(shift, 0), max(-shift, 0)
    return rdbp(srdhm(wrap32(x << ls), mult), rs)


def rescale_table(
    input_offset: int, left_shift: int, multiplier: int, shift: int, negate: bool = False
) -> np.ndarray:
    """int32 [256]: TFLM ADD's rescaled input, MultiplyByQuantizedMultiplier((x + offset) <<
    left_shift, m, shift), for every int8 x, indexed by the byte's unsigned value (x & 0xFF);
    negated (SUB's second input) with `negate`."""
    table = np.zeros(256, dtype=np.int64)
    for byte in range(256):
        x = byte - 256 if byte >= 128 else byte
        v = multiply_by_quantized_multiplier((x + input_offset) << left_shift, multiplier, shift)
        table[byte] = wrap32(-v if negate else v)
    return table.astype(np.int32)
