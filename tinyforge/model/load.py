"""Load a model for conversion: Keras 3 `.keras`, legacy `.h5`, SavedModel folders, `.tflite`.

`detect_format` and the `.tflite` checks (`tflite_kind`, `check_int8`) need only numpy and the
flatbuffer schema. Loading Keras / SavedModel models imports TensorFlow, inside the functions that
need it, so commands that never convert never pay for (or depend on) TensorFlow.

Loaders are tried in order per format; the one that worked is recorded in `FloatModel.loader`:
  .keras       keras 3, then tf-keras
  .h5          keras 3, then tf-keras (old files: e.g. DepthwiseConv2D(groups=...) breaks Keras 3)
  SavedModel   tf-keras (Keras 3 cannot read them), then tf.saved_model's serving signature
  .tflite      float .tflite models run in the tflite_micro interpreter (for the accuracy report)
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tinyforge.errors import ModelError, UnsupportedOpError
from tinyforge.ir.graph import Graph
from tinyforge.model.calib import InputSpec, Samples
from tinyforge.model.native import quiet_native_output

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"
FORMATS = ("keras", "h5", "savedmodel", "tflite")
FORMAT_HINT = "supported: Keras .keras, legacy .h5, SavedModel folders and .tflite files"

# ---------------------------------------------------------------------------------------------
# formats


def detect_format(path: str | Path) -> str:
    """'keras' | 'h5' | 'savedmodel' | 'tflite', from the file's content (then its suffix)."""
    p = Path(path)
    if not p.exists():
        raise ModelError(f"{p}: no such file or folder", hint="check the path")
    if p.is_dir():
        if (p / "saved_model.pb").is_file() or (p / "saved_model.pbtxt").is_file():
            return "savedmodel"
        raise ModelError(
            f"{p}: folder is not a SavedModel (no saved_model.pb in it)",
            hint=FORMAT_HINT,
        )
    try:
        with p.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ModelError(f"{p}: cannot read ({exc.strerror})") from exc
    if head[4:8] == b"TFL3":
        return "tflite"
    if head == HDF5_MAGIC:
        return "h5"
    if head[:4] == ZIP_MAGIC and p.suffix == ".keras":
        return "keras"
    if p.suffix == ".tflite":
        return "tflite"  # the flatbuffer reader explains what is wrong with it
    if p.suffix in (".keras", ".h5", ".hdf5"):
        raise ModelError(f"{p}: not a valid {p.suffix} file (unexpected content)", hint="re-save the model")
    raise ModelError(
        f"{p}: unknown model format '{p.suffix or p.name}'",
        hint=FORMAT_HINT + "; export other frameworks' models to one of these first",
    )


# ---------------------------------------------------------------------------------------------
# .tflite checks (no TensorFlow)

_WEIGHT_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL"}
_DYNAMIC_SHAPE_OPS = {"SHAPE"}
_ALLOWED_CONST_DTYPES = {"int8", "int32"}


def tflite_kind(graph: Graph) -> str:
    """'int8' | '16x8' | 'float' | 'hybrid' | 'other': what a .tflite file holds, as far as TFLM
    cares ('16x8': int16 activations with int8 weights, TF's
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 mode)."""
    act = {t.dtype for t in graph.activations()}
    if any(_is_hybrid_op(graph, i) for i in range(len(graph.ops))):
        return "hybrid"
    if not int8_violations(graph):
        return "int8"
    if "int16" in act and not int8_violations(graph, sixteen_by_eight=True):
        return "16x8"
    # float32 activations (int32 ones compute shapes; float16 weights are DEQUANTIZEd constants)
    if "float32" in act and act <= {"float32", "int32"}:
        return "float"
    return "other"


def _is_hybrid_op(graph: Graph, op_index: int) -> bool:
    op = graph.ops[op_index]
    if op.kind not in _WEIGHT_OPS:
        return False
    ins = [graph.tensors[i] for i in op.inputs if i >= 0]
    float_act = any(t.dtype == "float32" and not t.is_constant for t in ins)
    int_weight = any(t.dtype in ("int8", "uint8", "int4") and t.is_constant for t in ins)
    return float_act and int_weight


# What the 16x8 scheme adds: int16 activations (int32 ones between QUANTIZE ops), int64 biases
# and int16 constants (PADV2 values, constant ADD/MUL operands).
_16X8_ACTIVATION_DTYPES = {"int8", "int16", "int32"}
_16X8_CONST_DTYPES = _ALLOWED_CONST_DTYPES | {"int16", "int64"}


def int8_violations(graph: Graph, *, sixteen_by_eight: bool = False) -> list[tuple[int, str]]:
    """(op index, why) for every op that TFLM would not run as a full-integer int8 op (with
    `sixteen_by_eight`: as a full-integer int8 or 16x8 op).

    Allowed: builtin ops on int8 tensors with int8/int32 constants (weights, biases, shapes); a
    float32 graph input feeding QUANTIZE and a float32 graph output made by DEQUANTIZE (float I/O).
    """
    from tinyforge.ir.passes import drop_dead_ops, static_reshape

    acts = _16X8_ACTIVATION_DTYPES if sixteen_by_eight else {"int8"}
    consts = _16X8_CONST_DTYPES if sixteen_by_eight else _ALLOWED_CONST_DTYPES
    out: list[tuple[int, str]] = []
    inputs, outputs = set(graph.inputs), set(graph.outputs)
    # shape computations only a RESHAPE reads (SHAPE -> STRIDED_SLICE -> PACK of a Flatten with a
    # dynamic batch) are folded by the compiler; TFLM has int32 kernels for them
    for op in drop_dead_ops(static_reshape(graph)).ops:
        if op.kind.startswith("CUSTOM") or op.kind.startswith("UNKNOWN"):
            out.append((op.index, f"{op.kind} is not a TFLite builtin op"))
            continue
        if op.kind in _DYNAMIC_SHAPE_OPS:
            out.append((op.index, f"{op.kind} computes shapes at run time (dynamic batch?)"))
            continue
        for i in op.inputs:
            if i < 0:
                continue
            t = graph.tensors[i]
            if t.is_constant:
                if t.dtype not in consts:
                    out.append((op.index, f"constant '{t.name}' is {t.dtype}"))
                    break
            elif t.dtype not in acts and not (op.kind == "QUANTIZE" and i in inputs and t.dtype == "float32"):
                out.append((op.index, f"input '{t.name}' is {t.dtype}"))
                break
        else:
            for i in op.outputs:
                t = graph.tensors[i]
                if t.dtype not in acts and not (
                    op.kind == "DEQUANTIZE" and i in outputs and t.dtype == "float32"
                ):
                    out.append((op.index, f"output '{t.name}' is {t.dtype}"))
                    break
    return out


def check_int8(graph: Graph, path: str, layer_of: Callable[[int], str | None] | None = None) -> None:
    """Raise UnsupportedOpError naming the first op (and its layer) that is not int8 for TFLM."""
    problems = int8_violations(graph)
    if not problems:
        return
    # name the op that stayed float, not the DEQUANTIZE/QUANTIZE the converter put around it
    edges = ("QUANTIZE", "DEQUANTIZE")
    idx, why = min(problems, key=lambda p: (graph.ops[p[0]].kind in edges, p[0]))
    op = graph.ops[idx]
    layer = layer_of(idx) if layer_of else None
    where = f"layer '{layer}' (op {idx} {op.kind})" if layer else f"op {idx} {op.kind} ('{op.name}')"
    more = f"; {len(problems) - 1} more op(s) too" if len(problems) > 1 else ""
    raise UnsupportedOpError(
        f"{path}: {where} is not full-integer int8: {why}{more}",
        hint="TFLM runs int8 builtin ops only: replace the layer with int8-quantizable ops "
        "(see `tinyforge inspect` for the op list), or drop it from the model",
    )


def check_int8_tflite(graph: Graph, path: str) -> None:
    """Validate a ready-made .tflite for pass-through: int8 or 16x8 (or a clear error what it is
    instead)."""
    kind = tflite_kind(graph)
    if kind in ("int8", "16x8"):
        return
    if kind == "hybrid":
        raise ModelError(
            f"{path}: is a hybrid (dynamic-range) model: int8 weights, float activations; "
            "TFLM cannot run hybrid models",
            hint="convert the float Keras/SavedModel source with `tinyforge convert MODEL --calib DATA` "
            "(full-integer int8)",
        )
    check_int8(graph, path)


# ---------------------------------------------------------------------------------------------
# TensorFlow, quietly


def import_tensorflow() -> Any:
    """TensorFlow with its start-up chatter silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # bit-stable float results across runs
    with quiet_native_output():
        import tensorflow as tf

        tf.get_logger().setLevel("ERROR")
    return tf


# ---------------------------------------------------------------------------------------------
# float models


@dataclass(frozen=True)
class OutputSpec:
    name: str
    shape: tuple[int, ...]  # batch 1


@dataclass(frozen=True)
class FloatModel:
    """A loaded float model: its I/O at batch 1, its layers, and how to run it."""

    path: str
    format: str  # one of FORMATS
    loader: str  # "keras 3.x" | "tf-keras 2.x" | "tf.saved_model" | "tflite_micro"
    inputs: tuple[InputSpec, ...]
    outputs: tuple[OutputSpec, ...]
    layers: tuple[tuple[str, str], ...]  # (layer name, layer class), in model order
    notes: tuple[str, ...] = ()  # why earlier loaders were skipped
    # keras model, tf.function or tflite bytes: used by `predict` and `quantize`
    handle: Any = field(default=None, repr=False, compare=False)


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[-1] if lines and "Exception encountered" in lines[-1] else (lines[0] if lines else "")
    text = text.replace("Exception encountered: ", "")
    return f"{type(exc).__name__}: {text[:160]}"


_NAME_OK = re.compile(r"[^A-Za-z0-9_.\-]")


def _spec_name(name: str, index: int) -> str:
    name = _NAME_OK.sub("_", name.split(":")[0]) or f"input_{index}"
    return name if re.match(r"[A-Za-z0-9.]", name) else f"input_{name}"


def _batch1(shape: Sequence[Any], what: str, path: str) -> tuple[int, ...]:
    dims = [None if d is None else int(d) for d in shape]
    if not dims:
        raise ModelError(f"{path}: {what} is a scalar; tinyforge needs a batch dimension")
    rest = [d for d in dims[1:] if d is not None and d >= 0]
    if len(rest) != len(dims) - 1:
        raise ModelError(
            f"{path}: {what} has an unknown dimension, shape {['?' if d is None else d for d in dims]}",
            hint="give the model a fixed input shape (keras.Input(shape=(...))) and save it again",
        )
    if dims[0] not in (None, 1) and dims[0] >= 0:
        raise ModelError(
            f"{path}: {what} has a fixed batch of {dims[0]}; microcontrollers run batch 1",
            hint="rebuild the model with keras.Input(shape=...) (no batch_size) and save it again",
        )
    return (1, *(int(d) for d in rest))


def _keras_model(path: Path, fmt: str) -> tuple[Any | None, str, list[str]]:
    """Load with Keras 3, then tf-keras: (model, loader, notes), model None if none could."""
    tf = import_tensorflow()
    del tf
    notes: list[str] = []
    attempts: list[tuple[str, Callable[[], Any]]] = []
    if fmt in ("keras", "h5"):

        def k3() -> Any:
            import keras

            return keras.saving.load_model(str(path), compile=False), f"keras {keras.__version__}"

        attempts.append(("keras 3", k3))
    else:
        notes.append("keras 3: cannot read SavedModel folders")

    def legacy() -> Any:
        import tf_keras

        return tf_keras.models.load_model(str(path), compile=False), f"tf-keras {tf_keras.__version__}"

    attempts.append(("tf-keras", legacy))
    for label, fn in attempts:
        try:
            with quiet_native_output():
                model, loader = fn()
            if fmt == "savedmodel" and not _has_inputs(model):
                notes.append(f"{label}: the SavedModel holds no Keras model")
                continue
            return model, loader, notes
        except ImportError as exc:
            notes.append(f"{label}: not installed ({exc.name})")
        except Exception as exc:  # each loader fails in its own way on files it cannot read
            notes.append(f"{label}: {_first_line(exc)}")
    return None, "", notes


def _has_inputs(model: Any) -> bool:
    try:
        return bool(getattr(model, "layers", None)) and bool(model.inputs)
    except (AttributeError, ValueError):
        return False


_LOAD_HINT = (
    "models with custom layers or Lambda layers cannot be loaded without their code: "
    "re-save the model with plain Keras layers, or export a SavedModel with a serving signature"
)


def _from_keras(path: Path, fmt: str, model: Any, loader: str, notes: list[str]) -> FloatModel:
    try:
        raw_inputs = list(model.inputs)
    except (AttributeError, ValueError) as exc:
        raise ModelError(
            f"{path}: the model has no defined inputs (a Sequential model never built?)",
            hint="build it with keras.Input(shape=...) as its first layer and save it again",
        ) from exc
    inputs = []
    for i, t in enumerate(raw_inputs):
        dtype = getattr(t.dtype, "name", t.dtype)
        name = _spec_name(str(getattr(t, "name", "") or f"input_{i}"), i)
        inputs.append(InputSpec(name, _batch1(tuple(t.shape), f"input '{name}'", str(path)), str(dtype)))
    out_names = list(getattr(model, "output_names", None) or [])
    outputs = []
    for i, t in enumerate(model.outputs):
        name = out_names[i] if i < len(out_names) else f"output_{i}"
        shape = tuple(1 if d is None else int(d) for d in t.shape)
        outputs.append(OutputSpec(str(name), shape))
    layers = tuple((str(layer.name), type(layer).__name__) for layer in _walk_layers(model))
    return FloatModel(
        path=str(path),
        format=fmt,
        loader=loader,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        layers=layers,
        notes=tuple(notes),
        handle=model,
    )


def from_keras_model(model: Any, name: str = "<in-memory model>") -> FloatModel:
    """Wrap a Keras 3 or tf-keras model object (for scripts and tests that build one in memory)."""
    top = type(model).__module__.split(".")[0]
    if top == "tf_keras":
        import tf_keras

        loader = f"tf-keras {tf_keras.__version__}"
    else:
        import keras

        loader = f"keras {keras.__version__}"
    return _from_keras(Path(name), "keras", model, loader, [])


def _walk_layers(model: Any) -> Iterator[Any]:
    for layer in getattr(model, "layers", []):
        yield layer
        if hasattr(layer, "layers") and layer is not model:
            yield from _walk_layers(layer)


def _from_signature(path: Path, notes: list[str]) -> FloatModel:
    tf = import_tensorflow()
    try:
        with quiet_native_output():
            obj = tf.saved_model.load(str(path))
    except Exception as exc:
        notes.append(f"tf.saved_model: {_first_line(exc)}")
        raise ModelError(f"{path}: cannot load the SavedModel ({'; '.join(notes)})", hint=_LOAD_HINT) from exc
    sigs = dict(getattr(obj, "signatures", {}) or {})
    if not sigs:
        raise ModelError(
            f"{path}: the SavedModel has no signatures",
            hint="export it with tf.saved_model.save(model, path, signatures=...)",
        )
    key = "serving_default" if "serving_default" in sigs else sorted(sigs)[0]
    fn = sigs[key]
    _args, kwargs = fn.structured_input_signature
    names = sorted(kwargs)
    inputs = tuple(
        InputSpec(
            _spec_name(n, i), _batch1(tuple(kwargs[n].shape), f"input '{n}'", str(path)), kwargs[n].dtype.name
        )
        for i, n in enumerate(names)
    )
    outs = fn.structured_outputs
    out_names = sorted(outs) if isinstance(outs, dict) else [f"output_{i}" for i in range(len(outs))]
    outputs = tuple(
        OutputSpec(
            n,
            tuple(1 if d is None else int(d) for d in (outs[n] if isinstance(outs, dict) else outs[i]).shape),
        )
        for i, n in enumerate(out_names)
    )

    def call(*xs: Any) -> list[Any]:
        # through `obj`, which must stay alive: its variables die with it
        result = obj.signatures[key](**{n: x for n, x in zip(names, xs, strict=True)})
        return [result[n] for n in out_names] if isinstance(result, dict) else list(result)

    return FloatModel(
        path=str(path),
        format="savedmodel",
        loader=f"tf.saved_model ({key})",
        inputs=inputs,
        outputs=outputs,
        layers=(),
        notes=tuple(notes),
        handle=call,
    )


def _from_float_tflite(path: Path, data: bytes, graph: Graph, *, densified: int = 0) -> FloatModel:
    """A float .tflite, its float16 constants made float32 (DEQUANTIZE folded) and sparse tensors
    dense (the reader did those), so the float reference and the quantizer read plain float32."""
    from tinyforge.model.normalize import normalized_float_tflite
    from tinyforge.model.tflite import parse_tflite

    data, rewrite = normalized_float_tflite(data, str(path))
    loader = "tflite_micro (float reference kernels)"
    done = []
    if densified:
        done.append(f"{densified} sparse tensor(s) made dense")
    if rewrite.folded_ops:
        done.append(f"{len(rewrite.folded_ops)} float16 constant(s) made float32")
        graph = parse_tflite(data, str(path)).graph
    if done:
        loader += "; " + ", ".join(done)
    inputs = tuple(
        InputSpec(_spec_name(graph.tensors[i].name, n), graph.tensors[i].shape, graph.tensors[i].dtype)
        for n, i in enumerate(graph.inputs)
    )
    for spec in inputs:
        if not spec.shape or spec.shape[0] != 1:
            raise ModelError(f"{path}: input '{spec.name}' shape {spec.shape}: tinyforge needs batch 1")
    outputs = tuple(OutputSpec(graph.tensors[i].name, graph.tensors[i].shape) for i in graph.outputs)
    return FloatModel(
        path=str(path),
        format="tflite",
        loader=loader,
        inputs=inputs,
        outputs=outputs,
        layers=(),
        handle=data,
    )


def load_model(path: str | Path) -> FloatModel:
    """Load a float model (Keras, SavedModel or float .tflite) for quantization."""
    p = Path(path)
    fmt = detect_format(p)
    if fmt == "tflite":
        from tinyforge.model.tflite import read_tflite

        loaded = read_tflite(p)
        kind = tflite_kind(loaded.graph)
        if kind == "int8":
            raise ModelError(f"{p}: is already an int8 model", hint="use it as it is")
        if kind != "float":
            check_int8_tflite(loaded.graph, str(p))  # raises with the reason
        return _from_float_tflite(p, loaded.data, loaded.graph, densified=len(loaded.info.densified))
    model, loader, notes = _keras_model(p, fmt)
    if model is not None:
        return _from_keras(p, fmt, model, loader, notes)
    if fmt == "savedmodel":
        return _from_signature(p, notes)
    raise ModelError(f"{p}: no Keras loader could read it ({'; '.join(notes)})", hint=_LOAD_HINT)


# ---------------------------------------------------------------------------------------------
# running the float model (the reference side of the accuracy report)


def keras_call(model: FloatModel) -> Callable[..., list[Any]]:
    """A function of one tensor per input returning one tensor per output (TensorFlow)."""
    handle = model.handle
    if callable(handle) and not hasattr(handle, "layers"):
        return handle  # a signature wrapper
    tf = import_tensorflow()
    multi = len(model.inputs) > 1

    def call(*xs: Any) -> list[Any]:
        result = handle(list(xs) if multi else xs[0], training=False)
        return list(tf.nest.flatten(result))

    return call


def predict(model: FloatModel, samples: Samples, batch: int = 32) -> tuple[np.ndarray, ...]:
    """Float outputs for every sample, one array (N, *output shape[1:]) per output."""
    if model.format == "tflite":
        from tinyforge.model.reference import run_tflm

        return run_tflm(model.handle, samples)
    tf = import_tensorflow()
    call = keras_call(model)
    parts: list[list[np.ndarray]] = [[] for _ in model.outputs]
    for start in range(0, samples.count, batch):
        xs = [tf.constant(a) for a in samples.batch(start, start + batch)]
        outs = call(*xs)
        if len(outs) != len(model.outputs):
            raise ModelError(
                f"{model.path}: the model returned {len(outs)} outputs, expected {len(model.outputs)}"
            )
        for k, o in enumerate(outs):
            parts[k].append(np.asarray(o, dtype=np.float32))
    return tuple(np.concatenate(p, axis=0) for p in parts)
