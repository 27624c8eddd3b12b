"""SVDF packer for the Helium kernel (firmware/kernels/mve/tf_mve_svdf.c), chosen over the DSP and
portable ones on boards with the `mve` feature for int16 state. The feature weights stay int8,
packed as the matrix core's (tinyforge/kernels/ops/mve/pack.py) with the input offset in the bias; the
state zero point of the time dot products moves into a per-unit bias (dsp/svdf.py time_bias)."""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp.svdf import feature_multiplier, time_bias
from tinyforge.kernels.ops.mve import mve_kernel
from tinyforge.kernels.ops.mve import pack as mve
from tinyforge.kernels.ops.portable import svdf as ref
from tinyforge.kernels.registry import KernelCall, ScratchArg, Target


def _mve_reason(graph: Graph, op: Op) -> str | None:
    if graph.tensor(op.inputs[ref.STATE]).dtype != "int16":
        return "the Helium SVDF takes an int16 state"
    return None


@mve_kernel("SVDF", name="mve_svdf", accepts=pk.narrowed(ref.accepts, _mve_reason))
def mve_svdf(graph: Graph, op: Op, target: Target) -> KernelCall:
    base = ref.svdf(graph, op, target)
    x, wf, _wt, _b, _state = ref._tensors(graph, op)
    assert x is not None and wf is not None
    filters, in_size = wf.shape
    gemm = mve.pack_gemm(wf.array(), None, 0, [(1 << 30, 0)])
    kpad = gemm.weights.shape[1] * mve.CHUNK
    fpad = gemm.weights.shape[0] * mve.BLOCK
    mult, shift = feature_multiplier(graph, op)
    q = np.zeros((fpad, 4), dtype=np.int64)
    q[:filters, 0] = mve.folded_bias(None, wf.array(), -pk.zero_point(x))
    q[:filters, 1] = mult
    q[:filters, 2] = shift
    unused = {"weights_feature", "bias"}  # the portable kernel's: not in flash
    params = (
        *(kv for kv in base.params if kv[0] not in unused),
        ("kpad", kpad),
        ("packed_feature", pk.const_array(op, "svdf_wf_mve", gemm.weights.reshape(-1), "int8_t")),
        ("feature_q", pk.const_array(op, "svdf_fq_mve", q.reshape(-1), "int32_t")),
        ("time_bias", pk.const_array(op, "svdf_tbias", time_bias(graph, op), "int32_t")),
    )
    return KernelCall(
        function="tf_mve_svdf_s8",
        params_type=base.params_type,
        params=params,
        args=(*base.args, ScratchArg()),
        scratch_bytes=4 * fpad + kpad,
        macs=base.macs,
        comment=base.comment + " mve",
    )
