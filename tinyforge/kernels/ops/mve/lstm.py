"""UNIDIRECTIONAL_SEQUENCE_LSTM packer for the Helium kernel (firmware/kernels/mve/tf_mve_lstm.c),
chosen over the DSP and portable ones on boards with the `mve` feature for int8 activations.

The four gates' input and recurrent weights stay int8, packed as the matrix core's
([4S/4][k/16][4][16], tinyforge/kernels/ops/mve/pack.py); the input and hidden-state offsets go into the
biases (wrapping in int32 like the reference's sums); each of the 4S rows gets its gate's
(multiplier, left shift, -right shift) to Q3.12, stored planar for 4-lane loads.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.dsp.lstm import gate_matrices
from tinyforge.kernels.ops.mve import mve_kernel
from tinyforge.kernels.ops.mve import pack as mve
from tinyforge.kernels.ops.portable import lstm as ref
from tinyforge.kernels.registry import KernelCall, Target


def _mve_reason(graph: Graph, op: Op) -> str | None:
    if graph.tensor(op.inputs[ref.INPUT]).dtype != "int8":
        return "the Helium LSTM takes int8 activations"
    return None


def _planar_q(pairs: list[tuple[int, int]], s_dim: int) -> np.ndarray:
    mult, left, right = mve.split_shifts([p for p in pairs for _ in range(s_dim)], 4 * s_dim)
    return np.concatenate([mult, left, right])


@mve_kernel("UNIDIRECTIONAL_SEQUENCE_LSTM", name="mve_lstm", accepts=pk.narrowed(ref.accepts, _mve_reason))
def mve_lstm(graph: Graph, op: Op, target: Target) -> KernelCall:
    base = ref.lstm(graph, op, target)
    x, h = graph.tensor(op.inputs[ref.INPUT]), graph.tensor(op.inputs[ref.HIDDEN_STATE])
    b, _t, i_dim, s_dim = ref.sizes(graph, op)
    in_pairs, rec_pairs = ref.gate_multipliers(graph, op)
    wx, wh, bias = gate_matrices(graph, op)
    gx = mve.pack_gemm(wx, None, 0, [(1 << 30, 0)])
    gh = mve.pack_gemm(wh, None, 0, [(1 << 30, 0)])
    kx, kh = gx.weights.shape[1] * mve.CHUNK, gh.weights.shape[1] * mve.CHUNK
    rows = b if op.options.get("time_major", False) else 1
    unused = {"input_weights", "recurrent_weights", "bias"}  # the portable kernel's copies: not in flash
    params = (
        *(kv for kv in base.params if kv[0] not in unused),
        ("kx", kx),
        ("kh", kh),
        ("packed_w8", 1),
        ("packed_x", pk.const_array(op, "lstm_px_mve", gx.weights.reshape(-1), "int8_t")),
        ("packed_h", pk.const_array(op, "lstm_ph_mve", gh.weights.reshape(-1), "int8_t")),
        (
            "bias_x",
            pk.const_array(op, "lstm_bias_x_mve", mve.folded_bias(bias, wx, -pk.zero_point(x)), "int32_t"),
        ),
        (
            "bias_h",
            pk.const_array(op, "lstm_bias_h_mve", mve.folded_bias(None, wh, -pk.zero_point(h)), "int32_t"),
        ),
        ("q_x", pk.const_array(op, "lstm_q_x_mve", _planar_q(in_pairs, s_dim), "int32_t")),
        ("q_h", pk.const_array(op, "lstm_q_h_mve", _planar_q(rec_pairs, s_dim), "int32_t")),
    )
    n = rows * 4 * s_dim
    return KernelCall(
        function="tf_mve_lstm_s8",
        params_type=base.params_type,
        params=params,
        args=base.args,
        scratch_bytes=n * 8 + 2 * n + max(kx, kh),
        macs=base.macs,
        comment=base.comment + f" mve ({i_dim}->{kx}, {s_dim}->{kh})",
    )
