"""AVERAGE_POOL_2D packer for the DSP-extension kernel (firmware/kernels/dsp/tf_dsp_pool.c): the
portable kernel's parameters, for channel counts that are a multiple of 4 and windows of at most
256 pixels (the kernel sums four channels at a time in 16-bit lanes)."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp import dsp_kernel
from tinyforge.kernels.ops.portable import pooling as ref
from tinyforge.kernels.registry import KernelCall, Target

MAX_WINDOW = 256  # 256 * -128 = -32768 still fits an int16 lane


def _lanes_reason(graph: Graph, op: Op) -> str | None:
    x = pk.op_tensor(graph, op, 0)
    assert x is not None
    if x.shape[3] % 4:
        return "channels are not a multiple of 4"
    if int(op.options.get("filter_height", 1)) * int(op.options.get("filter_width", 1)) > MAX_WINDOW:
        return f"window larger than {MAX_WINDOW} pixels"
    return None


@dsp_kernel("AVERAGE_POOL_2D", "dsp_avg_pool_s8", pk.narrowed(ref.accepts, _lanes_reason))
def dsp_avg_pool_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return ref.pool_call(graph, op, "tf_dsp_avg_pool_s8", " dsp")
