"""tinyforge.kernels.quant: TFLM's quantization arithmetic on known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinyforge.kernels import quant


@pytest.mark.parametrize(
    ("real", "expected"),
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.75, (3 << 29, 0)),
        (0.25, (1 << 30, -1)),
        (3.0, (3 << 29, 2)),
        (2.0**-31, (1 << 30, -30)),
        (2.0**-32, (1 << 30, -31)),
        (2.0**-33, (0, 0)),  # shift -32: flushed to zero
        (1e-12, (0, 0)),
        (1.0 - 2.0**-33, (1 << 30, 1)),  # the significand rounds up to 2^31: halved, shift + 1
        (2.0**40, (1 << 30, 41)),  # large shifts are kept (no single-rounding saturation)
        # ad01's last FULLY_CONNECTED (0.0247909 * 0.0195567 / 0.364498)
        (0.024790890514850616 * 0.0195566825568676 / 0.36449846625328064, (1462485049, -9)),
    ],
)
def test_quantize_multiplier_known_values(real: float, expected: tuple[int, int]) -> None:
    assert quant.quantize_multiplier(real) == expected


def test_quantize_multiplier_reconstructs_the_real_value() -> None:
    rng = np.random.default_rng(0)
    for real in rng.uniform(1e-6, 100.0, size=2000):
        m, shift = quant.quantize_multiplier(float(real))
        assert (1 << 30) <= m < (1 << 31)
        assert abs(m * 2.0 ** (shift - 31) - real) <= real * 2.0**-31


def test_round_half_away_from_zero() -> None:
    assert [quant.round_half_away(v) for v in (0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, 2.4)] == [
        1,
        2,
        3,
        -1,
        -3,
        0,
        2,
    ]


def test_multiplier_range_checks() -> None:
    assert quant.quantize_multiplier_smaller_than_one_exp(0.5) == (1 << 30, 0)
    assert quant.quantize_multiplier_greater_than_one(1.5) == (3 << 29, 1)
    with pytest.raises(ValueError, match="must lie in"):
        quant.quantize_multiplier_smaller_than_one_exp(1.0)
    with pytest.raises(ValueError, match="greater than 1"):
        quant.quantize_multiplier_greater_than_one(0.9)


@pytest.mark.parametrize(
    ("act", "scale", "zp", "expected"),
    [
        ("NONE", 0.1, 3, (-128, 127)),
        ("RELU", 0.1, -128, (-128, 127)),
        ("RELU", 0.1, 5, (5, 127)),
        ("RELU6", 0.05, -128, (-128, -8)),  # 6 / 0.05 = 120
        ("RELU6", 0.1, -10, (-10, 50)),
        ("RELU6", 0.01, 0, (0, 127)),
        ("RELU_N1_TO_1", 0.01, 0, (-100, 100)),
        ("RELU_N1_TO_1", 1 / 128, 0, (-128, 127)),
        ("RELU6", 0.024, -128, (-128, 122)),  # 6/0.024 = 250 in float32: -128 + 250
    ],
)
def test_activation_range(act: str, scale: float, zp: int, expected: tuple[int, int]) -> None:
    assert quant.activation_range(act, float(np.float32(scale)), zp) == expected


def test_activation_range_rounds_halves_away_from_zero() -> None:
    # 6 / 0.8 = 7.5 exactly in float32: roundf gives 8
    assert quant.activation_range("RELU6", 0.8, 0) == (0, 8)
    with pytest.raises(ValueError, match="TANH"):
        quant.activation_range("TANH", 0.1, 0)


@pytest.mark.parametrize(
    ("padding", "size", "k", "stride", "dil", "out", "pad", "offset"),
    [
        ("SAME", 49, 10, 2, 1, 25, 4, 1),  # kws first conv, height: total 9
        ("SAME", 10, 4, 2, 1, 5, 1, 0),  # kws first conv, width
        ("SAME", 32, 3, 1, 1, 32, 1, 0),
        ("SAME", 32, 3, 2, 1, 16, 0, 1),  # total padding 1: all of it after
        ("SAME", 11, 4, 2, 1, 6, 1, 1),
        ("SAME", 11, 3, 1, 2, 11, 2, 0),  # dilated: effective filter 5
        ("VALID", 11, 3, 2, 1, 5, 0, 0),
        ("VALID", 11, 3, 1, 3, 5, 0, 0),  # dilated: effective filter 7
        ("VALID", 25, 25, 25, 1, 1, 0, 0),
    ],
)
def test_padding(
    padding: str, size: int, k: int, stride: int, dil: int, out: int, pad: int, offset: int
) -> None:
    assert quant.compute_out_size(padding, size, k, stride, dil) == out
    assert quant.compute_padding(stride, dil, size, k, out) == (pad, offset)


def test_padding_2d() -> None:
    p = quant.padding_2d("SAME", 49, 10, 10, 4, 2, 2)
    assert (p.out_h, p.out_w, p.pad_h, p.pad_w, p.pad_h_offset, p.pad_w_offset) == (25, 5, 4, 1, 1, 0)


def test_softmax_params_known_values() -> None:
    # beta * scale * 2^26 = 2^22 -> multiplier 2^30, shift 23; radius floor(31 * 2^26 / 2^23) = 248
    p = quant.softmax_params(1.0, 1 / 16)
    assert (p.input_multiplier, p.input_left_shift, p.diff_min) == (1 << 30, 23, -248)
    # a huge input scale is capped at 2^31 - 1
    big = quant.softmax_params(1.0, 100.0)
    assert big.input_left_shift == 31 and big.input_multiplier == (1 << 31) - 1
    assert big.diff_min == -math.floor(31 * 2**26 / 2**31)
    assert quant.calculate_input_radius(5, 20) == math.floor(31 * 2**26 / 2**20)


def test_add_params_known_values() -> None:
    p = quant.add_params(0.5, 0.25, 1.0)
    # input1: 0.5 / 1.0 = 0.5; input2: 0.25; output: 1.0 / (2^20 * 1.0)
    assert (p.left_shift, p.input1_mult, p.input1_shift) == (20, 1 << 30, 0)
    assert (p.input2_mult, p.input2_shift) == (1 << 30, -1)
    assert (p.output_mult, p.output_shift) == (1 << 30, -19)
    assert quant.sub_params(0.5, 0.25, 1.0) == p


def test_mul_and_conv_multipliers_are_double_products() -> None:
    s1, s2, so = 0.0393936, 0.104195, 0.0762932
    assert quant.mul_multiplier(s1, s2, so) == quant.quantize_multiplier(s1 * s2 / so)
    assert quant.conv_multipliers(s1, [s2, s2 / 2], so) == [
        quant.quantize_multiplier(s1 * s2 / so),
        quant.quantize_multiplier(s1 * (s2 / 2) / so),
    ]


def test_mean_multiplier_folds_in_the_count() -> None:
    # in/out = 1: QuantizeMultiplier(1.0) = (2^30, 1); count 30: 4 extra bits, (2^30 << 4) // 30
    assert quant.mean_multiplier(0.5, 0.5, 30) == ((1 << 34) // 30, 1 - 4)
    # a power of two count is exact
    assert quant.mean_multiplier(0.5, 0.5, 64) == (1 << 30, 1 - 6)
    # the extra bits stop at 32 and at 31 + shift
    m, s = quant.mean_multiplier(1.0, 1.0, 1 << 40)
    assert s == 1 - 32 and m == (1 << 62) // (1 << 40)


def test_add_table_is_the_rescaled_input_by_byte() -> None:
    # (x + 3) << 20 times 0.5 (2^30 with shift 0), divided by 2^4 with rounding: (x + 3) * 2^15
    table = quant.rescale_table(3, 20, 1 << 30, -4)
    for x in (-128, -3, 0, 5, 127):
        assert table[x & 0xFF] == (x + 3) * 2**15
    sub = quant.rescale_table(3, 20, 1 << 30, -4, negate=True)
    assert sub[5] == -table[5]
    # the doubling high multiply rounds halves up (-1.5 -> -1), the shift away from zero (-1.5 -> -2)
    assert quant.multiply_by_quantized_multiplier(3, 1 << 30, 0) == 2
    assert quant.multiply_by_quantized_multiplier(-3, 1 << 30, 0) == -1
    assert quant.multiply_by_quantized_multiplier(3, 2**31 - 1, -1) == 2
    assert quant.multiply_by_quantized_multiplier(-3, 2**31 - 1, -1) == -2
    assert quant.multiply_by_quantized_multiplier(-(2**31), -(2**31), 0) == 2**31 - 1
