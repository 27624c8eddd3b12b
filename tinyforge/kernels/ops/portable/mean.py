"""MEAN packer for the portable int8 kernel (firmware/kernels/tf_mean.c).

As the tflite_micro reference does (also when input and output share their quantization): the
int32 sum, less count * input zero point, is requantized with QuantizeMultiplier(in_scale /
out_scale) widened by floor(log2(count)) bits and divided by the count. TFLM resolves at most
2 distinct axes and 5 input dimensions.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, Target, kernel

MAX_DIMS = 6  # TF_MEAN_MAX_DIMS
TFLM_MAX_AXES = 2
TFLM_MAX_RANK = 5


def _axes(graph: Graph, op: Op) -> list[int] | None:
    axis_t = pk.op_tensor(graph, op, 1)
    x = pk.op_tensor(graph, op, 0)
    if axis_t is None or not axis_t.is_constant or x is None:
        return None
    rank = len(x.shape)
    out: list[int] = []
    for a in np.asarray(axis_t.array()).reshape(-1).tolist():
        a = int(a) + rank if int(a) < 0 else int(a)
        if not 0 <= a < rank:
            return None
        if a not in out:
            out.append(a)
    return out


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = pk.int8_io_reason(graph, op)
    if reason:
        return reason
    x, y = pk.io(graph, op)
    axis_t = pk.op_tensor(graph, op, 1)
    if axis_t is None or not axis_t.is_constant or axis_t.dtype not in ("int32", "int64"):
        return "the axis input must be a constant int32 tensor"
    axes = _axes(graph, op)
    if axes is None:
        return "an axis lies outside the input's dimensions"
    if len(axes) > TFLM_MAX_AXES:
        return f"reducing {len(axes)} axes; TFLM's MEAN reduces at most {TFLM_MAX_AXES}"
    if len(x.shape) > TFLM_MAX_RANK:
        return f"input has rank {len(x.shape)}; TFLM's MEAN takes at most {TFLM_MAX_RANK}"
    kept = [d for i, d in enumerate(x.shape) if i not in axes]
    if int(np.prod(kept, dtype=np.int64)) != y.num_elements:
        return f"output {pk.shape_str(y.shape)} does not match the reduction of {pk.shape_str(x.shape)}"
    return None


@kernel("MEAN", name="mean_s8", accepts=_accepts)
def mean_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, y = pk.io(graph, op)
    axes = _axes(graph, op)
    assert axes is not None
    strides = pk.contiguous_strides(x.shape)
    kept = [i for i in range(len(x.shape)) if i not in axes]
    red = [i for i in range(len(x.shape)) if i in axes]
    count = int(np.prod([x.shape[i] for i in red], dtype=np.int64))
    mult, shift = quant.mean_multiplier(pk.scale(x), pk.scale(y), count)
    params = (
        ("n_kept", len(kept)),
        ("kept_shape", pk.fill_to([x.shape[i] for i in kept], MAX_DIMS)),
        ("kept_strides", pk.fill_to([strides[i] for i in kept], MAX_DIMS)),
        ("n_red", len(red)),
        ("red_shape", pk.fill_to([x.shape[i] for i in red], MAX_DIMS)),
        ("red_strides", pk.fill_to([strides[i] for i in red], MAX_DIMS)),
        ("out_size", y.num_elements),
        ("count", count),
        ("input_zp", pk.zero_point(x)),
        ("output_zp", pk.zero_point(y)),
        ("multiplier", mult),
        ("shift", shift),
    )
    comment = f"{pk.shape_str(x.shape)} over axes {','.join(map(str, axes))}" + (
        " keep_dims" if op.options.get("keep_dims") else ""
    )
    return pk.io_call(op, "tf_mean_s8", params, comment)
