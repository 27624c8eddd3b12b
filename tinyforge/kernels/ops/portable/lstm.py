"""UNIDIRECTIONAL_SEQUENCE_LSTM packer for the integer kernels (firmware/kernels/tf_lstm.c).

What TFLite Micro's Prepare computes (its integer LSTM: the standard Keras LSTM, no peephole,
projection, CIFG or layer norm), in the same float/double types:

- each gate's two fully connected parts (input, recurrent) requantize to int16 Q3.12 (scale 2^-12):
  multiplier = double(operand scale) * double(weight scale) / 2^-12;
- the sigmoid/tanh outputs are Q0.15 (2^-15); forget x cell -> cell scale, input x cell gate ->
  cell scale, tanh(cell) x output gate -> hidden state scale (with its zero point), each
  multiplier = double(s1) * double(s2) / double(s_out);
- the cell state scale is a power of two 2^p; tanh reads the cell as (c * 3 << (12 + p)) or, for
  p < -12, (c * 3 + round) >> -(12 + p);
- cell_clip > 0 clips the cell state to the truncated clip / cell scale (in double).

The intermediate tensors the converter attaches to the op (per-gate scales) are only read by
TFLM when the LSTM has layer norm, which it does not support; they are ignored here too.
int8 activations (int16 cell, int32 bias) use tf_lstm_s8; int16 activations ("16x8", int64
bias) use tf_lstm_s16.
"""

from __future__ import annotations

import math

import numpy as np

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, ScratchArg, Target, TensorArg, kernel

# TFLite's input positions (lstm_shared.h)
INPUT = 0
INPUT_WEIGHTS = (1, 2, 3, 4)  # input, forget, cell, output gate
RECURRENT_WEIGHTS = (5, 6, 7, 8)
PEEPHOLE = (9, 10, 11)
BIASES = (12, 13, 14, 15)
PROJECTION = (16, 17)
HIDDEN_STATE = 18
CELL_STATE = 19
LAYER_NORM = (20, 21, 22, 23)

GATE_SCALE = 2.0**-12  # FC outputs: Q3.12
ACT_SCALE = 2.0**-15  # sigmoid/tanh outputs: Q0.15
_ACT_TYPES = {
    "int8": ("int8_t", "int32", "int32_t", -128, 127),
    "int16": ("int16_t", "int64", "int64_t", -32768, 32767),
}


def _present(op: Op, pos: int) -> bool:
    return pos < len(op.inputs) and op.inputs[pos] >= 0


def _per_tensor(t: Tensor) -> str | None:
    if t.quant is None or not t.quant.scale:
        return f"tensor {t.name!r} has no quantization parameters"
    if t.quant.per_channel:
        return f"tensor {t.name!r} is quantized per channel; the LSTM takes per-tensor scales"
    return None


def sizes(graph: Graph, op: Op) -> tuple[int, int, int, int]:
    """(batches, time steps, input dim, state dim) as TFLM's CreateLstmSizeInfo reads them."""
    x = graph.tensor(op.inputs[INPUT])
    h = graph.tensor(op.inputs[HIDDEN_STATE])
    major = bool(op.options.get("time_major", False))
    b, t = (x.shape[1], x.shape[0]) if major else (x.shape[0], x.shape[1])
    return int(b), int(t), int(x.shape[2]), int(h.shape[-1]) if h.shape else 0


def accepts(graph: Graph, op: Op) -> str | None:
    if len(op.inputs) != 24 or len(op.outputs) != 1:
        return f"expects 24 inputs and 1 output (got {len(op.inputs)}, {len(op.outputs)})"
    if any(_present(op, i) for i in PEEPHOLE):
        return "peephole connections are not supported (TFLM's integer LSTM has none)"
    if any(_present(op, i) for i in PROJECTION):
        return "a projection layer is not supported (TFLM's integer LSTM has none)"
    if any(_present(op, i) for i in LAYER_NORM):
        return "layer normalization is not supported (TFLM's integer LSTM has none)"
    required = (INPUT, *INPUT_WEIGHTS, *RECURRENT_WEIGHTS, *BIASES, HIDDEN_STATE, CELL_STATE)
    missing = [i for i in required if not _present(op, i)]
    if missing:
        what = "CIFG (no input gate)" if 1 in missing else f"inputs {missing} are missing"
        return f"{what} is not supported (TFLM's integer LSTM needs all four gates, biases and states)"
    if op.options.get("activation", "TANH") != "TANH":
        return f"cell activation {op.options.get('activation')} is not supported (TANH only)"
    if op.options.get("diagonal_recurrent_tensors", False):
        return "diagonal recurrent weights are not supported"
    x, y = graph.tensor(op.inputs[INPUT]), graph.tensor(op.outputs[0])
    h, c = graph.tensor(op.inputs[HIDDEN_STATE]), graph.tensor(op.inputs[CELL_STATE])
    if x.dtype not in _ACT_TYPES:
        return f"input is {x.dtype}; the LSTM kernels take int8 or int16 activations"
    if y.dtype != x.dtype or h.dtype != x.dtype:
        return f"input, output and hidden state must share a type (got {x.dtype}, {y.dtype}, {h.dtype})"
    if c.dtype != "int16":
        return f"cell state is {c.dtype}; TFLM's integer LSTM keeps it in int16"
    if not h.is_variable or not c.is_variable:
        return "the hidden and cell state must be variable tensors"
    if x.is_constant:
        return "the input is constant"
    for t in (x, y, h, c):
        if reason := _per_tensor(t):
            return reason
    if len(x.shape) != 3 or len(y.shape) != 3:
        return f"input and output must be 3-D (got {pk.shape_str(x.shape)} and {pk.shape_str(y.shape)})"
    b, _t, i_dim, s_dim = sizes(graph, op)
    bias_type = _ACT_TYPES[x.dtype][1]
    for pos in INPUT_WEIGHTS + RECURRENT_WEIGHTS:
        w = graph.tensor(op.inputs[pos])
        want = (s_dim, i_dim) if pos in INPUT_WEIGHTS else (s_dim, s_dim)
        if not w.is_constant or w.dtype != "int8":
            return f"weights {w.name!r} must be constant int8"
        if tuple(w.shape) != want:
            return f"weights {w.name!r} are {pk.shape_str(w.shape)}, expected {pk.shape_str(want)}"
        if reason := _per_tensor(w):
            return reason
        assert w.quant is not None
        if any(int(z) != 0 for z in w.quant.zero_point):
            return f"weights {w.name!r} have a zero point; LSTM weights are symmetric"
    for pos in BIASES:
        bt = graph.tensor(op.inputs[pos])
        if not bt.is_constant or bt.dtype != bias_type or tuple(bt.shape) != (s_dim,):
            return f"bias {bt.name!r} must be a constant {bias_type} vector of {s_dim}"
    if h.num_elements != b * s_dim or c.num_elements != b * s_dim:
        return f"state tensors must hold {b} x {s_dim} values"
    if tuple(y.shape[:2]) != tuple(x.shape[:2]) or y.shape[2] != s_dim:
        return f"output {pk.shape_str(y.shape)} does not match the input {pk.shape_str(x.shape)} and {s_dim} units"
    return None


def cell_log2(scale: float) -> int:
    """TFLM CheckedLog2 (its result only; the kernel takes the rounded power either way)."""
    return int(quant.round_half_away(float(np.float32(math.log(scale)) * np.float32(1.0 / math.log(2.0)))))


def cell_tanh_scaling(power: int) -> tuple[int, int]:
    """(mult, shift) of the tanh input for a cell state of scale 2^power (TFLM lstm_internal::Tanh
    with reference_integer_ops::Tanh's power-of-two case)."""
    left = 15 + power - 3
    if left < 0:
        return 3, -left
    return 3 << left, 0


def quantized_cell_clip(clip: float, cell_scale: float) -> int:
    """TFLM CreateLstmCellStateInfo: int16 truncation of clip / scale in double; -1: no clipping."""
    if not float(np.float32(clip)) > 0.0:
        return -1
    v = min(max(float(np.float32(clip)) / float(cell_scale), -32768.0), 32767.0)
    return int(v)  # static_cast truncates toward zero


def _mul(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """TFLM CreateInterGateMulParams: double(s1) * double(s2) / double(s_out)."""
    return quant.quantize_multiplier(float(s1) * float(s2) / float(s_out))


def gate_multipliers(graph: Graph, op: Op) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Per gate (input, forget, cell, output): the input FC's and the recurrent FC's (multiplier,
    shift) to Q3.12, double(operand scale) * double(weight scale) / 2^-12 as TFLM's
    CalculateOpDataFullyConnected."""
    x, h = graph.tensor(op.inputs[INPUT]), graph.tensor(op.inputs[HIDDEN_STATE])
    gate = float(np.float32(GATE_SCALE))
    w_in = [graph.tensor(op.inputs[p]) for p in INPUT_WEIGHTS]
    w_rec = [graph.tensor(op.inputs[p]) for p in RECURRENT_WEIGHTS]
    in_pairs = [quant.quantize_multiplier(float(pk.scale(x)) * pk.scale(w) / gate) for w in w_in]
    rec_pairs = [quant.quantize_multiplier(float(pk.scale(h)) * pk.scale(w) / gate) for w in w_rec]
    return in_pairs, rec_pairs


@kernel("UNIDIRECTIONAL_SEQUENCE_LSTM", name="lstm", accepts=accepts)
def lstm(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, y = graph.tensor(op.inputs[INPUT]), graph.tensor(op.outputs[0])
    h, c = graph.tensor(op.inputs[HIDDEN_STATE]), graph.tensor(op.inputs[CELL_STATE])
    ctype, bias_dtype, bias_ctype, hmin, hmax = _ACT_TYPES[x.dtype]
    b, t, i_dim, s_dim = sizes(graph, op)
    major = bool(op.options.get("time_major", False))
    w_in = [graph.tensor(op.inputs[p]) for p in INPUT_WEIGHTS]
    w_rec = [graph.tensor(op.inputs[p]) for p in RECURRENT_WEIGHTS]
    biases = [graph.tensor(op.inputs[p]) for p in BIASES]
    in_pairs, rec_pairs = gate_multipliers(graph, op)
    cell_scale = pk.scale(c)
    forget = _mul(ACT_SCALE, cell_scale, cell_scale)
    update = _mul(ACT_SCALE, ACT_SCALE, cell_scale)
    hidden = _mul(ACT_SCALE, ACT_SCALE, pk.scale(h))
    power = cell_log2(cell_scale)
    tanh_mult, tanh_shift = cell_tanh_scaling(power)
    clip = quantized_cell_clip(float(op.options.get("cell_clip", 0.0) or 0.0), cell_scale)
    is16 = x.dtype == "int16"
    params = (
        ("batches", b),
        ("time_steps", t),
        ("input_dim", i_dim),
        ("state_dim", s_dim),
        ("time_major", int(major)),
        ("input_offset", 0 if is16 else -pk.zero_point(x)),
        ("hidden_offset", 0 if is16 else -pk.zero_point(h)),
        (
            "input_weights",
            pk.const_array(op, "lstm_wx", np.concatenate([w.array().ravel() for w in w_in]), "int8_t"),
        ),
        (
            "recurrent_weights",
            pk.const_array(op, "lstm_wh", np.concatenate([w.array().ravel() for w in w_rec]), "int8_t"),
        ),
        (
            "bias",
            pk.const_array(
                op, "lstm_bias", np.concatenate([bt.array().ravel() for bt in biases]), bias_ctype
            ),
        ),
        ("in_mult", tuple(m for m, _ in in_pairs)),
        ("in_shift", tuple(s for _, s in in_pairs)),
        ("rec_mult", tuple(m for m, _ in rec_pairs)),
        ("rec_shift", tuple(s for _, s in rec_pairs)),
        ("forget_mult", forget[0]),
        ("forget_shift", forget[1]),
        ("update_mult", update[0]),
        ("update_shift", update[1]),
        ("hidden_mult", hidden[0]),
        ("hidden_shift", hidden[1]),
        ("hidden_zero_point", pk.zero_point(h)),
        ("hidden_min", hmin),
        ("hidden_max", hmax),
        ("cell_tanh_mult", tanh_mult),
        ("cell_tanh_shift", tanh_shift),
        ("cell_clip", clip),
    )
    rows = b if major else 1
    suffix = "s16" if is16 else "s8"
    layout = "time-major" if major else "batch-major"
    return KernelCall(
        function=f"tf_lstm_{suffix}",
        params_type="tf_lstm_params_t",
        params=params,
        args=(
            TensorArg(x.index, False, ctype),
            TensorArg(y.index, True, ctype),
            TensorArg(h.index, True, ctype),
            TensorArg(c.index, True, "int16_t"),
            ScratchArg(),
        ),
        scratch_bytes=rows * 4 * s_dim * (2 * (8 if is16 else 4) + 2),
        macs=b * t * 4 * s_dim * (i_dim + s_dim),
        comment=f"{b}x{t}x{i_dim} -> {s_dim} units, {layout}, cell 2^{power}"
        + (f" clip {clip}" if clip >= 0 else ""),
    )
