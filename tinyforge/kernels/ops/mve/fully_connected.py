"""FULLY_CONNECTED packer for the Helium kernel (firmware/kernels/mve/tf_mve_fully_connected.c),
chosen over the DSP and portable ones on boards with the `mve` feature. Weights stay int8 (packed
for the matrix core, tinyforge/kernels/ops/mve/pack.py); the input offset goes into the bias. Weights with
a non-zero zero point keep the other kernels."""

from __future__ import annotations

from dataclasses import replace

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.mve import mve_kernel, pack
from tinyforge.kernels.ops.portable import fully_connected as ref
from tinyforge.kernels.registry import KernelCall, Target


def _gemm_reason(graph: Graph, op: Op) -> str | None:
    w = pk.op_tensor(graph, op, 1)
    assert w is not None
    reason = pk.weights_zero_point_reason(w)
    if reason is None and w.shape[1] == 0:
        return "empty dot products"
    return reason


@mve_kernel("FULLY_CONNECTED", "mve_fully_connected_s8", pk.narrowed(ref.accepts, _gemm_reason))
def mve_fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    f = pk.fc_layer(graph, op)
    gemm = pack.pack_gemm(f.w.array(), f.bias(), -pk.zero_point(f.x), f.pairs)
    params = (
        ("batches", f.rows),
        ("accum_depth", f.accum_depth),
        ("out_depth", f.out_depth),
        *pack.requant_fields(pk.zero_point(f.y), f.act, gemm),
        *pack.weight_fields(op, gemm),
    )
    call = f.call("tf_mve_fully_connected_s8", params, f.describe(per_channel=True) + " mve")
    return replace(call, variants=(pack.gemm_variant(gemm),))
