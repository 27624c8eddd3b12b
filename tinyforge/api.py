"""The scriptable surface of tinyforge. Every CLI command is one call here; scripts and tests use
these functions directly. Heavy modules are imported inside the functions, so importing
`tinyforge.api` stays cheap (and never imports TensorFlow).

A board is given as a name, a path to a board .toml, or a BoardProfile; it is resolved once, here
(`board()`), and every stage below takes the BoardProfile.

Each section below belongs to one stage; add functions to your stage's section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from tinyforge.boards import DEFAULT_BOARD, BoardProfile

if TYPE_CHECKING:
    from tinyforge.codegen.inputs import InputSet
    from tinyforge.compiler import CompiledModel
    from tinyforge.farm.lab import LabState
    from tinyforge.farm.places import PlaceLease, PlaceStatus
    from tinyforge.flash.registry import FlashResult
    from tinyforge.kernels.registry import Target
    from tinyforge.model.quantize import ConvertResult
    from tinyforge.model.tflite import LoadedModel
    from tinyforge.run.matrix import PairResult, PairSpec
    from tinyforge.run.testing import TestReport
    from tinyforge.toolchain.build import BuildResult
    from tinyforge.toolchain.build_dir import BuiltFirmware
    from tinyforge.toolchain.library import ExportResult

# A board as callers give it: a name, a path to a board .toml, or a profile already loaded.
BoardArg: TypeAlias = "str | Path | BoardProfile"

# The dataclasses some functions below return, importable from here (`api.TestReport`) without
# importing their modules (numpy, jinja2) with this one.
_REEXPORTS = {
    "TestReport": "tinyforge.run.testing",
    "PairResult": "tinyforge.run.matrix",
    "BuildResult": "tinyforge.toolchain.build",
    "BuiltFirmware": "tinyforge.toolchain.build_dir",
    "ExportResult": "tinyforge.toolchain.library",
}


def __getattr__(name: str) -> Any:
    module = _REEXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


# ==== boards ==================================================================


def boards() -> list[BoardProfile]:
    """Every built-in board profile (families resolved), sorted by name."""
    from tinyforge.boards import list_boards

    return list_boards()


def board(name: BoardArg) -> BoardProfile:
    """One board profile by name (or a path ending in .toml); unknown names suggest close ones.
    A BoardProfile is returned as it is."""
    from tinyforge.boards import load_board

    return name if isinstance(name, BoardProfile) else load_board(str(name))


_board = board  # for the functions below whose `board` parameter hides `board()`


def default_board() -> str:
    return DEFAULT_BOARD


# ==== inspect =================================================================


def inspect(model: str | Path, board: BoardArg = "host") -> dict[str, Any]:
    """Everything worth knowing about a `.tflite` before compiling it, as a JSON-friendly dict."""
    import hashlib

    from tinyforge.errors import TinyforgeError
    from tinyforge.ir.metrics import largest_live_pair, op_macs, weight_bytes
    from tinyforge.ir.passes import run_passes
    from tinyforge.kernels.registry import unsupported_reason
    from tinyforge.model.tflite import read_tflite

    loaded = read_tflite(model)
    g = loaded.graph
    # The compiler's own passes (the one pipeline `compile` runs): what they fold or alias is not
    # a kernel the board needs, and what they reject is the problem compiling would meet.
    problem: str | None = None
    try:
        passed = run_passes(g)
    except TinyforgeError as exc:
        problem, passed = exc.message, g

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

    kept = {op.index: op for op in passed.ops}
    layers = []
    unsupported = []
    for op in g.ops:
        reason = unsupported_reason(passed, kept[op.index]) if op.index in kept else None
        if reason is not None:
            unsupported.append({"index": op.index, "op": op.kind, "name": op.name, "reason": reason})
        folded = None
        if op.index not in kept:
            aliased = all(o in passed.aliases for o in op.outputs)
            folded = "alias of its input (no copy)" if aliased else "folded at compile time (result unused)"
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
                "folded": folded,
            }
        )
    state = [
        {
            **tdesc(t.index),
            "bytes": t.nbytes,
            "layers": [op.index for op in g.ops if t.index in op.inputs],
        }
        for t in g.state_tensors()
    ]
    peak = largest_live_pair(passed)
    report: dict[str, Any] = {
        "model": str(model),
        "size_bytes": loaded.info.size_bytes,
        "sha256": hashlib.sha256(Path(model).read_bytes()).hexdigest(),
        "subgraphs": loaded.info.num_subgraphs,
        "inputs": [tdesc(i) for i in g.inputs],
        "outputs": [tdesc(i) for i in g.outputs],
        "layers": layers,
        "macs": sum(lay["macs"] for lay in layers),
        "weight_bytes": weight_bytes(passed),
        "largest_live_pair": asdict(peak) if peak else None,
        "unsupported": unsupported,
        "stateful": bool(state),
        "state": {"tensors": state, "bytes": sum(st["bytes"] for st in state)},
        "memory": None,
        # sparse tensors (pruned weights) the reader made dense, DENSIFY ops folded
        "densified": [g.tensor(i).name for i in loaded.info.densified],
    }
    if problem is not None:
        report["problem"] = problem
    elif not unsupported:
        try:
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
# model/convert.py: load (model/load.py) -> calibration data (model/calib.py) -> full-integer PTQ
# (model/quantize.py) -> accuracy report in the tflite_micro interpreter (model/report.py).
# TensorFlow is imported only when a float model is really converted; int8 .tflite files pass
# through without it.


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
    and passed through (copied to `output` if given). `io`: "int8" (default) or "float". The
    output (default `<stem>_int8.tflite` beside the source) is never overwritten without `force`;
    the model is prepared in tflite_micro before anything is written."""
    from tinyforge.model import convert as conversion

    return conversion.convert(
        model, output, calib=calib, eval_data=eval_data, labels=labels, io=io, report=report, force=force
    )


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
    from tinyforge.model import convert as conversion

    return conversion.ensure_int8_tflite(
        model_path, calib, output=output, io=io, eval_data=eval_data, labels=labels, force=force
    )


# ==== compile / host test =====================================================


def load_int8_model(
    model: str | Path,
    *,
    calib: str | Path | None = None,
    workdir: str | Path | None = None,
    io: str | None = None,
) -> LoadedModel:
    """Read an int8 `.tflite`; anything else (Keras, SavedModel, float .tflite) is converted first
    (calibrated on `calib`) into `workdir` or a temporary folder, never beside the user's file;
    the result's `.conversion` says what was done."""
    from tinyforge.model import convert as conversion

    return conversion.load_int8_model(model, calib=calib, workdir=workdir, io=io)


OPTIMIZE_MODES = ("size", "balanced", "speed")  # tinyforge.kernels.registry.OPTIMIZE_MODES


def target_for(board: BoardArg, optimize: str = "balanced") -> Target:
    """What kernel selection knows about a board: CPU, features, and the `optimize` mode."""
    from tinyforge.compiler import target_for as board_target

    return board_target(_board(board), optimize)


def compile(
    model: str | Path | LoadedModel,
    board: BoardArg = "host",
    *,
    optimize: str = "balanced",
    dump_ir: Callable[[str, str], None] | None = None,
    calib: str | Path | None = None,
) -> CompiledModel:
    """Compile a model for a board: passes, kernel selection, memory plan, generated C. A model
    that is not int8 is converted first in a temporary folder (see `load_int8_model`).

    `optimize` is what kernel selection may spend flash on: "size" (int8 weights, no lookup
    tables: the image's weights at most 1.02x the model's), "balanced" (int8 weights, small
    tables) or "speed" (conv/FC weights widened to int16)."""
    from tinyforge.compiler import compile_for

    return compile_for(model, _board(board), optimize=optimize, dump=dump_ir, calib=calib)


def make_inputs(
    compiled: CompiledModel, count: int = 20, seed: int = 0, input_file: str | Path | None = None
) -> InputSet:
    """Test inputs for a compiled model: `count` random records (with `seed`), or a .npy file's."""
    from tinyforge.codegen.inputs import make_inputs as inputs_for

    return inputs_for(compiled.inputs, count, seed, input_file)


def test_host(
    model: str | Path | LoadedModel,
    *,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    workdir: str | Path | None = None,
    sanitize: bool = False,
    optimize: str = "balanced",
    dump_ir: Callable[[str, str], None] | None = None,
    board: BoardArg = "host",
    calib: str | Path | None = None,
) -> TestReport:
    """Compile for the host, run N inputs natively, compare every byte with the TFLM reference
    (tinyforge/run/testing.py). `board`: a host board (default: the built-in `host`). A model that
    is not int8 is converted first (calibrated on `calib`) in `workdir` or a temporary folder,
    never beside the user's file; `report.extra["conversion"]` says so."""
    from tinyforge.run import testing

    return testing.test_host(
        model,
        _board(board),
        inputs=inputs,
        seed=seed,
        input_file=input_file,
        workdir=workdir,
        sanitize=sanitize,
        optimize=optimize,
        dump_ir=dump_ir,
        calib=calib,
    )


# ==== build / emulator test ===================================================
# toolchain/build.py: model -> compile for the board -> fit check -> build directory
# (toolchain/project.py) -> arm-none-eabi-gcc (toolchain/gcc.py) -> FirmwareImage + memory report;
# `test` on an emulated board (run/testing.py) runs that firmware in QEMU (run/qemu.py) and compares
# with the reference (run/verify.py).


def default_build_dir(model: str | Path, board: BoardArg) -> Path:
    """`out/<model stem>-<board>`: where `build` writes when no directory is given."""
    from tinyforge.toolchain import build as pipeline

    return pipeline.default_build_dir(model, _board(board).name)


def build(
    model: str | Path | LoadedModel,
    board: BoardArg = DEFAULT_BOARD,
    output: str | Path | None = None,
    *,
    optimize: str = "balanced",
    opt: str = "speed",
    app_offset: int | None = None,
    method: str | None = None,
    inputs: int = 4,
    seed: int = 0,
    input_file: str | Path | None = None,
    serve: bool | None = None,
    labels: str | Path | list[str] | None = None,
    renode: bool = False,
    platformio: bool = False,
    force: bool = False,
    profile_layers: bool = False,
    calib: str | Path | None = None,
    mcuboot: bool = False,
) -> BuildResult:
    """Compile a model to C and build firmware for a board into a directory.

    The directory gets the int8 .tflite, the generated sources, a standalone Makefile, the
    firmware (.elf/.bin/.hex) and report.json. The firmware runs the model on `inputs` records
    baked into the image (random with `seed`, or from `input_file`) and prints the TF result
    protocol. `profile_layers` adds per-layer tick lines (`TF LOG layer n=.. ticks=..`). A model
    that is not int8 is converted first (calibrated on `calib`); report.json's `conversion` says so.

    The image is laid out for the board's default flash method (so `flash` takes it as it is),
    or for `method`'s loader, or at `app_offset` (0: no loader); report.json's `layout` says
    which. `serve` (default: when laid out for a flash method) keeps the firmware answering the
    host link after its run, for `test(..., port=...)`; `inputs=0` builds no records in.
    `labels`: a text file (one class per line) or a list, for readable result tables.
    `optimize` ("size", "balanced", "speed"): see `compile`; `opt` is the C compiler's -O2/-Os.
    `mcuboot`: build for the board's signed-image slots (then `sign` it).
    """
    from tinyforge.toolchain import build as pipeline

    return pipeline.build(
        model,
        _board(board),
        output,
        optimize=optimize,
        opt=opt,
        app_offset=app_offset,
        method=method,
        inputs=inputs,
        seed=seed,
        input_file=input_file,
        serve=serve,
        labels=labels,
        renode=renode,
        platformio=platformio,
        force=force,
        profile_layers=profile_layers,
        calib=calib,
        mcuboot=mcuboot,
    )


def export(
    model: str | Path | LoadedModel,
    board: BoardArg = DEFAULT_BOARD,
    output: str | Path | None = None,
    *,
    opt: str = "speed",
    force: bool = False,
    url: str | None = None,
) -> ExportResult:
    """The model as a library for your own firmware (toolchain/library.py): a folder with model.h,
    the generated sources, only the kernels the model calls, and build glue for CMake (static
    library `tinyforge_model`), Zephyr (module), PlatformIO (library.json) and Arduino
    (library.properties). No BSP, startup code or main(). Default folder: out/<model>-<board>-lib.
    `url`: the project page library.properties and library.json name (else a placeholder)."""
    from tinyforge.toolchain.library import export_library

    return export_library(model, _board(board), output, opt=opt, force=force, url=url)


def build_firmware(
    compiled: CompiledModel,
    board: BoardArg,
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
    from tinyforge.toolchain import build as pipeline

    return pipeline.build_firmware(
        compiled,
        _board(board),
        directory,
        records,
        opt=opt,
        app_offset=app_offset,
        renode=renode,
        platformio=platformio,
        force=force,
        profile_layers=profile_layers,
        dump_layers=dump_layers,
    )


def read_build_dir(directory: str | Path) -> BuiltFirmware:
    """Read back a `tinyforge build` directory: board, firmware, model and its input records."""
    from tinyforge.toolchain.build_dir import read_build_dir as read

    return read(directory)


def test_emulator(
    model: str | Path | LoadedModel,
    board: BoardArg | None = None,
    *,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    timeout: float = 120.0,
    workdir: str | Path | None = None,
    emulator: str = "qemu",
    calib: str | Path | None = None,
    optimize: str | None = None,
) -> TestReport:
    """Build MODEL for an emulated board (or take a build directory), run it in QEMU, compare every
    output byte with the TFLM reference. On a mismatch, a second run prints every layer's output
    to name the first layer that differs. The report adds instructions_per_inference (under
    -icount shift=0), flash_bytes and ram_bytes. Without a board: a build directory's own board,
    else the default board. A model that is not int8 is converted first (calibrated on `calib`),
    never beside the user's file. `optimize`: see `compile` (default "balanced"; a build
    directory keeps the mode it was built with)."""
    from tinyforge.run import testing

    if board is None:
        board = testing.build_dir_board(model) or DEFAULT_BOARD
    return testing.test_emulator(
        model,
        _board(board),
        inputs=inputs,
        seed=seed,
        input_file=input_file,
        timeout=timeout,
        workdir=workdir,
        emulator=emulator,
        calib=calib,
        optimize=optimize,
    )


def test_target(
    model: str | Path | LoadedModel,
    board: BoardArg | None = None,
    *,
    port: str,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    flash: bool = True,
    flash_port: str | None = None,
    baud: int | None = None,
    timeout: float = 30.0,
    workdir: str | Path | None = None,
    progress: Any = None,
    calib: str | Path | None = None,
    optimize: str | None = None,
) -> TestReport:
    """Validate MODEL on the board at `port` (a device, `auto`, or any pyserial URL): flash a
    firmware that serves the host link (unless `flash=False`), stream the inputs over the serial
    console, compare every output byte with the TFLM reference. The report is the emulator
    path's, plus `latency_ms` (p50/p95/max/mean from the board's timer); a dropped link raises a
    RunError naming the input index (run/target.py). Without a board: a build directory's own
    board, else the default board. `timeout`: seconds per input."""
    from tinyforge.run import target, testing

    if board is None:
        board = testing.build_dir_board(model) or DEFAULT_BOARD
    return target.test_target(
        model,
        _board(board),
        port=port,
        inputs=inputs,
        seed=seed,
        input_file=input_file,
        flash=flash,
        flash_port=flash_port,
        baud=baud,
        timeout=timeout,
        workdir=workdir,
        progress=progress,
        calib=calib,
        optimize=optimize,
    )


def test(
    model: str | Path | LoadedModel,
    board: BoardArg | None = None,
    *,
    port: str | None = None,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    flash: bool = True,
    flash_port: str | None = None,
    baud: int | None = None,
    timeout: float | None = None,
    emulator: str = "qemu",
    sanitize: bool = False,
    dump_ir: Callable[[str, str], None] | None = None,
    workdir: str | Path | None = None,
    progress: Any = None,
    calib: str | Path | None = None,
    optimize: str | None = None,
    place: str | None = None,
    coordinator: str | None = None,
) -> TestReport:
    """`tinyforge test`: run MODEL (a model file or a build directory) and compare every output
    byte with the TFLM reference; one entry point for every place it can run:
    with `port`, on the board at that port (`test_target`); else on the host board
    (`test_host`); else in the emulator (`test_emulator`). Without a board: a build directory's
    own board; else the host for a model file (the default board with `port`). `optimize`
    ("size", "balanced", "speed"; None: "balanced", or a build directory's mode): see `compile`.
    `place`: a labgrid place instead of `port` (see `place()`); the board defaults to its tag."""
    from tinyforge.run import testing

    if place is not None:
        with _placed(place, coordinator, port) as held:
            return test(
                model,
                board if board is not None else held.board,
                port=held.port,
                inputs=inputs,
                seed=seed,
                input_file=input_file,
                flash=flash,
                flash_port=flash_port,
                baud=baud,
                timeout=timeout,
                workdir=workdir,
                progress=progress,
                calib=calib,
                optimize=optimize,
            )
    if port is not None:
        return test_target(
            model,
            board,
            port=port,
            inputs=inputs,
            seed=seed,
            input_file=input_file,
            flash=flash,
            flash_port=flash_port,
            baud=baud,
            timeout=30.0 if timeout is None else timeout,
            workdir=workdir,
            progress=progress,
            calib=calib,
            optimize=optimize,
        )
    if board is None:
        board = testing.build_dir_board(model) or "host"
    profile = _board(board)
    if profile.is_host:
        return test_host(
            model,
            inputs=inputs,
            seed=seed,
            input_file=input_file,
            workdir=workdir,
            sanitize=sanitize,
            optimize=optimize or "balanced",
            dump_ir=dump_ir,
            board=profile,
            calib=calib,
        )
    return test_emulator(
        model,
        profile,
        inputs=inputs,
        seed=seed,
        input_file=input_file,
        timeout=120.0 if timeout is None else timeout,
        workdir=workdir,
        emulator=emulator,
        calib=calib,
        optimize=optimize,
    )


def write_junit(report: TestReport, path: str | Path) -> Path:
    """A JUnit XML file with one test case (model on board), for CI dashboards."""
    from tinyforge.run import testing

    return testing.write_junit(report, path)


def _matrix_pair(spec: PairSpec) -> PairResult:
    """One pair of the matrix, in a worker process: the board is resolved there (profiles do not pickle)."""
    from tinyforge.errors import TinyforgeError
    from tinyforge.run.matrix import PairResult, run_pair

    try:
        profile = _board(spec.board)
    except TinyforgeError as exc:
        return PairResult(spec.model, spec.board, spec.workdir, None, exc.message)
    return run_pair(spec, profile)


def test_matrix(
    models: list[str | Path] | tuple[str | Path, ...],
    boards: list[str] | tuple[str, ...],
    out_dir: str | Path = "out/matrix",
    *,
    jobs: int = 1,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    timeout: float = 120.0,
    emulator: str = "qemu",
    calib: str | Path | None = None,
    optimize: str = "balanced",
) -> tuple[PairResult, ...]:
    """Test every model on every board (run/matrix.py), `jobs` pairs at a time in worker
    processes, each pair building into `out_dir/<model stem>-<board>`. A pair that cannot run
    (does not fit, unsupported op) is a result with `error` set, not an exception."""
    from tinyforge.run.matrix import run_matrix

    return run_matrix(
        models,
        [_board(b) for b in boards],  # an unknown board fails before anything is built
        out_dir,
        _matrix_pair,
        jobs=jobs,
        inputs=inputs,
        seed=seed,
        input_file=input_file,
        timeout=timeout,
        emulator=emulator,
        calib=calib,
        optimize=optimize,
    )


def write_junit_matrix(results: list[PairResult] | tuple[PairResult, ...], path: str | Path) -> Path:
    """A JUnit XML file with one test case per (model, board) pair."""
    from tinyforge.run.matrix import write_junit_matrix as write

    return write(results, path)


# ==== signed images (issue 16) =================================================
# secureboot/: MCUboot's image format through imgtool (sign.py), parsed and verified in Python
# (mcuboot.py), keys (keys.py); the bench bootloader's A/B slots (layout.py; the update itself is
# flash/ab_update.py).

if TYPE_CHECKING:
    from tinyforge.secureboot.sign import SignResult


def sign(
    directory: str | Path,
    key: str | Path,
    version: str = "0.0.0",
    *,
    output: str | Path | None = None,
    force: bool = False,
) -> SignResult:
    """Sign a build made for the board's image slots (`build(..., mcuboot=True)`) with an Ed25519
    private key: DIR/firmware.signed.bin (MCUboot format, made by `imgtool sign`)."""
    from tinyforge.secureboot.sign import read_report, sign_build
    from tinyforge.toolchain.build_dir import board_ref

    report = read_report(directory)
    profile = _board(board_ref(report) or str(report["board"]))
    return sign_build(directory, profile, key, version, output=output, force=force)


def inspect_image(path: str | Path, key: str | Path | None = None) -> dict[str, Any]:
    """Version, image hash (and whether it matches), signing key id, board and model SHA-256 of a
    signed image; with `key` (a public or private PEM), whether its signature verifies."""
    from tinyforge.secureboot.keys import load_public_key
    from tinyforge.secureboot.mcuboot import read_image

    img = read_image(path)
    info = img.to_dict()
    if key is not None:
        pub = load_public_key(key)
        info["verified_with"] = pub.key_id
        info["verified"] = img.verify_signature(pub.raw)
    return info


# ==== emulate / flash =========================================================


def flash(
    target: str | Path,
    *,
    board: BoardArg | None = None,
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
    allow_downgrade: bool = False,
    place: str | None = None,
    coordinator: str | None = None,
) -> FlashResult:
    """Flash a build directory or an image (.elf/.hex/.bin) to a board; returns a FlashResult.

    Without `board`, the board the build says it is for. `verify`/`start` None mean "if the
    runner can". Options the board's runner cannot honour fail before anything is opened (with
    `board`, before the target is even read). Files are only read, never written.

    A signed image (a directory holding firmware.signed.bin, or an MCUboot file) goes to the
    inactive A/B slot of the bench bootloader (tinyforge/flash/ab_update.py): written, verified,
    marked pending, then the board resets into it. An image older than the running one is refused
    unless `allow_downgrade`.
    `place`: a labgrid place instead of `port` (see `place()`); a build for another board than
    the place's `tinyforge.board` tag is refused unless `board` is given.
    """
    from tinyforge.errors import UsageError
    from tinyforge.flash import ab_update as update
    from tinyforge.flash import request

    if place is not None:
        with _placed(place, coordinator, None if port == "auto" else port) as held:
            if board is None and held.board is not None:
                from tinyforge.errors import PlaceError, TinyforgeError

                try:
                    built: str | None = request.built_for(target)
                except TinyforgeError:
                    built = None  # the flash itself says what is wrong with the target
                if built is not None and built != held.board:
                    raise PlaceError(
                        f"{target} is built for {built} but place {place} holds a {held.board}",
                        hint="build for the place's board, or give --board to flash anyway",
                    )
            return flash(
                target,
                board=board if board is not None else held.board,
                port=held.port,
                method=method,
                baud=baud,
                verify=verify,
                address=address,
                erase_all=erase_all,
                start=start,
                follow=follow,
                follow_timeout=follow_timeout,
                progress=progress,
                allow_downgrade=allow_downgrade,
            )
    signed = update.signed_target(Path(target))
    if signed is not None:
        profile = _board(board) if board is not None else _board(update.built_for(signed))
        return update.flash_target(
            signed,
            profile,
            port=port,
            method=method,
            baud=baud,
            verify=verify,
            address=address,
            erase_all=erase_all,
            start=start,
            follow=follow,
            follow_timeout=follow_timeout,
            allow_downgrade=allow_downgrade,
            progress=progress,
        )
    if allow_downgrade:
        raise UsageError("--allow-downgrade applies to signed images", hint="flash a firmware.signed.bin")
    profile = _board(board) if board is not None else _board(request.built_for(target))
    return request.flash_target(
        target,
        profile,
        port=port,
        method=method,
        baud=baud,
        verify=verify,
        address=address,
        erase_all=erase_all,
        start=start,
        follow=follow,
        follow_timeout=follow_timeout,
        progress=progress,
    )


def build_bootloader(
    board: BoardArg = DEFAULT_BOARD, *, key: str | Path | None = None, output: str | Path | None = None
) -> Path:
    """The emulated bench's serial bootloader for `board` (built once, cached); with `key` (an
    Ed25519 public key PEM) the secure variant: A/B slots of signed images checked before they
    run. `output`: build into this directory instead of the cache."""
    from tinyforge.flash.emulated_bench import build_bootloader as _build

    return _build(_board(board), Path(output) if output is not None else None, key=key)


def default_flash_file(board: BoardArg = DEFAULT_BOARD) -> Path:
    """Where `emulate --key` keeps the bench's flash when no --flash-file is given."""
    from tinyforge import resources

    return resources.cache_dir() / "bench" / f"{_board(board).name}-flash.bin"


def emulate(
    board: BoardArg = DEFAULT_BOARD,
    *,
    firmware: str | Path | None = None,
    bootloader: bool = False,
    serial: str = "tcp",
    hold: bool = True,
    key: str | Path | None = None,
    flash_file: str | Path | None = None,
    boot: bool = False,
) -> Any:
    """Start `board` in QEMU with its console UART on TCP or a pty; returns a running Emulator
    (a context manager; `.port` is what `tinyforge flash --port` / stm32flash take).

    On TCP nothing the board prints is lost: while no client is attached its output is kept for
    the next one, and with `hold` (the default) the CPU runs only while a client is attached, so
    a firmware starts when `monitor --wait` (or `flash`, `test --port`) connects.

    With `key` (implies the bootloader): the secure bench. Its flash lives in `flash_file`
    (created erased if missing; it keeps what was flashed across runs, like a device). The
    bootloader stays in the serial protocol for a flasher (BOOT0 high) unless `boot`: then it
    starts the newest valid image at once."""
    from tinyforge.errors import UsageError
    from tinyforge.flash.emulated_bench import build_bootloader as _build
    from tinyforge.flash.emulated_bench import parse_serial, start_emulator

    spec = parse_serial(serial)  # bad input fails before anything is built
    profile = _board(board)
    if key is None and (flash_file is not None or boot):
        raise UsageError("--flash-file and --boot are for the secure bench", hint="add --key PUBLIC_KEY.pem")
    if firmware is None and not bootloader and key is None:
        raise UsageError(
            "nothing to run: give --firmware ELF or --bootloader", hint="e.g. tinyforge emulate --bootloader"
        )
    fw = Path(firmware) if firmware is not None else None
    if fw is not None and not fw.is_file():
        raise UsageError(f"{fw}: no such firmware file", hint="pass the firmware.elf of a tinyforge build")
    if key is not None:
        from tinyforge.secureboot.bootloader import prepare_flash_file, qemu_options
        from tinyforge.secureboot.layout import require_layout

        if fw is not None:
            raise UsageError(
                "--firmware cannot be preloaded on the secure bench", hint="flash a signed image instead"
            )
        layout = require_layout(profile)
        kernel = _build(profile, key=key)
        path = prepare_flash_file(
            Path(flash_file) if flash_file is not None else default_flash_file(profile.name)
        )
        machine, extra = qemu_options(layout, path, serial_mode=not boot)
        return start_emulator(profile, kernel, spec, machine_options=machine, extra_args=extra, hold=hold)
    if bootloader:
        kernel = _build(profile)
        return start_emulator(profile, kernel, spec, extra_images=(fw,) if fw else (), hold=hold)
    assert fw is not None
    from tinyforge.flash.image import load_image

    start = load_image(fw).start  # an image linked after a bootloader boots from where it starts
    offset = start - profile.flash.origin if profile.flash.origin < start < profile.flash.end else 0
    return start_emulator(profile, fw, spec, hold=hold, app_offset=offset)


# ==== monitor =================================================================

if TYPE_CHECKING:
    from tinyforge.monitor.core import MonitorReport


def monitor(
    port: str | None = None,
    *,
    baud: int = 115200,
    board: BoardArg | None = None,
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
    labels: str | Path | list[str] | None = None,
    out: Any = None,
    metrics: str | None = None,
    place: str | None = None,
    coordinator: str | None = None,
) -> MonitorReport:
    """Stream a serial port (device path, `auto`, or pyserial URL) to `out` (default stdout) until
    the expectations are met, a --fail pattern or the timeout ends it, or the user quits.

    Returns a `tinyforge.monitor.core.MonitorReport` (`.exit_code`: 0 pass, 1 fail/timeout).
    `board` gives the timer rate for latencies (else `tick_hz`, else raw ticks) and the USB ids
    for `port="auto"`; `elf` lets TF FAULT lines name the function and source line, and when
    its build carries labels (or with `labels`: a file, one class per line, or a list) results
    are shown as a table: class label, score, latency.
    `metrics` (":PORT" or "127.0.0.1:PORT"): serve the statistics as Prometheus metrics on
    127.0.0.1 while the monitor runs (tinyforge/monitor/metrics.py).
    Example: api.monitor("socket://127.0.0.1:4000", expect=["TF DONE status=pass"], timeout=30)
    `place`: a labgrid place instead of `port` (see `place()`), held while the monitor runs.
    """
    import sys

    if place is not None:
        with _placed(place, coordinator, port) as held:
            return monitor(
                held.port,
                baud=baud,
                board=board if board is not None else held.board,
                timestamps=timestamps,
                log=log,
                expect=expect,
                fail=fail,
                timeout=timeout,
                elf=elf,
                tick_hz=tick_hz,
                json=json,
                reconnect=reconnect,
                wait=wait,
                interactive=interactive,
                eol=eol,
                stats_interval=stats_interval,
                labels=labels,
                out=out,
                metrics=metrics,
            )
    if port is None:
        from tinyforge.errors import UsageError

        raise UsageError("which port? give --port or --place", hint="e.g. --port /dev/ttyACM0")

    from tinyforge.errors import UsageError
    from tinyforge.monitor.core import decoder_for
    from tinyforge.monitor.keys import EOLS
    from tinyforge.monitor.run import MonitorOptions, run_monitor, want_color
    from tinyforge.serial.ports import resolve_port

    usb_ids: tuple[str, ...] = ()
    if board is not None:
        profile = _board(board)
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
    table = result_table(elf_path, labels, tick_hz)
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
        table=table,
        metrics=metrics,
    )
    return run_monitor(opts, out, fault_decoder=decoder_for(elf_path))


def result_table(
    build: str | Path | None, labels: str | Path | list[str] | None = None, tick_hz: int | None = None
) -> Any:
    """The readable result table (monitor/table.py) for a build directory or firmware ELF whose
    build carries labels, or for explicit `labels` (scores in real units when the build's output
    quantization is known); None when there are no labels."""
    from tinyforge.errors import TinyforgeError
    from tinyforge.monitor.table import ResultTable
    from tinyforge.toolchain.labels import read_labels
    from tinyforge.toolchain.manifest import read_manifest

    manifest: dict[str, Any] = {}
    if build is not None:
        path = Path(build)
        try:
            if path.is_dir():
                from tinyforge.toolchain.build_dir import scan_build_dir

                found = scan_build_dir(path).report.get("manifest")
                manifest = found if isinstance(found, dict) else {}
            elif path.suffix == ".elf":
                manifest = read_manifest(path)
        except TinyforgeError:
            manifest = {}  # not a tinyforge build: no labels from it
    if labels is not None:
        manifest = {
            **manifest,
            "labels": read_labels(labels) if isinstance(labels, str | Path) else list(labels),
        }
    if tick_hz is None and isinstance(manifest.get("board"), str):
        try:
            tick_hz = _board(manifest["board"]).timer.hz  # latencies at the build's board's timer rate
        except TinyforgeError:
            tick_hz = None
    return ResultTable.from_manifest(manifest, tick_hz)


# ==== bench ===================================================================
# `tinyforge bench` (tinyforge/run/bench.py): instructions per inference in QEMU -icount (the anchors'
# method and input pattern), MACs per instruction, flash and RAM split, optional per-layer table.

if TYPE_CHECKING:
    from tinyforge.run.bench import BenchReport


def bench(
    model: str | Path | LoadedModel,
    board: BoardArg = DEFAULT_BOARD,
    *,
    optimize: str = "balanced",
    layers: bool = False,
    workdir: str | Path | None = None,
    timeout: float = 120.0,
) -> BenchReport:
    """Build MODEL for an emulated BOARD, run one inference on the input x[i] = (i*37+11) % 256 - 128
    under `qemu-system-arm -icount shift=0` and report instructions, MACs/instruction, flash
    (weights / kernels+runtime / harness, and the model's own weight bytes to compare with) and RAM
    (arena, scratch, stack high-water mark); with `layers`, also the instructions of every layer.
    `bit_exact` compares the output with TFLM. `optimize`: see `compile`."""
    from tinyforge.run.bench import bench_model

    return bench_model(
        model,
        _board(board),
        optimize=optimize,
        layers=layers,
        workdir=Path(workdir) if workdir else None,
        timeout=timeout,
    )


# ==== farm ====================================================================
# farm/places.py (the one module that imports labgrid): a labgrid place -> its serial port as a
# pyserial URL + the board its `tinyforge.board` tag names; farm/lab.py: the emulated lab.


def place(name: str, coordinator: str | None = None) -> Any:
    """A context manager holding labgrid place `name` (acquired, or used as it is when this
    host/user holds it already), yielding a `PlaceLease` (`.port`: a pyserial URL, `.board`: its
    `tinyforge.board` tag or None); on the way out it releases what it acquired, also on an error
    or SIGTERM. `coordinator`: HOST:PORT, else LG_COORDINATOR, else 127.0.0.1:20408.
    Example: with api.place("bench-1") as p: api.flash("out/kws", port=p.port)"""
    from tinyforge.farm.places import lease

    return lease(name, coordinator)


@contextmanager
def _placed(name: str, coordinator: str | None, port: str | None) -> Iterator[PlaceLease]:
    if port is not None:
        from tinyforge.errors import UsageError

        raise UsageError("give --port or --place, not both", hint="a place brings its own port")
    from tinyforge.errors import TinyforgeError

    with place(name, coordinator) as held:
        try:
            yield held
        except TinyforgeError as exc:
            exc.message = f"place {name}: {exc.message}"  # which bench, when several run at once
            raise


def places(coordinator: str | None = None) -> list[PlaceStatus]:
    """Every place of a labgrid coordinator: holder, board tag, whether its serial port is up."""
    from tinyforge.farm.places import status

    return status(coordinator)


def _lab_board(board: BoardArg) -> tuple[BoardProfile, str]:
    """The lab's board, checked and its bootloader built here (in the foreground, once)."""
    from tinyforge.flash.emulated_bench import build_bootloader as _build

    profile = _board(board)
    _build(profile)  # a board without the bench bootloader fails here, with the reason
    return profile, profile.name if isinstance(board, BoardProfile) else str(board)


def lab_up(
    count: int = 2, directory: str | Path = "out/lab", board: BoardArg = DEFAULT_BOARD, timeout: float = 60.0
) -> LabState:
    """Start an emulated lab of `count` places in the background (farm/lab.py): emulated benches
    on `board`, a labgrid coordinator and exporter, places bench-1..N tagged with the board, all
    on 127.0.0.1; returns once it is ready (its state is DIR/lab.json). A lab already up there
    with the same places is returned as it is. `lab_down` stops it."""
    from tinyforge.farm import lab

    _, name = _lab_board(board)
    return lab.up(directory, count, name, timeout=timeout)


def lab_serve(count: int = 2, directory: str | Path = "out/lab", board: BoardArg = DEFAULT_BOARD) -> None:
    """The emulated lab in the foreground until SIGTERM or Ctrl-C (what `lab_up` runs detached)."""
    from tinyforge.farm import lab

    profile, _ = _lab_board(board)
    lab.serve(directory, [profile] * count)


def lab_down(directory: str | Path = "out/lab") -> bool:
    """Stop the emulated lab in `directory`; False when none was running."""
    from tinyforge.farm import lab

    return lab.down(directory)


def lab_status(directory: str | Path = "out/lab") -> LabState | None:
    """The state of the emulated lab in `directory` (None: no lab there)."""
    from tinyforge.farm import lab

    return lab.read_state(directory)
