"""CONV_2D and DEPTHWISE_CONV_2D packers for the DSP-extension kernels (firmware/kernels/dsp/
tf_dsp_conv.c, tf_dsp_depthwise.c), chosen over the portable ones on boards with the `dsp` feature.

Weights keep the model's int8 values, reordered in the order the kernels' inner loops read them
(with `--optimize speed` the convolution weights are expanded to int16 and scaled for the folded
requantization instead, tinyforge/kernels/ops/dsp/fold.py); the input offset goes into the bias.
Layers the folding cannot make exact (tiny right shifts, huge accumulators) keep the portable
kernel. A convolution may write its output just before its input and overlap it (`overlap_gap`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp import dsp_kernel, fold
from tinyforge.kernels.ops.portable import conv as ref
from tinyforge.kernels.registry import KernelCall, ParamValue, Target, select


def _fold(c: pk.ConvLayer) -> tuple[fold.FoldedRequant, np.ndarray] | str:
    return fold.fold_weights(
        c.weights_by_channel(), c.bias(), -pk.zero_point(c.x), c.pairs, pk.zero_point(c.y)
    )


def _fold_reason(graph: Graph, op: Op) -> str | None:
    """Why the kernels cannot take this layer: a grouped CONV_2D (any depth multiplier is fine), a
    depthwise dilation they cannot gather, or a folded requantization that cannot be exact."""
    c = pk.conv_layer(graph, op)
    if not c.depthwise and (grouped := c.single_group_reason()):
        return grouped
    if c.depthwise:
        (k_h, k_w), (s_h, s_w), (d_h, d_w) = c.kernel, c.stride, c.dilation
        # along the plane's rows (the kernel's longer side) a dilation needs stride 1 (phases)
        s_r, d_r, k_r = (s_h, d_h, k_h) if k_h > k_w else (s_w, d_w, k_w)
        if d_r > 1 and k_r > 1 and s_r > 1:
            return "a dilation and a stride along the same axis"
        if d_r > 16 and k_r > 1:
            return f"a dilation of {d_r} (the DSP kernel takes up to 16)"
    folded = _fold(c)
    return folded if isinstance(folded, str) else None


_accepts_conv = pk.narrowed(ref.accepts_conv, _fold_reason)
_accepts_depthwise = pk.narrowed(ref.accepts_depthwise, _fold_reason)


def int8_constants(op: Op, packed: fold.Int8Requant, channels: int) -> pk.Fields:
    """The bias / mult / rshift fields of the int8-weight kernels, padded to `channels` (a padded
    channel: start 0, right shift 1, multiplier 2^30)."""
    extra = channels - len(packed.packed)
    bias = list(packed.packed) + [0 if packed.rshift else 1] * extra
    mults = list(packed.mult) + ([1 << 30] * extra if packed.per_channel else [])
    rshift: ParamValue = 0
    if packed.rshift:
        rshift = pk.const_array(op, "rshift", list(packed.rshift) + [1] * extra, "uint8_t", align=4)
    return (
        ("bias", pk.const_array(op, "bias", bias, "int32_t", align=4)),
        ("mult", pk.const_array(op, "mult", mults, "int32_t", align=4)),
        ("rshift", rshift),
    )


def portable(graph: Graph, op: Op, target: Target) -> KernelCall:
    """The kernel a board without the DSP extension would get (for layers the int8-weight DSP
    kernels cannot make exact when the user did not allow wider weights)."""
    return select(graph, op, Target(cpu=target.cpu, features=frozenset(), optimize=target.optimize))


def overlap_gap(
    in_hw: tuple[int, int],
    in_c: int,
    out_hw: tuple[int, int],
    out_c: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    pad: tuple[int, int],
) -> int:
    """How many bytes before its input tf_dsp_conv_s8 may start writing its output (one batch):
    it takes output pixels two at a time in raster order, reads both windows (into the im2col
    scratch) before writing either, so after a pair the written bytes must end at or before the
    first input byte any later pixel reads. Rounded up to 16 bytes (the arena's alignment)."""
    (ih, iw), (oh, ow), (kh, kw), (sh, sw), (dh, dw), (ph, pw) = in_hw, out_hw, kernel, stride, dilation, pad
    oy, ox = np.meshgrid(np.arange(oh), np.arange(ow), indexing="ij")
    first = np.full((oh, ow), np.iinfo(np.int64).max, dtype=np.int64)  # first input byte a pixel reads
    for ky in range(kh):
        iy = oy * sh - ph + ky * dh
        for kx in range(kw):
            ix = ox * sw - pw + kx * dw
            inside = (iy >= 0) & (iy < ih) & (ix >= 0) & (ix < iw)
            first = np.where(inside, np.minimum(first, (iy * iw + ix) * in_c), first)
    later = np.minimum.accumulate(first.reshape(-1)[::-1])[::-1]  # the least over this pixel and after
    gap = 0
    for p in range(0, oh * ow - 2, 2):
        gap = max(gap, (p + 2) * out_c - int(later[p + 2]))
    return -(-gap // 16) * 16


def tap_order(c: pk.ConvLayer) -> list[int] | None:
    """The order of the taps the kernel reads for few input channels (`few`, tf_dsp_conv_px3), or
    None (the model's): with in_c not a multiple of 4 and no column dilation, each kernel row's
    k_w * in_c bytes are whole words (their own chunks) plus `run % 4` leftover bytes; the leftovers
    of all the rows go last, in one chunk (at most 4 bytes). Reordering the weights is free."""
    k_h, k_w = c.kernel
    run = k_w * c.in_c
    main, lo = run & ~3, run & 3
    if c.in_c % 4 == 0 or c.dilation[1] != 1 or lo == 0 or k_h * lo > 4:
        return None
    order = [r * run + i for r in range(k_h) for i in range(main)]
    return order + [r * run + main + i for r in range(k_h) for i in range(lo)]


# the flag on the last channel pair's second right shift in the wide stream (ASR by a register
# reads its low byte only, so the flag leaves the shift alone)
LAST_PAIR_FLAG = 1 << 8


def wide_stream(ws: np.ndarray, folded: fold.FoldedRequant, out_c: int) -> np.ndarray:
    """The int16 weights of `--optimize speed` with each channel pair's constants beside them, the
    order the kernel reads them (tf_dsp_conv_blocks_ws): per pair the accumulator starts
    (start0, start1, start0, start1: both pixels' sums in one LDM), the weights [chunk][channel][2
    words] and (mult0, mult1, kq0, kq1, rshift0, rshift1), the last pair's rshift1 flagged
    (LAST_PAIR_FLAG). `ws`: [channels (even), taps (multiple of 4)] in lane order."""
    oc2, kpad = ws.shape
    words = fold.int16_words(fold.interleave(ws, 2)).astype(np.int64).reshape(oc2 // 2, kpad)
    q = np.zeros((oc2, 4), dtype=np.int64)  # [channel][start, mult, kq, rshift]
    q[:, 1], q[:, 3] = 1 << 30, 1  # a padded channel: any valid constants
    for ch in range(out_c):
        q[ch] = (folded.bias[ch], folded.mult[ch], folded.kq[ch], folded.rshift[ch])
    pairs = q.reshape(oc2 // 2, 2, 4)
    head = np.concatenate([pairs[:, :, 0], pairs[:, :, 0]], axis=1)
    tail = pairs[:, :, 1:].transpose(0, 2, 1).reshape(oc2 // 2, 6)
    tail[-1, 5] |= LAST_PAIR_FLAG
    stream = np.concatenate([head, words, tail], axis=1).reshape(-1)
    assert stream.min() >= -(1 << 31) and stream.max() < 1 << 31
    return stream.astype(np.int32)


CONV_VARIANTS = "TF_DSP_CONV_VARIANTS"  # the variant macro of firmware/kernels/dsp/tf_dsp_conv.c


def variant_bits(
    c: pk.ConvLayer,
    *,
    w16: bool,
    xdouble: bool,
    few: bool,
    act: tuple[int, int],
    wide: bool = False,
    small_code: bool = False,
) -> int:
    """The paths of tf_dsp_conv.c this layer runs (TF_DSP_CONV_VARIANTS): 1 / 2 / 16 the int8 /
    expanded int16 / wide-stream (`--optimize speed`, `wide`) weight assembly blocks (all of int8
    as the activation range and even out_c), 4 the im2col of kernel rows of whole words (k_w *
    in_c a multiple of 4, tf_dsp_conv_px4), 8 the `few` tap order, 32 the 1x1 im2col of both pixels
    in one loop (values not doubled, tf_dsp_expand_two), 64 the wide stream's C channel loop (which
    every `wide` layer needs: the one bit that is not a speed-up). Another path left out falls back
    to a slower one, so a wrong guess costs instructions, never exactness. `small_code` (`--optimize
    size`): tf_dsp_conv_px4 for fewer than 4 input channels is not worth its ~0.5 KB there."""
    bits = 0
    if act == (-128, 127) and c.out_c % 2 == 0:
        bits |= 16 if wide else 2 if w16 else 1
    (k_h, k_w), (s_h, s_w), pad = c.kernel, c.stride, (c.pad.pad_h, c.pad.pad_w)
    direct = (k_h, k_w, s_h, s_w, pad) == (1, 1, 1, 1, (0, 0)) and c.in_c % 8 == 0
    # rows of whole words over fewer than 4 channels (KWS's 10x4 over 1) only where code may grow
    words = c.in_c % 4 == 0 or (k_w * c.in_c) % 4 == 0 and not small_code
    if not direct and not xdouble and words and c.dilation[1] == 1:
        bits |= 4
    if direct and not xdouble:
        bits |= 32
    return bits | (8 if few else 0) | (64 if wide else 0)


# the most RAM the int8 weights of one layer may take expanded to int16 in the scratch (wexpand)
WEXPAND_BYTES = 64 * 1024


@dsp_kernel("CONV_2D", "dsp_conv_s8", _accepts_conv)
def dsp_conv_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    call = _pack_conv(graph, op, target, wexpand=not target.wide_weights)
    if call.function != "tf_dsp_conv_s8" or not dict(call.params).get("wexpand"):
        return call
    # the int8 weights expanded (doubled) to int16 in the scratch once per call: 11 instead of 14
    # instructions per 16 MACs; the plain int8 kernel is the leaner variant for the arena's peak
    return dataclasses.replace(call, leaner=_pack_conv(graph, op, target, wexpand=False))


def _pack_conv(graph: Graph, op: Op, target: Target, wexpand: bool) -> KernelCall:
    c = pk.conv_layer(graph, op)
    folded_w = _fold(c)
    assert not isinstance(folded_w, str)
    folded, ws = folded_w
    order = tap_order(c)
    if order is not None:
        ws = ws[:, order]
    kpad = fold.round_up(c.taps, 8)
    oc2 = fold.round_up(c.out_c, 2)
    y_zp = pk.zero_point(c.y)
    pixels = c.x.shape[0] * c.y.shape[1] * c.y.shape[2]
    # expanding costs about 2 instructions per weight and saves 3 per 16 MACs of every pixel pair
    wexpand = wexpand and 2 * oc2 * kpad <= WEXPAND_BYTES and pixels >= 16
    # int8 weights (the default): the kernel doubles either the im2col values (kpad / 2 extra
    # instructions per pixel) or the sums (out_c per pixel), whichever costs less; expanded
    # weights are doubled as they are expanded (the start is the whole folded bias)
    xdouble = kpad // 2 < c.out_c and not wexpand
    wide = target.wide_weights
    packed = None if wide else fold.int8_requant(folded, y_zp, halve=not xdouble and not wexpand)
    if isinstance(packed, str):
        return portable(graph, op, target)  # e.g. a left shift int8 weights cannot hold (fold.py)
    if wide:
        weights = wide_stream(fold.lane_order(fold.pad_to(ws, oc2, kpad)), folded, c.out_c)
        constants: pk.Fields = (("bias", 0), ("mult", 0), ("rshift", 0))
    else:
        assert packed is not None
        raw = c.w.array().astype(np.int64).reshape(c.out_c, -1)
        if order is not None:
            raw = raw[:, order]
        stream8 = fold.interleave(fold.pad_to(raw, oc2, kpad), 2)
        weights = np.frombuffer(stream8.astype(np.int8).tobytes(), dtype="<i4")
        constants = int8_constants(op, packed, oc2)
    params = (
        *c.fields(),
        ("kpad", kpad),
        ("pad_value", pk.zero_point(c.x)),
        ("out_zp", y_zp),
        *fold.clamp_fields(c.act, y_zp),
        ("wide", int(wide)),
        ("xdouble", int(xdouble)),
        ("wexpand", int(wexpand)),
        ("few", int(order is not None)),
        ("per_channel", int(packed.per_channel) if packed is not None else 1),
        ("weights", pk.const_array(op, "weights16" if wide else "weights", weights, "int32_t", align=4)),
        *constants,
    )
    overlap: tuple[tuple[int, int, int], ...] = ()
    if c.x.shape[0] == 1:
        pad = (c.pad.pad_h, c.pad.pad_w)
        hw_in, hw_out = (c.x.shape[1], c.x.shape[2]), (c.y.shape[1], c.y.shape[2])
        gap = overlap_gap(hw_in, c.in_c, hw_out, c.out_c, c.kernel, c.stride, c.dilation, pad)
        overlap = ((op.outputs[0], op.inputs[0], gap),)
    call = c.call(
        "tf_dsp_conv_s8",
        params,
        c.describe() + (" dsp w16" if wide else " dsp x16" if wexpand else " dsp"),
        # the im2col of two pixels, the int8 row of small in_c, (int8 weights) the decoded
        # constants and (wexpand) the weights expanded to int16
        scratch_bytes=4 * kpad
        + (kpad if c.in_c % 4 else 0)
        + (0 if wide else 16 * oc2)
        + (2 * oc2 * kpad if wexpand else 0),
    )
    act = (int(c.act[0]), int(c.act[1]))
    bits = variant_bits(
        c,
        w16=wide or wexpand,
        xdouble=xdouble and not wide,
        few=order is not None,
        act=act,
        wide=wide,
        small_code=target.optimize == "size",
    )
    return dataclasses.replace(call, overlap=overlap, widened=wide, variants=((CONV_VARIANTS, bits),))


@dataclass(frozen=True)
class PlaneGeometry:
    """The depthwise kernel's int16 plane (tf_dsp_depthwise.h), in plane coordinates: the input
    transposed for kernels taller than wide, so that pairs of taps run along the plane's rows."""

    transpose: bool
    phases: int  # a dilation along the rows (stride 1) gathered as interleaved phases
    plane_h: int
    plane_w: int
    kh: int  # kernel rows and columns in plane coordinates
    kw: int

    @property
    def pairs(self) -> int:
        return (self.kw + 1) // 2

    def plane_bytes(self) -> int:
        """One plane (+4 cells a pair of taps may read past it)."""
        return fold.round_up(2 * (self.plane_h * self.plane_w + 4), 4)

    def planes(self, in_c: int) -> int:
        """4 when four input channels are gathered at once (the gather reads a word of four channels
        per position): planes of one row (time filters over a sequence, where the gather costs most
        per MAC) whose three extra copies take at most PLANES4_BYTES of scratch, and image planes of
        tiny maps (PLANES4_SMALL_BYTES: VWW's 6x6 and 3x3 layers, where the per-channel set-up is
        most of the cost; 0.276 -> 0.304 and 0.134 -> 0.154 MACs per instruction); else 1 (larger
        image planes keep the arena where it was: 1536 B would take KWS's 3x3 layers, -2% of its
        instructions, but its `speed` arena 8,464 -> 9,792 B)."""
        limit = PLANES4_BYTES if self.plane_h == 1 else PLANES4_SMALL_BYTES
        return 4 if in_c >= 4 and 3 * self.plane_bytes() <= limit else 1

    def scratch_bytes(self, in_c: int = 1, planes: int | None = None) -> int:
        """The plane(s) and the expanded weights."""
        n = self.planes(in_c) if planes is None else planes
        return n * self.plane_bytes() + 4 * self.kh * self.pairs


PLANES4_BYTES = 1536  # scratch the depthwise kernel may add to gather four channels at a time
PLANES4_SMALL_BYTES = 512  # the same for image planes: tiny maps only (VWW's 6x6 and 3x3)
# the same for strided 2-D planes, with the one-plane call as the `leaner` variant (the arena
# trims it back where the extra planes would raise the peak): a stride-2 plane holds ~4 input
# cells per output, so its gather costs about as much as the outputs' MACs (VWW's 12x12 -> 6x6
# and 24x24 -> 12x12 layers)
PLANES4_STRIDED_BYTES = 4096
# the largest plane of a 3x3 layer with the row-of-3 runs that takes the planes over the direct path
PLANE_OVER_DIRECT_BYTES = 512


def plane_geometry(
    out_h: int, out_w: int, k_h: int, k_w: int, s_h: int, s_w: int, d_h: int, d_w: int
) -> PlaneGeometry:
    # square kernels too when that makes the plane's rows longer (fewer, longer rows: each row of
    # outputs costs a set-up and may end with a single output; KWS's 25x5 maps)
    transpose = k_h > k_w or k_h == k_w and out_w < out_h
    if transpose:
        out_h, out_w, k_h, k_w, s_h, s_w, d_h, d_w = out_w, out_h, k_w, k_h, s_w, s_h, d_w, d_h
    plane_h = (out_h - 1) * s_h + (k_h - 1) * d_h + 1
    pairs = (k_w + 1) // 2
    phases = 1
    if (k_h, k_w, s_h, s_w, d_h, d_w) == (3, 3, 1, 1, 1, 1):
        plane_w = fold.round_up(out_w + 2, 2)  # two outputs from aligned words (tf_dw3_s1_*)
    elif (k_h, k_w, s_h, s_w, d_h, d_w) == (3, 3, 2, 2, 1, 1):
        plane_w = 2 * out_w + 2
    elif d_w > 1 and k_w > 1:
        phases = d_w  # stride 1 (the packer refuses a stride with it): output o reads phase o % d_w
        plane_w = d_w * (-(-out_w // d_w) + 2 * pairs - 1)
    else:
        plane_w = (out_w - 1) * s_w + 2 * pairs
    return PlaneGeometry(transpose, phases, plane_h, plane_w, k_h, k_w)


DIRECT_MAX_TAPS = 64  # tf_dsp_depthwise.c TF_DW4_MAX_TAPS


def use_direct(
    depth_mult: int,
    in_c: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    act: tuple[int, int],
    out_zp: int,
    padded: bool,
    optimize: str = "balanced",
) -> bool:
    """Whether the depthwise kernel takes its direct channel-last path (four channels per word, no
    plane) rather than the planes, by what was measured on the M4 (MACs/instruction: the
    bench_mlperf depthwise shapes, VWW, sww). The planes pair taps with SMLAD (2 MACs per
    instruction) but gather every input into int16 and requantize output by output (clamps one
    by one); the direct path does 1 MAC per instruction (SMLABB / SMLATT) with no gather and
    requantizes four outputs into one word (the clamp folded into SSAT + QADD8), its interior
    runs in assembly, its border outputs in C. Direct: time filters that are dilated (the planes
    gather phases), strided (the planes gather inputs the outputs skip) or clamped, and long
    unpadded ones with the rounding correction (act_min below the output zero point costs the
    direct path two instructions per output more); 2-D kernels that are strided, or clamped 3x3, except
    in `--optimize size` (`optimize`), where 2-D kernels keep the planes: their direct runs (3 kernel
    rows, border rows) link ~4 KB more code for a few percent of a model's instructions (VWW's
    stride-2 3x3 layers: ~100 k of 9.1 M), while the time filters' one-row run pays clearly
    (1.5-2.7x fewer instructions on strided and dilated filters). `padded`: SAME padding."""
    if depth_mult != 1 or in_c % 4 or kernel[0] * kernel[1] > DIRECT_MAX_TAPS:
        return False
    fast = act == (-128, 127) and out_zp == -128
    if min(kernel) == 1:  # a time filter (k x 1 or 1 x k)
        axis = 0 if kernel[0] > kernel[1] else 1
        if dilation[axis] > 1 or stride[axis] > 1 and act[0] >= out_zp:
            return True
        if act[0] < out_zp:
            return kernel[axis] >= 8 and not padded
        return not fast
    if optimize == "size":
        # clamped 3x3 too: the planes' clamped 3x3 runs are C (the bench's 3x3 s2 on 24x24: 0.174
        # MACs per instruction with planes, 0.293 direct); models without it link no direct code
        return kernel == (3, 3) and act != (-128, 127)
    # stride 1 and clamped: 3x3 goes direct (the planes' clamped 3x3 runs are C), other kernels keep
    # the planes (their kernel rows in one assembly loop: 5x5 0.291 against 0.248 direct)
    return max(stride) > 1 or not fast and kernel == (3, 3)


PLANE_VARIANTS = "TF_DSP_DW_VARIANTS"  # tf_dsp_depthwise.c: the plane path's row-of-3 runs compiled in


def tiny_row_bits(
    geo: PlaneGeometry,
    out_hw: tuple[int, int],
    depth_mult: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    act: tuple[int, int],
    out_zp: int,
) -> int:
    """The row-of-3 run of the plane path this layer takes (TF_DSP_DW_VARIANTS, as tf_dw3t_pick
    picks it): 3x3 kernels, stride 1 or 2 on both axes, no dilation, depth multiplier 1, the full
    int8 range, plane rows of 3 outputs (tiny maps: VWW's 3x3 maps); bit 0 / 1 stride 1 without /
    with the rounding correction, 2 / 3 stride 2; bit 6 / 7 stride 2 along rows of 3k outputs
    (k >= 2: VWW's 6 and 12; fewer instructions per output than the pair runs, and the channel's
    set-up of the row-of-3 runs). 0: the layer does not."""
    row = out_hw[0] if geo.transpose else out_hw[1]
    if kernel != (3, 3) or dilation != (1, 1) or stride not in ((1, 1), (2, 2)) or depth_mult != 1:
        return 0
    if act != (-128, 127) or row % 3 or row > 3 and stride == (1, 1):
        return 0
    rounding = 0 if out_zp == -128 else 1
    if row > 3:  # stride 2 along rows of 3k: three outputs at a time in a loop (tf_dw3l_*)
        return 1 << (6 + rounding)
    return 1 << (2 * (stride[0] - 1) + rounding)


def plane_bits(
    tiny: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    act: tuple[int, int],
    out_zp: int,
) -> int:
    """TF_DSP_DW_VARIANTS of a plane layer: its row-of-3 run (`tiny`, tiny_row_bits), else for the
    3x3 kernels of their own loops (stride 1 or 2, no dilation) bit 4 the assembly with the rounding
    correction (full range, output zero point not -128), bit 5 the clamped C loops; 0 for the fast
    3x3 assembly (always linked) and other kernels (the general runs)."""
    if tiny or kernel != (3, 3) or dilation != (1, 1) or stride not in ((1, 1), (2, 2)):
        return tiny
    if act != (-128, 127):
        return 0x20
    return 0 if out_zp == -128 else 0x10


DIRECT_VARIANTS = "TF_DSP_DW4_VARIANTS"  # tf_dsp_depthwise.c: the assembly runs compiled in
DIRECT_SHIFTS = "TF_DSP_DW4_SHIFTS"  # tf_dsp_depthwise.c: the shifts S of the shift runs compiled in


def _wrap32(v: int) -> int:
    return (v + (1 << 31)) % (1 << 32) - (1 << 31)


def _kq(zp2p1: int, rs: int) -> int:
    """tf_dsp_kq: (zp2p1 << rs) >> 1 in int32."""
    return _wrap32(zp2p1 << rs) >> 1


def direct_shift(
    starts: list[int], rshifts: list[int], weights: np.ndarray, in_zp: int, out_zp: int, act: tuple[int, int]
) -> tuple[int, bool]:
    """The shift requantization of the direct path's runs (tf_dsp_depthwise.c tf_dw4_shift_setup),
    as tf_dsp_depthwise_direct_s8 decides it: (S, every group of four channels takes it), S = 0
    where the layer does not (the rounding correction, rshifts more than 7 apart). `weights`:
    [taps, channels] int8; `starts` / `rshifts` per channel (the packed constants)."""
    if act[0] < out_zp:
        return 0, False
    s = max(rshifts) + 1
    if s > 31 or s - min(rshifts) > 7:
        return 0, False
    folded = (act[1] == 127 and act[0] <= -1) or (act[0] == -128 and act[1] >= -1)
    lo_k = (act[0] + 128 if act[1] == 127 else act[1] - 127) if folded and max(rshifts) <= 21 else None
    sums = (2 * weights.astype(np.int64)).sum(axis=0)
    ok = []
    for ch, (start, rs) in enumerate(zip(starts, rshifts, strict=True)):
        lim = 1 << (30 - (s - rs))
        kq = _kq(2 * out_zp + 1, rs)
        kl = kq if lo_k is None else _kq(2 * out_zp + 1 - 2 * lo_k, rs)
        ok.append(all(-lim < v < lim for v in (_wrap32(start + in_zp * int(sums[ch])), kq, kl)))
    return s, all(ok)


def direct_variants(
    c: pk.ConvLayer,
    act: tuple[int, int],
    out_zp: int,
    rshifts: list[int],
    shift: tuple[int, bool] = (0, False),
) -> int:
    """The assembly runs of the direct path a layer calls, as tf_dsp_depthwise_direct_s8 picks
    them (bit 4 * variant + run): 3-tap kernel rows (in its view, the kernel's longer side along
    the columns) with 1, 3 or 2 valid kernel rows, or one kernel row of any length; variant 0 without
    the rounding correction, 1 with it, both with the clamp folded into SSAT and QADD8, 2 with the
    correction and SSUB8 / SEL clamps, 3-6 the shift runs (`shift`: direct_shift) on the full
    range, with the clamp folded (QADD8), with SSUB8 / SEL at act_min (act_max 127) or at both
    bounds; the variant without shifts too where some group of channels cannot take them."""
    (k_h, k_w), (s_h, s_w), (d_h, d_w) = c.kernel, c.stride, c.dilation
    in_h, in_w, out_h = c.x.shape[1], c.x.shape[2], c.y.shape[1]
    pad_h, pad_w = c.pad.pad_h, c.pad.pad_w
    if k_h > k_w:  # the view
        k_h, k_w, s_h, d_h, in_h, out_h, pad_h = k_w, k_h, s_w, d_w, in_w, c.y.shape[2], pad_w
    folded = (act[1] == 127 and act[0] <= -1) or (act[0] == -128 and act[1] >= -1)
    variant = (1 if act[0] < out_zp else 0) if folded and max(rshifts) <= 21 else 2
    variants = [variant]
    if shift[0]:
        clamp = 0 if act == (-128, 127) else 1 if variant == 0 else 2 if act[1] == 127 else 3
        variants = [3 + clamp] + ([] if shift[1] else [variant])
    if k_w != 3:  # one kernel row of any length
        return sum(1 << (4 * v + 2) for v in variants) if k_h == 1 else 0
    rows = {sum(0 <= oy * s_h - pad_h + ky * d_h < in_h for ky in range(k_h)) for oy in range(out_h)}
    run = {1: 0, 3: 1, 2: 3}  # 3 taps x 1, 3 or 2 valid kernel rows
    return sum(1 << (4 * v + run[r]) for r in rows if r in run for v in variants)


@dsp_kernel("DEPTHWISE_CONV_2D", "dsp_depthwise_s8", _accepts_depthwise)
def dsp_depthwise_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    folded_w = _fold(c)
    assert not isinstance(folded_w, str)
    folded, _ws = folded_w
    y_zp = pk.zero_point(c.y)
    # the kernel doubles the weights as it expands them: the start is the whole folded bias
    packed = fold.int8_requant(folded, y_zp, halve=False)
    if isinstance(packed, str):
        return portable(graph, op, target)
    (k_h, k_w), (s_h, s_w), (d_h, d_w) = c.kernel, c.stride, c.dilation
    geo = plane_geometry(c.y.shape[1], c.y.shape[2], k_h, k_w, s_h, s_w, d_h, d_w)
    model_taps = c.w.array().astype(np.int8).reshape(k_h, k_w, c.out_c)  # [ky][kx][channel]
    padded = op.options.get("padding") == "SAME"
    direct = use_direct(
        c.depth_mult, c.in_c, (k_h, k_w), (s_h, s_w), (d_h, d_w), c.act, y_zp, padded, target.optimize
    )
    act = (int(c.act[0]), int(c.act[1]))
    out_hw = (c.y.shape[1], c.y.shape[2])
    tiny = tiny_row_bits(geo, out_hw, c.depth_mult, (k_h, k_w), (s_h, s_w), (d_h, d_w), act, y_zp)
    # small maps with the row-of-3 runs stay on the planes (the direct path's per-group set-up and
    # border outputs cost most of them: VWW's 6x6 -> 3x3 stride 2 0.147 MACs/instruction direct,
    # 0.213 planes; 12x12 -> 6x6 0.224 direct, 0.269 planes); larger maps keep the direct path
    # (no plane scratch: VWW's 24x24 -> 12x12 0.278 direct)
    direct = direct and not (tiny and geo.plane_bytes() <= PLANE_OVER_DIRECT_BYTES)
    taps = model_taps.transpose(2, 0, 1)  # [channel][ky][kx]
    if geo.transpose:
        taps = taps.transpose(0, 2, 1)  # plane order: the kernel's columns are the plane's rows
    if direct:
        # the direct path reads four channels per word, taps in its view's order (the kernel's
        # longer side along the view's columns)
        taps = model_taps.transpose(1, 0, 2) if k_h > k_w else model_taps
    planes = geo.planes(c.in_c)
    # strided 2-D planes: four at a time where the scratch allows (the one-plane call is leaner)
    strided = min(k_h, k_w) > 1 and max(s_h, s_w) > 1 and c.in_c >= 4 and not direct
    if strided and planes == 1 and 3 * geo.plane_bytes() <= PLANES4_STRIDED_BYTES:
        planes = 4
    params = (
        *c.fields(depth_mult=True),
        ("transpose", int(geo.transpose)),
        ("phases", geo.phases),
        ("plane_h", geo.plane_h),
        ("plane_w", geo.plane_w),
        ("planes", planes),
        ("pad_value", pk.zero_point(c.x)),
        ("out_zp", y_zp),
        *fold.clamp_fields(c.act, y_zp),
        ("per_channel", int(packed.per_channel)),
        ("weights", pk.const_array(op, "weights", np.ascontiguousarray(taps).reshape(-1), "int8_t", align=4)),
        *int8_constants(op, packed, c.out_c),
        ("direct", int(direct)),
        ("shift", 0),
    )
    call = c.call(
        "tf_dsp_depthwise_direct_s8" if direct else "tf_dsp_depthwise_s8",
        params,
        c.describe() + " dsp" + (" direct" if direct else " T" if geo.transpose else ""),
        scratch_bytes=0 if direct else geo.scratch_bytes(c.in_c, planes),
        # With one output channel per input channel, channel c (with the 3 others of its group of
        # 4 planes) is copied into its plane before any output of channel c is written, and outputs of channel c land only on channel-c positions
        # (the same channel stride): the output may overwrite the input (TinyEngine-style in place).
        # (not the direct path: an output position is written before the next outputs read it)
        in_place=((op.outputs[0], op.inputs[0]),) if c.depth_mult == 1 and not direct else (),
    )
    pbits = plane_bits(tiny, (k_h, k_w), (s_h, s_w), (d_h, d_w), act, y_zp)
    call = dataclasses.replace(call, variants=((PLANE_VARIANTS, pbits),))
    if not direct:
        if planes != geo.planes(c.in_c):
            one = tuple((k, 1 if k == "planes" else v) for k, v in call.params)
            leaner = dataclasses.replace(call, params=one, scratch_bytes=geo.scratch_bytes(c.in_c, 1))
            return dataclasses.replace(call, leaner=leaner)
        return call
    rshifts = list(packed.rshift) if packed.rshift else [v & 31 for v in packed.packed]
    starts = list(packed.packed) if packed.rshift else [v >> 5 for v in packed.packed]
    shift = direct_shift(
        starts, rshifts, np.asarray(taps).reshape(-1, c.out_c), pk.zero_point(c.x), y_zp, c.act
    )
    # the shift runs save 4 instructions per output where the old runs fold the clamp (variant 0)
    # and 12 where they correct and clamp (variant 2), for ~400 more per group of 4 channels to set
    # up: the former only on time filters of 128 outputs or more (2-D kernels keep the old runs:
    # VWW's code guard, a few percent of their layers' instructions)
    folded = c.act[1] == 127 and c.act[0] <= -1 or c.act[0] == -128 and c.act[1] >= -1
    if folded and max(rshifts) <= 21 and (min(c.kernel) > 1 or c.y.shape[1] * c.y.shape[2] < 128):
        shift = (0, False)
    bits = direct_variants(c, c.act, y_zp, rshifts, shift)
    return dataclasses.replace(
        call,
        params=tuple((k, shift[0] if k == "shift" else v) for k, v in call.params),
        variants=(
            (PLANE_VARIANTS, 0),
            (DIRECT_VARIANTS, bits),
            (DIRECT_SHIFTS, (1 << shift[0]) if shift[0] else 0),
        ),
    )
