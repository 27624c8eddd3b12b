"""FULLY_CONNECTED packer for the portable int8 kernel (firmware/kernels/tf_fully_connected.c).

One multiplier for per-tensor weights (which may have a zero point), one per output row for
per-channel ones, input * filter / output scale in double as the tflite_micro reference computes
it (tinyforge/kernels/packing.py multipliers). keep_num_dims only
changes the output shape, not the bytes: every row of `accum_depth` inputs gives `out_depth` outputs.
"""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.registry import KernelCall, Target, kernel


def accepts(graph: Graph, op: Op) -> str | None:
    """Why the reference kernel cannot run this FULLY_CONNECTED, or None (the DSP, Helium and fast
    packers accept at most this)."""
    reason = pk.int8_io_reason(graph, op, fused_activation=True)
    if reason:
        return reason
    x, y = pk.io(graph, op)
    w, b = pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    if w is None:
        return "weights are not constant"
    reason = pk.int8_weights_reason(w, 2)
    if reason:
        return reason
    if int(op.options.get("weights_format", 0)) != 0:
        return "shuffled weights format is not supported"
    reason = pk.channel_axis_reason(w, 0)
    if reason:
        return reason
    if b is not None and (not b.is_constant or b.dtype != "int32"):
        return "bias must be a constant int32 tensor"
    out_depth = y.shape[-1] if y.shape else 1
    if out_depth != w.shape[0]:
        return f"output depth {out_depth} differs from the weights' {w.shape[0]} rows"
    batches = y.num_elements // max(out_depth, 1)
    if x.num_elements != batches * w.shape[1]:
        return f"input {pk.shape_str(x.shape)} does not split into rows of {w.shape[1]}"
    return None


@kernel("FULLY_CONNECTED", name="fully_connected_s8", accepts=accepts)
def fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    f = pk.fc_layer(graph, op)
    params = (
        ("batches", f.rows),
        ("accum_depth", f.accum_depth),
        ("out_depth", f.out_depth),
        ("input_offset", -pk.zero_point(f.x)),
        ("filter_offset", f.filter_offset),
        ("output_offset", pk.zero_point(f.y)),
        *pk.clamp_fields(f.act),
        ("per_channel", int(f.per_channel)),
        ("weights", pk.const_array(op, "weights", f.w.array(), "int8_t")),
        ("bias", pk.const_array(op, "bias", f.b.array(), "int32_t") if f.b is not None else 0),
        *pk.multiplier_fields(op, f.pairs),
    )
    return f.call("tf_fully_connected_s8", params, f.describe(per_channel=True))
