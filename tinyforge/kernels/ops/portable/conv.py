"""CONV_2D and DEPTHWISE_CONV_2D packers for the portable int8 kernels (firmware/kernels/
tf_conv.c, tf_depthwise.c): per-channel requantization multipliers, fused-activation clamps and
SAME/VALID padding, all computed as TFLite Micro's Prepare computes them (tinyforge/kernels/
packing.py ConvLayer). `accepts_conv` and `accepts_depthwise` are what every other conv packer
accepts at most: the fast, DSP and Helium ones start from them."""

from __future__ import annotations

from collections.abc import Callable

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels.registry import KernelCall, Target, kernel


def _weights_reason(w: Tensor | None, axis: int) -> str | None:
    reason = pk.int8_weights_reason(w, 4)
    if reason:
        return reason
    assert w is not None
    return pk.channel_axis_reason(w, axis) or pk.weights_zero_point_reason(w)


def _bias_reason(b: Tensor | None) -> str | None:
    if b is None:
        return None
    if not b.is_constant:
        return "bias is not constant"
    if b.dtype != "int32":
        return f"bias is {b.dtype}; the int8 kernels take int32 bias"
    return None


def _depths_reason(x: Tensor, w: Tensor, y: Tensor) -> str | None:
    """CONV_2D: the input depth splits into groups of the filter depth, one filter per output."""
    if x.shape[3] % w.shape[3] != 0 or w.shape[0] % (x.shape[3] // w.shape[3]) != 0:
        return f"input depth {x.shape[3]} does not split into groups of the filter depth {w.shape[3]}"
    if y.shape[3] != w.shape[0]:
        return "output depth differs from the number of filters"
    return None


def _dw_depths_reason(x: Tensor, w: Tensor, y: Tensor) -> str | None:
    """DEPTHWISE_CONV_2D: 1xHxWxC weights, the output depth a multiple of the input's."""
    if w.shape[0] != 1:
        return f"depthwise weights must have shape 1xHxWxC, got {pk.shape_str(w.shape)}"
    if y.shape[3] != w.shape[3] or y.shape[3] % x.shape[3] != 0:
        return f"output depth {y.shape[3]} is not a multiple of the input depth {x.shape[3]}"
    return None


def _accepts(
    graph: Graph, op: Op, axis: int, depths: Callable[[Tensor, Tensor, Tensor], str | None]
) -> str | None:
    reason = pk.first_reason(
        pk.int8_io_reason(graph, op),
        _weights_reason(pk.op_tensor(graph, op, 1), axis),
        _bias_reason(pk.op_tensor(graph, op, 2)),
        pk.activation_reason(op),
    )
    if reason:
        return reason
    (x, y), w = pk.io(graph, op), pk.op_tensor(graph, op, 1)
    assert w is not None
    return (
        pk.nhwc_window_reason(op, x, y)
        or depths(x, w, y)
        or pk.output_size_reason(op, x, y, (w.shape[1], w.shape[2]))
    )


def accepts_conv(graph: Graph, op: Op) -> str | None:
    """Why the reference kernel cannot run this CONV_2D, or None."""
    return _accepts(graph, op, 0, _depths_reason)


def accepts_depthwise(graph: Graph, op: Op) -> str | None:
    """Why the reference kernel cannot run this DEPTHWISE_CONV_2D, or None."""
    return _accepts(graph, op, 3, _dw_depths_reason)


def _quant_fields(c: pk.ConvLayer) -> pk.Fields:
    """The requantization and constant fields the reference CONV_2D and DEPTHWISE_CONV_2D share:
    offsets, activation clamp, weights, bias and per-channel (or per-tensor) multiplier/shift."""
    return (
        ("input_offset", -pk.zero_point(c.x)),
        ("output_offset", pk.zero_point(c.y)),
        *pk.clamp_fields(c.act),
        ("per_channel", c.per_channel),
        ("weights", pk.const_array(c.op, "weights", c.w.array(), "int8_t")),
        ("bias", pk.const_array(c.op, "bias", c.b.array(), "int32_t") if c.b is not None else 0),
        *pk.multiplier_fields(c.op, c.pairs),
    )


@kernel("CONV_2D", name="conv2d_s8", accepts=accepts_conv)
def conv2d_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    params = (*c.fields(filter_in_c=True), *_quant_fields(c))
    return c.call("tf_conv2d_s8", params, c.describe())


@kernel("DEPTHWISE_CONV_2D", name="depthwise_conv2d_s8", accepts=accepts_depthwise)
def depthwise_conv2d_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    params = (*c.fields(depth_mult=True), *_quant_fields(c))
    return c.call("tf_depthwise_conv2d_s8", params, c.describe())
