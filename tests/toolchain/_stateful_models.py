"""Test helper: stateful models (variable tensors) for tinyforge's LSTM and SVDF kernels.

- `svdf_model(...)`: an int8 SVDF layer (int16 or int8 state) written straight into a flatbuffer
  with the schema (TF's converter has no Keras layer that becomes SVDF; TFLM's keyword models
  are built this way), scales chosen so values use their ranges.
- `keras_lstm(...)`: a `tf_keras.layers.LSTM(units, unroll=False)` model converted by TF's
  TFLiteConverter to full int8 with a representative dataset (the fused
  UNIDIRECTIONAL_SEQUENCE_LSTM op), cached on disk by spec and TF version.
- `retune_lstm(...)`: the same file with other cell/hidden quantization or cell clip (schema
  object API), to reach parameters the converter never writes.
- `lstm_16x8(...)`: the LSTM rewritten with int16 activations and int64 biases between int8
  QUANTIZE edges (TF's converter cannot quantize the fused LSTM to 16x8).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
from opmodels import ModelBuilder, options, schema


def svdf_model(
    batches: int,
    in_size: int,
    units: int,
    rank: int,
    memory: int,
    *,
    seed: int = 0,
    state_dtype: str = "int16",
    input_zp: int = 0,
    output_zp: int = 0,
    state_zp: int = 0,
    activation: int = 0,
    headroom: float = 4.0,
) -> bytes:
    """`headroom` 4: the feature dot products span about a quarter of the state's range; below 1
    they saturate it often (and with a state zero point, wrap as the reference does)."""
    rng = np.random.default_rng(seed)
    filters = units * rank
    si, swf = 0.05 + 0.1 * rng.random(), 0.002 + 0.01 * rng.random()
    qmax = 32767 if state_dtype == "int16" else 127
    # the feature dot product (~128 * 64 * sqrt(in_size) in accumulator units) spans qmax / headroom
    ss = float(np.float32(si * swf * 128 * 64 * math.sqrt(in_size) / (qmax / headroom)))
    swt = 0.0005 + 0.002 * rng.random()
    sb = float(np.float32(np.float32(ss) * np.float32(swt)))
    # the time sums (~(qmax/4) * (qmax/2) * sqrt(memory * rank)) span ~1/2 of the output
    so = float(np.float32(ss * swt * (qmax / 4) * (qmax / 2) * math.sqrt(memory * rank) / 64))
    wt_hi = 32767 if state_dtype == "int16" else 127
    m = ModelBuilder()
    x = m.input((batches, in_size), "int8", si, input_zp)
    wf = m.tensor((filters, in_size), "int8", swf, 0, rng.integers(-127, 128, (filters, in_size)))
    wt = m.tensor((filters, memory), state_dtype, swt, 0, rng.integers(-wt_hi, wt_hi + 1, (filters, memory)))
    b = m.tensor((units,), "int32", sb, 0, rng.integers(-(qmax * 64), qmax * 64, (units,)))
    st = m.tensor((batches, memory * filters), state_dtype, ss, state_zp, variable=True, name="svdf_state")
    y = m.tensor((batches, units), "int8", so, output_zp)
    opt = options("SVDFOptions", rank=rank, fusedActivationFunction=activation)
    m.op("SVDF", [x, wf, wt, b, st], [y], opt)
    m.output(y)
    return m.build()


def keras_lstm(spec: dict[str, Any], cache: Path) -> bytes:
    """spec: units, steps, features, and optionally batch, time_major, return_sequences, stack
    (a second LSTM of units + 2), dense (a Dense after it), seed. int8 in and out."""
    from tinyforge.model.load import import_tensorflow

    tf = import_tensorflow()
    key = hashlib.sha256((json.dumps(spec, sort_keys=True) + tf.__version__).encode()).hexdigest()[:24]
    hit = cache / f"lstm-{key}.tflite"
    if hit.exists():
        return hit.read_bytes()
    import tf_keras

    seed = int(spec.get("seed", 0))
    tf_keras.utils.set_random_seed(seed)
    units, steps, feats = spec["units"], spec["steps"], spec["features"]
    batch, major = int(spec.get("batch", 1)), bool(spec.get("time_major", False))
    ret, stack = bool(spec.get("return_sequences", True)), bool(spec.get("stack", False))
    if major:
        inp = tf_keras.Input(shape=(batch, feats), batch_size=steps)
    else:
        inp = tf_keras.Input(shape=(steps, feats), batch_size=batch)
    x = tf_keras.layers.LSTM(units, unroll=False, return_sequences=ret or stack, time_major=major)(inp)
    if stack:
        x = tf_keras.layers.LSTM(units + 2, unroll=False, return_sequences=ret, time_major=major)(x)
    if spec.get("dense"):
        x = tf_keras.layers.Dense(int(spec["dense"]), activation="softmax")(x)
    model = tf_keras.Model(inp, x)
    shape = tuple(int(d) for d in inp.shape)

    def representative():  # noqa: ANN202
        rng = np.random.default_rng(seed)
        for _ in range(32):
            yield [rng.standard_normal(shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    data = bytes(conv.convert())
    cache.mkdir(parents=True, exist_ok=True)
    hit.write_bytes(data)
    return data


def _load(data: bytes) -> Any:
    return schema().ModelT.InitFromPackedBuf(bytearray(data), 0)


def _pack(model: Any) -> bytes:
    b = flatbuffers.Builder(4096)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _lstm_ops(model: Any) -> list[Any]:
    s = schema()
    sg = model.subgraphs[0]
    code = s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    return [
        o
        for o in sg.operators
        if max(
            model.operatorCodes[o.opcodeIndex].builtinCode,
            model.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode,
        )
        == code
    ]


def retune_lstm(
    data: bytes,
    *,
    cell_clip: float | None = None,
    cell_power: int | None = None,
    hidden_scale: float | None = None,
    hidden_zp: int | None = None,
) -> bytes:
    """The model with every LSTM's cell clip, cell state scale (2^cell_power), or hidden state
    (and output) quantization replaced."""
    model = _load(data)
    sg = model.subgraphs[0]
    for o in _lstm_ops(model):
        if cell_clip is not None:
            o.builtinOptions.cellClip = float(cell_clip)
        if cell_power is not None:
            sg.tensors[o.inputs[19]].quantization.scale = [float(2.0**cell_power)]
        for idx in (o.inputs[18], o.outputs[0]):
            q = sg.tensors[idx].quantization
            if hidden_scale is not None:
                q.scale = [float(np.float32(hidden_scale))]
            if hidden_zp is not None:
                q.zeroPoint = [int(hidden_zp)]
    return _pack(model)


def lstm_16x8(data: bytes, seed: int = 0) -> bytes:
    """A single-LSTM int8 model rewritten as int8 -> QUANTIZE -> int16 LSTM (int64 biases, int16
    hidden state, zero points 0) -> QUANTIZE -> int8."""
    s = schema()
    model = _load(data)
    sg = model.subgraphs[0]
    (op,) = _lstm_ops(model)
    rng = np.random.default_rng(seed)
    tensors = sg.tensors

    def new_tensor(like: Any, ttype: int, scale: float, name: str) -> int:
        t = s.TensorT()
        t.shape = list(like.shape)
        t.type = ttype
        t.name = name
        t.buffer = 0
        q = s.QuantizationParametersT()
        q.scale = [float(np.float32(scale))]
        q.zeroPoint = [0]
        t.quantization = q
        tensors.append(t)
        return len(tensors) - 1

    x_in, y_out = op.inputs[0], op.outputs[0]
    x16 = new_tensor(tensors[x_in], s.TensorType.INT16, tensors[x_in].quantization.scale[0] / 200, "x16")
    y16 = new_tensor(tensors[y_out], s.TensorType.INT16, 1.0 / 32768, "y16")
    hidden = tensors[op.inputs[18]]
    hidden.type = s.TensorType.INT16
    hidden.quantization.scale = [float(np.float32(1.0 / 32768))]
    hidden.quantization.zeroPoint = [0]
    for pos in (12, 13, 14, 15):  # int64 biases, at the int16 input's scale product
        bt = tensors[op.inputs[pos]]
        buf = model.buffers[bt.buffer]
        vals = rng.integers(-(1 << 20), 1 << 20, size=int(np.prod(bt.shape))).astype("<i8")
        buf.data = list(vals.tobytes())
        bt.type = s.TensorType.INT64
    op.inputs[0], op.outputs[0] = x16, y16
    codes = model.operatorCodes
    qcode = s.OperatorCodeT()
    qcode.builtinCode = s.BuiltinOperator.QUANTIZE
    qcode.deprecatedBuiltinCode = s.BuiltinOperator.QUANTIZE
    qcode.version = 1
    codes.append(qcode)
    q_in, q_out = s.OperatorT(), s.OperatorT()
    q_in.opcodeIndex = q_out.opcodeIndex = len(codes) - 1
    q_in.inputs, q_in.outputs = [x_in], [x16]
    q_out.inputs, q_out.outputs = [y16], [y_out]
    sg.operators = [q_in, *sg.operators, q_out]
    return _pack(model)


def svdf_keyword_model(seed: int = 0, features: int = 40, memory: int = 8) -> bytes:
    """A small streaming keyword model in the style of TFLM's keyword_scrambled example: one
    feature frame per invocation -> SVDF (rank 1) -> SVDF (rank 2) -> FULLY_CONNECTED -> SOFTMAX,
    int8 activations with int16 SVDF state."""
    rng = np.random.default_rng(seed)
    m = ModelBuilder()
    x = m.input((1, features), "int8", 0.08, -3)
    prev, prev_scale, width = x, 0.08, features
    for units, rank in ((24, 1), (16, 2)):
        filters = units * rank
        swf, swt = 0.004, 0.0012
        ss = float(np.float32(prev_scale * swf * 128 * 64 * math.sqrt(width) / 8192))
        so = float(np.float32(ss * swt * 8192 * 16384 * math.sqrt(memory * rank) / 64))
        wf = m.tensor((filters, width), "int8", swf, 0, rng.integers(-127, 128, (filters, width)))
        wt = m.tensor((filters, memory), "int16", swt, 0, rng.integers(-32767, 32768, (filters, memory)))
        sb = float(np.float32(np.float32(ss) * np.float32(swt)))
        b = m.tensor((units,), "int32", sb, 0, rng.integers(-(1 << 20), 1 << 20, (units,)))
        st = m.tensor((1, memory * filters), "int16", ss, 0, variable=True)
        y = m.tensor((1, units), "int8", so, -5)
        m.op("SVDF", [prev, wf, wt, b, st], [y], options("SVDFOptions", rank=rank))
        prev, prev_scale, width = y, so, units
    classes = 6
    sw = 0.01
    w = m.tensor((classes, width), "int8", sw, 0, rng.integers(-127, 128, (classes, width)))
    b = m.tensor(
        (classes,), "int32", float(np.float32(prev_scale * sw)), 0, rng.integers(-2000, 2000, (classes,))
    )
    logits_scale = float(np.float32(prev_scale * sw * 300))  # logits of about +-40
    logits = m.tensor((1, classes), "int8", logits_scale, 3)
    m.op("FULLY_CONNECTED", [prev, w, b], [logits], options("FullyConnectedOptions"))
    probs = m.tensor((1, classes), "int8", 1.0 / 256, -128)
    beta = float(np.float32(2.0 / (40 * logits_scale)))  # a spread of +-2 in softmax's exponent
    m.op("SOFTMAX", [logits], [probs], options("SoftmaxOptions", beta=beta))
    m.output(probs)
    return m.build()
