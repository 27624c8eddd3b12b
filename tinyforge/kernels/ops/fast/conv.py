"""Faster portable kernels (firmware/kernels/fast/tf_fast_conv.c) for cores without DSP/Helium:
CONV_2D (groups 1), FULLY_CONNECTED (as a 1x1 convolution over the batch rows) and
DEPTHWISE_CONV_2D (depth multiplier 1); filters of at most 64 taps (k_h * k_w). Plain C99, so they
also serve the host.

The input offset goes into the bias here (bias + in_off * sum(w), checked to fit int32), so the
inner loops are pure int8 x int8 MACs; convolution weights are interleaved by 4 output channels in
the order the inner loop reads them (also the order of a copied patch, so im2col keeps the layout).
int32 sums are exact, so the reassociation is bit-exact; requantization is tf_requant_fast, equal to
tf_multiply_by_quantized_multiplier for the non-negative multipliers TFLite's QuantizeMultiplier
gives (a negative one keeps the reference kernel). Anything else keeps the reference kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.fast import fast_kernel
from tinyforge.kernels.ops.portable import conv as ref
from tinyforge.kernels.ops.portable import fully_connected as ref_fc
from tinyforge.kernels.registry import ConstArray, KernelCall, Target

MAX_TAPS = 64  # TF_FAST_MAX_TAPS in fast/tf_fast_conv.c
PATCH = 288  # TF_FAST_PATCH in fast/tf_fast_conv.h: bytes of one pixel's copied patch
IM2COL_MAX_DEPTH = 16  # deeper inputs run tap by tap (a tap's run is long enough)
_I32 = (-(2**31), 2**31 - 1)


def _folded_bias(bias: np.ndarray | None, w2: np.ndarray, in_off: int) -> np.ndarray | None:
    """bias + in_off * sum(w) per output channel (w2: [channel][taps]); None if it overflows int32
    or a channel's partial sum of products could."""
    out = (
        np.zeros(w2.shape[0], dtype=np.int64) if bias is None else bias.astype(np.int64)
    ) + in_off * w2.sum(axis=1)
    if w2.shape[1] * 128 * 128 > _I32[1] or out.min(initial=0) < _I32[0] or out.max(initial=0) > _I32[1]:
        return None
    return out


def _conv_reason(graph: Graph, op: Op) -> str | None:
    """What the fast conv and depthwise kernels refuse of what the reference ones take."""
    c = pk.conv_layer(graph, op)
    reason = c.single_group_reason()
    if reason:
        return reason
    if c.kernel[0] * c.kernel[1] > MAX_TAPS:
        return f"more than {MAX_TAPS} filter taps"
    if _folded_bias(c.bias(), c.weights_by_channel(), -pk.zero_point(c.x)) is None:
        return "the folded bias does not fit int32"
    return _multiplier_reason(c.pairs)


def _multiplier_reason(pairs: Sequence[tuple[int, int]]) -> str | None:
    """tf_requant_fast is exact for multipliers >= 0 (all a positive scale gives)."""
    return "a negative requantization multiplier" if min(m for m, _ in pairs) < 0 else None


_accepts_conv = pk.narrowed(ref.accepts_conv, _conv_reason)
_accepts_dw = pk.narrowed(ref.accepts_depthwise, _conv_reason)


def _interleave4(w2: np.ndarray) -> np.ndarray:
    """[channel][taps] -> [channel/4][taps][4], zero channels padding the last group."""
    oc, taps = w2.shape
    oc4 = -(-oc // 4) * 4
    pad = np.zeros((oc4, taps), dtype=np.int64)
    pad[:oc] = w2
    return pad.reshape(oc4 // 4, 4, taps).transpose(0, 2, 1).reshape(-1)


def _fields(
    op: Op, x: Tensor, y: Tensor, weights: ConstArray, folded: np.ndarray, pairs: Sequence[tuple[int, int]]
) -> pk.Fields:
    """The fields after the geometry: the input zero point for padded taps, output offset, clamp,
    weights, folded bias and one multiplier/shift per channel."""
    return (
        ("pad_value", pk.zero_point(x)),
        ("output_offset", pk.zero_point(y)),
        *pk.clamp_fields(pk.activation_range(op, y)),
        ("weights", weights),
        ("bias", pk.const_array(op, "bias_folded", folded, "int32_t")),
        *pk.multiplier_fields(op, pairs, len(folded)),
    )


def _folded(bias: np.ndarray | None, w2: np.ndarray, x: Tensor) -> np.ndarray:
    folded = _folded_bias(bias, w2, -pk.zero_point(x))
    assert folded is not None  # the accepts check
    return folded


def _im2col(c: pk.ConvLayer) -> bool:
    """Copy each pixel's patch first: shallow inputs (the first layer of an image or spectrogram
    model: 1-16 channels) would restart the inner loop at every tap after a few MACs."""
    return not c.direct and c.in_c <= IM2COL_MAX_DEPTH and c.taps <= PATCH


@fast_kernel("CONV_2D", "fast_conv_s8", _accepts_conv)
def fast_conv_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    w2 = c.weights_by_channel()
    weights = pk.const_array(op, "weights4", _interleave4(w2), "int8_t")
    params = (
        *c.fields(),
        ("direct", int(c.direct)),
        ("im2col", int(_im2col(c))),
        *_fields(op, c.x, c.y, weights, _folded(c.bias(), w2, c.x), c.pairs),
    )
    return c.call("tf_fast_conv_s8", params, c.describe() + " fast")


def _fc_reason(graph: Graph, op: Op) -> str | None:
    f = pk.fc_layer(graph, op)
    reason = pk.weights_zero_point_reason(f.w)
    if reason is None and _folded_bias(f.bias(), f.w.array().astype(np.int64), -pk.zero_point(f.x)) is None:
        return "the folded bias does not fit int32"
    return reason or _multiplier_reason(f.pairs)


_accepts_fc = pk.narrowed(ref_fc.accepts, _fc_reason)


@fast_kernel("FULLY_CONNECTED", "fast_fully_connected_s8", _accepts_fc)
def fast_fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    f = pk.fc_layer(graph, op)
    w2 = f.w.array().astype(np.int64)
    rows = (1, 1, f.rows)
    geometry = pk.conv_fields((*rows, f.accum_depth), (*rows, f.out_depth), (1, 1), (1, 1), (1, 1), (0, 0))
    weights = pk.const_array(op, "weights4", _interleave4(w2), "int8_t")
    params = (
        *geometry,
        ("direct", 1),
        ("im2col", 0),
        *_fields(op, f.x, f.y, weights, _folded(f.bias(), w2, f.x), f.pairs),
    )
    return f.call("tf_fast_conv_s8", params, f.describe() + " fast")


@fast_kernel("DEPTHWISE_CONV_2D", "fast_depthwise_s8", _accepts_dw)
def fast_depthwise_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    weights = pk.const_array(op, "weights", c.w.array(), "int8_t")
    folded = _folded(c.bias(), c.weights_by_channel(), c.x)
    params = (*c.fields(out_c=False), *_fields(op, c.x, c.y, weights, folded, c.pairs))
    return c.call("tf_fast_dw_s8", params, c.describe() + " fast")
