"""The scriptable surface of tinyforge. Every CLI command is one call here; scripts and tests use
these functions directly. Heavy modules are imported inside the functions, so importing
`tinyforge.api` stays cheap (and never imports TensorFlow).

Each section below belongs to one stage; add functions to your stage's section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.compiler import CompiledModel
    from tinyforge.ir.graph import Graph
    from tinyforge.kernels.registry import Target
    from tinyforge.model.quantize import ConvertResult
    from tinyforge.model.tflite import LoadedModel

# ==== boards ==================================================================


def boards() -> list[BoardProfile]:
    """Every built-in board profile (families resolved), sorted by name."""
    from tinyforge.boards import list_boards

    return list_boards()


def board(name: str) -> BoardProfile:
    """One board profile by name (or a path ending in .toml); unknown names suggest close ones."""
    from tinyforge.boards import load_board

    return load_board(name)


def default_board() -> str:
    from tinyforge.boards import DEFAULT_BOARD

    return DEFAULT_BOARD


# ==== inspect =================================================================


def inspect(model: str | Path, board: str = "host") -> dict[str, Any]:
    """Everything worth knowing about a `.tflite` before compiling it, as a JSON-friendly dict."""
    import hashlib

    from tinyforge.errors import TinyforgeError
    from tinyforge.ir.passes import check_quantized
    from tinyforge.ir.stats import largest_live_pair, op_macs, weight_bytes
    from tinyforge.kernels.registry import unsupported_reason
    from tinyforge.model.tflite import read_tflite

    loaded = read_tflite(model)
    g = loaded.graph

    def tdesc(i: int) -> dict[str, Any]:
        t = g.tensor(i)
        return {
            "name": t.name,
            "dtype": t.dtype,
            "shape": list(t.shape),
            "quant": t.quant.describe() if t.quant else "-",
            "scale": list(t.quant.scale) if t.quant else [],
            "zero_point": list(t.quant.zero_point) if t.quant else [],
        }

    layers = []
    unsupported = []
    for op in g.ops:
        reason = unsupported_reason(g, op)
        if reason is not None:
            unsupported.append({"index": op.index, "op": op.kind, "name": op.name, "reason": reason})
        consts = [g.tensor(i) for i in op.inputs if i >= 0 and g.tensor(i).is_constant]
        params = ", ".join(f"{k}={v}" for k, v in op.options.items() if v not in (None, "", ()))
        layers.append(
            {
                "index": op.index,
                "op": op.kind,
                "name": op.name,
                "output_shape": "x".join(str(d) for d in g.tensor(op.outputs[0]).shape),
                "params": params,
                "macs": op_macs(g, op),
                "weight_bytes": sum(len(t.data or b"") for t in consts),
                "supported": reason is None,
            }
        )
    peak = largest_live_pair(g)
    report: dict[str, Any] = {
        "model": str(model),
        "size_bytes": len(loaded.data),
        "sha256": hashlib.sha256(loaded.data).hexdigest(),
        "subgraphs": loaded.info.num_subgraphs,
        "inputs": [tdesc(i) for i in g.inputs],
        "outputs": [tdesc(i) for i in g.outputs],
        "layers": layers,
        "macs": sum(lay["macs"] for lay in layers),
        "weight_bytes": weight_bytes(g),
        "largest_live_pair": asdict(peak) if peak else None,
        "unsupported": unsupported,
        "memory": None,
    }
    try:
        check_quantized(g)
        if not unsupported:
            c = compile(loaded, board)
            report["memory"] = {
                "arena_bytes": c.stats.arena_bytes,
                "scratch_bytes": c.stats.scratch_bytes,
                "ram_bytes": c.stats.ram_bytes,
                "liveness_bound": c.stats.liveness_bound,
            }
    except TinyforgeError as exc:
        report["problem"] = exc.message
    return report


def inspect_firmware(elf: str | Path) -> dict[str, Any]:
    """The build manifest embedded in a tinyforge firmware.elf."""
    from tinyforge.toolchain.manifest import read_manifest

    return dict(read_manifest(Path(elf)))


# ==== convert =================================================================
# load (model/load.py) -> calibration data (model/calib.py) -> full-integer PTQ (model/quantize.py)
# -> accuracy report in the tflite_micro interpreter (model/report.py). TensorFlow is imported only
# when a float model is really converted; int8 .tflite files pass through without it.


def _default_convert_output(source: Path) -> Path:
    stem = source.name.rstrip("/").removesuffix(".keras").removesuffix(".h5").removesuffix(".tflite")
    return source.resolve().parent / f"{stem}_int8.tflite"


def _write_atomic(path: Path, data: bytes) -> None:
    import os

    from tinyforge.errors import TinyforgeError

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
    import hashlib
    import time
    from collections import Counter

    from tinyforge.errors import ModelError, UsageError
    from tinyforge.model import calib as calib_mod
    from tinyforge.model.load import check_int8_tflite, detect_format, load_model, predict
    from tinyforge.model.quantize import ConvertResult, TensorQuant, quantize
    from tinyforge.model.report import compare, run_tflm

    source = Path(model)
    if io not in (None, "int8", "float"):
        raise UsageError(f"--io {io}: expected int8 or float")
    timings: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    fmt = detect_format(source)
    if fmt == "tflite":
        from tinyforge.model.load import tflite_kind
        from tinyforge.model.tflite import read_tflite

        loaded = read_tflite(source)
        if tflite_kind(loaded.graph) in ("int8", "hybrid", "other"):
            check_int8_tflite(loaded.graph, str(source))  # raises unless int8
            if eval_data or labels or calib:
                raise UsageError(
                    f"{source}: is already int8; --calib/--eval/--labels need the float model",
                    hint="give the Keras/SavedModel source to compare float and int8",
                )
            g = loaded.graph
            has_io = "float" if g.tensors[g.inputs[0]].dtype == "float32" else "int8"
            if io is not None and io != has_io:
                raise UsageError(
                    f"{source}: is already int8 with {has_io} I/O; --io {io} needs the float model",
                    hint="give the Keras/SavedModel source to choose the I/O type",
                )
            out = Path(output) if output else source
            if output and out.resolve() != source.resolve():
                _write_atomic(out, loaded.data)
            return ConvertResult(
                source=str(source),
                source_format="tflite",
                loader="tflite (flatbuffer reader)",
                converter="none (already int8)",
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
    out = Path(output) if output else _default_convert_output(source)
    _write_atomic(out, qm.data)
    acc = None
    if report:
        t = time.perf_counter()
        float_outs = predict(fm, ev)
        try:
            int8_outs = run_tflm(qm.data, ev)
        except ModelError as exc:
            raise ModelError(f"{out}: written, but {exc.message}", hint=exc.hint) from exc
        classifier = [g_op in ("SOFTMAX", "LOGISTIC") for g_op in _output_producers(qm.graph)]
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


def _output_producers(graph: Graph) -> list[str]:
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
    from tinyforge.model.load import check_int8_tflite, detect_format, tflite_kind
    from tinyforge.model.tflite import read_tflite

    path = Path(model_path)
    if detect_format(path) == "tflite":
        loaded = read_tflite(path)
        if tflite_kind(loaded.graph) != "float":
            check_int8_tflite(loaded.graph, str(path))
            return path, None
    result = convert(path, output, calib=calib, eval_data=eval_data, labels=labels, io=io)
    return Path(result.output), result


# ==== compile / host test =====================================================


def load_int8_model(model: str | Path, **convert_options: Any) -> LoadedModel:
    """Read an int8 `.tflite`; anything else (Keras, SavedModel, float .tflite) is converted first."""
    from tinyforge.model.tflite import read_tflite

    path = Path(model)
    if path.suffix.lower() == ".tflite" and path.is_file():
        loaded = read_tflite(path)
        if not _needs_conversion(loaded):
            return loaded
    if not path.exists():
        from tinyforge.errors import ModelError

        raise ModelError(f"{path}: no such file", hint="check the path")
    int8_path, _result = ensure_int8_tflite(path, **convert_options)
    return read_tflite(int8_path)


def _needs_conversion(loaded: LoadedModel) -> bool:
    """True when some layer still computes in float (a float or hybrid .tflite)."""
    from tinyforge.errors import ModelError
    from tinyforge.ir.passes import check_quantized

    try:
        check_quantized(loaded.graph)
    except ModelError:
        return True
    return False


def target_for(board: str) -> Target:
    from tinyforge.boards import load_board
    from tinyforge.kernels.registry import Target

    b = load_board(board)
    return Target(cpu=b.cpu, features=frozenset(b.features))


def compile(
    model: str | Path | LoadedModel,
    board: str = "host",
    *,
    dump_ir: Callable[[str, str], None] | None = None,
) -> CompiledModel:
    """Compile a model for a board: passes, kernel selection, memory plan, generated C."""
    from tinyforge.compiler import compile_model

    loaded = model if not isinstance(model, str | Path) else load_int8_model(model)
    return compile_model(loaded, target_for(board), dump=dump_ir)


@dataclass(frozen=True)
class TestReport:
    board: str
    model: str
    inputs: int
    mismatched_bytes: int
    bit_exact: bool
    arena_bytes: int
    scratch_bytes: int
    liveness_bound: int
    macs: int
    first_mismatch: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(d.pop("extra"))
        d["ram_bytes"] = d.get("ram_bytes", self.arena_bytes + self.scratch_bytes)
        return d


def make_inputs(compiled: CompiledModel, count: int = 20, seed: int = 0, input_file: str | Path | None = None):  # noqa: ANN201
    from tinyforge.verify import load_inputs, random_inputs

    if input_file is not None:
        return load_inputs(Path(input_file), compiled.inputs)
    return random_inputs(compiled.inputs, count, seed)


def test_host(
    model: str | Path | LoadedModel,
    *,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    workdir: str | Path | None = None,
    sanitize: bool = False,
    dump_ir: Callable[[str, str], None] | None = None,
) -> TestReport:
    """Compile for the host, run N inputs natively, compare every byte with the TFLM reference."""
    import tempfile

    from tinyforge.runners.host import build_host, run_host
    from tinyforge.verify import compare, first_mismatching_layer

    compiled = compile(model, "host", dump_ir=dump_ir)
    data = make_inputs(compiled, inputs, seed, input_file)
    with tempfile.TemporaryDirectory(prefix="tinyforge-host-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        build = build_host(compiled, work, sanitize=sanitize)
        run = run_host(build, data.records())
        cmp = compare(compiled, data, [r.outputs for r in run.results])
        first = None
        if not cmp.bit_exact and cmp.mismatched_inferences:
            k = cmp.mismatched_inferences[0]
            dbg = build_host(compiled, work, sanitize=sanitize, debug_layers=True)
            layers = run_host(dbg, [data.records()[k]]).layers
            lm = first_mismatching_layer(compiled, data.arrays[k], layers)
            first = asdict(lm) if lm else None
    s = compiled.stats
    return TestReport(
        board="host",
        model=str(compiled.source.path),
        inputs=cmp.inputs,
        mismatched_bytes=cmp.mismatched_bytes,
        bit_exact=cmp.bit_exact,
        arena_bytes=s.arena_bytes,
        scratch_bytes=s.scratch_bytes,
        liveness_bound=s.liveness_bound,
        macs=s.macs,
        first_mismatch=first,
    )

# ==== build / emulator test ===================================================
# model -> compile for the board -> fit check -> build directory (toolchain/project.py) ->
# arm-none-eabi-gcc (toolchain/gcc.py) -> FirmwareImage + memory report; `test` on an emulated
# board runs that firmware in QEMU (runners/qemu.py) and compares with the reference (verify.py).

DEFAULT_FIRMWARE_BOARD = "mps2-an386"


@dataclass(frozen=True)
class BuildResult:
    directory: Path
    board: str
    elf: Path
    bin: Path | None
    hex: Path | None
    sizes: dict[str, int]  # SectionSizes.to_dict()
    regions: tuple[dict[str, Any], ...]  # linker region, origin, size, used
    report: dict[str, Any]  # what report.json holds
    compiled: CompiledModel = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.report)


def default_build_dir(model: str | Path, board: str) -> Path:
    stem = Path(str(model).rstrip("/")).name
    for suffix in (".tflite", ".keras", ".h5"):
        stem = stem.removesuffix(suffix)
    return Path("out") / f"{stem}-{board}"


def build(
    model: str | Path | LoadedModel,
    board: str = DEFAULT_FIRMWARE_BOARD,
    output: str | Path | None = None,
    *,
    opt: str = "speed",
    app_offset: int = 0,
    inputs: int = 4,
    seed: int = 0,
    input_file: str | Path | None = None,
    renode: bool = False,
    platformio: bool = False,
    force: bool = False,
    profile_layers: bool = False,
) -> BuildResult:
    """Compile a model to C and build firmware for a board into a directory.

    The directory gets the int8 .tflite, the generated sources, a standalone Makefile, the
    firmware (.elf/.bin/.hex) and report.json. The firmware runs the model on `inputs` records
    baked into the image (random with `seed`, or from `input_file`) and prints the TF result
    protocol. `profile_layers` adds per-layer tick lines (`TF LOG layer n=.. ticks=..`).
    """
    from tinyforge.boards import load_board
    from tinyforge.errors import UsageError
    from tinyforge.model.tflite import LoadedModel as _Loaded
    from tinyforge.toolchain import bsp as bsp_mod

    b = load_board(board)
    bsp_mod.console_driver(b)  # the host board stops here with a clear message
    if inputs < 1 and input_file is None:
        raise UsageError(f"--inputs {inputs}: the firmware needs at least one input")
    directory = Path(output) if output is not None else default_build_dir(getattr(model, "path", model), b.name)
    if isinstance(model, _Loaded):
        loaded = model
    else:
        import tempfile

        # a float model is converted first; its int8 .tflite ends up in the build directory
        with tempfile.TemporaryDirectory(prefix="tinyforge-convert-") as tmp:
            loaded = load_int8_model(model, output=Path(tmp) / (Path(str(model).rstrip("/")).stem + "_int8.tflite"))
    compiled = compile(loaded, b.name)
    records = make_inputs(compiled, inputs, seed, input_file).records()
    return build_firmware(
        compiled,
        b.name,
        directory,
        records,
        opt=opt,
        app_offset=app_offset,
        renode=renode,
        platformio=platformio,
        force=force,
        profile_layers=profile_layers,
    )


def build_firmware(
    compiled: CompiledModel,
    board: str,
    directory: str | Path,
    records: list[bytes],
    *,
    opt: str = "speed",
    app_offset: int = 0,
    renode: bool = False,
    platformio: bool = False,
    force: bool = False,
    profile_layers: bool = False,
    dump_layers: bool = False,
) -> BuildResult:
    """Build firmware for an already compiled model and explicit input records (each record is
    every model input back to back). See `build`."""
    import json

    from tinyforge.boards import load_board
    from tinyforge.toolchain import bsp as bsp_mod
    from tinyforge.toolchain.gcc import build_image
    from tinyforge.toolchain.memory import check_fit, layer_rows, layer_table, region_usage
    from tinyforge.toolchain.project import assemble, check_directory, write_project

    b = load_board(board)
    directory = Path(directory).resolve()
    s = compiled.stats
    budget = check_fit(
        b,
        weight_bytes=s.weight_bytes,
        arena_bytes=s.arena_bytes,
        scratch_bytes=s.scratch_bytes,
        input_bytes=sum(len(r) for r in records),
        output_bytes=sum(o.nbytes for o in compiled.outputs),
        app_offset=app_offset,
        for_emulator=b.is_emulated,
    )
    bsp_mod.link_regions(b, app_offset)  # validates --app-offset before anything is written
    check_directory(directory, force=force)
    project = assemble(
        compiled,
        b,
        directory,
        records=records,
        opt=opt,
        app_offset=app_offset,
        arena_region=budget.arena_region,
    )
    extra: dict[str, bytes] = {}
    if platformio:
        from tinyforge.toolchain.platformio import render_platformio

        extra["platformio.ini"] = render_platformio(project).encode()
    if renode:
        from tinyforge.runners.renode import render_renode_files

        extra.update(render_renode_files(b, project))
    write_project(project, extra)
    image = build_image(project.spec(profile_layers=profile_layers, dump_layers=dump_layers))
    usage = region_usage(image.elf, bsp_mod.link_regions(b, app_offset))
    regions = tuple(
        {"name": u.name, "origin": u.origin, "size": u.size, "used": u.used, "percent": round(u.percent, 1)}
        for u in usage
    )
    report: dict[str, Any] = {
        "board": b.name,
        "model": str(compiled.source.path),
        "model_sha256": project.manifest["model_sha256"],
        "directory": str(directory),
        "elf": str(image.elf),
        "opt": opt,
        "app_offset": app_offset,
        "inputs": len(records),
        "arena_region": budget.arena_region,
        "sizes": image.sizes.to_dict(),
        "flash_bytes": image.sizes.flash_bytes,
        "ram_bytes": image.sizes.ram_bytes,
        "regions": list(regions),
        "model_stats": {
            "macs": s.macs,
            "layers": s.layers,
            "weight_bytes": s.weight_bytes,
            "arena_bytes": s.arena_bytes,
            "scratch_bytes": s.scratch_bytes,
            "liveness_bound": s.liveness_bound,
        },
        "stack_bytes": b.stack_bytes,
        "manifest": dict(project.manifest),
        "layers": layer_rows(layer_table(compiled)),
        "files": sorted(set(project.files) | set(extra)),
    }
    (directory / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return BuildResult(
        directory, b.name, image.elf, image.bin, image.hex, image.sizes.to_dict(), regions, report, compiled
    )


@dataclass(frozen=True)
class BuiltFirmware:
    """An existing build directory, read back for `tinyforge test DIR`."""

    directory: Path
    board: str
    elf: Path
    model: Path
    records: tuple[bytes, ...]
    report: dict[str, Any]


def read_build_dir(directory: str | Path) -> BuiltFirmware:
    import json

    from tinyforge.errors import UsageError

    d = Path(directory)
    rep_path = d / "report.json"
    if not rep_path.is_file():
        raise UsageError(
            f"{d} is not a tinyforge build directory (no report.json)",
            hint="build one with `tinyforge build MODEL -o DIR`",
        )
    try:
        report = json.loads(rep_path.read_text())
        count = int(report["inputs"])
        board = str(report["board"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{rep_path}: not a tinyforge build report ({exc})", hint="rebuild the directory"
        ) from exc
    blob = (d / "src" / "inputs.bin").read_bytes() if (d / "src" / "inputs.bin").is_file() else b""
    if count < 1 or len(blob) % count:
        raise UsageError(
            f"{d}/src/inputs.bin does not hold {count} input records", hint="rebuild the directory"
        )
    n = len(blob) // count
    records = tuple(blob[i * n : (i + 1) * n] for i in range(count))
    for need in ("firmware.elf", "model.tflite"):
        if not (d / need).is_file():
            raise UsageError(f"{d}/{need} is missing", hint="rebuild with `tinyforge build` or `make`")
    return BuiltFirmware(d, board, d / "firmware.elf", d / "model.tflite", records, report)


def test_emulator(
    model: str | Path | LoadedModel,
    board: str | None = None,
    *,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    timeout: float = 120.0,
    workdir: str | Path | None = None,
    emulator: str = "qemu",
) -> TestReport:
    """Build MODEL for an emulated board (or take a build directory), run it in QEMU, compare every
    output byte with the TFLM reference. On a mismatch, a second run prints every layer's output
    to name the first layer that differs. The report adds instructions_per_inference (under
    -icount shift=0), flash_bytes and ram_bytes."""
    import tempfile

    import numpy as np

    from tinyforge.boards import load_board
    from tinyforge.errors import UsageError
    from tinyforge.model.tflite import read_tflite
    from tinyforge.verify import InputSet, compare, first_mismatching_layer

    if emulator == "renode":
        from tinyforge.runners.renode import test_renode

        return test_renode(
            model,
            board or DEFAULT_FIRMWARE_BOARD,
            inputs=inputs,
            seed=seed,
            input_file=input_file,
            timeout=timeout,
            workdir=workdir,
        )
    if emulator != "qemu":
        raise UsageError(f"--emulator {emulator}: expected qemu or renode")
    from tinyforge.runners.qemu import run_qemu

    with tempfile.TemporaryDirectory(prefix="tinyforge-qemu-") as tmp:
        if isinstance(model, str | Path) and Path(model).is_dir():
            built = read_build_dir(model)
            if board is not None and board != built.board:
                raise UsageError(
                    f"{model} was built for {built.board}, not {board}",
                    hint=f"drop --board or pass --board {built.board}",
                )
            b = load_board(built.board)
            compiled = compile(read_tflite(built.model), b.name)
            records = list(built.records)
            elf, sizes = built.elf, dict(built.report.get("sizes", {}))
        else:
            b = load_board(board or DEFAULT_FIRMWARE_BOARD)
            if not b.is_emulated:
                raise UsageError(
                    f"board {b.name} is not emulated: `tinyforge test` runs on the host or in QEMU",
                    hint="build it with `tinyforge build`, flash it, and watch it with `tinyforge monitor`",
                )
            from tinyforge.model.tflite import LoadedModel as _Loaded

            loaded = model if isinstance(model, _Loaded) else load_int8_model(model)
            compiled = compile(loaded, b.name)
            records = make_inputs(compiled, inputs, seed, input_file).records()
            res = build_firmware(
                compiled,
                b.name,
                Path(workdir) if workdir else Path(tmp) / "build",
                records,
                force=workdir is None,
            )
            elf, sizes = res.elf, res.sizes
        arrays = []
        for rec in records:
            parts, off = [], 0
            for sp in compiled.inputs:
                parts.append(np.frombuffer(rec[off : off + sp.nbytes], dtype=np.int8).reshape(sp.shape))
                off += sp.nbytes
            arrays.append(tuple(parts))
        data = InputSet(tuple(arrays))
        run = run_qemu(b, elf, timeout=timeout)
        cmp = compare(compiled, data, [r.outputs for r in run.results])
        first = None
        if not cmp.bit_exact and cmp.mismatched_inferences:
            k = cmp.mismatched_inferences[0]
            dbg = build_firmware(
                compiled, b.name, Path(tmp) / "layers", [records[k]], dump_layers=True, force=True
            )
            dbg_run = run_qemu(b, dbg.elf, timeout=timeout)
            layers: dict[int, bytes] = {}
            for text in dbg_run.logs:
                if text.startswith("layer ") and "data=" in text:
                    kv = dict(part.split("=", 1) for part in text.split()[1:])
                    layers[int(kv["n"])] = bytes.fromhex(kv["data"])
            lm = first_mismatching_layer(compiled, data.arrays[k], layers)
            first = asdict(lm) if lm else None
    s = compiled.stats
    ticks = [r.ticks for r in run.results]
    return TestReport(
        board=b.name,
        model=str(compiled.source.path),
        inputs=cmp.inputs,
        mismatched_bytes=cmp.mismatched_bytes,
        bit_exact=cmp.bit_exact,
        arena_bytes=s.arena_bytes,
        scratch_bytes=s.scratch_bytes,
        liveness_bound=s.liveness_bound,
        macs=s.macs,
        first_mismatch=first,
        extra={
            "emulator": "qemu",
            "instructions_per_inference": run.instructions_per_inference,
            "ticks_per_inference": (sum(ticks) // len(ticks)) if ticks else None,
            "timer_hz": b.timer.hz,
            "flash_bytes": int(sizes.get("flash_bytes", 0)),
            "ram_bytes": int(sizes.get("ram_bytes", 0)),
            "stack_used": int(run.log_value("stack_used") or 0),
            "emulator_seconds": round(run.seconds, 3),
        },
    )


def write_junit(report: TestReport, path: str | Path) -> Path:
    """A JUnit XML file with one test case (model on board), for CI dashboards."""
    import xml.etree.ElementTree as ET

    d = report.to_dict()
    suite = ET.Element("testsuite", name="tinyforge", tests="1", failures="0" if report.bit_exact else "1")
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"tinyforge.{report.board}",
        name=f"{Path(report.model).name} on {report.board}",
    )
    seconds = d.get("emulator_seconds")
    if seconds is not None:
        case.set("time", str(seconds))
    props = ET.SubElement(case, "properties")
    for key in (
        "inputs",
        "mismatched_bytes",
        "instructions_per_inference",
        "flash_bytes",
        "ram_bytes",
        "arena_bytes",
    ):
        if d.get(key) is not None:
            ET.SubElement(props, "property", name=key, value=str(d[key]))
    if not report.bit_exact:
        fail = ET.SubElement(
            case, "failure", message=f"{report.mismatched_bytes} output bytes differ from the TFLM reference"
        )
        if report.first_mismatch:
            fail.text = " ".join(f"{k}={v}" for k, v in report.first_mismatch.items())
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(out, encoding="utf-8", xml_declaration=True)
    return out


# ==== emulate / flash =========================================================


def flash(
    target: str | Path,
    *,
    board: str | None = None,
    port: str = "auto",
    method: str | None = None,
    baud: int | None = None,
    verify: bool | None = None,
    address: int | None = None,
    erase_all: bool = False,
    start: bool | None = None,
    follow: bool = False,
    follow_timeout: float = 60.0,
    progress: Any = None,
) -> Any:
    """Flash a build directory or an image (.elf/.hex/.bin) to a board; returns a FlashResult.

    `verify`/`start` None mean "if the runner can". Options the board's runner cannot honour fail
    before anything is opened. Files are only read, never written.
    """
    from tinyforge.boards import load_board
    from tinyforge.errors import FlashError
    from tinyforge.flash.image import ImageError, check_vector_table, load_image, read_build_dir
    from tinyforge.flash.progress import NullProgress
    from tinyforge.flash.registry import FlashRequest, check_request, runner

    path = Path(target)
    # With --board, what the runner can do is checked before the target is even looked at.
    profile = load_board(board) if board else None
    built_for: str | None = None
    image_path: Path | None = None
    report: dict[str, Any] = {}
    if profile is None:
        if path.is_dir():
            bd = read_build_dir(path)
            image_path, built_for, report = bd.image, bd.board, bd.report
        elif path.is_file():
            image_path, built_for = path, load_image(path).board  # the manifest a tinyforge build embeds
        if built_for is None:
            raise FlashError(f"{path}: which board? the build does not say", hint="give --board")
        profile = load_board(built_for)
    methods = [m for m in profile.flash_methods if m.kind != "none"]
    if method is not None:
        chosen = profile.flash_method(method)
        if chosen is None:
            raise FlashError(
                f"board {profile.name} has no {method} flash method",
                hint=f"its methods: {', '.join(m.kind for m in methods) or 'none'}",
            )
    elif methods:
        chosen = methods[0]
    else:
        raise FlashError(
            f"board {profile.name} has no flash method (nothing to flash over a wire)",
            hint="run it in the emulator with `tinyforge test` / `tinyforge emulate` instead",
        )
    spec = runner(chosen.kind)
    check_request(
        spec,
        {
            "--verify": verify is True,
            "--erase-all": erase_all,
            "--start": start is True,
            "--address": address is not None,
            "--baud": baud is not None,
            "--follow": follow,
        },
    )
    if image_path is None:
        if path.is_dir():
            bd = read_build_dir(path)
            image_path, built_for, report = bd.image, bd.board, bd.report
        elif path.exists():
            image_path = path
        else:
            raise ImageError(
                f"{path}: no such file or directory",
                hint="pass a `tinyforge build` output directory or an image",
            )
    if built_for and built_for != profile.name:
        raise ImageError(
            f"{path} was built for board {built_for}, not {profile.name}",
            hint=f"rebuild it with `tinyforge build ... --board {profile.name}`, or flash it to a {built_for}",
        )
    settings = dict(chosen.settings)
    base = int(settings.get("address", profile.flash.origin))
    app_offset = int(settings.get("app_offset", 0))
    built_offset = report.get("app_offset")
    if isinstance(built_offset, int) and "app_offset" in settings and built_offset != app_offset:
        raise ImageError(
            f"{path} was built with --app-offset 0x{built_offset:x}, but the {chosen.kind} bootloader of "
            f"{profile.name} starts applications at offset 0x{app_offset:x}",
            hint=f"rebuild it with `tinyforge build ... --board {profile.name} --app-offset 0x{app_offset:x}`",
        )
    default_address = base + app_offset
    image = load_image(image_path, address=address)
    if image.kind == "bin" and address is None:
        image = image.relocated(default_address)
    if image.board and image.board != profile.name:
        raise ImageError(
            f"{image_path} was built for board {image.board}, not {profile.name}",
            hint=f"rebuild it with `tinyforge build ... --board {profile.name}`, or flash it to a {image.board}",
        )
    if profile.cpu.startswith("cortex-m") and chosen.kind != "esptool":
        check_vector_table(image, profile)
    request = FlashRequest(
        board=profile.name,
        method=chosen.kind,
        port=port,
        baud=baud,
        verify=spec.caps.verify if verify is None else verify,
        erase_all=erase_all,
        start=spec.caps.start if start is None else start,
        address=address,
        follow=follow,
        follow_timeout=follow_timeout,
        settings=settings,
        flash_region=(base, profile.flash.size),
        usb_ids=tuple(profile.usb),
    )
    return spec.load()(request, image, progress if progress is not None else NullProgress())


def build_bootloader(board: str = "mps2-an386") -> Path:
    """The emulated bench's serial bootloader for `board` (built once, cached)."""
    from tinyforge.boards import load_board
    from tinyforge.flash.bench import build_bootloader as _build

    return _build(load_board(board))


def emulate(
    board: str = "mps2-an386",
    *,
    firmware: str | Path | None = None,
    bootloader: bool = False,
    serial: str = "tcp",
) -> Any:
    """Start `board` in QEMU with its console UART on TCP or a pty; returns a running Emulator
    (a context manager; `.port` is what `tinyforge flash --port` / stm32flash take)."""
    from tinyforge.boards import load_board
    from tinyforge.errors import UsageError
    from tinyforge.flash.bench import build_bootloader as _build
    from tinyforge.flash.bench import parse_serial, start_emulator

    spec = parse_serial(serial)  # bad input fails before anything is built
    profile = load_board(board)
    if firmware is None and not bootloader:
        raise UsageError(
            "nothing to run: give --firmware ELF or --bootloader", hint="e.g. tinyforge emulate --bootloader"
        )
    fw = Path(firmware) if firmware is not None else None
    if fw is not None and not fw.is_file():
        raise UsageError(f"{fw}: no such firmware file", hint="pass the firmware.elf of a tinyforge build")
    if bootloader:
        kernel = _build(profile)
        return start_emulator(profile, kernel, spec, extra_images=(fw,) if fw else ())
    assert fw is not None
    return start_emulator(profile, fw, spec)


# ==== monitor =================================================================

if TYPE_CHECKING:
    from tinyforge.monitor.core import MonitorReport


def monitor(
    port: str,
    *,
    baud: int = 115200,
    board: str | None = None,
    timestamps: bool = False,
    log: str | Path | None = None,
    expect: tuple[str, ...] | list[str] = (),
    fail: tuple[str, ...] | list[str] = (),
    timeout: float | None = None,
    elf: str | Path | None = None,
    tick_hz: int | None = None,
    json: bool = False,
    reconnect: bool = True,
    wait: bool = False,
    interactive: bool | None = None,
    eol: str = "crlf",
    stats_interval: float = 5.0,
    out: Any = None,
) -> MonitorReport:
    """Stream a serial port (device path, `auto`, or pyserial URL) to `out` (default stdout) until
    the expectations are met, a --fail pattern or the timeout ends it, or the user quits.

    Returns a `tinyforge.monitor.core.MonitorReport` (`.exit_code`: 0 pass, 1 fail/timeout).
    `board` gives the timer rate for latencies (else `tick_hz`, else raw ticks) and the USB ids
    for `port="auto"`; `elf` lets TF FAULT lines name the function and source line.
    Example: api.monitor("socket://127.0.0.1:4000", expect=["TF DONE status=pass"], timeout=30)
    """
    import sys

    from tinyforge.errors import UsageError
    from tinyforge.monitor.core import decoder_for
    from tinyforge.monitor.keys import EOLS
    from tinyforge.monitor.run import MonitorOptions, run_monitor, want_color
    from tinyforge.serial.ports import resolve_port

    usb_ids: tuple[str, ...] = ()
    if board is not None:
        from tinyforge.boards import load_board

        profile = load_board(board)
        usb_ids = tuple(profile.usb)
        if tick_hz is None and not profile.is_host:
            tick_hz = profile.timer.hz
    if timeout is not None and timeout <= 0:
        raise UsageError(f"--timeout {timeout:g}: must be more than 0 seconds", hint="e.g. --timeout 30")
    if eol not in EOLS:
        raise UsageError(f"--eol {eol}: unknown", hint=f"use one of: {', '.join(EOLS)}")
    elf_path = Path(elf) if elf is not None else None
    if elf_path is not None and not elf_path.is_file():
        raise UsageError(f"--elf {elf_path}: no such file", hint="pass the firmware.elf the device runs")
    out = out if out is not None else sys.stdout
    if interactive is None:
        interactive = not json and sys.stdin is not None and sys.stdin.isatty()
    opts = MonitorOptions(
        port=resolve_port(port, usb_ids),
        baud=baud,
        timestamps=timestamps,
        log=Path(log) if log is not None else None,
        expect=tuple(expect),
        fail=tuple(fail),
        timeout=timeout,
        tick_hz=tick_hz,
        json=json,
        reconnect=reconnect,
        wait=wait,
        interactive=interactive,
        eol=eol,
        stats_interval=stats_interval,
        color=not json and want_color(out),
    )
    return run_monitor(opts, out, fault_decoder=decoder_for(elf_path))


# ==== bench ===================================================================
# `tinyforge bench` (tinyforge/bench.py): instructions per inference in QEMU -icount (the anchors'
# method and input pattern), MACs per instruction, flash and RAM split, optional per-layer table.

if TYPE_CHECKING:
    from tinyforge.bench import BenchReport


def bench(
    model: str | Path | LoadedModel,
    board: str = DEFAULT_FIRMWARE_BOARD,
    *,
    layers: bool = False,
    workdir: str | Path | None = None,
    timeout: float = 120.0,
) -> BenchReport:
    """Build MODEL for an emulated BOARD, run one inference on the input x[i] = (i*37+11) % 256 - 128
    under `qemu-system-arm -icount shift=0` and report instructions, MACs/instruction, flash
    (weights / kernels+runtime / harness) and RAM (arena, scratch, stack high-water mark); with
    `layers`, also the instructions of every layer. `bit_exact` compares the output with TFLM."""
    from tinyforge.bench import bench_model

    return bench_model(model, board, layers=layers, workdir=Path(workdir) if workdir else None, timeout=timeout)
