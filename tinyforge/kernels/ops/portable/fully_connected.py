"""FULLY_CONNECTED packer for the portable int8 kernel (firmware/kernels/tf_fully_connected.c).

Per-tensor weights use TFLM's GetQuantizedConvolutionMultipler (a float32 scale product);
per-channel weights one multiplier per output row, in double, as TFLM does. keep_num_dims only
changes the output shape, not the bytes: every row of `accum_depth` inputs gives `out_depth` outputs.
"""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel


def _accepts(graph: Graph, op: Op) -> str | None:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    reason = pk.first_reason(
        pk.int8_activation_reason(x, "input"),
        pk.int8_activation_reason(y, "output"),
        pk.activation_reason(op),
    )
    if reason:
        return reason
    assert x is not None
    if w is None or not w.is_constant:
        return "weights are not constant"
    if w.dtype != "int8":
        return f"weights are {w.dtype}; the portable kernel takes int8 weights"
    if w.quant is None or not w.quant.scale:
        return "weights have no quantization parameters"
    if len(w.shape) != 2:
        return f"weights have rank {len(w.shape)}, expected 2"
    if int(op.options.get("weights_format", 0)) != 0:
        return "shuffled weights format is not supported"
    if w.quant.per_channel:
        if w.quant.axis != 0 or len(w.quant.scale) != w.shape[0]:
            return f"weights are quantized per channel along axis {w.quant.axis}; expected axis 0"
    if b is not None and (not b.is_constant or b.dtype != "int32"):
        return "bias must be a constant int32 tensor"
    out_depth = y.shape[-1] if y.shape else 1
    if out_depth != w.shape[0]:
        return f"output depth {out_depth} differs from the weights' {w.shape[0]} rows"
    batches = y.num_elements // max(out_depth, 1)
    if x.num_elements != batches * w.shape[1]:
        return f"input {pk.shape_str(x.shape)} does not split into rows of {w.shape[1]}"
    return None


@kernel("FULLY_CONNECTED", name="fully_connected_s8", accepts=_accepts)
def fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None and w.quant is not None
    out_depth, accum_depth = w.shape
    batches = y.num_elements // out_depth
    per_channel = w.quant.per_channel
    if per_channel:
        pairs = quant.conv_multipliers(pk.scale(x), list(w.quant.scale), pk.scale(y))
        filter_offset = 0
    else:
        pairs = [quant.fc_multiplier(pk.scale(x), float(w.quant.scale[0]), pk.scale(y))]
        filter_offset = -int(w.quant.zero_point[0]) if w.quant.zero_point else 0
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    params = (
        ("batches", batches),
        ("accum_depth", accum_depth),
        ("out_depth", out_depth),
        ("input_offset", -pk.zero_point(x)),
        ("filter_offset", filter_offset),
        ("output_offset", pk.zero_point(y)),
        ("act_min", act_min),
        ("act_max", act_max),
        ("per_channel", 1 if per_channel else 0),
        ("weights", pk.const_array(op, "weights", w.array(), "int8_t")),
        ("bias", pk.const_array(op, "bias", b.array(), "int32_t") if b is not None else 0),
        ("out_mult", pk.const_array(op, "out_mult", [m for m, _ in pairs], "int32_t")),
        ("out_shift", pk.const_array(op, "out_shift", [s for _, s in pairs], "int32_t")),
    )
    rows = f"{batches}x" if batches > 1 else ""
    comment = f"{rows}{accum_depth}->{out_depth}{pk.act_suffix(op)}" + (" per-channel" if per_channel else "")
    return KernelCall(
        function="tf_fully_connected_s8",
        params_type="tf_fully_connected_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True)),
        macs=batches * out_depth * accum_depth,
        comment=comment,
    )
