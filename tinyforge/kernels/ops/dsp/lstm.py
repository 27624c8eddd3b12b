"""UNIDIRECTIONAL_SEQUENCE_LSTM packer for the DSP-extension kernel
(firmware/kernels/dsp/tf_dsp_lstm.c), chosen over the portable one on boards with the `dsp`
feature for int8 activations.

The four gates' input weights form one [4S][I] matrix and their recurrent weights one [4S][S]
matrix, each requantized to Q3.12 with its gate's multiplier. Both go through the DSP
FULLY_CONNECTED's folding (tinyforge/kernels/ops/dsp/fold.py: offsets into the bias, requantization into
SMMLAR with weights and bias scaled by 2^(left shift + 1), with its range checks), are expanded to
int16 in the SMLAD lane order 4 rows at a time with `--optimize speed`, else kept int8 (then only
left shift 0, and the kernel doubles the accumulator). The gate sums and
everything after them are the portable kernel's (tf_lstm_cell_s8). A layer that fails a check
keeps the portable kernel.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp import dsp_kernel
from tinyforge.kernels.ops.dsp import fold as dsp
from tinyforge.kernels.ops.portable import lstm as ref
from tinyforge.kernels.registry import KernelCall, Target

GROUP = 4


def gate_matrices(graph: Graph, op: Op) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """([4S][I] input weights, [4S][S] recurrent weights, [4S] biases) in gate order i, f, c, o."""
    wx = np.concatenate([graph.tensor(op.inputs[p]).array().astype(np.int64) for p in ref.INPUT_WEIGHTS])
    wh = np.concatenate([graph.tensor(op.inputs[p]).array().astype(np.int64) for p in ref.RECURRENT_WEIGHTS])
    bias = np.concatenate([graph.tensor(op.inputs[p]).array().astype(np.int64) for p in ref.BIASES])
    return wx, wh, bias


def _fold(graph: Graph, op: Op) -> tuple[dsp.FoldedRequant, dsp.FoldedRequant, np.ndarray, np.ndarray] | str:
    x, h = graph.tensor(op.inputs[ref.INPUT]), graph.tensor(op.inputs[ref.HIDDEN_STATE])
    _b, _t, _i, s_dim = ref.sizes(graph, op)
    in_pairs, rec_pairs = ref.gate_multipliers(graph, op)
    wx, wh, bias = gate_matrices(graph, op)
    fx = dsp.fold_requant(bias, wx, -pk.zero_point(x), [p for p in in_pairs for _ in range(s_dim)], 0)
    if isinstance(fx, str):
        return f"input weights: {fx}"
    fh = dsp.fold_requant(None, wh, -pk.zero_point(h), [p for p in rec_pairs for _ in range(s_dim)], 0)
    if isinstance(fh, str):
        return f"recurrent weights: {fh}"
    return fx, fh, dsp.scaled_weights(wx, fx), dsp.scaled_weights(wh, fh)


def pack_weights(ws: np.ndarray, int8_weights: bool) -> tuple[np.ndarray, int]:
    """(int32 words of the packed stream, padded dot-product length) for tf_dsp_mac_1x4(_w8)."""
    rows = dsp.round_up(ws.shape[0], GROUP)
    if int8_weights:
        kpad = dsp.round_up(ws.shape[1], 4)
        stream = dsp.interleave(dsp.pad_to(ws // 2, rows, kpad), GROUP)
        return np.frombuffer(stream.astype(np.int8).tobytes(), dtype="<i4").astype(np.int32), kpad
    kpad = dsp.round_up(ws.shape[1], 8)
    return dsp.int16_words(dsp.interleave(dsp.lane_order(dsp.pad_to(ws, rows, kpad)), GROUP)), kpad


def _w8_ok(folded: dsp.FoldedRequant, ws: np.ndarray) -> bool:
    """int8 weights need scale shift 1 (no left shift) on every live row."""
    live = np.abs(ws).sum(axis=1) > 0
    return all(s == 1 for s, on in zip(folded.scale_shift, live, strict=True) if on)


def _dsp_reason(graph: Graph, op: Op) -> str | None:
    if graph.tensor(op.inputs[ref.INPUT]).dtype != "int8":
        return "the DSP LSTM takes int8 activations"
    folded = _fold(graph, op)
    return folded if isinstance(folded, str) else None


@dsp_kernel("UNIDIRECTIONAL_SEQUENCE_LSTM", name="dsp_lstm", accepts=pk.narrowed(ref.accepts, _dsp_reason))
def dsp_lstm(graph: Graph, op: Op, target: Target) -> KernelCall:
    base = ref.lstm(graph, op, target)
    folded = _fold(graph, op)
    assert not isinstance(folded, str)
    fx, fh, wsx, wsh = folded
    w8 = not target.wide_weights  # int16 weights only with --optimize speed
    if w8 and not (_w8_ok(fx, wsx) and _w8_ok(fh, wsh)):
        return base  # int8 weights would need a left shift: the portable kernel
    px, kx = pack_weights(wsx, w8)
    ph, kh = pack_weights(wsh, w8)
    bias_x, bias_h = np.asarray(fx.bias, dtype=np.int64), np.asarray(fh.bias, dtype=np.int64)
    if w8:
        bias_x, bias_h = bias_x // 2, bias_h // 2  # the kernel doubles the accumulator
    b, _t, _i, s_dim = ref.sizes(graph, op)
    rows = b if op.options.get("time_major", False) else 1
    suffix = "w8" if w8 else "w16"
    unused = {"input_weights", "recurrent_weights", "bias"}  # the portable kernel's copies: not in flash
    params = (
        *(kv for kv in base.params if kv[0] not in unused),
        ("kx", kx),
        ("kh", kh),
        ("packed_w8", int(w8)),
        ("packed_x", pk.const_array(op, f"lstm_px_{suffix}", px, "int32_t")),
        ("packed_h", pk.const_array(op, f"lstm_ph_{suffix}", ph, "int32_t")),
        ("bias_x", pk.const_array(op, "lstm_bias_x", bias_x, "int32_t")),
        ("bias_h", pk.const_array(op, "lstm_bias_h", bias_h, "int32_t")),
        ("q_x", pk.const_array(op, "lstm_q_x", np.stack([fx.mult, fx.kq, fx.rshift], axis=1), "int32_t")),
        ("q_h", pk.const_array(op, "lstm_q_h", np.stack([fh.mult, fh.kq, fh.rshift], axis=1), "int32_t")),
    )
    n = rows * 4 * s_dim
    return KernelCall(
        function="tf_dsp_lstm_s8",
        params_type=base.params_type,
        params=params,
        args=base.args,
        scratch_bytes=n * 8 + 2 * (n + (n & 1)) + 2 * max(kx, kh),
        macs=base.macs,
        comment=base.comment + " dsp" + (" w8" if w8 else ""),
        widened=not w8,
    )
