"""16x8 SOFTMAX (firmware/kernels/tf_softmax_s16.c), LOGISTIC and TANH (tf_activations_s16.c).

Everything TFLite Micro computes in Prepare is computed here the same way:

    SOFTMAX        input multiplier QuantizeMultiplier(in_scale * beta / (10 / 65535)) in double;
                   the exp table over [-10, 0] and the 1/(1 + x) table over [0, 1], 513 int16
                   entries each, built in float32 exactly as TFLM's gen_lut builds them (each
                   sample corrected by half the interpolation error at its segment's midpoint)
    LOGISTIC/TANH  the input rescaled to 1/(3 * 4096) units: a power-of-two scale 2^-12 (tanh
                   also 2^-11) multiplies by 3 << shift; any other scale by the largest
                   multiplier <= 32767 with a right shift (TFLM's loop in double)

The sigmoid table of the LOGISTIC/TANH kernels, sigmoid(i/24) in Q0.16, is the one TFLite's
kernels interpolate in; its knots are not the plain rounded samples but raised by 1/8 of the
curve's second difference (so that the chords straddle the curve), the last knot is full scale.
`sigmoid_table()` builds it from that rule; the property tests check every int16 input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.portable.s16_conv import int16_activation_reason
from tinyforge.kernels.quant import quantize_multiplier, round_half_away
from tinyforge.kernels.registry import ConstArray, KernelCall, Target, TensorArg, kernel

F32 = np.float32
LUT_SIZE = 513  # TFLM's kInt16LUTArraySize: 512 segments and one more value for the last slope


def gen_lut_s16(
    func: Callable[[np.float32], np.float32],
    input_min: float,
    input_max: float,
    output_min: float,
    output_max: float,
) -> np.ndarray:
    """TFLM gen_lut<float, int16_t, int16_t>: 512 interpolation knots plus the end value, in float32."""
    lo, hi = F32(input_min), F32(input_max)
    steps = 512
    step = F32(F32(hi - lo) / F32(steps))
    half_step = F32(step / F32(2))
    scale_inv = F32(F32(65536) / F32(F32(output_max) - F32(output_min)))

    def rnd(v: np.float32) -> np.float32:
        return F32(round_half_away(float(v)))

    out = np.zeros(LUT_SIZE, dtype=np.int16)
    for i in range(steps):
        x = F32(lo + F32(F32(i) * step))
        val = func(x)
        val_mid = func(F32(x + half_step))
        val_next = func(F32(lo + F32(F32(i + 1) * step)))
        sample = rnd(F32(val * scale_inv))
        interp = rnd(F32(F32(F32(val_next * scale_inv) + sample) / F32(2)))
        err = F32(interp - rnd(F32(val_mid * scale_inv)))
        bias = rnd(F32(err / F32(2)))
        out[i] = int(min(max(float(F32(sample - bias)), -32768.0), 32767.0))
    out[steps] = int(min(max(float(rnd(F32(func(hi) * scale_inv))), -32768.0), 32767.0))
    return out


def _expf(x: np.float32) -> np.float32:
    return F32(math.exp(float(x)))


def _one_over_one_plus(x: np.float32) -> np.float32:
    return F32(F32(1.0) / F32(F32(1.0) + x))


@lru_cache(maxsize=1)
def softmax_luts() -> tuple[bytes, bytes]:
    """The exp(x) table over [-10, 0] and the 1/(1 + x) table over [0, 1] (int16 bytes)."""
    exp_lut = gen_lut_s16(_expf, -10.0, 0.0, -1.0, 1.0)
    recip_lut = gen_lut_s16(_one_over_one_plus, 0.0, 1.0, -1.0, 1.0)
    return exp_lut.tobytes(), recip_lut.tobytes()


@lru_cache(maxsize=1)
def sigmoid_table() -> tuple[int, ...]:
    """256 knots of sigmoid(i / 24) in Q0.16 (see the module docstring)."""

    def f(i: int) -> float:
        return 65536.0 / (1.0 + math.exp(-i / 24.0))

    knots = [math.floor(f(i) + (f(i) - (f(i - 1) + f(i + 1)) / 2) / 8 + 0.5) for i in range(255)]
    return (*knots, 65535)


def checked_log2(x: float) -> tuple[bool, int]:
    """TFLM CheckedLog2 (float32 math): (x is a power of two within 1e-3 in log2, rounded log2)."""
    x_log2 = F32(F32(math.log(float(F32(x)))) * F32(F32(1.0) / F32(math.log(2.0))))
    rounded = F32(round_half_away(float(x_log2)))
    return abs(float(F32(x_log2 - rounded))) < 1e-3, int(rounded)


def _io(graph: Graph, op: Op) -> tuple[Tensor | None, Tensor]:
    return pk.op_tensor(graph, op, 0), pk.output(graph, op)


def _unary_reason(graph: Graph, op: Op) -> str | None:
    x, y = _io(graph, op)
    reason = pk.first_reason(int16_activation_reason(x, "input"), int16_activation_reason(y, "output"))
    if reason:
        return reason
    assert x is not None
    if x.is_constant:
        return pk.CONSTANT_INPUT
    if x.num_elements != y.num_elements:
        return f"input has {x.num_elements} elements, output {y.num_elements}"
    return None


def _args(graph: Graph, op: Op) -> tuple[TensorArg, TensorArg]:
    return TensorArg(op.inputs[0], False, "int16_t"), TensorArg(op.outputs[0], True, "int16_t")


# ---- SOFTMAX ---------------------------------------------------------------------------------------


def softmax_multiplier(input_scale: float, beta: float) -> tuple[int, int]:
    """TFLM CalculateSoftmaxParams for int16: in_scale * beta rescaled so that 65535 input units of
    the difference span [-10, 0]; all in double from the float32 scale and beta."""
    return quantize_multiplier(float(F32(input_scale)) * float(F32(beta)) / (10.0 / 65535.0))


def _accepts_softmax(graph: Graph, op: Op) -> str | None:
    reason = _unary_reason(graph, op)
    if reason:
        return reason
    x, y = _io(graph, op)
    assert x is not None
    if not x.shape:
        return "input must have at least one dimension"
    if abs(float(F32(pk.scale(y))) - 1.0 / 32768) > 0.001 / 32768:
        return "int16 output must have scale 1/32768 (as TFLM requires)"
    mult, shift = softmax_multiplier(pk.scale(x), float(op.options.get("beta", 1.0)))
    if mult == 0:
        return "beta * input scale is too small for the int16 softmax"
    if shift > 30:
        return "beta * input scale is too large for the int16 softmax"
    return None


@kernel("SOFTMAX", name="softmax_s16", accepts=_accepts_softmax)
def softmax_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, _y = _io(graph, op)
    assert x is not None
    depth = x.shape[-1]
    outer = x.num_elements // max(depth, 1)
    beta = float(op.options.get("beta", 1.0))
    mult, shift = softmax_multiplier(pk.scale(x), beta)
    exp_lut, recip_lut = softmax_luts()
    params = (
        ("outer", outer),
        ("depth", depth),
        ("input_multiplier", mult),
        ("input_shift", shift),
        # the same names for every layer: codegen keeps one copy of identical tables
        ("exp_lut", ConstArray("softmax_s16_exp_lut", "int16_t", exp_lut)),
        ("one_over_one_plus_x_lut", ConstArray("softmax_s16_recip_lut", "int16_t", recip_lut)),
    )
    comment = f"int16 {outer}x{depth}" + (f" beta={beta:g}" if beta != 1.0 else "")
    return KernelCall(
        function="tf_softmax_s16",
        params_type="tf_softmax_s16_params_t",
        params=params,
        args=_args(graph, op),
        in_place=((op.outputs[0], op.inputs[0]),),
        comment=comment,
    )


# ---- LOGISTIC, TANH ----------------------------------------------------------------------------------

INPUT_INTEGER_BITS = 3  # TFLM's int16 LOGISTIC/TANH: the input covers [-8, 8) before the 3/4 stretch
OUTPUT_FRACTIONAL_BITS = 15


def sigmoid_input_params(input_scale: float, kind: str) -> tuple[int, int]:
    """(multiplier, right shift) of TFLM's int16 LOGISTIC/TANH Prepare, with the power-of-two case
    (multiplier 0 in TFLM, resolved at Eval to 3 << shift) resolved here."""
    pot, log2 = checked_log2(input_scale)
    shift = (15 - INPUT_INTEGER_BITS) + log2
    pot = pot and (shift == 0 or (kind == "TANH" and shift == 1))
    if pot:
        return 3 << shift, 0
    multiplier = float(F32(input_scale)) * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


def _accepts_sigmoid(graph: Graph, op: Op) -> str | None:
    reason = _unary_reason(graph, op)
    if reason:
        return reason
    x, y = _io(graph, op)
    assert x is not None
    pot, log2 = checked_log2(pk.scale(y))
    if not pot or log2 != -OUTPUT_FRACTIONAL_BITS:
        return f"int16 {op.kind} needs output scale 2^-15 (TFLM's requirement), got {pk.scale(y):.6g}"
    mult, _shift = sigmoid_input_params(pk.scale(x), op.kind)
    if mult > 32767:
        return f"input scale {pk.scale(x):.3g} is too large for TFLM's int16 {op.kind}"
    return None


def _sigmoid(graph: Graph, op: Op, function: str) -> KernelCall:
    x, _y = _io(graph, op)
    assert x is not None
    mult, shift = sigmoid_input_params(pk.scale(x), op.kind)
    return KernelCall(
        function=function,
        params_type=function + "_params_t",
        params=(
            ("input_multiplier", mult),
            ("input_shift", shift),
            ("table", ConstArray.of("sigmoid_table_q16", sigmoid_table(), "uint16_t")),
            ("size", x.num_elements),
        ),
        args=_args(graph, op),
        in_place=((op.outputs[0], op.inputs[0]),),
        comment=f"int16 in scale={pk.scale(x):.6g}: x * {mult} >> {shift}",
    )


@kernel("LOGISTIC", name="logistic_s16", accepts=_accepts_sigmoid)
def logistic_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _sigmoid(graph, op, "tf_logistic_s16")


@kernel("TANH", name="tanh_s16", accepts=_accepts_sigmoid)
def tanh_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _sigmoid(graph, op, "tf_tanh_s16")
