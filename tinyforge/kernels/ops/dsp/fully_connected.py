"""FULLY_CONNECTED packer for the DSP-extension kernel (firmware/kernels/dsp/tf_dsp_fully_connected.c),
chosen over the portable one on boards with the `dsp` feature. Weights (plus their zero point)
are expanded to int16, scaled for the folded requantization (tinyforge/kernels/ops/dsp/fold.py) and
interleaved 4 output channels at a time; the input offset goes into the bias."""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp import dsp_kernel, fold
from tinyforge.kernels.ops.portable import fully_connected as ref
from tinyforge.kernels.registry import KernelCall, Target

GROUP = 4  # output channels per block


def _fold(f: pk.FcLayer) -> tuple[fold.FoldedRequant, np.ndarray] | str:
    w2 = f.w.array().astype(np.int64) + f.filter_offset  # the weights' zero point goes into them
    return fold.fold_weights(w2, f.bias(), -pk.zero_point(f.x), f.pairs, pk.zero_point(f.y))


def _fold_reason(graph: Graph, op: Op) -> str | None:
    folded = _fold(pk.fc_layer(graph, op))
    return folded if isinstance(folded, str) else None


@dsp_kernel("FULLY_CONNECTED", "dsp_fully_connected_s8", pk.narrowed(ref.accepts, _fold_reason))
def dsp_fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    f = pk.fc_layer(graph, op)
    folded_w = _fold(f)
    assert not isinstance(folded_w, str)
    kpad = fold.round_up(f.accum_depth, 8)
    # int16 weights where the flash allows, else int8 (see fold.pack_weights)
    packed = fold.pack_weights(*folded_w, GROUP, kpad, int8=not fold.int16_weights_fit(graph, target))
    if packed is None:
        return ref.fully_connected_s8(graph, op, target)
    params = (
        ("batches", f.rows),
        ("accum_depth", f.accum_depth),
        ("kpad", kpad),
        ("out_depth", f.out_depth),
        *fold.clamp_fields(f.act, pk.zero_point(f.y)),
        *fold.weight_fields(op, packed),
    )
    comment = f.describe() + " dsp" + (" w8" if packed.int8 else "")
    return f.call("tf_dsp_fully_connected_s8", params, comment, scratch_bytes=2 * kpad)
