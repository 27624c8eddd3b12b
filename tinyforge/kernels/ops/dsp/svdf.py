"""SVDF packer for the DSP-extension kernel (firmware/kernels/dsp/tf_dsp_svdf.c), chosen over the
portable one on boards with the `dsp` feature for int16 state.

The feature weights go through the DSP FULLY_CONNECTED's folding (tinyforge/kernels/ops/dsp/fold.py: the
input offset into the bias, the requantization to the state's scale into SMMLAR,
weights expanded to int16 in the SMLAD lane order 4 filters at a time), with its range checks; the
state zero point of the time dot products moves into a per-unit bias. The widened weights are
taken only with `--optimize speed`; a layer that fails a check, and any layer with `size` or
`balanced` (int8 weights in flash), keeps the portable kernel.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.dsp import dsp_kernel
from tinyforge.kernels.ops.dsp import fold as dsp
from tinyforge.kernels.ops.mve import pack as mve
from tinyforge.kernels.ops.portable import svdf as ref
from tinyforge.kernels.registry import KernelCall, ScratchArg, Target

GROUP = 4


def time_bias(graph: Graph, op: Op) -> np.ndarray:
    """bias[u] - state_zero_point * (sum of unit u's rank filters' time weights), wrapped to int32."""
    _x, _wf, wt, bias, state = ref._tensors(graph, op)
    assert wt is not None and bias is not None and state is not None
    rank = int(op.options["rank"])
    sums = wt.array().astype(np.int64).reshape(-1, rank * wt.shape[1]).sum(axis=1)
    v = bias.array().astype(np.int64) - pk.zero_point(state) * sums
    return mve.wrap_int32(v)


def _fold(graph: Graph, op: Op) -> tuple[dsp.FoldedRequant, np.ndarray] | str:
    x, wf, _wt, _b, state = ref._tensors(graph, op)
    assert x is not None and wf is not None and state is not None
    mult, shift = feature_multiplier(graph, op)
    # the state zero point is added after the saturation (the kernel does it), not folded in
    folded = dsp.fold_requant(None, wf.array(), -pk.zero_point(x), [(mult, shift)], 0)
    if isinstance(folded, str):
        return folded
    return folded, dsp.scaled_weights(wf.array(), folded)


def feature_multiplier(graph: Graph, op: Op) -> tuple[int, int]:
    x, wf, _wt, _b, state = ref._tensors(graph, op)
    assert x is not None and wf is not None and state is not None
    return quant.quantize_multiplier(ref.effective_scale(pk.scale(x), pk.scale(wf), pk.scale(state)))


def _dsp_reason(graph: Graph, op: Op) -> str | None:
    if graph.tensor(op.inputs[ref.STATE]).dtype != "int16":
        return "the DSP SVDF takes an int16 state"
    folded = _fold(graph, op)
    return folded if isinstance(folded, str) else None


@dsp_kernel("SVDF", name="dsp_svdf", accepts=pk.narrowed(ref.accepts, _dsp_reason))
def dsp_svdf(graph: Graph, op: Op, target: Target) -> KernelCall:
    base = ref.svdf(graph, op, target)
    if not target.wide_weights:  # the feature weights widened to int16: only with --optimize speed
        return base
    folded_w = _fold(graph, op)
    assert not isinstance(folded_w, str)
    folded, ws = folded_w
    filters, in_size = ws.shape
    kpad = dsp.round_up(in_size, 8)
    fpad = dsp.round_up(filters, GROUP)
    packed = dsp.int16_words(dsp.interleave(dsp.lane_order(dsp.pad_to(ws, fpad, kpad)), GROUP))
    q = np.zeros((fpad, 4), dtype=np.int64)
    q[:, 3] = 1
    q[:filters] = np.stack([folded.bias, folded.mult, folded.kq, folded.rshift], axis=1)
    unused = {"weights_feature", "bias"}  # the portable kernel's: not in flash
    params = (
        *(kv for kv in base.params if kv[0] not in unused),
        ("kpad", kpad),
        ("packed_feature", pk.const_array(op, "svdf_wf16", packed, "int32_t")),
        ("feature_q", pk.const_array(op, "svdf_fq", q.reshape(-1), "int32_t")),
        ("time_bias", pk.const_array(op, "svdf_tbias", time_bias(graph, op), "int32_t")),
    )
    return KernelCall(
        function="tf_dsp_svdf_s8",
        params_type=base.params_type,
        params=params,
        args=(*base.args, ScratchArg()),
        scratch_bytes=4 * fpad + 2 * kpad,
        macs=base.macs,
        comment=base.comment + " dsp",
        widened=True,
    )
