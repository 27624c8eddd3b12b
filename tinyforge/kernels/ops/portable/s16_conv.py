"""16x8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED packers (firmware/kernels/tf_conv_s16.c):
int16 activations with zero point 0, int8 symmetric weights (per channel or per tensor), an int64
or int32 bias, as TF's converter writes them with
`EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8`.

The multipliers are TFLM's Prepare values (the int8 ones: QuantizeMultiplier of in * w / out in
double); the activation clamp is CalculateActivationRangeQuantized over the int16 range. TFLM's
16x8 kernels ignore zero points, so non-zero ones are rejected rather than silently dropped.
"""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, ParamValue, Target, TensorArg, kernel


def int16_activation_reason(t: Tensor | None, what: str, symmetric: bool = True) -> str | None:
    """Why `t` is not an int16 activation tensor of the 16x8 scheme (per tensor, zero point 0)."""
    if t is None:
        return f"{what} is missing"
    if t.dtype != "int16":
        return f"{what} is {t.dtype}; this kernel takes int16"
    if t.quant is None or not t.quant.scale:
        return f"{what} has no quantization parameters"
    if t.quant.per_channel:
        return f"{what} is quantized per channel; activations must be per tensor"
    if symmetric and pk.zero_point(t) != 0:
        return f"{what} has zero point {pk.zero_point(t)}; int16 activations must be symmetric (zero point 0)"
    return None


def _weights_reason(w: Tensor | None, axis: int, rank: int) -> str | None:
    if w is None or not w.is_constant:
        return "weights are not constant"
    if w.dtype != "int8":
        return f"weights are {w.dtype}; the 16x8 kernels take int8 weights"
    if w.quant is None or not w.quant.scale:
        return "weights have no quantization parameters"
    if len(w.shape) != rank:
        return f"weights have rank {len(w.shape)}, expected {rank}"
    if w.quant.per_channel and (w.quant.axis != axis or len(w.quant.scale) != w.shape[axis]):
        return f"weights are quantized per channel along axis {w.quant.axis}; expected axis {axis}"
    if any(z != 0 for z in w.quant.zero_point):
        return "weights have a non-zero zero point"
    return None


def _bias_reason(b: Tensor | None, channels: int, int32_ok: bool) -> str | None:
    if b is None:
        return None
    if not b.is_constant:
        return "bias is not constant"
    if b.dtype == "int32" and not int32_ok:
        return "bias is int32; TFLM's 16x8 kernel for this op reads an int64 bias"
    if b.dtype not in ("int64", "int32"):
        return f"bias is {b.dtype}; the 16x8 kernels take an int64 or int32 bias"
    if b.num_elements != channels:
        return f"bias has {b.num_elements} values for {channels} output channels"
    return None


# Ops whose TFLM 16x8 kernel also takes an int32 bias (int32 accumulator); the others read int64.
INT32_BIAS_OPS = frozenset({"CONV_2D", "FULLY_CONNECTED"})


def _common_reason(graph: Graph, op: Op, axis: int, rank: int, channels: int) -> str | None:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    return pk.first_reason(
        int16_activation_reason(x, "input"),
        int16_activation_reason(pk.output(graph, op), "output"),
        _weights_reason(w, axis, rank),
        _bias_reason(b, channels, op.kind in INT32_BIAS_OPS),
        pk.activation_reason(op),
    )


def _requant_fields(
    op: Op, x: Tensor, w: Tensor, b: Tensor | None, y: Tensor
) -> tuple[tuple[str, ParamValue], ...]:
    """Clamp, accumulator width, weights, bias and multipliers: the fields all three share."""
    assert w.quant is not None
    per_channel = w.quant.per_channel
    if per_channel or op.kind != "FULLY_CONNECTED":
        pairs = quant.conv_multipliers(pk.scale(x), list(w.quant.scale), pk.scale(y))
    else:
        pairs = [quant.fc_multiplier(pk.scale(x), float(w.quant.scale[0]), pk.scale(y))]
    act_min, act_max = quant.activation_range(op.options.get("activation", "NONE"), pk.scale(y), 0, "int16")
    acc64 = b is None or b.dtype == "int64"
    bias64: ParamValue = pk.const_array(op, "bias64", b.array(), "int64_t") if b is not None and acc64 else 0
    bias32: ParamValue = (
        pk.const_array(op, "bias32", b.array(), "int32_t") if b is not None and not acc64 else 0
    )
    return (
        ("act_min", act_min),
        ("act_max", act_max),
        ("per_channel", 1 if per_channel else 0),
        ("acc64", 1 if acc64 else 0),
        ("weights", pk.const_array(op, "weights", w.array(), "int8_t")),
        ("bias64", bias64),
        ("bias32", bias32),
        ("out_mult", pk.const_array(op, "out_mult", [m for m, _ in pairs], "int32_t")),
        ("out_shift", pk.const_array(op, "out_shift", [s for _, s in pairs], "int32_t")),
    )


def _multipliers_reason(x: Tensor, w: Tensor, y: Tensor, b: Tensor | None) -> str | None:
    """The int64 requantization takes shifts in [-31, 7] (TFLM's DCHECK); larger ones are not a
    model the converter writes."""
    assert w.quant is not None
    if b is not None and b.dtype == "int32":
        return None
    for m, s in quant.conv_multipliers(pk.scale(x), list(w.quant.scale), pk.scale(y)):
        if m and s > 7:
            return f"output scale too small for the int64 requantization (shift {s} > 7)"
    return None


def _padding(op: Op, x: Tensor, k_h: int, k_w: int) -> quant.Padding2D:
    return pk.window_padding(op, x.shape, (k_h, k_w))


def _window_reason(graph: Graph, op: Op, k_h: int, k_w: int) -> str | None:
    x, y = pk.op_tensor(graph, op, 0), pk.output(graph, op)
    assert x is not None
    return pk.nhwc_window_reason(op, x, y) or pk.output_size_reason(op, x, y, (k_h, k_w))


def window_params(op: Op, pad: quant.Padding2D) -> pk.Fields:
    """stride_h, stride_w, dil_h, dil_w, pad_h, pad_w: the sliding-window fields."""
    o = op.options
    return (
        ("stride_h", int(o.get("stride_h", 1))),
        ("stride_w", int(o.get("stride_w", 1))),
        ("dil_h", int(o.get("dilation_h_factor", 1))),
        ("dil_w", int(o.get("dilation_w_factor", 1))),
        ("pad_h", pad.pad_h),
        ("pad_w", pad.pad_w),
    )


def _describe(op: Op, k_h: int, k_w: int, c_in: int, c_out: int, b: Tensor | None) -> str:
    sh, sw = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    dh, dw = int(op.options.get("dilation_h_factor", 1)), int(op.options.get("dilation_w_factor", 1))
    stride = "" if (sh, sw) == (1, 1) else f" s{sh}" if sh == sw else f" s{sh}x{sw}"
    dil = "" if (dh, dw) == (1, 1) else f" d{dh}x{dw}"
    bias = f" {b.dtype} bias" if b is not None else ""
    return f"16x8 {k_h}x{k_w}{stride}{dil} {op.options['padding']} {c_in}->{c_out}{pk.act_suffix(op)}{bias}"


def _io_args(op: Op) -> tuple[TensorArg, TensorArg]:
    return TensorArg(op.inputs[0], False, "int16_t"), TensorArg(op.outputs[0], True, "int16_t")


# ---- CONV_2D -------------------------------------------------------------------------------------


def _accepts_conv(graph: Graph, op: Op) -> str | None:
    w = pk.op_tensor(graph, op, 1)
    channels = w.shape[0] if w is not None and w.shape else 0
    reason = _common_reason(graph, op, 0, 4, channels)
    if reason:
        return reason
    x, y, b = pk.op_tensor(graph, op, 0), pk.output(graph, op), pk.op_tensor(graph, op, 2)
    assert x is not None and w is not None
    reason = _window_reason(graph, op, w.shape[1], w.shape[2])
    if reason:
        return reason
    if x.shape[3] % w.shape[3] != 0 or w.shape[0] % (x.shape[3] // w.shape[3]) != 0:
        return f"input depth {x.shape[3]} does not split into groups of the filter depth {w.shape[3]}"
    if y.shape[3] != w.shape[0]:
        return "output depth differs from the number of filters"
    return _multipliers_reason(x, w, y, b)


@kernel("CONV_2D", name="conv2d_s16", accepts=_accepts_conv)
def conv2d_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
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
        ("out_c", out_c),
        ("k_h", k_h),
        ("k_w", k_w),
        ("filter_in_c", filter_in_c),
        *window_params(op, pad),
        *_requant_fields(op, x, w, b, y),
    )
    return KernelCall(
        function="tf_conv2d_s16",
        params_type="tf_conv2d_s16_params_t",
        params=params,
        args=_io_args(op),
        macs=y.shape[0] * y.shape[1] * y.shape[2] * out_c * k_h * k_w * filter_in_c,
        comment=_describe(op, k_h, k_w, x.shape[3], out_c, b),
    )


# ---- DEPTHWISE_CONV_2D ---------------------------------------------------------------------------


def _accepts_depthwise(graph: Graph, op: Op) -> str | None:
    w = pk.op_tensor(graph, op, 1)
    channels = w.shape[3] if w is not None and len(w.shape) == 4 else 0
    reason = _common_reason(graph, op, 3, 4, channels)
    if reason:
        return reason
    x, y, b = pk.op_tensor(graph, op, 0), pk.output(graph, op), pk.op_tensor(graph, op, 2)
    assert x is not None and w is not None
    if w.shape[0] != 1:
        return f"depthwise weights must have shape 1xHxWxC, got {pk.shape_str(w.shape)}"
    reason = _window_reason(graph, op, w.shape[1], w.shape[2])
    if reason:
        return reason
    if y.shape[3] != w.shape[3] or y.shape[3] % x.shape[3] != 0:
        return f"output depth {y.shape[3]} is not a multiple of the input depth {x.shape[3]}"
    return _multipliers_reason(x, w, y, b)


@kernel("DEPTHWISE_CONV_2D", name="depthwise_conv2d_s16", accepts=_accepts_depthwise)
def depthwise_conv2d_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
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
        *window_params(op, pad),
        *_requant_fields(op, x, w, b, y),
    )
    mult = f" x{depth_mult}" if depth_mult > 1 else ""
    return KernelCall(
        function="tf_depthwise_conv2d_s16",
        params_type="tf_depthwise_conv2d_s16_params_t",
        params=params,
        args=_io_args(op),
        macs=y.shape[0] * y.shape[1] * y.shape[2] * out_c * k_h * k_w,
        comment="dw " + _describe(op, k_h, k_w, x.shape[3], out_c, b) + mult,
    )


# ---- FULLY_CONNECTED -----------------------------------------------------------------------------


def _accepts_fc(graph: Graph, op: Op) -> str | None:
    w = pk.op_tensor(graph, op, 1)
    channels = w.shape[0] if w is not None and w.shape else 0
    reason = _common_reason(graph, op, 0, 2, channels)
    if reason:
        return reason
    x, y, b = pk.op_tensor(graph, op, 0), pk.output(graph, op), pk.op_tensor(graph, op, 2)
    assert x is not None and w is not None
    if int(op.options.get("weights_format", 0)) != 0:
        return "shuffled weights format is not supported"
    out_depth = y.shape[-1] if y.shape else 1
    if out_depth != w.shape[0]:
        return f"output depth {out_depth} differs from the weights' {w.shape[0]} rows"
    if x.num_elements != (y.num_elements // max(out_depth, 1)) * w.shape[1]:
        return f"input {pk.shape_str(x.shape)} does not split into rows of {w.shape[1]}"
    return _multipliers_reason(x, w, y, b)


@kernel("FULLY_CONNECTED", name="fully_connected_s16", accepts=_accepts_fc)
def fully_connected_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None and w.quant is not None
    out_depth, accum_depth = w.shape
    batches = y.num_elements // out_depth
    params: tuple[tuple[str, ParamValue], ...] = (
        ("batches", batches),
        ("accum_depth", accum_depth),
        ("out_depth", out_depth),
        *_requant_fields(op, x, w, b, y),
    )
    rows = f"{batches}x" if batches > 1 else ""
    per = " per-channel" if w.quant.per_channel else ""
    bias = f" {b.dtype} bias" if b is not None else ""
    return KernelCall(
        function="tf_fully_connected_s16",
        params_type="tf_fully_connected_s16_params_t",
        params=params,
        args=_io_args(op),
        macs=batches * out_depth * accum_depth,
        comment=f"16x8 {rows}{accum_depth}->{out_depth}{pk.act_suffix(op)}{per}{bias}",
    )
