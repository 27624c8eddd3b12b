"""AVERAGE_POOL_2D packer for the Helium kernel (firmware/kernels/mve/tf_mve_pool.c), chosen over
the portable one on boards with the `mve` feature. Same parameters as the portable kernel
(tinyforge/kernels/ops/pooling.py); windows of at most 256 elements (int16 sums)."""

from __future__ import annotations

from dataclasses import replace

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.mve import mve_kernel
from tinyforge.kernels.ops.portable import pooling as ref
from tinyforge.kernels.registry import KernelCall, Target

MAX_WINDOW = 256  # TF_MVE_AVG_POOL_MAX_WINDOW


def _window_reason(graph: Graph, op: Op) -> str | None:
    window = int(op.options.get("filter_height", 1)) * int(op.options.get("filter_width", 1))
    if window > MAX_WINDOW:
        return f"a window of {window} elements; the Helium kernel sums at most {MAX_WINDOW} in int16"
    return None


@mve_kernel("AVERAGE_POOL_2D", "mve_avg_pool_s8", pk.narrowed(ref.accepts, _window_reason))
def mve_avg_pool_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    call = ref.pool_call(graph, op, "tf_avg_pool_s8", " mve")  # the portable parameters ...
    return replace(call, function="tf_mve_avg_pool_s8")  # ... for the Helium function
