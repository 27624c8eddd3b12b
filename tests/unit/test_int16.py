"""The 16x8 packers and model checks without a compiler: the tables and constants TFLM's Prepare
would compute, which kernel serves an int16 op, the one-line reasons for what is refused, and the
int16 plumbing (model I/O, inputs, `.tflite` kinds). Byte-exact runs against TFLM are in
tests/toolchain/test_ops_int16.py and test_int16_converter.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinyforge.codegen.inputs import InputSet, random_inputs, split_records
from tinyforge.compiler import io_specs
from tinyforge.ir.graph import Graph, Op, Quantization, Tensor, freeze_options
from tinyforge.kernels.ops.portable import s16_activations as act16
from tinyforge.kernels.registry import ConstArray, Target, select, unsupported_reason
from tinyforge.model.load import int8_violations, tflite_kind

pytestmark = pytest.mark.unit


def q(scale: float, zp: int = 0) -> Quantization:
    return Quantization((scale,), (zp,))


def t(
    i: int,
    shape: tuple[int, ...],
    dtype: str,
    quant: Quantization | None = None,
    data: np.ndarray | None = None,
) -> Tensor:
    raw = None if data is None else np.ascontiguousarray(data, dtype=dtype).tobytes()
    return Tensor(i, f"t{i}", shape, dtype, quant, raw)


def one_op(
    kind: str, tensors: list[Tensor], ins: tuple[int, ...], outs: tuple[int, ...], **opts: object
) -> tuple[Graph, Op]:
    op = Op(0, kind, ins, outs, freeze_options(opts), name="x")
    g = Graph(tuple(tensors), (op,), tuple(i for i in ins if i >= 0 and not tensors[i].is_constant), outs)
    return g, op


def conv16(bias_dtype: str = "int64", zp: int = 0, kind: str = "CONV_2D") -> tuple[Graph, Op]:
    rng = np.random.default_rng(0)
    if kind == "CONV_2D":
        w = t(
            1,
            (4, 3, 3, 2),
            "int8",
            Quantization((0.01,) * 4, (0,) * 4, 0),
            rng.integers(-127, 128, (4, 3, 3, 2)),
        )
    else:
        w = t(
            1,
            (1, 3, 3, 4),
            "int8",
            Quantization((0.01,) * 4, (0,) * 4, 3),
            rng.integers(-127, 128, (1, 3, 3, 4)),
        )
    tensors = [
        t(0, (1, 5, 5, 2 if kind == "CONV_2D" else 4), "int16", q(1e-4, zp)),
        w,
        t(2, (4,), bias_dtype, Quantization((1e-6,) * 4, (0,) * 4), np.arange(4) * 1000),
        t(3, (1, 5, 5, 4), "int16", q(2e-4)),
    ]
    opts = {"padding": "SAME", "stride_h": 1, "stride_w": 1, "dilation_h_factor": 1, "dilation_w_factor": 1}
    if kind == "DEPTHWISE_CONV_2D":
        opts["depth_multiplier"] = 1
    return one_op(kind, tensors, (0, 1, 2), (3,), activation="RELU", **opts)


# ---- kernel choice and constants ---------------------------------------------------------------------


@pytest.mark.parametrize("features", [frozenset(), frozenset({"dsp"}), frozenset({"dsp", "mve"})])
def test_int16_conv_goes_to_a_16x8_kernel_on_every_board(features: frozenset[str]) -> None:
    g, op = conv16()
    call = select(g, op, Target(features=features))
    assert call.function.endswith("_s16"), call.function
    assert call.function.startswith("tf_dsp_") == ("dsp" in features)
    p = dict(call.params)
    # the DSP kernel folds bias and rounding into one int64 per channel (acc64 2: the high word)
    assert p["acc64"] == (2 if "dsp" in features else 1)
    assert isinstance(p["bias64"], ConstArray) and p["bias64"].ctype == "int64_t"
    assert p["bias64"].count == 4 and p["bias32"] == 0
    assert (p["act_min"], p["act_max"]) == (0, 32767)  # RELU in the int16 range


def test_int32_bias_takes_the_int32_accumulator() -> None:
    g, op = conv16("int32")
    p = dict(select(g, op, Target()).params)
    assert p["acc64"] == 0 and isinstance(p["bias32"], ConstArray) and p["bias64"] == 0


@pytest.mark.parametrize(
    ("graph", "reason"),
    [
        (conv16(zp=5), "input has zero point 5; int16 activations must be symmetric (zero point 0)"),
        (
            conv16("int32", kind="DEPTHWISE_CONV_2D"),
            "bias is int32; TFLM's 16x8 kernel for this op reads an int64 bias",
        ),
        (conv16("int16"), "bias is int16; the 16x8 kernels take an int64 or int32 bias"),
    ],
)
def test_16x8_rejections_name_the_16x8_reason(graph: tuple[Graph, Op], reason: str) -> None:
    g, op = graph
    assert unsupported_reason(g, op) == reason  # not the int8 kernel's "input is int16"


def test_softmax_needs_tflm_output_scale() -> None:
    g, op = one_op(
        "SOFTMAX", [t(0, (1, 8), "int16", q(1e-3)), t(1, (1, 8), "int16", q(1 / 256))], (0,), (1,), beta=1.0
    )
    assert unsupported_reason(g, op) == "int16 output must have scale 1/32768 (as TFLM requires)"


def test_logistic_needs_output_scale_two_to_minus_15() -> None:
    g, op = one_op("LOGISTIC", [t(0, (4,), "int16", q(1e-3)), t(1, (4,), "int16", q(1 / 256))], (0,), (1,))
    assert (unsupported_reason(g, op) or "").startswith("int16 LOGISTIC needs output scale 2^-15")


def test_mul_needs_zero_points_of_zero_add_does_not() -> None:
    tensors = [t(0, (3,), "int16", q(1e-3, 4)), t(1, (3,), "int16", q(1e-3)), t(2, (3,), "int16", q(2e-3))]
    g, op = one_op("MUL", tensors, (0, 1), (2,), activation="NONE")
    assert "zero point 4" in (unsupported_reason(g, op) or "")
    g, op = one_op("ADD", tensors, (0, 1), (2,), activation="NONE", pot_scale_int16=True)
    call = select(g, op, Target())
    assert call.function == "tf_add_s16" and dict(call.params)["left_shift"] == 15


# ---- tables ----------------------------------------------------------------------------------------


def test_sigmoid_table_is_the_q16_table_tflite_interpolates_in() -> None:
    table = act16.sigmoid_table()
    assert len(table) == 256 and table[0] == 32768 and table[-1] == 65535
    assert all(a <= b for a, b in zip(table, table[1:], strict=False))
    # a few knots of TFLite's table (sigmoid(i/24) in Q0.16, raised towards the chords)
    assert (table[1], table[4], table[66], table[254]) == (33451, 35493, 61599, 65534)
    # every knot within 1.2 units (2e-5) of the curve
    assert all(abs(v - 65536 / (1 + math.exp(-i / 24))) < 1.2 for i, v in enumerate(table[:255]))


def test_softmax_tables() -> None:
    exp_lut, recip_lut = (np.frombuffer(b, np.int16) for b in act16.softmax_luts())
    assert exp_lut.size == recip_lut.size == 513
    assert exp_lut[-1] == 32767 and 0 <= exp_lut[0] <= 2  # exp(0) = 1 (saturated), exp(-10) ~ 1.5/32768
    assert recip_lut[0] == 32767 and recip_lut[-1] == 16384  # 1/(1+0), 1/(1+1)
    assert np.all(np.diff(exp_lut.astype(int)) >= 0) and np.all(np.diff(recip_lut.astype(int)) <= 0)


@pytest.mark.parametrize(
    ("scale", "kind", "expected"),
    [
        (2.0**-12, "LOGISTIC", (3, 0)),  # the power-of-two case: x * 3
        (2.0**-11, "TANH", (6, 0)),
        (2.0**-11, "LOGISTIC", (24576, 12)),  # LOGISTIC takes only 2^-12 as power of two
        (1e-4, "TANH", (20132, 14)),  # 1e-4 * 4096 * 3 = 1.2288, doubled 14 times, truncated
    ],
)
def test_sigmoid_input_rescaling(scale: float, kind: str, expected: tuple[int, int]) -> None:
    assert act16.sigmoid_input_params(scale, kind) == expected


def test_softmax_multiplier_spans_ten_over_65535() -> None:
    mult, shift = act16.softmax_multiplier(10.0 / 65535, 1.0)
    assert (mult, shift) == (1 << 30, 1)  # exactly 1.0


# ---- model I/O, inputs and file kinds -----------------------------------------------------------------


def test_int16_model_io_and_inputs() -> None:
    g, op = conv16()
    (spec,) = io_specs(g, g.inputs)
    assert spec.dtype == "int16" and spec.nbytes == 5 * 5 * 2 * 2
    inputs = random_inputs([spec], 3, seed=1)
    arr = inputs.arrays[0][0]
    assert arr.dtype == np.int16 and arr.shape == spec.shape
    assert int(np.abs(np.concatenate([a[0].ravel() for a in inputs.arrays]).astype(int)).max()) > 1000
    records = inputs.records()
    assert len(records[0]) == spec.nbytes and records[0][:2] == arr.ravel()[:1].astype("<i2").tobytes()
    back = split_records([spec], records)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(back.arrays, inputs.arrays, strict=True))
    assert isinstance(back, InputSet)


def test_16x8_files_are_their_own_kind() -> None:
    g, _ = conv16()
    assert int8_violations(g) and not int8_violations(g, sixteen_by_eight=True)
    assert tflite_kind(g) == "16x8"
