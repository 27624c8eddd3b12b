"""FULLY_CONNECTED packer for the DSP-extension kernel (firmware/kernels/dsp/tf_dsp_fully_connected.c),
chosen over the portable one on boards with the `dsp` feature. The weights (plus their zero point)
keep int8 values, interleaved 4 output channels at a time (with `--optimize speed`: expanded to
int16 and scaled for the folded requantization, tinyforge/kernels/ops/dsp/fold.py); the input
offset goes into the bias. Per-tensor int8 layers and all int16 ones put each block's constants
into the weight stream for the kernel's assembly runs (`run`, the TF_DSP_FC_VARIANTS bit 1 << run;
per-channel int8 layers: bit 12, the C block loops). A `leaner` variant without scratch (the row
unpacked in the inner loop) is offered to the compiler for layers at the arena's peak."""

from __future__ import annotations

import dataclasses

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp import conv as dsp_conv
from tinyforge.kernels.ops.dsp import dsp_kernel, fold
from tinyforge.kernels.ops.portable import fully_connected as ref
from tinyforge.kernels.registry import KernelCall, Target

GROUP = 4  # output channels per block
# after each block's int16 weights (the assembly's loop ends on it): odd halves, and the weights
# are scaled by 2^(left shift + 1)
W16_END = 0x01010101
FC_VARIANTS = "TF_DSP_FC_VARIANTS"  # the variant macro of firmware/kernels/dsp/tf_dsp_fully_connected.c


def _fold(f: pk.FcLayer) -> tuple[fold.FoldedRequant, np.ndarray] | str:
    w2 = f.w.array().astype(np.int64) + f.filter_offset  # the weights' zero point goes into them
    return fold.fold_weights(w2, f.bias(), -pk.zero_point(f.x), f.pairs, pk.zero_point(f.y))


def _fold_reason(graph: Graph, op: Op) -> str | None:
    folded = _fold(pk.fc_layer(graph, op))
    return folded if isinstance(folded, str) else None


@dsp_kernel("FULLY_CONNECTED", "dsp_fully_connected_s8", pk.narrowed(ref.accepts, _fold_reason))
def dsp_fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    call = _pack(graph, op, target, lean=False)
    f = pk.fc_layer(graph, op)
    if call.function != "tf_dsp_fully_connected_s8" or call.scratch_bytes == 0 or f.accum_depth % 8:
        return call
    return dataclasses.replace(call, leaner=_pack(graph, op, target, lean=True))


def _pair_words(stream8: np.ndarray) -> np.ndarray:
    """The int8 stream [group][chunk of 4 taps][4 channels][4 taps] as the kernel's words: per chunk
    and channel pair (A, B) = (0, 1), (2, 3), one word for the taps 0 and 2 and one for 1 and 3, each
    int16 half A's weight << 8 | B's weight + 128 (tf_dsp_fc_w8_body)."""
    s = stream8.astype(np.int64).reshape(-1, 4, 4)  # [chunk][channel][tap]
    a, b = s[:, 0::2, :], s[:, 1::2, :]  # [chunk][pair][tap]
    out = np.empty((s.shape[0], 2, 2, 4), dtype=np.int64)  # [chunk][pair][word][byte]
    for word, (t0, t1) in enumerate(((0, 2), (1, 3))):
        out[:, :, word, 0] = b[:, :, t0] + 128
        out[:, :, word, 1] = a[:, :, t0] & 0xFF
        out[:, :, word, 2] = b[:, :, t1] + 128
        out[:, :, word, 3] = a[:, :, t1] & 0xFF
    return np.frombuffer(out.astype(np.uint8).tobytes(), dtype="<i4")


def _starts_shifts(packed: fold.Int8Requant) -> tuple[list[int], list[int]]:
    """The accumulator starts and right shifts of `packed`, per channel."""
    if packed.rshift:
        return list(packed.packed), list(packed.rshift)
    return [v >> 5 for v in packed.packed], [v & 31 for v in packed.packed]


def _block_stream(head: np.ndarray, words: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """Per block of GROUP channels: `head` [blocks][n] words, the block's share of the weight
    words, `tail` [blocks][m] words (the kernel's runs read the block constants from the stream)."""
    blocks = head.shape[0]
    body = words.astype(np.int64).reshape(blocks, -1)
    out = np.concatenate([head.astype(np.int64), body, tail.astype(np.int64)], axis=1).reshape(-1)
    return _as_int32(out)


def _as_int32(v: np.ndarray) -> np.ndarray:
    """int64 values that are int32 bit patterns (signed, or unsigned words) as int32."""
    return (v & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def _pack(graph: Graph, op: Op, target: Target, lean: bool) -> KernelCall:
    f = pk.fc_layer(graph, op)
    folded_w = _fold(f)
    assert not isinstance(folded_w, str)
    folded, ws = folded_w
    kpad = fold.round_up(f.accum_depth, 8)
    out_pad = fold.round_up(f.out_depth, GROUP)
    y_zp = pk.zero_point(f.y)
    # int8 weights (the default): double the expanded row (accum_depth / 2 extra instructions per
    # row) or the sums (out_depth per row), whichever costs less; `lean` rows are not expanded
    xdouble = not lean and f.accum_depth // 2 < f.out_depth
    wide = target.wide_weights
    packed = None if wide else fold.int8_requant(folded, y_zp, halve=not xdouble)
    raw = ws // 2  # scale_shift 1 for every live channel when int8_requant accepts: the weights themselves
    if isinstance(packed, str) or (not wide and raw.size and (raw.min() < -128 or raw.max() > 127)):
        # a left shift, or a weight zero point that pushes the weights out of int8 (fold.py)
        return dsp_conv.portable(graph, op, target)
    fast = fold.fast_requant(f.act[0], f.act[1], y_zp)
    corr = 1 - fast
    rshift1 = 0
    if wide:
        w16 = fold.int16_words(fold.interleave(fold.lane_order(fold.pad_to(ws, out_pad, kpad)), GROUP))
        # [block][4 inputs][channel][2 words] -> [block][8 inputs][channel][4 words]
        w16 = w16.reshape(out_pad // GROUP, kpad // 8, 2, GROUP, 2).transpose(0, 1, 3, 2, 4).reshape(-1)
        if np.any(w16 == W16_END):
            raise ValueError("an int16 weight pair equals the loop's end mark")  # odd halves: never
        q = np.zeros((out_pad // GROUP, 4, GROUP), dtype=np.int64)  # [group][bias, mult, kq, rshift][channel]
        q[:, 1, :] = 1 << 30  # padded channels: any valid constants
        q[:, 3, :] = 1
        for c in range(f.out_depth):
            q[c // GROUP, :, c % GROUP] = (folded.bias[c], folded.mult[c], folded.kq[c], folded.rshift[c])
        tail = np.concatenate(
            [np.full((q.shape[0], 1), W16_END), q[:, 1:, :].reshape(q.shape[0], -1)], axis=1
        )
        weights = _block_stream(q[:, 0, :], w16, tail)
        constants: pk.Fields = (("bias", 0), ("mult", 0), ("rshift", 0))
        run = 8 + (int(lean) << 1 | corr)
    else:
        assert packed is not None
        w8 = _pair_words(fold.interleave(fold.pad_to(raw, out_pad, kpad), GROUP))
        starts, shifts = _starts_shifts(packed)
        if packed.per_channel or len(set(shifts)) > 1:
            weights = w8  # per-channel constants: the C block loops (run -1)
            constants = dsp_conv.int8_constants(op, packed, out_pad)
            run = -1
        else:
            blocks = out_pad // GROUP
            st = np.zeros(out_pad, dtype=np.int64)
            st[: len(starts)] = starts
            weights = _block_stream(st.reshape(blocks, GROUP), w8, np.zeros((blocks, 0), dtype=np.int64))
            m = pk.const_array(op, "mult", list(packed.mult), "int32_t", align=4)
            constants = (("bias", 0), ("mult", m), ("rshift", 0))
            rshift1 = shifts[0]
            dsum = int(lean or not xdouble)
            run = int(lean) << 2 | dsum << 1 | corr
    params = (
        ("batches", f.rows),
        ("accum_depth", f.accum_depth),
        ("kpad", kpad),
        ("out_depth", f.out_depth),
        ("out_zp", y_zp),
        *fold.clamp_fields(f.act, y_zp),
        ("wide", int(wide)),
        ("xdouble", int(xdouble)),
        ("per_channel", int(packed.per_channel) if packed is not None else 1),
        ("lean", int(lean)),
        ("weights", pk.const_array(op, "weights16" if wide else "weights", weights, "int32_t", align=4)),
        *constants,
        ("run", run),
        ("rshift1", rshift1),
    )
    comment = f.describe() + " dsp" + (" w16" if wide else "") + (" lean" if lean else "")
    call = f.call("tf_dsp_fully_connected_s8", params, comment, scratch_bytes=0 if lean else 2 * kpad)
    bits = 1 << (run if run >= 0 else 12)
    return dataclasses.replace(call, widened=wide, variants=((FC_VARIANTS, bits),))
