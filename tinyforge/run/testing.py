"""`tinyforge test`: run a compiled model (natively on the host, or as firmware in an emulator) and
compare every output byte with the TFLM reference (verify.py). On a mismatch, a second run dumps
every layer's output to name the first layer that differs.

test_host(model, board) -> TestReport       host gcc build, run/host.py
test_emulator(model, board) -> TestReport   firmware in QEMU (run/qemu.py) or Renode (run/renode.py)
write_junit(report, path)             the report as JUnit XML for CI dashboards
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyforge.errors import RunError, UsageError

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.compiler import CompiledModel
    from tinyforge.model.tflite import LoadedModel
    from tinyforge.run.verify import Comparison, LayerMismatch


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


def report_for(
    board: str,
    compiled: CompiledModel,
    cmp: Comparison,
    first: LayerMismatch | None,
    extra: dict[str, Any] | None = None,
) -> TestReport:
    """The report every runner ends with (host, QEMU, the target over serial): the comparison,
    the model's memory figures, what the device produced (`outputs`, hex per output per input)
    and the runner's own figures in `extra`."""
    s = compiled.stats
    extra = {
        "optimize": compiled.target.optimize,
        **(extra or {}),
        "outputs": [[o.hex() for o in outs] for outs in cmp.outputs],
    }
    if compiled.source.conversion is not None:
        extra["conversion"] = compiled.source.conversion.to_dict()
    return TestReport(
        board=board,
        model=extra["conversion"]["source"] if "conversion" in extra else str(compiled.source.path),
        inputs=cmp.inputs,
        mismatched_bytes=cmp.mismatched_bytes,
        bit_exact=cmp.bit_exact,
        arena_bytes=s.arena_bytes,
        scratch_bytes=s.scratch_bytes,
        liveness_bound=s.liveness_bound,
        macs=s.macs,
        first_mismatch=asdict(first) if first else None,
        extra=extra,
    )


def test_host(
    model: str | Path | LoadedModel,
    board: BoardProfile,
    *,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    workdir: str | Path | None = None,
    sanitize: bool = False,
    dump_ir: Callable[[str, str], None] | None = None,
    calib: str | Path | None = None,
    optimize: str = "balanced",
) -> TestReport:
    """Compile for the host, run N inputs natively, compare every byte with the TFLM reference.
    A model that is not int8 is converted first (calibrated on `calib`) into `workdir` or a
    temporary folder; the report's `conversion` says so."""
    from tinyforge.codegen.inputs import make_inputs
    from tinyforge.compiler import compile_for
    from tinyforge.run.host import build_host, run_host
    from tinyforge.run.verify import compare, localise_mismatch

    compiled = compile_for(model, board, optimize=optimize, dump=dump_ir, calib=calib, workdir=workdir)
    data = make_inputs(compiled.inputs, inputs, seed, input_file)
    with tempfile.TemporaryDirectory(prefix="tinyforge-host-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        run = run_host(build_host(compiled, work, sanitize=sanitize), data.records())
        cmp = compare(compiled, data, [r.outputs for r in run.results])

        def layers(records: list[bytes]) -> dict[int, bytes]:
            dbg = build_host(compiled, work, sanitize=sanitize, debug_layers=True)
            return run_host(dbg, records).layers

        first = localise_mismatch(compiled, data, cmp, layers)
    return report_for(board.name, compiled, cmp, first)


def build_dir_board(model: str | Path | LoadedModel) -> str | None:
    """The board a `tinyforge build` directory was built for, as `api.board()` takes it: its name, or
    the board file it came from (None when `model` is not a build directory)."""
    from tinyforge.toolchain.build_dir import board_ref, read_build_dir

    if isinstance(model, str | Path) and Path(model).is_dir():
        return board_ref(read_build_dir(model).report)
    return None


def built_optimize(report: dict[str, Any], optimize: str | None) -> str:
    """The --optimize mode a build directory was built with (its report.json); a UsageError when
    the user asked for another one."""
    from tinyforge.kernels.registry import DEFAULT_OPTIMIZE

    built_mode = str(report.get("optimize", DEFAULT_OPTIMIZE))
    if optimize is not None and optimize != built_mode:
        raise UsageError(
            f"{report.get('directory', 'the build directory')} was built with --optimize {built_mode}, not {optimize}",
            hint=f"drop --optimize or rebuild with `tinyforge build ... --optimize {optimize}`",
        )
    return built_mode


def test_emulator(
    model: str | Path | LoadedModel,
    board: BoardProfile,
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
    -icount shift=0), flash_bytes and ram_bytes. `optimize` None: "balanced", or the mode a build
    directory was built with."""
    from tinyforge.compiler import check_optimize
    from tinyforge.kernels.registry import DEFAULT_OPTIMIZE

    if optimize is not None:
        check_optimize(optimize)
    if emulator == "renode":
        return _test_renode(
            model,
            board,
            inputs=inputs,
            seed=seed,
            input_file=input_file,
            timeout=timeout,
            workdir=workdir,
            optimize=optimize,
        )
    if emulator != "qemu":
        raise UsageError(f"--emulator {emulator}: expected qemu or renode")
    from tinyforge.codegen.inputs import make_inputs, split_records
    from tinyforge.compiler import compile_for
    from tinyforge.model.tflite import read_tflite
    from tinyforge.run.qemu import run_qemu
    from tinyforge.run.verify import compare, localise_mismatch
    from tinyforge.serial.protocol import layer_outputs
    from tinyforge.toolchain.build import build_firmware
    from tinyforge.toolchain.build_dir import read_build_dir

    b = board
    with tempfile.TemporaryDirectory(prefix="tinyforge-qemu-") as tmp:
        if isinstance(model, str | Path) and Path(model).is_dir():
            built = read_build_dir(model)
            if b.name != built.board:
                raise UsageError(
                    f"{model} was built for {built.board}, not {b.name}",
                    hint=f"drop --board or pass --board {built.board}",
                )
            if not built.records:
                raise UsageError(
                    f"{model} was built with no inputs (--inputs 0): there is nothing to run in the emulator",
                    hint="validate it on a board with `tinyforge test DIR --port PORT`, or rebuild with --inputs N",
                )
            built_mode = built_optimize(built.report, optimize)
            compiled = compile_for(read_tflite(built.model), b, optimize=built_mode)
            records = list(built.records)
            elf, sizes = built.elf, dict(built.report.get("sizes", {}))
            opt = str(built.report.get("opt", "speed"))
            app_offset, exits = built.app_offset, not built.serves
        else:
            if not b.is_emulated:
                raise UsageError(
                    f"board {b.name} is not emulated: `tinyforge test` runs on the host or in QEMU",
                    hint="build it with `tinyforge build`, flash it, and watch it with `tinyforge monitor`",
                )
            compiled = compile_for(model, b, calib=calib, optimize=optimize or DEFAULT_OPTIMIZE)
            records = make_inputs(compiled.inputs, inputs, seed, input_file).records()
            opt = "speed"
            res = build_firmware(
                compiled,
                b,
                Path(workdir) if workdir else Path(tmp) / "build",
                records,
                force=workdir is None,
            )
            elf, sizes = res.elf, res.sizes
            app_offset, exits = 0, True
        data = split_records(compiled.inputs, records)
        run = run_qemu(b, elf, timeout=timeout, app_offset=app_offset, exits=exits)
        cmp = compare(compiled, data, [r.outputs for r in run.results])

        def layers(replay: list[bytes]) -> dict[int, bytes]:
            # the same board, kernels and optimisation as the failing firmware, the same inputs
            # up to the failing one, each layer's output printed after it ran
            dbg = build_firmware(
                compiled, b, Path(tmp) / "layers", replay, dump_layers=True, force=True, opt=opt
            )
            return layer_outputs(run_qemu(b, dbg.elf, timeout=timeout * 4).logs)

        first = localise_mismatch(compiled, data, cmp, layers)
    ticks = [r.ticks for r in run.results]
    return report_for(
        b.name,
        compiled,
        cmp,
        first,
        {
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


def _test_renode(
    model: str | Path | LoadedModel,
    board: BoardProfile,
    *,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    timeout: float = 120.0,
    workdir: str | Path | None = None,
    optimize: str | None = None,
) -> TestReport:
    """`tinyforge test --emulator renode`: build with --renode, then run the Robot test."""
    from tinyforge.compiler import compile_for
    from tinyforge.run.renode import renode_test_path, run_renode_test
    from tinyforge.toolchain.build import build
    from tinyforge.toolchain.build_dir import read_build_dir

    renode_test_path()  # fail before building when renode-test is missing
    with tempfile.TemporaryDirectory(prefix="tinyforge-renode-") as tmp:
        d = Path(model) if isinstance(model, str | Path) and Path(model).is_dir() else None
        if d is None:
            res = build(
                model,
                board,
                Path(workdir) if workdir else Path(tmp) / "build",
                inputs=inputs,
                seed=seed,
                input_file=input_file,
                optimize=optimize or "balanced",
                renode=True,
                force=workdir is None,
            )
            d, compiled, sizes = res.directory, res.compiled, res.sizes
        else:
            built = read_build_dir(d)
            compiled = compile_for(built.model, board, optimize=built_optimize(built.report, optimize))
            sizes = built.report.get("sizes", {})
        robot = d / "renode" / "firmware.robot"
        if not robot.is_file():
            raise RunError(
                f"{d} has no renode/firmware.robot", hint="rebuild it with `tinyforge build --renode`"
            )
        run_renode_test(robot, timeout=timeout)
    s = compiled.stats
    return TestReport(
        board=board.name,
        model=str(compiled.source.path),
        inputs=inputs,
        mismatched_bytes=0,
        bit_exact=True,
        arena_bytes=s.arena_bytes,
        scratch_bytes=s.scratch_bytes,
        liveness_bound=s.liveness_bound,
        macs=s.macs,
        extra={
            "emulator": "renode",
            "flash_bytes": sizes.get("flash_bytes", 0),
            "ram_bytes": sizes.get("ram_bytes", 0),
        },
    )


def check_junit_target(path: str | Path) -> None:
    """`--junit FILE` replaces a JUnit report tinyforge wrote (CI reruns), never another file."""
    import xml.etree.ElementTree as ET

    p = Path(path)
    if not p.exists():
        return
    try:
        ours = p.is_file() and ET.parse(p).getroot().get("name") == "tinyforge"
    except (ET.ParseError, OSError):
        ours = False
    if not ours:
        raise UsageError(
            f"--junit {p}: exists and is not a tinyforge JUnit report; not overwriting it",
            hint="choose another path, or remove the file",
        )


def junit_case(report: TestReport) -> Any:
    """One JUnit <testcase> element (model on board), with the figures as properties."""
    import xml.etree.ElementTree as ET

    d = report.to_dict()
    case = ET.Element(
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
    return case


def write_junit(report: TestReport, path: str | Path) -> Path:
    """A JUnit XML file with one test case (model on board), for CI dashboards. An existing file
    is replaced only if it is a tinyforge JUnit report."""
    import xml.etree.ElementTree as ET

    check_junit_target(path)
    suite = ET.Element("testsuite", name="tinyforge", tests="1", failures="0" if report.bit_exact else "1")
    suite.append(junit_case(report))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(out, encoding="utf-8", xml_declaration=True)
    return out
