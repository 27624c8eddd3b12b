"""Build-time work for the Helium (MVE) kernels (firmware/kernels/mve/): folding the input offset
into the bias and laying weights and per-channel constants out in the order the kernels read them.
The packers in tinyforge/kernels/ops/mve/*.py call these; pure functions over numpy arrays, and the
params fields they share.

Folding. TFLM computes, per output channel, acc = bias + sum(w * (x + input_offset)); the kernels
compute acc = bias' + sum(w * x) with bias' = bias + input_offset * sum(w). In int32 arithmetic
(which wraps on the M55, as TFLM's does in practice) both are the same integer modulo 2^32, so the
requantization sees the same accumulator. Padding is filled with the input zero point
(-input_offset), which then contributes w * 0, as TFLM's skipped taps do.

Requantization stays TFLM's: the kernels vectorise tf_multiply_by_quantized_multiplier with
VSHL / VQRDMULH / a rounding VRSHL (see firmware/kernels/mve/tf_mve_common.h), which gives the
same integers; only (multiplier, shift) are split into left shift and negated right shift here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tinyforge.kernels import packing as pk

if TYPE_CHECKING:
    from tinyforge.ir.graph import Op

CHUNK = 16  # bytes of one VLDRB.8 / VMLADAV.S8
BLOCK = 4  # output channels per block of the matrix core


def wrap_int32(values: np.ndarray) -> np.ndarray:
    """Two's-complement wrap of int64 values to int32 (what the M55's adds do)."""
    v = np.asarray(values, dtype=np.int64)
    return (((v + 2**31) % 2**32) - 2**31).astype(np.int32)


def folded_bias(bias: np.ndarray | None, weights: np.ndarray, input_offset: int) -> np.ndarray:
    """bias + input_offset * sum(w) per output channel; `weights` is [channel][taps]."""
    w = np.asarray(weights, dtype=np.int64)
    b = np.zeros(w.shape[0], dtype=np.int64) if bias is None else np.asarray(bias, dtype=np.int64)
    return wrap_int32(b + int(input_offset) * w.sum(axis=1))


def split_shifts(
    pairs: Sequence[tuple[int, int]], channels: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(multiplier, left shift, -right shift) per channel; one pair is broadcast to every channel."""
    if len(pairs) == 1:
        pairs = list(pairs) * channels
    if len(pairs) != channels:
        raise ValueError(f"{len(pairs)} multipliers for {channels} channels")
    mult = np.array([m for m, _ in pairs], dtype=np.int64)
    shift = np.array([s for _, s in pairs], dtype=np.int64)
    return mult, np.maximum(shift, 0), np.minimum(shift, 0)


@dataclass(frozen=True)
class GemmPack:
    """What the matrix core (firmware/kernels/mve/tf_mve_gemm.h) reads for one layer."""

    k: int  # dot product length
    out_c: int
    weights: np.ndarray  # int8 [ceil(out_c/4)][ceil(k/16)][4][16]
    # int32 [ceil(out_c/4)][4][4]: bias', multiplier, left shift, -right shift; without
    # left_shifts [ceil(out_c/4)][3][4]: bias', multiplier, -right shift
    qparams: np.ndarray
    left_shifts: int  # 1 if some channel's shift is >= 0 (a left shift or none): the general path


def pack_gemm(
    weights: np.ndarray,
    bias: np.ndarray | None,
    input_offset: int,
    pairs: Sequence[tuple[int, int]],
) -> GemmPack:
    """Pack `weights` [out_c][k] (int8, taps in input order) for the 2-row x 4-filter core."""
    w = np.asarray(weights, dtype=np.int64)
    out_c, k = w.shape
    blocks = -(-out_c // BLOCK)
    chunks = -(-k // CHUNK)
    padded = np.zeros((blocks * BLOCK, chunks * CHUNK), dtype=np.int8)
    padded[:out_c, :k] = w.astype(np.int8)
    packed = padded.reshape(blocks, BLOCK, chunks, CHUNK).transpose(0, 2, 1, 3)
    general = 1 if any(s >= 0 for _, s in pairs) else 0
    q = qparams(w, bias, input_offset, pairs)
    if not general:  # every channel shifts right: no left shifts to keep
        q = np.ascontiguousarray(q[:, [0, 1, 3]])
    return GemmPack(k, out_c, np.ascontiguousarray(packed), q, general)


GEMM_VARIANTS = "TF_MVE_GEMM_VARIANTS"  # the variant macro of firmware/kernels/mve/tf_mve_gemm.c


def gemm_variant(g: GemmPack) -> tuple[str, int]:
    """The instance of the matrix core a layer runs: bit (shape | 16 * general | 32 * partial),
    shape as tf_mve_shape(k): 1 a first full chunk of 16, 2 an odd number of full chunks after it,
    4 two or more after it (a loop over pairs), 8 a partial last chunk; general: some channel's
    shift is >= 0; partial: out_c is not a multiple of 4."""
    more = g.k // CHUNK - 1
    shape = (
        (1 if g.k >= CHUNK else 0)
        | (2 if more > 0 and more % 2 else 0)
        | (4 if more >= 2 else 0)
        | (8 if g.k % CHUNK else 0)
    )
    return GEMM_VARIANTS, 1 << (shape | 16 * g.left_shifts | (32 if g.out_c % BLOCK else 0))


DW_VARIANTS = "TF_MVE_DW_VARIANTS"  # the variant macro of firmware/kernels/mve/tf_mve_depthwise.c


DW_DIRECT_BITS = {8: 0x4, 16: 0x8, 32: 0x10, 64: 0x20}  # its direct 3x3 paths by channel count


DW_TAIL16 = 0x80  # the gathered path's last partial group of 16 channels
DW_ANY_FILTER = 0x10000  # filters other than 3x3 (this packer sends them to the plane kernel)
DW_GATHERED = 0x20000  # the gathered 3x3 path


def dw_variant(
    d: DepthwisePack, channels: int, kernel: tuple[int, int] = (3, 3), dil_w: int = 1
) -> tuple[str, int]:
    """The parts of the 3x3 depthwise kernel a layer runs: bit 0 its copy without left shifts, bit 1
    the one with them, bits 2-5 the direct path for 8/16/32/64 channels, bit 17 the gathered path
    (other counts, dilation along rows) and bit 7 its partial last group (a count not a multiple of
    16), bit 16 other filters."""
    bits = 2 if d.left_shifts else 1
    if channels in DW_DIRECT_BITS and dil_w == 1 and kernel == (3, 3):
        bits |= DW_DIRECT_BITS[channels]
    else:
        bits |= DW_GATHERED | (DW_TAIL16 if channels % 16 else 0)
    if kernel != (3, 3):
        bits |= DW_ANY_FILTER
    return DW_VARIANTS, bits


IM2COL_BYTES = 4096  # scratch budget of the convolution's im2col rows


def im2col_rows(k: int) -> int:
    """Pixels the convolution gathers per call of the matrix core: an even number from 2 to 8
    that keeps their im2col rows (k rounded up to 16 bytes each) within IM2COL_BYTES."""
    row = -(-k // CHUNK) * CHUNK
    return max(2, min(8, IM2COL_BYTES // row) & ~1)


CONV_VARIANTS = "TF_MVE_CONV_VARIANTS"  # the variant macro of firmware/kernels/mve/tf_mve_conv.c


def conv_variant(im2col: int, columns: int, k_h: int, in_c: int) -> tuple[str, int]:
    """How tf_mve_conv2d_s8 reads a layer's receptive fields: bit 0 im2col rows, bit 1 the column
    buffer by copies, bit 2 by scatter stores (tf_mve_scatters: under 16 channels, 16 / in_c
    columns per store within byte offsets); none for an unpadded 1x1 (read in place)."""
    if columns:
        scatters = in_c < CHUNK and (CHUNK // in_c - 1) * k_h * in_c + in_c <= 256
        return CONV_VARIANTS, 4 if scatters else 2
    return CONV_VARIANTS, 1 if im2col else 0


COLUMN_BYTES = 1024  # the least scratch a column buffer may take (fewer, longer runs of pixels)


def column_pixels(out_w: int, stride_w: int, k_w: int, col_bytes: int, budget: int) -> int:
    """Pixels of an output row per column buffer of tf_mve_conv2d_s8: the most whose columns
    ((n - 1) * stride_w + k_w of col_bytes each) fit in `budget` bytes, even unless the whole row;
    at least 1."""
    n = max(1, min(out_w, (budget // col_bytes - k_w) // stride_w + 1))
    return n if n == out_w or n == 1 else n & ~1


def qparams(
    weights: np.ndarray,
    bias: np.ndarray | None,
    input_offset: int,
    pairs: Sequence[tuple[int, int]],
    group: int = BLOCK,
    lanes: Sequence[int] | None = None,
) -> np.ndarray:
    """int32 [ceil(channels/group)][4][group]: per group of channels bias', multiplier, left shift,
    -right shift (padding channels get zeros), the channels of a group in `lanes` order if given."""
    channels = np.asarray(weights).shape[0]
    groups = -(-channels // group)
    table = np.zeros((4, groups * group), dtype=np.int64)
    table[:, :channels] = (folded_bias(bias, weights, input_offset), *split_shifts(pairs, channels))
    by_group = table.reshape(4, groups, group)
    if lanes is not None:
        by_group = by_group[:, :, list(lanes)]
    return np.ascontiguousarray(by_group.transpose(1, 0, 2)).astype(np.int32)


def _left(pairs: Sequence[tuple[int, int]]) -> int:
    return 1 if any(s > 0 for _, s in pairs) else 0


DW_GROUP = 8  # channels per group of the depthwise kernel
# accumulator lane -> channel within a group (VMOVLB / VMOVLT: even channels, then odd ones)
DW_LANES = (0, 2, 4, 6, 1, 3, 5, 7)
DW_MAX_TAPS = 64  # TF_MVE_DW_MAX_TAPS


@dataclass(frozen=True)
class DepthwisePack:
    """What firmware/kernels/mve/tf_mve_depthwise.c reads for one layer (depth multiplier 1)."""

    weights: np.ndarray  # int8 [ceil(c/8)][taps][8]
    qparams: np.ndarray  # int32 [ceil(c/8)][bias', multiplier, left shift, -right shift][8], DW_LANES order
    # 1 (the copy with left shifts) if some channel shifts left or not at all, or its accumulator
    # may near the int32 limits
    left_shifts: int


def pack_depthwise(
    weights: np.ndarray,
    bias: np.ndarray | None,
    input_offset: int,
    pairs: Sequence[tuple[int, int]],
) -> DepthwisePack:
    """Pack depthwise `weights` [channel][taps] (int8, taps in (ky, kx) order)."""
    w = np.asarray(weights, dtype=np.int64)
    channels, taps = w.shape
    groups = -(-channels // DW_GROUP)
    padded = np.zeros((groups * DW_GROUP, taps), dtype=np.int8)
    padded[:channels] = w.astype(np.int8)
    packed = padded.reshape(groups, DW_GROUP, taps).transpose(0, 2, 1)
    q = qparams(w, bias, input_offset, pairs, DW_GROUP, DW_LANES)
    # the copy without left shifts rounds as if every channel shifted right (the fix-up the sign)
    # and adds the output zero point after a saturating narrowing to int16: exact while no
    # accumulator (the folded bias plus 128 sum |w| at most) comes near int32's limits
    reach = np.abs(folded_bias(bias, w, input_offset)) + 128 * np.abs(w).sum(axis=1)
    general = bool((reach >= 2**31 - 256).any()) or any(s >= 0 for _, s in pairs)
    return DepthwisePack(np.ascontiguousarray(packed), q, 1 if general else 0)


def depthwise_scratch(channels: int, kernel: tuple[int, int], out_w: int, stride_w: int, dil_w: int) -> int:
    """Scratch bytes of tf_mve_depthwise_conv2d_s8: 3 x channels bytes of the input zero point, then
    for 3x3 filters one pixel's receptive field (144 bytes per 16 channels) or, on the direct path,
    three padded input rows of (out_w - 1) stride_w + 3 columns, whichever is larger."""
    groups = -(-channels // 16)
    buf = 0
    if kernel == (3, 3):
        buf = 144 * groups
        if channels in DW_DIRECT_BITS and dil_w == 1:
            buf = max(buf, 3 * ((out_w - 1) * stride_w + 3) * channels)
    return -(-3 * channels // 16) * 16 + buf


def depthwise_in_place(
    channels: int,
    kernel: tuple[int, int],
    in_shape: tuple[int, int, int, int],
    out_hw: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    pad: tuple[int, int],
) -> bool:
    """Whether tf_mve_depthwise_conv2d_s8 may write its output over its input: on the direct path with
    padded row copies (columns padded) every input row is copied before an output row is written,
    and with dilation 1 along rows no row is read twice; so safe while the output rows written up to
    each output row stay before the first input row not yet copied."""
    batches, in_h, in_w, _ = in_shape
    out_h, out_w = out_hw
    if kernel != (3, 3) or channels not in DW_DIRECT_BITS or dilation != (1, 1) or batches != 1:
        return False
    if not (pad[1] > 0 or (out_w - 1) * stride[1] + 3 > in_w):
        return False  # read in place
    for oy in range(out_h):
        first = oy * stride[0] - pad[0] + 3  # the first input row not yet copied
        if first < in_h and (oy + 1) * out_w > first * in_w:
            return False
    return True


def depthwise_reason(weights: np.ndarray, taps: int) -> str | None:
    """Why the Helium depthwise kernel cannot take these weights, or None."""
    if taps > DW_MAX_TAPS:
        return f"{taps} filter taps; the Helium depthwise kernel takes at most {DW_MAX_TAPS}"
    if int(np.asarray(weights).min(initial=0)) < -127:
        return "weights use -128; the Helium depthwise kernel sums two products in int16"
    return None


DWP_MAX_SEGS = 64  # TF_MVE_DWP_MAX_SEGS


@dataclass(frozen=True)
class PlanePack:
    """What tf_mve_dw_plane_s8 (firmware/kernels/mve/tf_mve_depthwise.c) reads for one layer: the
    plane geometry (the input transposed for kernels taller than wide) and the weights in
    segments of 16 taps along plane rows."""

    transpose: bool
    plane_h: int
    plane_w: int
    chunks: int  # segments per kernel row
    weights: np.ndarray  # int8 [out_c][kernel rows][chunks][16]; with lanes [out_c][taps]
    qparams: np.ndarray  # int32 [out_c][bias', multiplier, left shift, -right shift]
    left_shifts: int
    lanes: int = 0  # 0, or the taps of the lanes path (plane rows split into `phases`)
    phases: int = 1  # the stride along plane rows with lanes, else 1

    def scratch_bytes(self, dil_along_rows: int) -> int:
        """The plane (its rows split into phases of ceil(plane_w / phases) bytes) and the 16-byte
        loads (dilated) that may read past its last row."""
        row = self.phases * -(-self.plane_w // self.phases)
        return -(-(self.plane_h * row + 16 * dil_along_rows + 16) // 16) * 16


DWL_MAX_TAPS = 6  # TF_MVE_DWL_MAX_TAPS
DW_PLANE_SEGMENTS = 0x40  # TF_MVE_DW_VARIANTS bit of tf_mve_dw_plane_s8's segment path
DWL_RIGHT = 8  # TF_MVE_DW_VARIANTS bit 8 + t - 1: the lanes path of t taps, channels that shift right
DWL_LEFT = 18  # bit 18 + t - 1: its copy for channels that do not (a left shift or none)


def plane_variant(pp: PlanePack) -> tuple[str, int]:
    """The paths of tf_mve_dw_plane_s8 a layer runs: bit 6 the segments; with lanes of t taps bit
    8 + t - 1 if some channel shifts right, bit 18 + t - 1 if some channel does not (its loop has
    no rounding step)."""
    if not pp.lanes:
        return DW_VARIANTS, DW_PLANE_SEGMENTS
    rsh = np.asarray(pp.qparams).reshape(-1, 4)[:, 3]
    right = (1 << (DWL_RIGHT + pp.lanes - 1)) if (rsh < 0).any() else 0
    left = (1 << (DWL_LEFT + pp.lanes - 1)) if (rsh == 0).any() else 0
    return DW_VARIANTS, right | left


DWL_MAX_PHASES = 4  # TF_MVE_DWL_MAX_PHASES: the largest stride along plane rows of the lanes path
DWL_MAX_LEFT = 31  # the lanes path shifts weights and bias left as uint32


def lanes_taps(taps: int, stride: int, pairs: Sequence[tuple[int, int]]) -> int:
    """The taps of the lanes path if a layer takes it, else 0: at most DWL_MAX_TAPS taps (beyond,
    the tap pointers and weights no longer fit the registers and a VMLADAVA per output wins),
    `stride` along plane rows at most DWL_MAX_PHASES, left shifts at most DWL_MAX_LEFT. Channels
    may shift right, left or not at all (each runs the loop of its kind)."""
    ok = taps <= DWL_MAX_TAPS and stride <= DWL_MAX_PHASES and all(s <= DWL_MAX_LEFT for _, s in pairs)
    return taps if ok else 0


def plane_reason(kernel: tuple[int, int], dilation: tuple[int, int]) -> str | None:
    """Why tf_mve_dw_plane_s8 cannot take this kernel, or None."""
    (k_h, k_w), (d_h, d_w) = kernel, dilation
    k_r, k_c, d_c = (k_w, k_h, d_h) if k_h > k_w else (k_h, k_w, d_w)
    if k_r * -(-k_c // CHUNK) > DWP_MAX_SEGS:
        return f"a {k_h}x{k_w} kernel: the Helium depthwise kernel takes {DWP_MAX_SEGS} segments of 16 taps"
    if k_c > 1 and (min(k_c, CHUNK) - 1) * d_c > 255:
        return f"a dilation of {d_c} (the Helium depthwise gather takes byte offsets up to 255)"
    return None


def pack_plane(
    weights: np.ndarray,
    bias: np.ndarray | None,
    input_offset: int,
    pairs: Sequence[tuple[int, int]],
    out_hw: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> PlanePack:
    """Pack depthwise `weights` [out channel][k_h * k_w] (int8, (ky, kx) order) for the plane kernel."""
    w = np.asarray(weights, dtype=np.int64)
    out_c = w.shape[0]
    (oh, ow), (k_h, k_w), (s_h, s_w), (d_h, d_w) = out_hw, kernel, stride, dilation
    taps = w.reshape(out_c, k_h, k_w)
    transpose = k_h > k_w
    if transpose:
        taps = taps.transpose(0, 2, 1)
        oh, ow, k_h, k_w, s_h, s_w, d_h, d_w = ow, oh, k_w, k_h, s_w, s_h, d_w, d_h
    chunks = -(-k_w // CHUNK)
    seg = np.zeros((out_c, k_h, chunks * CHUNK), dtype=np.int8)
    seg[:, :, :k_w] = taps.astype(np.int8)
    plane_h = (oh - 1) * s_h + (k_h - 1) * d_h + 1
    plane_w = (ow - 1) * s_w + (k_w - 1) * d_w + 1
    q = qparams(w, bias, input_offset, pairs, 1).reshape(out_c, 4)
    lanes = lanes_taps(k_h * k_w, s_w, pairs)
    packed = taps.reshape(out_c, k_h * k_w).astype(np.int8) if lanes else seg
    return PlanePack(
        transpose,
        plane_h,
        plane_w,
        chunks,
        np.ascontiguousarray(packed),
        q,
        _left(pairs),
        lanes,
        s_w if lanes else 1,
    )


def requant_fields(
    out_zp: int, act: tuple[int, int], packed: GemmPack | DepthwisePack | PlanePack
) -> pk.Fields:
    """output_offset, act_min, act_max, left_shifts: what the conv, depthwise and FC params structs
    share after their geometry."""
    return (("output_offset", out_zp), *pk.clamp_fields(act), ("left_shifts", packed.left_shifts))


def weight_fields(op: Op, packed: GemmPack | DepthwisePack | PlanePack) -> pk.Fields:
    """The packed int8 weights and the int32 qparams table."""
    return (
        ("weights", pk.const_array(op, "weights", packed.weights.reshape(-1), "int8_t")),
        ("qparams", pk.const_array(op, "qparams", packed.qparams.reshape(-1), "int32_t")),
    )
