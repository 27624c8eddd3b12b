"""CONV_2D and DEPTHWISE_CONV_2D packers for the DSP-extension kernels (firmware/kernels/dsp/
tf_dsp_conv.c, tf_dsp_depthwise.c), chosen over the portable ones on boards with the `dsp` feature.

Weights are expanded to int16 here, scaled for the folded requantization (tinyforge/kernels/ops/dsp/fold.py)
and laid out in the order the kernels' inner loops read them; the input offset goes into the bias.
Layers the folding cannot make exact (tiny right shifts, huge accumulators) keep the portable kernel.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.dsp import fold
from tinyforge.kernels.ops.portable import conv as ref
from tinyforge.kernels.registry import KernelCall, ScratchArg, Target, TensorArg, kernel

PRIORITY = 10


def _conv_fold(graph: Graph, op: Op, depthwise: bool) -> tuple[fold.FoldedRequant, np.ndarray] | str:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    arr = w.array().astype(np.int64)
    if depthwise:
        _, k_h, k_w, out_c = w.shape
        w2 = arr.reshape(k_h * k_w, out_c).T  # [channel][tap]
    else:
        w2 = arr.reshape(w.shape[0], -1)  # [channel][ky, kx, ic]
    pairs, _ = ref._multipliers(x, w, y)
    bias = b.array() if b is not None else None
    folded = fold.fold_requant(bias, w2, -pk.zero_point(x), pairs, pk.zero_point(y))
    if isinstance(folded, str):
        return folded
    return folded, fold.scaled_weights(w2, folded)


def _accepts_conv(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_conv(graph, op)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    if w.shape[3] != x.shape[3]:
        return "grouped convolution"
    folded = _conv_fold(graph, op, depthwise=False)
    return folded if isinstance(folded, str) else None


def _act_range(op: Op, graph: Graph) -> tuple[int, int]:
    y = pk.output(graph, op)
    return quant.activation_range(op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y))


@kernel("CONV_2D", name="dsp_conv_s8", features={"dsp"}, priority=PRIORITY, accepts=_accepts_conv)
def dsp_conv_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    out_c, k_h, k_w, in_c = w.shape
    folded_w = _conv_fold(graph, op, depthwise=False)
    assert not isinstance(folded_w, str)
    folded, ws = folded_w
    taps = k_h * k_w * in_c
    kpad = fold.round_up(taps, 8)
    oc2 = fold.round_up(out_c, 2)
    # int16 weights (scaled by 2^scale_shift) where the flash allows, else int8 weights unpacked in
    # the inner loop: then the kernel doubles the accumulator, so every live channel needs
    # scale_shift 1 (no left shift), and the bias is kept unscaled
    int8_weights = not fold.int16_weights_fit(graph, target)
    bias = list(folded.bias)
    if int8_weights:
        live = np.abs(ws).sum(axis=1) > 0
        if any(s != 1 for s, on in zip(folded.scale_shift, live, strict=True) if on):
            return ref.conv2d_s8(graph, op, target)
        raw = w.array().astype(np.int64).reshape(out_c, -1)
        stream8 = fold.interleave(fold.pad_to(raw, oc2, kpad), 2)
        weights = np.frombuffer(stream8.astype(np.int8).tobytes(), dtype="<i4")
        bias = [b // 2 for b in bias]
    else:
        weights = fold.int16_words(fold.interleave(fold.lane_order(fold.pad_to(ws, oc2, kpad)), 2))
    q = np.zeros((oc2 // 2, 4, 2), dtype=np.int64)  # [pair][bias, mult, kq, rshift][channel]
    for c in range(out_c):
        q[c // 2, :, c % 2] = (bias[c], folded.mult[c], folded.kq[c], folded.rshift[c])
    pad = ref._padding(op, x, k_h, k_w)
    act_min, act_max = _act_range(op, graph)
    params = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", in_c),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("out_c", out_c),
        ("k_h", k_h),
        ("k_w", k_w),
        *pk.window_params(op, pad.pad_h, pad.pad_w),
        ("kpad", kpad),
        ("pad_value", pk.zero_point(x)),
        ("fast", fold.fast_requant(act_min, act_max, pk.zero_point(y))),
        ("act_min", act_min),
        ("act_max", act_max),
        ("int8_weights", int(int8_weights)),
        ("weights", pk.const_array(op, "weights8" if int8_weights else "weights16", weights, "int32_t")),
        ("qparams", pk.const_array(op, "qparams", q.reshape(-1), "int32_t")),
    )
    scratch = 4 * kpad + (kpad if in_c % 4 else 0)
    s_h, s_w = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    # The kernel's direct 1x1 path copies two input pixels to the scratch before writing their
    # outputs, and output pixel p ends where input pixel p ends or earlier (out_c <= in_c): the output
    # may overwrite the input in place (same condition as `direct` in tf_dsp_conv.c).
    direct = (k_h, k_w, s_h, s_w, pad.pad_h, pad.pad_w) == (1, 1, 1, 1, 0, 0) and in_c % 8 == 0
    in_place = ((op.outputs[0], op.inputs[0]),) if direct and out_c <= in_c else ()
    return KernelCall(
        function="tf_dsp_conv_s8",
        params_type="tf_dsp_conv_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True), ScratchArg()),
        scratch_bytes=scratch,
        macs=y.shape[0] * y.shape[1] * y.shape[2] * out_c * taps,
        comment=ref._describe(op, k_h, k_w, in_c, out_c) + (" dsp w8" if int8_weights else " dsp"),
        in_place=in_place,
    )


def _accepts_depthwise(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_depthwise(graph, op)
    if reason:
        return reason
    folded = _conv_fold(graph, op, depthwise=True)
    return folded if isinstance(folded, str) else None


def plane_size(
    out_h: int, out_w: int, k_h: int, k_w: int, s_h: int, s_w: int, d_h: int, d_w: int
) -> tuple[int, int]:
    """The int16 plane the depthwise kernel reads. 3x3 stride 1: exactly the input window (the
    kernel runs over the plane as one long row). Otherwise outputs go in pairs along x (an odd last
    one reads one stride further), and a pair of taps is one 32-bit load (one column more)."""
    plane_h = (out_h - 1) * s_h + (k_h - 1) * d_h + 1
    if (k_h, k_w, s_h, s_w, d_h, d_w) == (3, 3, 1, 1, 1, 1):
        return plane_h, out_w + 2
    plane_w = (out_w + (out_w & 1) - 1) * s_w + (k_w - 1) * d_w + 2
    return plane_h, plane_w


def dw_scratch_bytes(out_h: int, out_w: int, plane_h: int, plane_w: int) -> int:
    """The plane (+4 cells a stride-1 pass reads past it) and one int32 accumulator per plane cell
    of every output row (tf_dsp_depthwise.h)."""
    plane = fold.round_up(2 * (plane_h * plane_w + 4), 4)
    return plane + 4 * out_h * max(plane_w, fold.round_up(out_w, 2))


@kernel(
    "DEPTHWISE_CONV_2D",
    name="dsp_depthwise_s8",
    features={"dsp"},
    priority=PRIORITY,
    accepts=_accepts_depthwise,
)
def dsp_depthwise_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    _, k_h, k_w, out_c = w.shape
    folded_w = _conv_fold(graph, op, depthwise=True)
    assert not isinstance(folded_w, str)
    folded, ws = folded_w
    kw2 = fold.round_up(k_w, 2)
    rows = np.zeros((out_c, k_h, kw2), dtype=np.int64)
    rows[:, :, :k_w] = ws.reshape(out_c, k_h, k_w)
    q = np.array([folded.bias, folded.mult, folded.kq, folded.rshift], dtype=np.int64).T  # [channel][4]
    s_h, s_w = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    d_h, d_w = int(op.options.get("dilation_h_factor", 1)), int(op.options.get("dilation_w_factor", 1))
    plane_h, plane_w = plane_size(y.shape[1], y.shape[2], k_h, k_w, s_h, s_w, d_h, d_w)
    pad = ref._padding(op, x, k_h, k_w)
    act_min, act_max = _act_range(op, graph)
    depth_mult = out_c // x.shape[3]
    params = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", x.shape[3]),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("out_c", out_c),
        ("depth_mult", depth_mult),
        ("k_h", k_h),
        ("k_w", k_w),
        ("stride_h", s_h),
        ("stride_w", s_w),
        ("dil_h", d_h),
        ("dil_w", d_w),
        ("pad_h", pad.pad_h),
        ("pad_w", pad.pad_w),
        ("plane_h", plane_h),
        ("plane_w", plane_w),
        ("pad_value", pk.zero_point(x)),
        ("fast", fold.fast_requant(act_min, act_max, pk.zero_point(y))),
        ("act_min", act_min),
        ("act_max", act_max),
        ("weights", pk.const_array(op, "weights16", fold.int16_words(rows.reshape(-1)), "int32_t")),
        ("qparams", pk.const_array(op, "qparams", q.reshape(-1), "int32_t")),
    )
    comment = (
        "dw "
        + ref._describe(op, k_h, k_w, x.shape[3], out_c)
        + (f" x{depth_mult}" if depth_mult > 1 else "")
        + " dsp"
    )
    return KernelCall(
        function="tf_dsp_depthwise_s8",
        params_type="tf_dsp_depthwise_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True), ScratchArg()),
        scratch_bytes=dw_scratch_bytes(y.shape[1], y.shape[2], plane_h, plane_w),
        macs=y.shape[0] * y.shape[1] * y.shape[2] * out_c * k_h * k_w,
        comment=comment,
        # With one output channel per input channel, channel c is copied into the plane before any
        # output of channel c is written, and outputs of channel c land only on channel-c positions
        # (the same channel stride): the output may overwrite the input (TinyEngine-style in place).
        in_place=((op.outputs[0], op.inputs[0]),) if depth_mult == 1 else (),
    )
