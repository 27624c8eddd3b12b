"""CONV_2D and DEPTHWISE_CONV_2D packers for the DSP-extension kernels (firmware/kernels/dsp/
tf_dsp_conv.c, tf_dsp_depthwise.c), chosen over the portable ones on boards with the `dsp` feature.

Weights are expanded to int16 here, scaled for the folded requantization
(tinyforge/kernels/ops/dsp/fold.py) and laid out in the order the kernels' inner loops read them;
the input offset goes into the bias. Layers the folding cannot make exact (tiny right shifts, huge
accumulators) keep the portable kernel.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp import dsp_kernel, fold
from tinyforge.kernels.ops.portable import conv as ref
from tinyforge.kernels.registry import KernelCall, Target


def _fold(c: pk.ConvLayer) -> tuple[fold.FoldedRequant, np.ndarray] | str:
    return fold.fold_weights(
        c.weights_by_channel(), c.bias(), -pk.zero_point(c.x), c.pairs, pk.zero_point(c.y)
    )


def _fold_reason(graph: Graph, op: Op) -> str | None:
    """Why the kernels cannot take this layer: a grouped CONV_2D (any depth multiplier is fine), or
    a folded requantization that cannot be exact."""
    c = pk.conv_layer(graph, op)
    if not c.depthwise and (grouped := c.single_group_reason()):
        return grouped
    folded = _fold(c)
    return folded if isinstance(folded, str) else None


_accepts_conv = pk.narrowed(ref.accepts_conv, _fold_reason)
_accepts_depthwise = pk.narrowed(ref.accepts_depthwise, _fold_reason)


@dsp_kernel("CONV_2D", "dsp_conv_s8", _accepts_conv)
def dsp_conv_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    folded_w = _fold(c)
    assert not isinstance(folded_w, str)
    kpad = fold.round_up(c.taps, 8)
    # int16 weights (scaled by 2^scale_shift) where the flash allows, else int8 weights
    packed = fold.pack_weights(*folded_w, 2, kpad, int8=not fold.int16_weights_fit(graph, target))
    if packed is None:
        return ref.conv2d_s8(graph, op, target)
    params = (
        *c.fields(),
        ("kpad", kpad),
        ("pad_value", pk.zero_point(c.x)),
        *fold.clamp_fields(c.act, pk.zero_point(c.y)),
        *fold.weight_fields(op, packed),
    )
    # The kernel's direct 1x1 path copies two input pixels to the scratch before writing their
    # outputs, and output pixel p ends where input pixel p ends or earlier (out_c <= in_c): the output
    # may overwrite the input in place (same condition as `direct` in tf_dsp_conv.c).
    direct = c.direct and c.in_c % 8 == 0
    return c.call(
        "tf_dsp_conv_s8",
        params,
        c.describe() + (" dsp w8" if packed.int8 else " dsp"),
        scratch_bytes=4 * kpad + (kpad if c.in_c % 4 else 0),
        in_place=((op.outputs[0], op.inputs[0]),) if direct and c.out_c <= c.in_c else (),
    )


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


@dsp_kernel("DEPTHWISE_CONV_2D", "dsp_depthwise_s8", _accepts_depthwise)
def dsp_depthwise_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    folded_w = _fold(c)
    assert not isinstance(folded_w, str)
    folded, ws = folded_w
    (k_h, k_w), out_h, out_w = c.kernel, c.y.shape[1], c.y.shape[2]
    rows = np.zeros((c.out_c, k_h, fold.round_up(k_w, 2)), dtype=np.int64)
    rows[:, :, :k_w] = ws.reshape(c.out_c, k_h, k_w)
    q = np.array([folded.bias, folded.mult, folded.kq, folded.rshift], dtype=np.int64).T  # [channel][4]
    plane_h, plane_w = plane_size(out_h, out_w, k_h, k_w, *c.stride, *c.dilation)
    params = (
        *c.fields(depth_mult=True),
        ("plane_h", plane_h),
        ("plane_w", plane_w),
        ("pad_value", pk.zero_point(c.x)),
        *fold.clamp_fields(c.act, pk.zero_point(c.y)),
        ("weights", pk.const_array(op, "weights16", fold.int16_words(rows.reshape(-1)), "int32_t")),
        ("qparams", pk.const_array(op, "qparams", q.reshape(-1), "int32_t")),
    )
    return c.call(
        "tf_dsp_depthwise_s8",
        params,
        c.describe() + " dsp",
        scratch_bytes=dw_scratch_bytes(out_h, out_w, plane_h, plane_w),
        # With one output channel per input channel, channel c is copied into the plane before any
        # output of channel c is written, and outputs of channel c land only on channel-c positions
        # (the same channel stride): the output may overwrite the input (TinyEngine-style in place).
        in_place=((op.outputs[0], op.inputs[0]),) if c.depth_mult == 1 else (),
    )
