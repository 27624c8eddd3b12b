"""The convert stage: any model -> a full-integer int8 `.tflite` that TFLM runs.

load (load.py) -> calibration data (calib.py) -> full-integer PTQ (quantize.py) -> accuracy report
in the tflite_micro interpreter (report.py). TensorFlow is imported only when a float model is
really converted; an int8 `.tflite` passes through after validation without it.

convert(model, output) -> ConvertResult        the `tinyforge convert` command
ensure_int8_tflite(model) -> (path, result)    for `build` / `test`: convert only when needed
load_int8_model(model) -> LoadedModel          the same, read back as a LoadedModel
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tinyforge.errors import ModelError, TinyforgeError, UsageError
from tinyforge.ir.graph import Graph
from tinyforge.ir.passes import check_quantized
from tinyforge.model import calib as calib_mod
from tinyforge.model.load import check_int8_tflite, detect_format, load_model, predict, tflite_kind
from tinyforge.model.quantize import ConvertResult, TensorQuant, quantize
from tinyforge.model.reference import run_tflm
from tinyforge.model.report import compare
from tinyforge.model.tflite import LoadedModel, read_tflite


def default_output(source: Path) -> Path:
    """Where `convert` writes when no output is given: `<stem>_int8.tflite` beside the source."""
    stem = source.name.rstrip("/").removesuffix(".keras").removesuffix(".h5").removesuffix(".tflite")
    return source.resolve().parent / f"{stem}_int8.tflite"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file, so a failed write leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise TinyforgeError(
            f"{path}: cannot write ({exc.strerror})", hint="choose another place with -o"
        ) from exc


def convert(
    model: str | Path,
    output: str | Path | None = None,
    *,
    calib: str | Path | None = None,
    eval_data: str | Path | None = None,
    labels: str | Path | None = None,
    io: str | None = None,
    report: bool = True,
) -> ConvertResult:
    """Keras / SavedModel / float .tflite -> full-integer int8 .tflite for TFLM, with a report of
    float vs int8 outputs (int8 run in the tflite_micro interpreter). An int8 .tflite is validated
    and passed through (copied to `output` if given). `io`: "int8" (default) or "float"."""
    source = Path(model)
    if io not in (None, "int8", "float"):
        raise UsageError(f"--io {io}: expected int8 or float")
    timings: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    fmt = detect_format(source)
    if fmt == "tflite":
        loaded = read_tflite(source)
        if tflite_kind(loaded.graph) in ("int8", "16x8", "hybrid", "other"):
            return _pass_through(
                loaded, source, output, calib=calib, eval_data=eval_data, labels=labels, io=io
            )
    fm = load_model(source)
    timings.append(("load", time.perf_counter() - t0))
    warnings: list[str] = []
    if calib is not None:
        samples = calib_mod.load_samples(calib, fm.inputs, what="--calib")
    else:
        samples = calib_mod.synthetic_samples(fm.inputs)
        warnings.append(
            f"no --calib data: calibrated on {samples.count} random samples, so int8 accuracy is "
            "unknown and likely poor; pass --calib with ~100-500 real, preprocessed inputs "
            "(.npy shaped N x input shape)"
        )
    if not report and (eval_data or labels):
        raise UsageError("--eval/--labels need the report")
    # read and check all data before the slow part
    ev = calib_mod.load_samples(eval_data, fm.inputs, what="--eval") if eval_data else samples
    if labels and ev.synthetic:
        raise UsageError("--labels need real samples to label", hint="give --eval (or --calib) data too")
    lab = calib_mod.load_labels(labels, ev.count) if labels else None
    t = time.perf_counter()
    qm = quantize(fm, samples, io=io or "int8")
    timings.append(("quantize", time.perf_counter() - t))
    out = Path(output) if output else default_output(source)
    write_atomic(out, qm.data)
    acc = None
    if report:
        t = time.perf_counter()
        float_outs = predict(fm, ev)
        try:
            int8_outs = run_tflm(qm.data, ev)
        except ModelError as exc:
            raise ModelError(f"{out}: written, but {exc.message}", hint=exc.hint) from exc
        classifier = [g_op in ("SOFTMAX", "LOGISTIC") for g_op in output_producers(qm.graph)]
        acc = compare(
            float_outs,
            int8_outs,
            [o.name for o in fm.outputs],
            data=ev.source,
            classifier=classifier,
            labels=lab,
            labels_source=str(labels) if labels else None,
        )
        timings.append(("report", time.perf_counter() - t))
    return ConvertResult(
        source=str(source),
        source_format=fm.format,
        loader=fm.loader,
        converter=qm.converter,
        output=str(out),
        size_bytes=len(qm.data),
        sha256=hashlib.sha256(qm.data).hexdigest(),
        io=qm.io,
        inputs=qm.inputs,
        outputs=qm.outputs,
        ops=tuple(sorted(Counter(op.kind for op in qm.graph.ops).items())),
        calibration=samples.source,
        calibration_samples=samples.count,
        report=acc,
        loader_notes=fm.notes,
        warnings=tuple(warnings),
        timings=tuple(timings),
    )


def _pass_through(
    loaded: LoadedModel,
    source: Path,
    output: str | Path | None,
    *,
    calib: str | Path | None,
    eval_data: str | Path | None,
    labels: str | Path | None,
    io: str | None,
) -> ConvertResult:
    """A .tflite that is not float: validated as int8 (or a clear error), copied to `output`."""
    check_int8_tflite(loaded.graph, str(source))  # raises unless int8 (or 16x8)
    kind = tflite_kind(loaded.graph)
    if eval_data or labels or calib:
        raise UsageError(
            f"{source}: is already {kind}; --calib/--eval/--labels need the float model",
            hint="give the Keras/SavedModel source to compare float and int8",
        )
    g = loaded.graph
    has_io = {"float32": "float", "int16": "int16"}.get(g.tensors[g.inputs[0]].dtype, "int8")
    if io is not None and io != has_io:
        raise UsageError(
            f"{source}: is already {kind} with {has_io} I/O; --io {io} needs the float model",
            hint="give the Keras/SavedModel source to choose the I/O type",
        )
    out = Path(output) if output else source
    if output and out.resolve() != source.resolve():
        write_atomic(out, loaded.data)
    return ConvertResult(
        source=str(source),
        source_format="tflite",
        loader="tflite (flatbuffer reader)",
        converter=f"none (already {kind})",
        output=str(out),
        size_bytes=len(loaded.data),
        sha256=hashlib.sha256(loaded.data).hexdigest(),
        io=has_io,
        inputs=tuple(TensorQuant.of(g.tensors[i]) for i in g.inputs),
        outputs=tuple(TensorQuant.of(g.tensors[i]) for i in g.outputs),
        ops=tuple(sorted(Counter(op.kind for op in g.ops).items())),
        calibration="none",
        calibration_samples=0,
    )


def output_producers(graph: Graph) -> list[str]:
    """For each graph output, the op that computes it (looking through a final DEQUANTIZE)."""
    made_by = {o: op for op in graph.ops for o in op.outputs}
    kinds = []
    for i in graph.outputs:
        op = made_by.get(i)
        if op is not None and op.kind == "DEQUANTIZE" and op.inputs and op.inputs[0] in made_by:
            op = made_by[op.inputs[0]]
        kinds.append(op.kind if op is not None else "")
    return kinds


def ensure_int8_tflite(
    model_path: str | Path,
    calib: str | Path | None = None,
    *,
    output: str | Path | None = None,
    io: str | None = None,
    eval_data: str | Path | None = None,
    labels: str | Path | None = None,
) -> tuple[Path, ConvertResult | None]:
    """The int8 .tflite for `model_path`: an int8 .tflite passes through after validation (no
    TensorFlow import, result None); anything else is converted (to `output`, default beside the
    source) and its ConvertResult returned. For `build` and `test`."""
    path = Path(model_path)
    if detect_format(path) == "tflite":
        loaded = read_tflite(path)
        if tflite_kind(loaded.graph) != "float":
            check_int8_tflite(loaded.graph, str(path))
            return path, None
    result = convert(path, output, calib=calib, eval_data=eval_data, labels=labels, io=io)
    return Path(result.output), result


def load_int8_model(model: str | Path, **convert_options: Any) -> LoadedModel:
    """Read an int8 `.tflite`; anything else (Keras, SavedModel, float .tflite) is converted first."""
    path = Path(model)
    if path.suffix.lower() == ".tflite" and path.is_file():
        loaded = read_tflite(path)
        if not needs_conversion(loaded):
            return loaded
    if not path.exists():
        raise ModelError(f"{path}: no such file", hint="check the path")
    int8_path, _result = ensure_int8_tflite(path, **convert_options)
    return read_tflite(int8_path)


def needs_conversion(loaded: LoadedModel) -> bool:
    """True when some layer still computes in float (a float or hybrid .tflite)."""
    try:
        check_quantized(loaded.graph)
    except ModelError:
        return True
    return False
