"""Degenerate activation ranges in a freshly quantized int8 model, and their repair.

When the calibration data leave a layer's output constant (a ReLU that never fires, a unit whose
weights cancel), the converter gives that tensor an almost empty range: scale ~1e-8. TFLite Micro
then refuses to prepare a per-tensor FULLY_CONNECTED ("scale_diff / output_scale <= 0.02 was not
true": the float32 rounding of its bias scale is large next to such an output scale), and every
kernel would need a requantization multiplier far above 1.

The repair: an int8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED output whose scale is below
1/256 of the layer's input_scale * weight_scale (its whole int8 range is narrower than one step of
the accumulator, so the layer cannot output more than one or two values anyway) gets scale
input_scale * weight_scale / 256; the zero point, and so the value 0, stay. Ops that pass the
scale through unchanged (RESHAPE, MAX_POOL_2D, PAD, ...) get the same scale on their outputs; the
biases of CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED layers reading a repaired tensor are
requantized to the new input scale (same real values). A tensor also read by an op that ties
several inputs to one scale (CONCATENATION, PACK) is left alone; the TFLM check that follows the
conversion then fails with a hint.

repair_degenerate_ranges(tflite bytes) -> (bytes, notes)   unchanged bytes when nothing to do
"""

from __future__ import annotations

from typing import Any

import numpy as np

WEIGHTED = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})
# one data input whose scale the output must keep (the kernels move bytes, they do not requantize)
SCALE_KEEPING = frozenset(
    {
        "RESHAPE",
        "SQUEEZE",
        "EXPAND_DIMS",
        "MAX_POOL_2D",
        "PAD",
        "PADV2",
        "STRIDED_SLICE",
        "SLICE",
        "TRANSPOSE",
        "GATHER",
        "SPLIT",
        "SPLIT_V",
        "UNPACK",
        "DEPTH_TO_SPACE",
        "SPACE_TO_DEPTH",
        "BATCH_TO_SPACE_ND",
        "SPACE_TO_BATCH_ND",
        "RESIZE_NEAREST_NEIGHBOR",
    }
)
# several inputs tied to one scale: a repair would have to change the other inputs too
SCALE_TYING = frozenset({"CONCATENATION", "PACK"})
MAX_MULTIPLIER = 256.0
_INT8 = 9  # TensorType.INT8


def _schema() -> Any:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    return schema


def _scales(t: Any) -> np.ndarray | None:
    q = t.quantization
    if q is None or q.scale is None or not len(q.scale):
        return None
    return np.asarray(q.scale, dtype=np.float64)


def _name(t: Any) -> str:
    n = t.name
    return (n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n or "")).split(";")[0]


def repair_degenerate_ranges(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """Raise degenerate int8 output scales of weighted layers (see the module doc). Returns the
    model bytes (the input, unchanged, when nothing needed a repair) and one note per repair."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    if not model.subgraphs:
        return data, ()
    kinds = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = model.operatorCodes or []

    def kind(op: Any) -> str:
        c = codes[op.opcodeIndex]
        return str(kinds.get(max(int(c.builtinCode), int(c.deprecatedBuiltinCode)), "?"))

    notes: list[str] = []
    for sg in model.subgraphs:
        tensors = sg.tensors or []
        ops = list(sg.operators or [])
        readers: dict[int, list[Any]] = {}
        for op in ops:
            for i in op.inputs if op.inputs is not None else []:
                if i >= 0:
                    readers.setdefault(int(i), []).append(op)
        for j, op in enumerate(ops):
            if kind(op) not in WEIGHTED or op.inputs is None or len(op.inputs) < 2:
                continue
            x, w, y = (tensors[int(op.inputs[0])], tensors[int(op.inputs[1])], tensors[int(op.outputs[0])])
            sx, sw, sy = _scales(x), _scales(w), _scales(y)
            if y.type != _INT8 or sx is None or sw is None or sy is None or len(sy) != 1:
                continue
            floor = float(sx[0] * sw.max()) / MAX_MULTIPLIER
            if not sy[0] < floor:
                continue
            group = _scale_group(int(op.outputs[0]), readers, kind)
            if group is None:
                continue
            new = float(np.float32(floor))
            for t in group:
                tensors[t].quantization.scale = [new]
            for t in group:
                for reader in readers.get(t, []):
                    if kind(reader) in WEIGHTED and int(reader.inputs[0]) == t:
                        _requantize_bias(model, tensors, reader, new)
            notes.append(
                f"op {j} {kind(op)} ('{_name(y)}'): output scale {sy[0]:.3g} -> {new:.3g} (the calibration "
                "data left this output constant; TFLM cannot prepare a layer with such a scale)"
            )
    if not notes:
        return data, ()
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), tuple(notes)


def _scale_group(start: int, readers: dict[int, list[Any]], kind: Any) -> list[int] | None:
    """`start` and the outputs of scale-keeping ops reading it (transitively); None if some
    reader ties the scale to other tensors."""
    group, todo = [start], [start]
    while todo:
        t = todo.pop()
        for op in readers.get(t, []):
            k = kind(op)
            if k in SCALE_TYING:
                return None
            if k in SCALE_KEEPING and int(op.inputs[0]) == t:
                for o in op.outputs:
                    if int(o) not in group:
                        group.append(int(o))
                        todo.append(int(o))
    return group


def _requantize_bias(model: Any, tensors: list[Any], op: Any, new_input_scale: float) -> None:
    """The int32 bias of a weighted layer whose input scale changed: same real values, scale
    new_input_scale * weight_scale (per channel)."""
    if len(op.inputs) < 3 or int(op.inputs[2]) < 0:
        return
    b = tensors[int(op.inputs[2])]
    sb, sw = _scales(b), _scales(tensors[int(op.inputs[1])])
    buf = model.buffers[b.buffer] if 0 < b.buffer < len(model.buffers) else None
    if sb is None or sw is None or buf is None or buf.data is None or b.type != 2:  # INT32
        return
    q = np.frombuffer(np.asarray(buf.data, dtype=np.uint8).tobytes(), dtype="<i4").astype(np.float64)
    real = q * (sb if len(sb) == len(q) else sb[0])
    new_scales = (np.float64(np.float32(new_input_scale)) * sw).astype(np.float32).astype(np.float64)
    new_scales = new_scales if len(new_scales) == len(q) else np.full(len(q), new_scales[0])
    requant = np.clip(np.round(real / new_scales), -(2**31), 2**31 - 1).astype("<i4")
    buf.data = list(requant.tobytes())
    b.quantization.scale = [float(s) for s in (new_scales if len(sb) > 1 else new_scales[:1])]
    b.quantization.zeroPoint = [0] * len(b.quantization.scale)
