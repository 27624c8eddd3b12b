"""`tinyforge test MODEL... --board B1,B2,... --jobs N`: every model on every board, side by side.

Each pair is one `test_host` / `test_emulator` call (run/testing.py) in a worker process of
proc.worker_pool, building into its own folder `OUT/<model stem>-<board>`; the object cache they
share publishes each entry with one atomic rename (toolchain/objcache.py), so jobs building the
same kernels at once both succeed.

run_matrix(models, boards, ...) -> tuple[PairResult, ...]   in model-major order, whatever finished first
write_junit_matrix(results, path)                           one JUnit test case per pair
summary_table(results) -> str                               model, board, bit-exact, instructions, flash, RAM
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyforge.boards import BoardProfile
from tinyforge.errors import TinyforgeError, UsageError
from tinyforge.run.testing import TestReport, check_junit_target, junit_case


@dataclass(frozen=True)
class PairSpec:
    model: str
    board: str  # a name or .toml path: a BoardProfile does not pickle, so each worker resolves it
    workdir: str
    inputs: int
    seed: int
    input_file: str | None
    timeout: float
    emulator: str
    calib: str | None = None
    optimize: str = "balanced"


@dataclass(frozen=True)
class PairResult:
    model: str
    board: str
    workdir: str
    report: TestReport | None  # None when the pair could not run (error says why)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.report is not None and self.report.bit_exact

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"model": self.model, "board": self.board, "workdir": self.workdir}
        d.update(self.report.to_dict() if self.report else {"bit_exact": False})
        d["model"], d["board"] = self.model, self.board
        d["error"] = self.error
        return d


def model_stem(model: str | Path) -> str:
    stem = Path(str(model).rstrip("/")).name
    for suffix in (".tflite", ".keras", ".h5"):
        stem = stem.removesuffix(suffix)
    return stem


def run_pair(spec: PairSpec, profile: BoardProfile) -> PairResult:
    """One model on one board (in a pool worker); a tinyforge error is the pair's result, not a crash."""
    from tinyforge.run import testing

    try:
        if profile.is_host:
            report = testing.test_host(
                spec.model,
                profile,
                inputs=spec.inputs,
                seed=spec.seed,
                input_file=spec.input_file,
                workdir=spec.workdir,
                calib=spec.calib,
                optimize=spec.optimize,
            )
        else:
            report = testing.test_emulator(
                spec.model,
                profile,
                inputs=spec.inputs,
                seed=spec.seed,
                input_file=spec.input_file,
                timeout=spec.timeout,
                workdir=spec.workdir,
                emulator=spec.emulator,
                calib=spec.calib,
                optimize=spec.optimize,
            )
    except TinyforgeError as exc:
        return PairResult(spec.model, profile.name, spec.workdir, None, exc.message)
    return PairResult(spec.model, profile.name, spec.workdir, report)


def run_matrix(
    models: Sequence[str | Path],
    boards: Sequence[BoardProfile],
    out_dir: str | Path,
    run: Callable[[PairSpec], PairResult],
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
    """Test every model on every board (profiles resolved by the caller), `jobs` pairs at a time
    (1: in this process). `run` tests one pair: a module-level function (it is pickled to the
    workers) that resolves the pair's board and calls run_pair."""
    from tinyforge import proc

    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: must be at least 1", hint="e.g. --jobs 2")
    if not models or not boards:
        raise UsageError("nothing to test: give at least one model and one board")
    for m in models:
        if not Path(m).exists():
            raise UsageError(f"{m}: no such model file", hint="pass a .tflite (or Keras/SavedModel) path")
        if Path(m).is_dir() and (Path(m) / "report.json").is_file():
            raise UsageError(
                f"{m} is a build directory: the matrix builds each model for each board itself",
                hint=f"test it alone with `tinyforge test {m}`",
            )
    stems = [model_stem(m) for m in models]
    if len(set(stems)) != len(stems):
        raise UsageError(
            "two models share a name, so their build folders would clash",
            hint="rename one of them or test them in separate runs",
        )
    out = Path(out_dir)
    specs = [
        PairSpec(
            str(m),
            b.source if b.source.endswith(".toml") else b.name,
            str(out / f"{model_stem(m)}-{b.name}"),
            inputs,
            seed,
            str(input_file) if input_file is not None else None,
            timeout,
            emulator,
            str(calib) if calib is not None else None,
            optimize,
        )
        for m in models
        for b in boards
    ]
    if jobs == 1 or len(specs) == 1:
        return tuple(run(s) for s in specs)
    with proc.worker_pool(min(jobs, len(specs))) as pool:
        return tuple(pool.map(run, specs))


def summary_table(results: Sequence[PairResult]) -> str:
    """A fixed-width table: one line per pair."""
    head = ("model", "board", "bit-exact", "instructions", "flash B", "RAM B")
    rows: list[tuple[str, ...]] = []
    for r in results:
        d = r.report.to_dict() if r.report else {}
        ipi = d.get("instructions_per_inference")
        if r.report is None:
            exact = "error"
        else:
            exact = "yes" if r.report.bit_exact else f"NO ({r.report.mismatched_bytes} B differ)"
        rows.append(
            (
                Path(r.model).name,
                r.board,
                exact,
                f"{ipi:,}" if isinstance(ipi, int) else "-",
                f"{d['flash_bytes']:,}" if d.get("flash_bytes") else "-",
                f"{d['ram_bytes']:,}" if d.get("ram_bytes") else "-",
            )
        )
    widths = [max(len(x[i]) for x in (head, *rows)) for i in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    text = [line(head), "  ".join("-" * w for w in widths)]
    text += [line(r) for r in rows]
    for r in results:
        if r.error:
            text.append(f"error: {Path(r.model).name} on {r.board}: {r.error}")
    passed = sum(r.passed for r in results)
    text.append(f"{passed}/{len(results)} pairs bit-exact")
    return "\n".join(text)


def write_junit_matrix(results: Sequence[PairResult], path: str | Path) -> Path:
    """A JUnit XML file with one test case per (model, board) pair. An existing file is replaced
    only if it is a tinyforge JUnit report."""
    import xml.etree.ElementTree as ET

    check_junit_target(path)

    failures = sum(1 for r in results if r.report is not None and not r.report.bit_exact)
    errors = sum(1 for r in results if r.report is None)
    suite = ET.Element(
        "testsuite", name="tinyforge", tests=str(len(results)), failures=str(failures), errors=str(errors)
    )
    for r in results:
        if r.report is not None:
            suite.append(junit_case(r.report))
        else:
            case = ET.SubElement(
                suite, "testcase", classname=f"tinyforge.{r.board}", name=f"{Path(r.model).name} on {r.board}"
            )
            ET.SubElement(case, "error", message=r.error or "did not run")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(out, encoding="utf-8", xml_declaration=True)
    return out
