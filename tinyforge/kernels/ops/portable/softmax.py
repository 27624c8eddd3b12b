"""SOFTMAX packer for the portable int8 kernel (firmware/kernels/tf_softmax.c): TFLM's
PreprocessSoftmaxScaling and CalculateInputRadius give the input multiplier, left shift and the
smallest input difference that still contributes."""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, Target, kernel


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = pk.int8_io_reason(graph, op)
    if reason:
        return reason
    x, y = pk.io(graph, op)
    if not x.shape:
        return "input must have at least one dimension"
    if pk.zero_point(y) != -128 or np.float32(pk.scale(y)) != np.float32(1.0 / 256):
        return "int8 output must have scale 1/256 and zero point -128 (as TFLM requires)"
    if float(op.options.get("beta", 1.0)) * pk.scale(x) * (1 << 26) <= 1.0:
        return "beta * input scale is too small for the fixed-point softmax"
    return None


@kernel("SOFTMAX", name="softmax_s8", accepts=_accepts)
def softmax_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x = pk.io(graph, op)[0]
    depth = x.shape[-1]
    outer = x.num_elements // max(depth, 1)
    beta = float(op.options.get("beta", 1.0))
    sp = quant.softmax_params(beta, pk.scale(x))
    params = (
        ("outer", outer),
        ("depth", depth),
        ("input_multiplier", sp.input_multiplier),
        ("input_left_shift", sp.input_left_shift),
        ("diff_min", sp.diff_min),
    )
    comment = f"{outer}x{depth}" + (f" beta={beta:g}" if beta != 1.0 else "")
    return pk.io_call(op, "tf_softmax_s8", params, comment, in_place=((op.outputs[0], op.inputs[0]),))
