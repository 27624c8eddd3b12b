"""The `qemu` runner: run a firmware ELF in qemu-system-arm and collect its protocol lines.

    qemu-system-arm -M <machine> -nographic -monitor none -serial stdio -icount shift=0
                    -semihosting-config enable=on,target=native -no-reboot -kernel firmware.elf

(the command line comes from toolchain/qemu_cmd.py, which also prints it into the Makefile's `run`)

`-icount shift=0` makes QEMU's virtual clock advance exactly 1 ns per instruction, so timer ticks
measure instructions: instructions = ticks * 1e9 / timer_hz (25 MHz SysTick -> x40). The firmware
ends itself with a semihosting exit (status 0 pass, 1 fail, 3 fault).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tinyforge import proc
from tinyforge.errors import RunError
from tinyforge.serial import protocol
from tinyforge.toolchain.qemu_cmd import qemu_argv

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.serial.faults import FaultReport

DEFAULT_TIMEOUT = 60.0
# after TF DONE the firmware exits at once; give QEMU this long to do so
EXIT_GRACE = 5.0


def instructions(ticks: int, timer_hz: int) -> int:
    """Instructions executed in `ticks` timer ticks under -icount shift=0 (1 instruction = 1 ns)."""
    return round(ticks * 1_000_000_000 / timer_hz)


@dataclass(frozen=True)
class QemuRun:
    argv: tuple[str, ...]
    exit_code: int
    lines: tuple[str, ...]  # everything the UART printed, line by line
    begin: protocol.Begin | None
    results: tuple[protocol.Result, ...]
    logs: tuple[str, ...]
    done: protocol.Done | None
    fault: protocol.Fault | None
    seconds: float
    timer_hz: int

    def instructions(self, ticks: int) -> int:
        return instructions(ticks, self.timer_hz)

    @property
    def instructions_per_inference(self) -> int | None:
        if not self.results:
            return None
        return instructions(sum(r.ticks for r in self.results) // len(self.results), self.timer_hz)

    def log_value(self, key: str) -> str | None:
        """A `key=value` from the TF LOG lines (e.g. stack_used)."""
        for text in self.logs:
            for part in text.split():
                k, _, v = part.partition("=")
                if k == key:
                    return v
        return None


def _reader(stream: proc.Process, lines: list[str], done: threading.Event) -> None:
    buf = b""
    assert stream.stdout is not None
    while True:
        chunk = stream.stdout.read1(4096) if hasattr(stream.stdout, "read1") else stream.stdout.read(1)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            raw, buf = buf.split(b"\n", 1)
            line = raw.decode("utf-8", "replace").rstrip("\r")
            lines.append(line)
            if protocol.SENTINEL_RE.match(line) or line.startswith("TF FAULT"):
                done.set()
    if buf:
        lines.append(buf.decode("utf-8", "replace").rstrip("\r"))
    done.set()


def run_qemu(
    board: BoardProfile,
    elf: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    decode_faults: bool = True,
    app_offset: int = 0,
    exits: bool = True,
) -> QemuRun:
    """Run `elf` on `board` in QEMU until it exits; RunError on a hang, a fault or a bad ending.
    `app_offset`: the image is linked that far into the flash (after a bootloader). `exits=False`:
    a firmware that keeps running after TF DONE (it serves the host link) is stopped there."""
    elf = Path(elf)
    if not elf.is_file():
        raise RunError(f"{elf}: no such firmware", hint="build it first with `tinyforge build`")
    argv = qemu_argv(board, elf, app_offset=app_offset)
    t0 = time.monotonic()
    p = proc.start_tool(argv, stdin=proc.DEVNULL, stdout=proc.PIPE, stderr=proc.PIPE)
    lines: list[str] = []
    finished = threading.Event()
    reader = threading.Thread(target=_reader, args=(p, lines, finished), daemon=True)
    reader.start()
    hung = False
    try:
        if not finished.wait(timeout):
            hung = True
        elif exits:
            try:
                p.wait(EXIT_GRACE)
            except proc.TimeoutExpired:
                hung = True
    finally:
        proc.stop(p, grace=0)
        reader.join(5)
        stderr = p.stderr.read().decode("utf-8", "replace") if p.stderr else ""
        if p.stdout:
            p.stdout.close()
        if p.stderr:
            p.stderr.close()
    seconds = time.monotonic() - t0
    code = p.returncode
    if not exits and not hung:
        done = next((protocol.parse_line(ln) for ln in lines if protocol.SENTINEL_RE.match(ln)), None)
        code = 0 if isinstance(done, protocol.Done) and done.passed else 1  # as its exit would say
    run = _collect(argv, code, lines, seconds, board.timer.hz)
    if run.fault is not None:
        raise _fault_error(run.fault, elf if decode_faults else None, board)
    if hung:
        last = next((ln for ln in reversed(lines) if ln.strip()), None)
        raise RunError(
            f"firmware on {board.name} (QEMU) did not finish within {timeout:g} s"
            + (f"; last output: {last[:120]!r}" if last else "; it printed nothing"),
            hint="the model may be stuck in a loop, or needs longer: rerun with a larger --timeout",
        )
    if run.done is None:
        detail = stderr.strip().splitlines()
        raise RunError(
            f"QEMU exited with code {p.returncode} before the firmware printed TF DONE"
            + (f": {detail[0]}" if detail else ""),
            hint="check that the firmware was built for this board (`tinyforge inspect firmware.elf`)",
        )
    return run


def _collect(argv: Sequence[str], code: int, lines: list[str], seconds: float, hz: int) -> QemuRun:
    begin = done = fault = None
    results: list[protocol.Result] = []
    logs: list[str] = []
    for line in lines:
        rec = protocol.parse_line(line)
        if isinstance(rec, protocol.Begin):
            begin = rec
        elif isinstance(rec, protocol.Result):
            results.append(rec)
        elif isinstance(rec, protocol.Log):
            logs.append(rec.text)
        elif isinstance(rec, protocol.Done):
            done = rec
        elif isinstance(rec, protocol.Fault) and fault is None:
            fault = rec
    return QemuRun(
        tuple(argv), code, tuple(lines), begin, tuple(results), tuple(logs), done, fault, seconds, hz
    )


class FaultError(RunError):
    """The firmware hit a hard fault; `report` says what and where."""

    def __init__(self, message: str, report: FaultReport, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.report = report


def _fault_error(fault: protocol.Fault, elf: Path | None, board: BoardProfile) -> FaultError:
    from tinyforge.serial.faults import decode_fault

    report = decode_fault(fault, elf)
    return FaultError(
        f"firmware crashed on {board.name} (QEMU): {report.summary()}",
        report,
        hint="a kernel or the memory plan is broken for this model; rerun with --board host --sanitize to compare",
    )
