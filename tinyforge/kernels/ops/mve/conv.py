"""CONV_2D and DEPTHWISE_CONV_2D packers for the Helium kernels (firmware/kernels/mve/
tf_mve_conv.c, tf_mve_depthwise.c), chosen over the DSP and portable ones on boards with the `mve`
feature (Cortex-M55). The input offset goes into the bias and the weights are laid out in the
order the kernels read them (tinyforge/kernels/ops/mve/pack.py); the requantization is TFLM's."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.mve import pack
from tinyforge.kernels.ops.portable import conv as ref
from tinyforge.kernels.registry import KernelCall, ScratchArg, Target, TensorArg, kernel

PRIORITY = 20  # above the DSP kernels (10): the M55 has both features


def _act_range(graph: Graph, op: Op) -> tuple[int, int]:
    y = pk.output(graph, op)
    return quant.activation_range(op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y))


def _accepts_conv(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_conv(graph, op)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    if w.shape[3] != x.shape[3]:
        return "grouped convolution"
    return None


@kernel("CONV_2D", name="mve_conv_s8", features={"mve"}, priority=PRIORITY, accepts=_accepts_conv)
def mve_conv_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    out_c, k_h, k_w, in_c = w.shape
    pad = ref._padding(op, x, k_h, k_w)
    pairs, _ = ref._multipliers(x, w, y)
    k = k_h * k_w * in_c
    gemm = pack.pack_gemm(
        w.array().reshape(out_c, k), b.array() if b is not None else None, -pk.zero_point(x), pairs
    )
    im2col = 0 if (k_h, k_w, pad.pad_h, pad.pad_w) == (1, 1, 0, 0) else pack.im2col_rows(k)
    act_min, act_max = _act_range(graph, op)
    params = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", in_c),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("out_c", out_c),
        ("k_h", k_h),
        ("k_w", k_w),
        *pk.window_params(op, pad.pad_h, pad.pad_w),
        ("input_zp", pk.zero_point(x)),
        ("output_offset", pk.zero_point(y)),
        ("act_min", act_min),
        ("act_max", act_max),
        ("left_shifts", gemm.left_shifts),
        ("im2col", im2col),
        ("weights", pk.const_array(op, "weights", gemm.weights.reshape(-1), "int8_t")),
        ("qparams", pk.const_array(op, "qparams", gemm.qparams.reshape(-1), "int32_t")),
    )
    scratch = im2col * pack.CHUNK * -(-k // pack.CHUNK)
    return KernelCall(
        function="tf_mve_conv2d_s8",
        params_type="tf_mve_conv2d_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True), ScratchArg()),
        scratch_bytes=scratch,
        macs=y.shape[0] * y.shape[1] * y.shape[2] * out_c * k,
        comment=ref._describe(op, k_h, k_w, in_c, out_c) + " mve",
    )


def _accepts_depthwise(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_depthwise(graph, op)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    if w.shape[3] != x.shape[3]:
        return "depth multiplier above 1"
    return pack.depthwise_reason(w.array(), w.shape[1] * w.shape[2])


@kernel(
    "DEPTHWISE_CONV_2D",
    name="mve_depthwise_s8",
    features={"mve"},
    priority=PRIORITY,
    accepts=_accepts_depthwise,
)
def mve_depthwise_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    _, k_h, k_w, channels = w.shape
    pad = ref._padding(op, x, k_h, k_w)
    pairs, _ = ref._multipliers(x, w, y)
    taps = w.array().reshape(k_h * k_w, channels).T  # [channel][tap]
    dw = pack.pack_depthwise(taps, b.array() if b is not None else None, -pk.zero_point(x), pairs)
    act_min, act_max = _act_range(graph, op)
    params = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", channels),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("k_h", k_h),
        ("k_w", k_w),
        *pk.window_params(op, pad.pad_h, pad.pad_w),
        ("input_zp", pk.zero_point(x)),
        ("output_offset", pk.zero_point(y)),
        ("act_min", act_min),
        ("act_max", act_max),
        ("left_shifts", dw.left_shifts),
        ("weights", pk.const_array(op, "weights", dw.weights.reshape(-1), "int8_t")),
        ("qparams", pk.const_array(op, "qparams", dw.qparams.reshape(-1), "int32_t")),
    )
    return KernelCall(
        function="tf_mve_depthwise_conv2d_s8",
        params_type="tf_mve_depthwise_conv2d_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True), ScratchArg()),
        scratch_bytes=pack.depthwise_scratch(channels, k_h, k_w),
        macs=y.shape[0] * y.shape[1] * y.shape[2] * channels * k_h * k_w,
        comment="dw " + ref._describe(op, k_h, k_w, channels, channels) + " mve",
    )
