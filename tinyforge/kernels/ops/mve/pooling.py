"""AVERAGE_POOL_2D packer for the Helium kernel (firmware/kernels/mve/tf_mve_pool.c), chosen over
the portable one on boards with the `mve` feature. Same parameters as the portable kernel
(tinyforge/kernels/ops/pooling.py); windows of at most 256 elements (int16 sums)."""

from __future__ import annotations

from dataclasses import replace

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels.ops.portable import pooling as ref
from tinyforge.kernels.registry import KernelCall, Target, kernel

PRIORITY = 20
MAX_WINDOW = 256  # TF_MVE_AVG_POOL_MAX_WINDOW


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts(graph, op)
    if reason:
        return reason
    window = int(op.options.get("filter_height", 1)) * int(op.options.get("filter_width", 1))
    if window > MAX_WINDOW:
        return f"a window of {window} elements; the Helium kernel sums at most {MAX_WINDOW} in int16"
    return None


@kernel("AVERAGE_POOL_2D", name="mve_avg_pool_s8", features={"mve"}, priority=PRIORITY, accepts=_accepts)
def mve_avg_pool_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    call = ref._pool(graph, op, "tf_avg_pool_s8")  # the portable parameters, the Helium function
    return replace(call, function="tf_mve_avg_pool_s8", comment=call.comment + " mve")
