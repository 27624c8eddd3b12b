"""16x8 packers for the DSP-extension kernels (firmware/kernels/dsp/tf_dsp_conv_s16.c), preferred
over the portable 16x8 ones (portable/s16_conv.py) on boards with the `dsp` feature:

    CONV_2D (groups 1) and FULLY_CONNECTED  one matrix multiply, 2 channels x 2 pixels per step
        (4 channels x 1 pixel for layers with one output pixel); int8 weights stay int8, stored
        in 4-tap groups as (w0, w2, w1, w3) so that SXTB16 / SXTB16 ROR #8 yield the pairs
        (w0, w1), (w2, w3) for SMLAD with the int16 inputs (pack_weights). FULLY_CONNECTED is a
        1x1 convolution over the rows.
    DEPTHWISE_CONV_2D (at most TF_S16_CHUNK taps)  depth multiplier 1: 4 channels per step; a
        larger one: output channel pairs of one input channel; weights widened to int16
        [k_h][k_w][channels] (depthwise weights are few: allowed with `--optimize balanced` and
        `speed`; `size` keeps the portable kernel).

The multipliers are the portable packer's; the int64 requantization is folded per channel into
(Q15 multiplier, total shift, bias * multiplier + rounding), which is exact (dsp_requant).
Outputs are bit-exact with the portable kernels and TFLM.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp import dsp_kernel
from tinyforge.kernels.ops.portable import s16_conv as ref
from tinyforge.kernels.registry import ConstArray, KernelCall, ParamValue, ScratchArg, Target, TensorArg

CHUNK = 511  # TF_S16_CHUNK: taps whose int8 x int16 products an int32 sums exactly
FOLD_TAPS = CHUNK // 4 * 4  # sums the conv kernel keeps in int32 (TF_DSP_S16_GROUPS groups of 4)


def pack_weights(w2: np.ndarray, block: int) -> tuple[np.ndarray, int]:
    """[channels][taps] int8 -> the DSP kernel's order: taps padded with zeros to a multiple of 4,
    each 4-tap group stored (w0, w2, w1, w3), channels padded to a multiple of `block` and the
    groups of `block` channels interleaved: [channels / block][taps4 / 4][block][4]. Returns
    (flat int8 array, taps4)."""
    rows, taps = w2.shape
    taps4 = (taps + 3) // 4 * 4
    rows_b = (rows + block - 1) // block * block
    padded = np.zeros((rows_b, taps4), dtype=np.int8)
    padded[:rows, :taps] = w2
    groups = padded.reshape(rows_b, taps4 // 4, 4)[:, :, [0, 2, 1, 3]]
    blocked = groups.reshape(rows_b // block, block, taps4 // 4, 4).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(blocked).reshape(-1), taps4


def _accepts_conv(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_conv(graph, op)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    if w.shape[3] != x.shape[3]:
        return "grouped convolution"
    return _requant_reason(graph, op, w.shape[0], int(np.prod(w.shape[1:])))


def _bias(b: Tensor | None, channels: int) -> np.ndarray:
    return b.array().astype(np.int64).reshape(-1) if b is not None else np.zeros(channels, dtype=np.int64)


def dsp_requant(
    op: Op, x: Tensor, w: Tensor, b: Tensor | None, y: Tensor, channels: int, taps: int
) -> tuple[tuple[str, ParamValue], ...] | str:
    """Clamp, accumulator width and per-channel requantization of the DSP 16x8 kernels (see
    tf_dsp_conv_s16.h): from the portable packer's multipliers, with the int64 path folded into
    (Q15 multiplier, total shift, bias * multiplier + rounding), and where it fits (sums of at
    most FOLD_TAPS taps, shifts up to 32, no int64 overflow) scaled so that the result is the
    high word of one SMLAL (acc64 = 2). A reason if the folding could overflow int64."""
    fields = dict(ref._requant_fields(op, x, w, b, y))
    mults = np.frombuffer(cast_const(fields["out_mult"]).data, dtype="<i4").astype(np.int64)
    shifts = np.frombuffer(cast_const(fields["out_shift"]).data, dtype="<i4").astype(np.int64)
    if mults.size == 1:
        mults, shifts = np.repeat(mults, channels), np.repeat(shifts, channels)
    acc64 = fields["acc64"] == 1
    high_word = False
    bias = _bias(b, channels)
    bias64: ParamValue = 0
    bias32: ParamValue = 0
    if acc64:
        q15 = np.array([q15_multiplier(int(m)) for m in mults], dtype=np.int64)
        total = 15 - shifts
        folded = [int(bv) * int(m) + (1 << (int(t) - 1)) for bv, m, t in zip(bias, q15, total, strict=True)]
        if any(abs(f) >= 1 << 62 for f in folded):
            return "the bias is too large to fold into the int64 requantization"
        mults, shifts = q15, total
        high_word = taps <= FOLD_TAPS and all(
            t <= 32
            and int(m) << (32 - int(t)) < 1 << 31
            and (taps * 128 * 32768 * int(m) + abs(f)) << (32 - int(t)) < 1 << 62
            for m, t, f in zip(q15, total, folded, strict=True)
        )
        if high_word:
            mults = np.array(
                [int(m) << (32 - int(t)) for m, t in zip(q15, total, strict=True)], dtype=np.int64
            )
            folded = [f << (32 - int(t)) for f, t in zip(folded, total, strict=True)]
        bias64 = pk.const_array(op, "bias_folded", folded, "int64_t")
    elif b is not None:
        bias32 = pk.const_array(op, "bias32", bias, "int32_t")
    return (
        ("act_min", fields["act_min"]),
        ("act_max", fields["act_max"]),
        ("acc64", (2 if high_word else 1) if acc64 else 0),
        ("bias64", bias64),
        ("bias32", bias32),
        ("out_mult", pk.const_array(op, "out_mult_dsp16", mults, "int32_t")),
        ("out_shift", pk.const_array(op, "out_shift_dsp16", shifts, "int32_t")),
    )


def cast_const(v: ParamValue) -> ConstArray:
    assert isinstance(v, ConstArray)
    return v


def q15_multiplier(m: int) -> int:
    """TFLM's int64 MultiplyByQuantizedMultiplier rounds the Q31 multiplier to Q15 first."""
    return (m + (1 << 15)) >> 16 if m < 0x7FFF0000 else 0x7FFF


def _requant_reason(graph: Graph, op: Op, channels: int, taps: int) -> str | None:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    assert x is not None and w is not None
    r = dsp_requant(op, x, w, b, pk.output(graph, op), channels, taps)
    return r if isinstance(r, str) else None


def _conv_call(
    op: Op,
    geometry: tuple[tuple[str, ParamValue], ...],
    w2: np.ndarray,
    requant: tuple[tuple[str, ParamValue], ...],
    block: int,
    direct: bool,
    macs: int,
    comment: str,
) -> KernelCall:
    weights, taps4 = pack_weights(w2, block)
    fields = (
        *geometry,
        ("taps", w2.shape[1]),
        ("taps4", taps4),
        ("block", block),
        *requant[:3],
        ("weights", pk.const_array(op, "weights_dsp16", weights, "int8_t")),
        *requant[3:],
    )
    scratch = (2 if direct else 4) * taps4 * 2  # packed taps (+ two gathered pixels)
    return KernelCall(
        function="tf_dsp_conv_s16",
        params_type="tf_dsp_conv_s16_params_t",
        params=fields,
        args=(
            TensorArg(op.inputs[0], False, "int16_t"),
            TensorArg(op.outputs[0], True, "int16_t"),
            ScratchArg(),
        ),
        scratch_bytes=scratch,
        macs=macs,
        comment=comment + f" {block}x{4 // block}" + (" direct" if direct else " im2col"),
    )


@dsp_kernel("CONV_2D", "dsp_conv_s16", _accepts_conv)
def dsp_conv_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    out_c, k_h, k_w, in_c = w.shape
    pad = ref._padding(op, x, k_h, k_w)
    o = op.options
    strides = (int(o.get("stride_h", 1)), int(o.get("stride_w", 1)))
    direct = (k_h, k_w) == (1, 1) and strides == (1, 1) and (pad.pad_h, pad.pad_w) == (0, 0)
    geometry = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", in_c),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("out_c", out_c),
        ("k_h", k_h),
        ("k_w", k_w),
        *ref.window_params(op, pad),
    )
    requant = dsp_requant(op, x, w, b, y, out_c, k_h * k_w * in_c)
    assert not isinstance(requant, str), requant
    block = 4 if y.shape[1] * y.shape[2] == 1 else 2
    macs = y.shape[0] * y.shape[1] * y.shape[2] * out_c * k_h * k_w * in_c
    comment = "dsp " + ref._describe(op, k_h, k_w, in_c, out_c, b)
    return _conv_call(op, geometry, w.array().reshape(out_c, -1), requant, block, direct, macs, comment)


def _accepts_fc(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_fc(graph, op)
    if reason:
        return reason
    w = pk.op_tensor(graph, op, 1)
    assert w is not None
    return _requant_reason(graph, op, w.shape[0], int(np.prod(w.shape[1:])))


@dsp_kernel("FULLY_CONNECTED", "dsp_fully_connected_s16", _accepts_fc)
def dsp_fully_connected_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None and w.quant is not None
    out_depth, accum = w.shape
    rows = y.num_elements // out_depth
    geometry: tuple[tuple[str, ParamValue], ...] = (
        ("batches", 1),
        ("in_h", 1),
        ("in_w", rows),
        ("in_c", accum),
        ("out_h", 1),
        ("out_w", rows),
        ("out_c", out_depth),
        ("k_h", 1),
        ("k_w", 1),
        ("stride_h", 1),
        ("stride_w", 1),
        ("dil_h", 1),
        ("dil_w", 1),
        ("pad_h", 0),
        ("pad_w", 0),
    )
    requant = dsp_requant(op, x, w, b, y, out_depth, accum)
    assert not isinstance(requant, str), requant
    per = " per-channel" if w.quant.per_channel else ""
    comment = f"dsp 16x8 {f'{rows}x' if rows > 1 else ''}{accum}->{out_depth}{pk.act_suffix(op)}{per}"
    block = 4 if rows == 1 else 2
    return _conv_call(
        op,
        geometry,
        w.array().reshape(out_depth, accum),
        requant,
        block,
        True,
        rows * out_depth * accum,
        comment,
    )


def _accepts_depthwise(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_depthwise(graph, op)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    if w.shape[1] * w.shape[2] > CHUNK:
        return f"more than {CHUNK} taps per channel"
    return _requant_reason(graph, op, w.shape[3], w.shape[1] * w.shape[2])


@dsp_kernel("DEPTHWISE_CONV_2D", "dsp_depthwise_conv2d_s16", _accepts_depthwise)
def dsp_depthwise_conv2d_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    if not target.tables:  # --optimize size: nothing in flash beyond the model's own int8 weights
        from tinyforge.kernels.ops.dsp.conv import portable

        return portable(graph, op, target)
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    _, k_h, k_w, channels = w.shape
    pad = ref._padding(op, x, k_h, k_w)
    requant = dsp_requant(op, x, w, b, y, channels, k_h * k_w)
    w16 = w.array().astype(np.int16).reshape(k_h * k_w, channels)
    groups = channels // 4 if channels == x.shape[3] else 0  # the 4-channel steps (multiplier 1)
    blocked = w16[:, : groups * 4].reshape(k_h * k_w, groups, 4).transpose(1, 0, 2).reshape(-1)
    assert not isinstance(requant, str), requant
    fields = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", x.shape[3]),
        ("channels", channels),
        ("depth_mult", channels // x.shape[3]),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("k_h", k_h),
        ("k_w", k_w),
        *ref.window_params(op, pad),
        *requant[:3],
        ("weights", pk.const_array(op, "weights16", w16.reshape(-1), "int16_t")),
        ("weights4", pk.const_array(op, "weights16x4", blocked, "int16_t") if blocked.size else 0),
        *requant[3:],
    )
    return KernelCall(
        function="tf_dsp_depthwise_conv2d_s16",
        params_type="tf_dsp_depthwise_conv2d_s16_params_t",
        params=fields,
        args=(TensorArg(op.inputs[0], False, "int16_t"), TensorArg(op.outputs[0], True, "int16_t")),
        macs=y.shape[0] * y.shape[1] * y.shape[2] * channels * k_h * k_w,
        comment="dsp dw " + ref._describe(op, k_h, k_w, channels, channels, b),
    )
