"""Full-integer post-training quantization: FloatModel + calibration samples -> int8 .tflite bytes.

Keras / SavedModel models: the model is re-traced as a `tf.function` with a fixed batch-1 input
signature (so a Flatten stays one RESHAPE with a constant shape instead of a SHAPE/PACK/GATHER
chain), its variables are frozen into constants, and TensorFlow's TFLite converter quantizes it
with TFLITE_BUILTINS_INT8 only: int8 weights (per channel for convolutions), int8 activations,
int32 biases, int8 (or, with io="float", float32 + QUANTIZE/DEQUANTIZE) inputs and outputs.

Float `.tflite` models: ai-edge-quantizer's static int8 recipe (min/max calibration), int8 I/O.

Every result is checked op by op (`load.check_int8`); an op left in float names its layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinyforge.errors import ModelError, UnsupportedOpError, UsageError
from tinyforge.ir.graph import Graph, Tensor
from tinyforge.model.calib import Samples
from tinyforge.model.load import FloatModel, check_int8, import_tensorflow, keras_call
from tinyforge.model.native import quiet_native_output

IO_TYPES = ("int8", "float")
_RECURRENT = {"LSTM", "GRU", "SimpleRNN", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}


@dataclass(frozen=True)
class TensorQuant:
    """A model input or output: its dtype and, for int8/int16, real = scale * (q - zero_point)."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float | None = None
    zero_point: int | None = None

    @staticmethod
    def of(t: Tensor) -> TensorQuant:
        if t.quant is not None and t.quant.scale and t.dtype in ("int8", "int16"):
            return TensorQuant(t.name, t.shape, t.dtype, float(t.quant.scale[0]), int(t.quant.zero_point[0]))
        return TensorQuant(t.name, t.shape, t.dtype)

    def describe(self) -> str:
        q = f" scale={self.scale:.6g} zero_point={self.zero_point}" if self.scale is not None else ""
        return f"{self.name} {list(self.shape)} {self.dtype}{q}"


@dataclass(frozen=True)
class QuantizedModel:
    """The int8 flatbuffer and what made it."""

    data: bytes = field(repr=False)
    converter: str
    io: str
    graph: Graph = field(repr=False, compare=False)

    @property
    def inputs(self) -> tuple[TensorQuant, ...]:
        return tuple(TensorQuant.of(self.graph.tensors[i]) for i in self.graph.inputs)

    @property
    def outputs(self) -> tuple[TensorQuant, ...]:
        return tuple(TensorQuant.of(self.graph.tensors[i]) for i in self.graph.outputs)


def quantize(model: FloatModel, calib: Samples, io: str = "int8") -> QuantizedModel:
    """Quantize `model` to a full-integer int8 .tflite calibrated on `calib`."""
    if io not in IO_TYPES:
        raise UsageError(f"--io {io}: expected one of {', '.join(IO_TYPES)}")
    if model.format == "tflite":
        return _quantize_float_tflite(model, calib, io)
    return _quantize_tf(model, calib, io)


# ---------------------------------------------------------------------------------------------
# layer names for error messages

_SUFFIX = re.compile(r"_\d+$")


def _layer_in(name: str, layers: set[str]) -> str | None:
    """The innermost path component of a TF/TFLite tensor name that is a Keras layer name
    (Keras 3 scopes append `_1`, `_2`... to layer names)."""
    found = None
    for part in name.split(";")[0].split("/")[1:]:
        if part in layers:
            found = part
        else:
            base = _SUFFIX.sub("", part)
            while base != part and base not in layers and _SUFFIX.search(base):
                part, base = base, _SUFFIX.sub("", base)
            if base in layers:
                found = base
    return found


def _norm(kind: str) -> str:
    return kind.replace("_", "").lower()


def _layer_finder(
    model: FloatModel, graph: Graph, tf_ops: list[tuple[str, str]]
) -> Callable[[int], str | None]:
    layers = {n for n, _cls in model.layers}

    def layer_of(op_index: int) -> str | None:
        op = graph.ops[op_index]
        found = _layer_in(op.name, layers)
        if found:
            return found
        # graph outputs are renamed (Identity...): find the TF op of the same type
        for tf_name, tf_type in tf_ops:
            if _norm(tf_type) == _norm(op.kind) or _norm(tf_type) == _norm(op.kind) + "v2":
                found = _layer_in(tf_name, layers)
                if found:
                    return found
        return None

    return layer_of


def _check_recurrent(model: FloatModel) -> None:
    handle = model.handle
    for layer in _iter_layers(handle):
        cls = type(layer).__name__
        inner = getattr(layer, "forward_layer", None)  # Bidirectional
        target = inner if inner is not None else layer
        if (cls in _RECURRENT or type(target).__name__ in _RECURRENT) and not getattr(target, "unroll", True):
            raise UnsupportedOpError(
                f"{model.path}: layer '{layer.name}' ({cls}) is a recurrent loop, which the int8 "
                "converter cannot turn into TFLM builtin ops",
                hint="rebuild the layer with unroll=True (fixed sequence length) and save the model again",
            )


def _iter_layers(handle: Any) -> Iterator[Any]:
    for layer in getattr(handle, "layers", []) or []:
        yield layer
        if hasattr(layer, "layers"):
            yield from _iter_layers(layer)


# ---------------------------------------------------------------------------------------------
# Keras / SavedModel -> TFLiteConverter


def _converter_error(model: FloatModel, exc: Exception, log: str) -> UnsupportedOpError | ModelError:
    text = str(exc) + "\n" + log
    layers = {n for n, _c in model.layers}
    op = re.search(r"'tf\.(\w+)' op", text) or re.search(r"op '(\w+)'", text)
    loc_names = re.findall(r'loc\((?:fused\[|callsite\()?"([^"]+)"', text)
    layer = next((found for n in loc_names if (found := _layer_in(n, layers))), None)
    if op:
        where = f"layer '{layer}' (op {op.group(1)})" if layer else f"op {op.group(1)}"
        return UnsupportedOpError(
            f"{model.path}: {where} cannot be converted to int8 TFLite builtin ops",
            hint="TFLM runs int8 builtin ops only: replace the layer with supported ops or remove it",
        )
    errors = [ln.strip() for ln in text.splitlines() if "error:" in ln.lower()]
    detail = errors[0] if errors else (str(exc).strip().splitlines() or ["(no message)"])[0]
    return ModelError(
        f"{model.path}: the TFLite converter failed: {detail[:200]}",
        hint="check that the model runs in TensorFlow with a batch of 1",
    )


def _trace_batch1(model: FloatModel) -> tuple[Any, list[tuple[str, str]]]:
    """A frozen (variables -> constants) concrete function with batch-1 input signatures."""
    tf = import_tensorflow()
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    call = keras_call(model)
    specs = [tf.TensorSpec(s.shape, tf.as_dtype(s.dtype), name=s.name) for s in model.inputs]

    def fn(*xs: Any) -> list[Any]:
        return call(*xs)

    try:
        with quiet_native_output():
            concrete = tf.function(fn, autograph=False).get_concrete_function(*specs)
            frozen = convert_variables_to_constants_v2(concrete)
    except Exception as exc:  # tracing runs user model code
        raise ModelError(
            f"{model.path}: cannot trace the model with a batch-1 input ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160] if str(exc) else ''})",
            hint="the model must run on inputs of shape "
            + ", ".join(str(list(s.shape)) for s in model.inputs),
        ) from exc
    tf_ops = [(op.name, op.type) for op in frozen.graph.get_operations()]
    return frozen, tf_ops


def _quantize_tf(model: FloatModel, calib: Samples, io: str) -> QuantizedModel:
    from tinyforge.model.tflite import parse_tflite

    _check_recurrent(model)
    tf = import_tensorflow()
    frozen, tf_ops = _trace_batch1(model)

    def representative() -> Iterator[list[np.ndarray]]:
        for i in range(calib.count):
            yield calib.sample(i)

    io_type = tf.int8 if io == "int8" else tf.float32
    log: list[str] = []
    try:
        with quiet_native_output() as log:
            # (the "deprecated conversion path" of a frozen function: the one that freezes Keras 3
            # variables; the SavedModel path keeps them as VAR_HANDLE/READ_VARIABLE ops)
            converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = representative
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = io_type
            converter.inference_output_type = io_type
            data = bytes(converter.convert())
    except Exception as exc:  # ConverterError, and RuntimeErrors from calibration
        raise _converter_error(model, exc, "".join(log)) from exc
    loaded = parse_tflite(data, model.path)
    check_int8(loaded.graph, model.path, _layer_finder(model, loaded.graph, tf_ops))
    return QuantizedModel(
        data=data, converter=f"TFLiteConverter (TensorFlow {tf.__version__})", io=io, graph=loaded.graph
    )


# ---------------------------------------------------------------------------------------------
# float .tflite -> ai-edge-quantizer


def _signature(data: bytes) -> tuple[bytes, str, list[str]]:
    """(model bytes with a signature, signature key, input names in subgraph input order)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    sg = model.subgraphs[0]
    order = [int(i) for i in sg.inputs]
    for sig in model.signatureDefs or []:
        if sig.subgraphIndex == 0 and sig.inputs:
            by_index = {int(m.tensorIndex): m.name for m in sig.inputs}
            if set(by_index) == set(order):
                key = sig.signatureKey
                names = [by_index[i] for i in order]
                return (
                    data,
                    key.decode() if isinstance(key, bytes) else str(key),
                    [n.decode() if isinstance(n, bytes) else str(n) for n in names],
                )

    def tmap(name: str, index: int) -> Any:
        t = schema.TensorMapT()
        t.name, t.tensorIndex = name, index
        return t

    sig = schema.SignatureDefT()
    sig.signatureKey, sig.subgraphIndex = "serving_default", 0
    names = [f"input_{n}" for n in range(len(order))]
    sig.inputs = [tmap(n, i) for n, i in zip(names, order, strict=True)]
    sig.outputs = [tmap(f"output_{n}", int(i)) for n, i in enumerate(sg.outputs)]
    model.signatureDefs = [sig]
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), "serving_default", names


def _quantize_float_tflite(model: FloatModel, calib: Samples, io: str) -> QuantizedModel:
    from tinyforge.model.tflite import parse_tflite

    if io != "int8":
        raise UsageError(
            f"{model.path}: --io float is not available when quantizing a float .tflite",
            hint="use --io int8, or convert the Keras/SavedModel source to keep float I/O",
        )
    try:
        from importlib.metadata import version

        from ai_edge_quantizer import quantizer, recipe
    except ImportError as exc:
        raise ModelError(
            f"{model.path}: is a float .tflite; quantizing it needs the ai-edge-quantizer package",
            hint="pip install ai-edge-quantizer, or convert the Keras/SavedModel source instead",
        ) from exc
    data, key, names = _signature(model.handle)
    calibration = {key: [dict(zip(names, calib.sample(i), strict=True)) for i in range(calib.count)]}
    try:
        with quiet_native_output():
            q = quantizer.Quantizer(bytearray(data), recipe.static_wi8_ai8())
            result = q.quantize(q.calibrate(calibration, num_threads=1), enable_progress_report=False)
            out = bytes(result.quantized_model)
    except Exception as exc:  # the quantizer raises many kinds on what it cannot handle
        raise ModelError(
            f"{model.path}: ai-edge-quantizer failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}",
            hint="convert the Keras/SavedModel source with `tinyforge convert` instead",
        ) from exc
    loaded = parse_tflite(out, model.path)
    check_int8(loaded.graph, model.path)
    return QuantizedModel(
        data=out,
        converter=f"ai-edge-quantizer {version('ai-edge-quantizer')} (static_wi8_ai8)",
        io=io,
        graph=loaded.graph,
    )


# ---------------------------------------------------------------------------------------------
# the convert stage's result


@dataclass(frozen=True)
class ConvertResult:
    """What `tinyforge convert` made, from what, how, and how close to the float model it is."""

    source: str
    source_format: str  # keras | h5 | savedmodel | tflite
    loader: str  # which loader read the model ("keras 3.x", "tf-keras 2.x", ...)
    converter: str  # which quantizer wrote the int8 model ("none" for an int8 pass-through)
    output: str
    size_bytes: int
    sha256: str
    io: str  # int8 | float
    inputs: tuple[TensorQuant, ...]
    outputs: tuple[TensorQuant, ...]
    ops: tuple[tuple[str, int], ...]  # op kind -> count, sorted by kind
    calibration: str  # a path, "synthetic", or "none"
    calibration_samples: int
    report: Any = None  # report.AccuracyReport | None
    loader_notes: tuple[str, ...] = ()  # loaders that failed before the one that worked
    warnings: tuple[str, ...] = ()
    timings: tuple[tuple[str, float], ...] = field(default=(), compare=False)  # stage, seconds

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        d = asdict(self)
        d["ops"] = dict(self.ops)
        d["timings"] = {k: round(v, 3) for k, v in self.timings}
        return d
