"""The convert stage: any model -> a full-integer int8 `.tflite` that TFLM runs.

load (load.py) -> calibration data (calib.py) -> full-integer PTQ (quantize.py) -> accuracy report
in the tflite_micro interpreter (report.py). TensorFlow is imported only when a float model is
really converted; an int8 `.tflite` passes through after validation without it.

convert(model, output) -> ConvertResult        the `tinyforge convert` command
ensure_int8_tflite(model) -> (path, result)    convert only when needed (to a path you give)
load_int8_model(model) -> LoadedModel          for `build` / `test`: an int8 .tflite as is; anything
                                               else converted into a work folder (never beside the
                                               user's file), with a ConversionNote saying how
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tinyforge.errors import ModelError, TinyforgeError, UsageError
from tinyforge.ir.graph import Graph
from tinyforge.ir.passes import run_passes
from tinyforge.model import calib as calib_mod
from tinyforge.model.load import check_int8_tflite, detect_format, load_model, predict, tflite_kind
from tinyforge.model.quantize import ConvertResult, TensorQuant, quantize
from tinyforge.model.ranges import repair_degenerate_ranges
from tinyforge.model.reference import prepare_problem, run_tflm, tflm_hint
from tinyforge.model.report import compare
from tinyforge.model.tflite import LoadedModel, parse_tflite, read_tflite


def read_graph(data: bytes, path: str) -> Graph:
    return parse_tflite(data, path).graph


def default_output(source: Path) -> Path:
    """Where `convert` writes when no output is given: `<stem>_int8.tflite` beside the source."""
    stem = source.name.rstrip("/").removesuffix(".keras").removesuffix(".h5").removesuffix(".tflite")
    return source.resolve().parent / f"{stem}_int8.tflite"


def check_writable(path: Path, *, force: bool, what: str = "output") -> None:
    """A user's file is never overwritten unless asked with --force."""
    if path.exists() and not force:
        raise UsageError(
            f"{path}: already exists; not overwriting the {what} without --force",
            hint="choose another path with -o, or pass --force to replace it",
        )


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
    force: bool = False,
) -> ConvertResult:
    """Keras / SavedModel / float .tflite -> full-integer int8 .tflite for TFLM, with a report of
    float vs int8 outputs (int8 run in the tflite_micro interpreter). An int8 .tflite is validated
    and passed through (copied to `output` if given). `io`: "int8" (default) or "float".
    An existing output file is replaced only with `force`."""
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
                loaded, source, output, calib=calib, eval_data=eval_data, labels=labels, io=io, force=force
            )
    out = Path(output) if output else default_output(source)
    if out.resolve() == source.resolve():
        raise UsageError(f"{out}: is the model being converted; not overwriting it", hint="choose another -o")
    check_writable(out, force=force)  # before the slow part
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
    data, repairs = repair_degenerate_ranges(qm.data)
    if repairs:
        qm = replace(qm, data=data, graph=read_graph(data, str(source)))
        warnings.extend(repairs)
    # what is written must be a model TFLM prepares: checked before anything reaches the disk
    problem = prepare_problem(qm.data)
    if problem is not None:
        raise ModelError(
            f"{source}: the int8 model cannot be prepared by tflite_micro: {problem}; nothing written",
            hint=tflm_hint(problem),
        )
    timings.append(("quantize", time.perf_counter() - t))
    acc = None
    if report:
        t = time.perf_counter()
        float_outs = predict(fm, ev)
        int8_outs = run_tflm(qm.data, ev)
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
    write_atomic(out, qm.data)  # last: a conversion that fails on the way leaves no file
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
    force: bool = False,
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
        if not (out.is_file() and out.read_bytes() == loaded.data):
            check_writable(out, force=force)
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
    force: bool = False,
) -> tuple[Path, ConvertResult | None]:
    """The int8 .tflite for `model_path`: an int8 .tflite passes through after validation (no
    TensorFlow import, result None); anything else is converted (to `output`, default
    `<stem>_int8.tflite` beside the source, never over an existing file without `force`) and its
    ConvertResult returned."""
    path = Path(model_path)
    if detect_format(path) == "tflite":
        loaded = read_tflite(path)
        if tflite_kind(loaded.graph) != "float":
            check_int8_tflite(loaded.graph, str(path))
            return path, None
    result = convert(path, output, calib=calib, eval_data=eval_data, labels=labels, io=io, force=force)
    return Path(result.output), result


@dataclass(frozen=True)
class ConversionNote:
    """What `build`/`test` did to a model that was not an int8 .tflite: converted it, how, with
    what calibration data, and where the int8 file is (None: it was not kept)."""

    source: str
    converter: str
    calibration: str  # a path or "synthetic"
    calibration_samples: int
    kept_at: str | None
    sha256: str

    def describe(self) -> str:
        data = (
            f"{self.calibration_samples} random samples (no --calib: int8 accuracy unknown)"
            if self.calibration == "synthetic"
            else f"{self.calibration} ({self.calibration_samples} samples)"
        )
        where = f"written to {self.kept_at}" if self.kept_at else "not saved; `tinyforge convert` keeps one"
        return (
            f"{self.source} is not an int8 .tflite: converted it to int8 with {self.converter}, "
            f"calibrated on {data}; {where}. Results below are for that int8 model "
            f"(sha256 {self.sha256[:16]})"
        )

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def load_int8_model(
    model: str | Path,
    *,
    calib: str | Path | None = None,
    workdir: str | Path | None = None,
    io: str | None = None,
) -> LoadedModel:
    """Read an int8 `.tflite`; anything else (Keras, SavedModel, float .tflite) is converted first,
    into `workdir` (kept there) or a temporary folder (not kept), never beside the user's file. The
    LoadedModel of a conversion carries a ConversionNote (`.conversion`) saying what was done."""
    path = Path(model)
    if path.suffix.lower() == ".tflite" and path.is_file():
        loaded = read_tflite(path)
        if not needs_conversion(loaded):
            if calib is not None:
                raise UsageError(
                    f"{path}: is already int8; --calib is for models that still need converting",
                    hint="drop --calib",
                )
            return loaded
    if not path.exists():
        raise ModelError(f"{path}: no such file", hint="check the path")
    stem = path.name.rstrip("/").removesuffix(".keras").removesuffix(".h5").removesuffix(".tflite")
    with tempfile.TemporaryDirectory(prefix="tinyforge-convert-") as tmp:
        folder = Path(workdir) if workdir is not None else Path(tmp)
        target = folder / f"{stem}_int8.tflite"
        result = convert(path, target, calib=calib, io=io, report=False, force=True)
        loaded = read_tflite(result.output)
    note = ConversionNote(
        source=str(path),
        converter=result.converter,
        calibration=result.calibration,
        calibration_samples=result.calibration_samples,
        kept_at=str(target) if workdir is not None else None,
        sha256=result.sha256,
    )
    return replace(loaded, conversion=note)


def needs_conversion(loaded: LoadedModel) -> bool:
    """True when some layer still computes in float (a float or hybrid .tflite), as the compiler's
    passes see it (shape computations it folds do not count)."""
    try:
        run_passes(loaded.graph)
    except ModelError:
        return True
    return False
