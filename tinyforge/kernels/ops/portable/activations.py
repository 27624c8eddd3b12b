"""Packers for the int8 activation functions (firmware/kernels/tf_activations.c).

Every constant is computed here exactly as TFLite Micro's Prepare step computes it (same float
and double types), so the C kernels reproduce TFLM's reference kernels byte for byte:

    RELU          rescale to the output scale, clamp at the output zero point (CalculateReluOpData)
    RELU_N1_TO_1  the same with the range [-1, 1] (TFLM has no kernel for it: TFLite's semantics)
    RELU6         TFLM clamps to [zero_point, quantize(6.0)] of the *input* and does not rescale
    LEAKY_RELU    identity and alpha multipliers, products taken in float32
    LOGISTIC/TANH gemmlowp fixed point: (x - zp) * multiplier * 2^shift is a Q4.27 value
    HARD_SWISH    int16 fixed point with the "reluish" and output multipliers (HardSwishPrepare)
"""

from __future__ import annotations

import math

import numpy as np

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels.quant import (
    calculate_input_radius,
    quantize_multiplier,
    quantize_value,
    round_half_away,
)
from tinyforge.kernels.registry import KernelCall, ScratchArg, Target, TensorArg, kernel

# From this many elements on, int8 -> int8 elementwise kernels first tabulate all 256 inputs in
# 256 B of scratch and then look each element up (measured on Cortex-M4: LOGISTIC ~355, TANH ~370,
# HARD_SWISH ~80, RELU/LEAKY_RELU ~37 instructions per element direct; ~5 per lookup).
LUT_MIN_ELEMENTS = 512


def check_int8_unary(graph: Graph, op: Op) -> str | None:
    """None when `op` maps one per-tensor int8 tensor to another of the same size."""
    if not op.inputs or op.inputs[0] < 0 or len(op.outputs) != 1:
        return "expects one input and one output"
    src, dst = pk.io(graph, op)
    if src.is_constant:
        return pk.CONSTANT_INPUT
    if src.dtype != "int8" or dst.dtype != "int8":
        return f"only int8 is supported (got {src.dtype} -> {dst.dtype})"
    for t in (src, dst):
        if t.quant is None or not t.quant.scale:
            return f"tensor {t.name!r} has no quantization parameters"
        if t.quant.per_channel:
            return f"tensor {t.name!r} is quantized per channel"
    if src.num_elements != dst.num_elements:
        return f"input has {src.num_elements} elements, output {dst.num_elements}"
    return None


def _unary_call(
    function: str, graph: Graph, op: Op, params: tuple[tuple[str, int], ...], comment: str, lut: bool = False
) -> KernelCall:
    src, dst = pk.io(graph, op)
    args: tuple[TensorArg | ScratchArg, ...] = (TensorArg(src.index, False), TensorArg(dst.index, True))
    scratch = 0
    if lut and src.num_elements >= LUT_MIN_ELEMENTS:
        function += "_lut"
        args += (ScratchArg(),)
        scratch = 256
    return KernelCall(
        function=function,
        params_type=function.removesuffix("_lut") + "_params_t",
        params=(*params, ("size", src.num_elements)),
        args=args,
        scratch_bytes=scratch,
        in_place=((dst.index, src.index),),
        comment=comment,
    )


def _describe(src: Tensor, dst: Tensor) -> str:
    si, zi = pk.scale_zp_f32(src)
    so, zo = pk.scale_zp_f32(dst)
    return f"in scale={si:.6g} zp={zi} -> out scale={so:.6g} zp={zo}"


# ---- RELU, RELU_N1_TO_1 ------------------------------------------------------------------------


def relu_params(
    in_scale: float, in_zp: int, out_scale: float, out_zp: int, lo: float, hi: float | None
) -> dict[str, int]:
    """TFLM CalculateReluOpData<int8_t> for the range [lo, hi] (hi None: unbounded)."""
    mult, shift = quantize_multiplier(float(np.float32(in_scale)) / float(np.float32(out_scale)))
    act_min = max(-128, quantize_value(out_scale, out_zp, lo))
    act_max = 127 if hi is None else min(127, quantize_value(out_scale, out_zp, hi))
    return {
        "in_zp": in_zp,
        "out_zp": out_zp,
        "multiplier": mult,
        "shift": shift,
        "act_min": act_min,
        "act_max": act_max,
    }


def _relu_call(graph: Graph, op: Op, lo: float, hi: float | None) -> KernelCall:
    src, dst = pk.io(graph, op)
    si, zi = pk.scale_zp_f32(src)
    so, zo = pk.scale_zp_f32(dst)
    p = relu_params(si, zi, so, zo, lo, hi)
    return _unary_call(
        "tf_relu_s8",
        graph,
        op,
        tuple(p.items()),
        f"{_describe(src, dst)}, clamp [{p['act_min']}, {p['act_max']}]",
        lut=True,
    )


@kernel("RELU", accepts=check_int8_unary)
def pack_relu(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _relu_call(graph, op, 0.0, None)


@kernel("RELU_N1_TO_1", accepts=check_int8_unary)
def pack_relu_n1_to_1(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _relu_call(graph, op, -1.0, 1.0)


# ---- RELU6 ---------------------------------------------------------------------------------------


def relu6_bounds(in_scale: float, in_zp: int) -> tuple[int, int]:
    """TFLM Relu6Prepare: zero = input zero point, six = FloatToQuantizedType<int8_t>(6.0f)."""
    six = min(127, max(-128, quantize_value(in_scale, in_zp, 6.0)))
    return in_zp, six


@kernel("RELU6", accepts=check_int8_unary)
def pack_relu6(graph: Graph, op: Op, target: Target) -> KernelCall:
    src, dst = pk.io(graph, op)
    si, zi = pk.scale_zp_f32(src)
    lower, upper = relu6_bounds(si, zi)
    return _unary_call(
        "tf_clamp_s8",
        graph,
        op,
        (("lower", lower), ("upper", upper)),
        f"clamp [{lower}, {upper}] in the input scale {si:.6g} (as TFLM: no rescale)",
    )


# ---- LEAKY_RELU ------------------------------------------------------------------------------------


def leaky_relu_params(
    in_scale: float, in_zp: int, out_scale: float, out_zp: int, alpha: float
) -> dict[str, int]:
    """TFLM CalculateOpDataLeakyRelu: both ratios are float32 expressions widened to double."""
    fi, fo, fa = np.float32(in_scale), np.float32(out_scale), np.float32(alpha)
    m_alpha, s_alpha = quantize_multiplier(float(np.float32(np.float32(fi * fa) / fo)))
    m_id, s_id = quantize_multiplier(float(np.float32(fi / fo)))
    return {
        "in_zp": in_zp,
        "out_zp": out_zp,
        "mult_identity": m_id,
        "shift_identity": s_id,
        "mult_alpha": m_alpha,
        "shift_alpha": s_alpha,
    }


@kernel("LEAKY_RELU", accepts=check_int8_unary)
def pack_leaky_relu(graph: Graph, op: Op, target: Target) -> KernelCall:
    src, dst = pk.io(graph, op)
    si, zi = pk.scale_zp_f32(src)
    so, zo = pk.scale_zp_f32(dst)
    alpha = float(op.options.get("alpha", 0.2))
    p = leaky_relu_params(si, zi, so, zo, alpha)
    return _unary_call(
        "tf_leaky_relu_s8", graph, op, tuple(p.items()), f"{_describe(src, dst)}, alpha={alpha:.6g}", lut=True
    )


# ---- LOGISTIC, TANH ------------------------------------------------------------------------------

INPUT_INTEGER_BITS = 4  # the Q4.27 input of gemmlowp's logistic/tanh in TFLM's int8 path


def sigmoid_params(in_scale: float, in_zp: int) -> dict[str, int]:
    """TFLM CalculateArithmeticOpData (LOGISTIC and TANH, int8): frexp of scale * 2^27, in double."""
    real = float(np.float32(in_scale)) * float(1 << (31 - INPUT_INTEGER_BITS))
    q, left_shift = math.frexp(real)
    multiplier = round_half_away(q * (1 << 31))
    radius = calculate_input_radius(INPUT_INTEGER_BITS, left_shift, 31)
    return {"in_zp": in_zp, "radius": radius, "multiplier": multiplier, "left_shift": left_shift}


def check_sigmoid(graph: Graph, op: Op) -> str | None:
    why = check_int8_unary(graph, op)
    if why is not None:
        return why
    src, dst = pk.io(graph, op)
    si, _ = pk.scale_zp_f32(src)
    if math.frexp(float(np.float32(si)) * (1 << (31 - INPUT_INTEGER_BITS)))[1] < 0:
        return f"input scale {si:.3g} is too small for the Q4.27 fixed-point path"
    _, zo = pk.scale_zp_f32(dst)
    if op.kind == "LOGISTIC" and zo != -128:
        return f"int8 LOGISTIC needs output zero point -128 (TFLM's requirement), got {zo}"
    return None


def _sigmoid_call(function: str, graph: Graph, op: Op, target: Target) -> KernelCall:
    src, dst = pk.io(graph, op)
    si, zi = pk.scale_zp_f32(src)
    p = sigmoid_params(si, zi)
    return _unary_call(
        function,
        graph,
        op,
        tuple(p.items()),
        f"{_describe(src, dst)}, Q4.27 multiplier={p['multiplier']} shift={p['left_shift']} radius={p['radius']}",
        lut=True,
    )


@kernel("LOGISTIC", accepts=check_sigmoid)
def pack_logistic(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _sigmoid_call("tf_logistic_s8", graph, op, target)


@kernel("TANH", accepts=check_sigmoid)
def pack_tanh(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _sigmoid_call("tf_tanh_s8", graph, op, target)


# ---- HARD_SWISH ------------------------------------------------------------------------------------


def downscale_int32_to_int16_multiplier(m: int) -> int:
    """TFLM DownScaleInt32ToInt16Multiplier: round a Q31 multiplier to Q15."""
    if m >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (m + (1 << 15)) >> 16


def hard_swish_params(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> dict[str, int]:
    """TFLM HardSwishPrepare: float32 scale ratios, int16 multipliers."""
    hires = np.float32(np.float32(1.0 / 128.0) * np.float32(in_scale))
    reluish_scale = np.float32(np.float32(3.0) / np.float32(32768.0))
    out_m, out_e = quantize_multiplier(float(np.float32(hires / np.float32(out_scale))))
    rel_m, rel_e = quantize_multiplier(float(np.float32(hires / reluish_scale)))
    return {
        "in_zp": in_zp,
        "out_zp": out_zp,
        "out_multiplier": downscale_int32_to_int16_multiplier(out_m),
        "out_exponent": out_e,
        "reluish_multiplier": downscale_int32_to_int16_multiplier(rel_m),
        "reluish_exponent": rel_e,
    }


def check_hard_swish(graph: Graph, op: Op) -> str | None:
    why = check_int8_unary(graph, op)
    if why is not None:
        return why
    src, dst = pk.io(graph, op)
    p = hard_swish_params(*pk.scale_zp_f32(src), *pk.scale_zp_f32(dst))
    if p["out_exponent"] > 0:
        return "output scale is smaller than input scale / 128 (TFLM rejects it too)"
    return None


@kernel("HARD_SWISH", accepts=check_hard_swish)
def pack_hard_swish(graph: Graph, op: Op, target: Target) -> KernelCall:
    src, dst = pk.io(graph, op)
    p = hard_swish_params(*pk.scale_zp_f32(src), *pk.scale_zp_f32(dst))
    return _unary_call(
        "tf_hard_swish_s8",
        graph,
        op,
        tuple(p.items()),
        f"{_describe(src, dst)}, reluish {p['reluish_multiplier']}*2^{p['reluish_exponent']}, "
        f"out {p['out_multiplier']}*2^{p['out_exponent']}",
        lut=True,
    )
