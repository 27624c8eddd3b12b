"""CONV_2D and DEPTHWISE_CONV_2D packers for the portable int8 kernels (firmware/kernels/
tf_conv.c, tf_depthwise.c): per-channel requantization multipliers, fused-activation clamps and
SAME/VALID padding, all computed as TFLite Micro's Prepare computes them."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, ParamValue, Target, TensorArg, kernel


def _weights_reason(w: Tensor | None, axis: int) -> str | None:
    if w is None:
        return "weights are missing"
    if not w.is_constant:
        return "weights are not constant"
    if w.dtype != "int8":
        return f"weights are {w.dtype}; the portable kernel takes int8 weights"
    if w.quant is None or not w.quant.scale:
        return "weights have no quantization parameters"
    if len(w.shape) != 4:
        return f"weights have rank {len(w.shape)}, expected 4"
    if w.quant.per_channel and (w.quant.axis != axis or len(w.quant.scale) != w.shape[axis]):
        return f"weights are quantized per channel along axis {w.quant.axis}; expected axis {axis}"
    if any(z != 0 for z in w.quant.zero_point):
        return "weights have a non-zero zero point"
    return None


def _bias_reason(b: Tensor | None) -> str | None:
    if b is None:
        return None
    if not b.is_constant:
        return "bias is not constant"
    if b.dtype != "int32":
        return f"bias is {b.dtype}; the int8 kernels take int32 bias"
    return None


def _conv_common_reason(graph: Graph, op: Op, axis: int) -> str | None:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    reason = pk.first_reason(
        pk.int8_activation_reason(x, "input"),
        pk.int8_activation_reason(y, "output"),
        _weights_reason(w, axis),
        _bias_reason(b),
        pk.activation_reason(op),
    )
    if reason:
        return reason
    assert x is not None
    if len(x.shape) != 4 or len(y.shape) != 4:
        return "input and output must be 4-D (NHWC)"
    if op.options.get("padding") not in ("SAME", "VALID"):
        return f"padding {op.options.get('padding')} is not supported"
    return None


def _multipliers(x: Tensor, w: Tensor, y: Tensor) -> tuple[list[tuple[int, int]], int]:
    """One (multiplier, shift) per output channel, or a single one for per-tensor weights."""
    assert w.quant is not None
    scales = list(w.quant.scale)
    pairs = quant.conv_multipliers(pk.scale(x), scales, pk.scale(y))
    per_channel = 1 if len(scales) > 1 else 0
    return pairs, per_channel


def _padding(op: Op, x: Tensor, k_h: int, k_w: int) -> quant.Padding2D:
    return quant.padding_2d(
        op.options["padding"],
        x.shape[1],
        x.shape[2],
        k_h,
        k_w,
        int(op.options.get("stride_h", 1)),
        int(op.options.get("stride_w", 1)),
        int(op.options.get("dilation_h_factor", 1)),
        int(op.options.get("dilation_w_factor", 1)),
    )


def _describe(op: Op, k_h: int, k_w: int, c_in: int, c_out: int) -> str:
    sh, sw = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    dh, dw = int(op.options.get("dilation_h_factor", 1)), int(op.options.get("dilation_w_factor", 1))
    stride = "" if (sh, sw) == (1, 1) else f" s{sh}" if sh == sw else f" s{sh}x{sw}"
    dil = "" if (dh, dw) == (1, 1) else f" d{dh}x{dw}"
    return f"{k_h}x{k_w}{stride}{dil} {op.options['padding']} {c_in}->{c_out}{pk.act_suffix(op)}"


def _accepts_conv(graph: Graph, op: Op) -> str | None:
    reason = _conv_common_reason(graph, op, axis=0)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    y = pk.output(graph, op)
    if x.shape[3] % w.shape[3] != 0 or w.shape[0] % (x.shape[3] // w.shape[3]) != 0:
        return f"input depth {x.shape[3]} does not split into groups of the filter depth {w.shape[3]}"
    if y.shape[3] != w.shape[0]:
        return "output depth differs from the number of filters"
    pad = _padding(op, x, w.shape[1], w.shape[2])
    if (pad.out_h, pad.out_w) != (y.shape[1], y.shape[2]):
        return f"output size {y.shape[1]}x{y.shape[2]} does not match the padding ({pad.out_h}x{pad.out_w})"
    return None


def _quant_fields(
    op: Op, x: Tensor, w: Tensor, b: Tensor | None, y: Tensor
) -> tuple[tuple[str, ParamValue], ...]:
    """The requantization and constant fields the reference CONV_2D and DEPTHWISE_CONV_2D share:
    offsets, activation clamp, weights, bias and per-channel (or per-tensor) multiplier/shift."""
    pairs, per_channel = _multipliers(x, w, y)
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    return (
        ("input_offset", -pk.zero_point(x)),
        ("output_offset", pk.zero_point(y)),
        ("act_min", act_min),
        ("act_max", act_max),
        ("per_channel", per_channel),
        ("weights", pk.const_array(op, "weights", w.array(), "int8_t")),
        ("bias", pk.const_array(op, "bias", b.array(), "int32_t") if b is not None else 0),
        ("out_mult", pk.const_array(op, "out_mult", [m for m, _ in pairs], "int32_t")),
        ("out_shift", pk.const_array(op, "out_shift", [s for _, s in pairs], "int32_t")),
    )


@kernel("CONV_2D", name="conv2d_s8", accepts=_accepts_conv)
def conv2d_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    out_c, k_h, k_w, filter_in_c = w.shape
    pad = _padding(op, x, k_h, k_w)
    params = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", x.shape[3]),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("out_c", y.shape[3]),
        ("k_h", k_h),
        ("k_w", k_w),
        ("filter_in_c", filter_in_c),
        *pk.window_params(op, pad.pad_h, pad.pad_w),
        *_quant_fields(op, x, w, b, y),
    )
    groups = x.shape[3] // filter_in_c
    macs = y.shape[0] * y.shape[1] * y.shape[2] * out_c * k_h * k_w * filter_in_c
    comment = _describe(op, k_h, k_w, x.shape[3], out_c) + (f" groups={groups}" if groups > 1 else "")
    return KernelCall(
        function="tf_conv2d_s8",
        params_type="tf_conv2d_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True)),
        macs=macs,
        comment=comment,
    )


def _accepts_depthwise(graph: Graph, op: Op) -> str | None:
    reason = _conv_common_reason(graph, op, axis=3)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    y = pk.output(graph, op)
    if w.shape[0] != 1:
        return f"depthwise weights must have shape 1xHxWxC, got {pk.shape_str(w.shape)}"
    if y.shape[3] != w.shape[3] or y.shape[3] % x.shape[3] != 0:
        return f"output depth {y.shape[3]} is not a multiple of the input depth {x.shape[3]}"
    pad = _padding(op, x, w.shape[1], w.shape[2])
    if (pad.out_h, pad.out_w) != (y.shape[1], y.shape[2]):
        return f"output size {y.shape[1]}x{y.shape[2]} does not match the padding ({pad.out_h}x{pad.out_w})"
    return None


@kernel("DEPTHWISE_CONV_2D", name="depthwise_conv2d_s8", accepts=_accepts_depthwise)
def depthwise_conv2d_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    _, k_h, k_w, out_c = w.shape
    depth_mult = out_c // x.shape[3]
    pad = _padding(op, x, k_h, k_w)
    params = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", x.shape[3]),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("out_c", out_c),
        ("depth_mult", depth_mult),
        ("k_h", k_h),
        ("k_w", k_w),
        *pk.window_params(op, pad.pad_h, pad.pad_w),
        *_quant_fields(op, x, w, b, y),
    )
    macs = y.shape[0] * y.shape[1] * y.shape[2] * out_c * k_h * k_w
    comment = (
        "dw " + _describe(op, k_h, k_w, x.shape[3], out_c) + (f" x{depth_mult}" if depth_mult > 1 else "")
    )
    return KernelCall(
        function="tf_depthwise_conv2d_s8",
        params_type="tf_depthwise_conv2d_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True)),
        macs=macs,
        comment=comment,
    )
