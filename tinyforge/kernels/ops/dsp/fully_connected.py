"""FULLY_CONNECTED packer for the DSP-extension kernel (firmware/kernels/dsp/tf_dsp_fully_connected.c),
chosen over the portable one on boards with the `dsp` feature. Weights (plus their zero point)
are expanded to int16, scaled for the folded requantization (tinyforge/kernels/ops/dsp/fold.py) and
interleaved 4 output channels at a time; the input offset goes into the bias."""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.dsp import fold
from tinyforge.kernels.ops.portable import fully_connected as ref
from tinyforge.kernels.registry import KernelCall, ScratchArg, Target, TensorArg, kernel

PRIORITY = 10
GROUP = 4  # output channels per block


def _fold(graph: Graph, op: Op) -> tuple[fold.FoldedRequant, np.ndarray] | str:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None and w.quant is not None
    if w.quant.per_channel:
        pairs = quant.conv_multipliers(pk.scale(x), list(w.quant.scale), pk.scale(y))
        filter_offset = 0
    else:
        pairs = [quant.fc_multiplier(pk.scale(x), float(w.quant.scale[0]), pk.scale(y))]
        filter_offset = -int(w.quant.zero_point[0]) if w.quant.zero_point else 0
    w2 = w.array().astype(np.int64) + filter_offset
    bias = b.array() if b is not None else None
    folded = fold.fold_requant(bias, w2, -pk.zero_point(x), pairs, pk.zero_point(y))
    if isinstance(folded, str):
        return folded
    return folded, fold.scaled_weights(w2, folded)


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts(graph, op)
    if reason:
        return reason
    folded = _fold(graph, op)
    return folded if isinstance(folded, str) else None


@kernel(
    "FULLY_CONNECTED", name="dsp_fully_connected_s8", features={"dsp"}, priority=PRIORITY, accepts=_accepts
)
def dsp_fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    w = pk.op_tensor(graph, op, 1)
    y = pk.output(graph, op)
    assert w is not None
    out_depth, accum_depth = w.shape
    batches = y.num_elements // out_depth
    folded_w = _fold(graph, op)
    assert not isinstance(folded_w, str)
    folded, ws = folded_w
    kpad = fold.round_up(accum_depth, 8)
    out_pad = fold.round_up(out_depth, GROUP)
    # int16 weights where the flash allows, else int8 (see dsp_conv.py: no left shifts, the kernel
    # doubles the accumulator, the bias stays unscaled)
    int8_weights = not fold.int16_weights_fit(graph, target)
    bias = list(folded.bias)
    if int8_weights:
        live = np.abs(ws).sum(axis=1) > 0
        if any(s != 1 for s, on in zip(folded.scale_shift, live, strict=True) if on):
            return ref.fully_connected_s8(graph, op, target)
        raw = ws // 2  # scale_shift 1: the weights (plus zero point) themselves
        if raw.size and (raw.min() < -128 or raw.max() > 127):
            return ref.fully_connected_s8(graph, op, target)  # a weight zero point pushes them out of int8
        stream8 = fold.interleave(fold.pad_to(raw, out_pad, kpad), GROUP)
        weights = np.frombuffer(stream8.astype(np.int8).tobytes(), dtype="<i4")
        bias = [b // 2 for b in bias]
    else:
        weights = fold.int16_words(fold.interleave(fold.lane_order(fold.pad_to(ws, out_pad, kpad)), GROUP))
    q = np.zeros((out_pad // GROUP, 4, GROUP), dtype=np.int64)  # [group][bias, mult, kq, rshift][channel]
    for c in range(out_depth):
        q[c // GROUP, :, c % GROUP] = (bias[c], folded.mult[c], folded.kq[c], folded.rshift[c])
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    params = (
        ("batches", batches),
        ("accum_depth", accum_depth),
        ("kpad", kpad),
        ("out_depth", out_depth),
        ("fast", fold.fast_requant(act_min, act_max, pk.zero_point(y))),
        ("act_min", act_min),
        ("act_max", act_max),
        ("int8_weights", int(int8_weights)),
        ("weights", pk.const_array(op, "weights8" if int8_weights else "weights16", weights, "int32_t")),
        ("qparams", pk.const_array(op, "qparams", q.reshape(-1), "int32_t")),
    )
    rows = f"{batches}x" if batches > 1 else ""
    return KernelCall(
        function="tf_dsp_fully_connected_s8",
        params_type="tf_dsp_fully_connected_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True), ScratchArg()),
        scratch_bytes=2 * kpad,
        macs=batches * out_depth * accum_depth,
        comment=f"{rows}{accum_depth}->{out_depth}{pk.act_suffix(op)} dsp" + (" w8" if int8_weights else ""),
    )
