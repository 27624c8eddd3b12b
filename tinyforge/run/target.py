"""`tinyforge test --port`: validation on the target, over its serial console (like
`stedgeai validate --mode target`). The board runs a firmware that serves the host link
(serial/frames.py; the harness after its run, firmware/bsp/tf_link.c): every input record goes
to it in an INFER frame, its outputs and timer ticks come back in a RESULT frame, and the outputs
are compared byte for byte with the `tflite_micro` reference (run/verify.py), as in the QEMU path.

    test_target(model, board, port=...) -> TestReport    flash (unless flash=False), stream, compare
    run_session(port, records, expect=...) -> Session    the link alone, on a board already serving

Any pyserial URL works (a device, socket:// to the emulated bench or ser2net, rfc2217://).
"""

from __future__ import annotations

import select
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyforge.errors import RunError, UsageError
from tinyforge.serial import frames

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.compiler import CompiledModel
    from tinyforge.flash.progress import Progress
    from tinyforge.model.tflite import LoadedModel
    from tinyforge.run.testing import TestReport

HELLO_TIMEOUT = 30.0  # after a flash the firmware first runs the records built into it
HELLO_RESEND = 1.0
INFER_TIMEOUT = 30.0  # per input, on top of the time the bytes take on the wire
RETRIES = 3  # a frame that arrives corrupted (either way) is sent again this often


class LinkDropped(RunError):
    """The port went away during the session (cable, USB reset, bench gone)."""

    HINT = (
        "check the cable, USB hub or bench; the board drops a half-received input after 250 ms and stays "
        "flashable: run the same command again"
    )


@dataclass(frozen=True)
class Expected:
    """What the host knows the firmware must be: its model and I/O sizes."""

    model: str  # sha256[:16]
    record_bytes: int
    output_bytes: tuple[int, ...]


@dataclass(frozen=True)
class Session:
    info: frames.Info
    results: tuple[frames.Result, ...]
    text: str  # what the device printed between frames (its run's TF lines, ...)
    seconds: float
    port: str


class _Link:
    """A pyserial port read without losing bytes to a disconnect: select() then one read."""

    def __init__(self, port: Any, where: str) -> None:
        self.port = port
        self.where = where
        try:
            fd = port.fileno()
            self.fd: int | None = fd if isinstance(fd, int) else None
        except Exception:  # noqa: BLE001 - rfc2217:// and friends have no descriptor
            self.fd = None
        if self.fd is not None:
            port.timeout = 0

    def read(self, wait: float) -> bytes:
        if self.fd is not None:
            if not select.select([self.fd], [], [], wait)[0]:
                return b""
            data = self.port.read(65536)
            if not data:  # readable yet empty: the peer closed
                raise OSError("connection closed by the other end")
            return bytes(data)
        self.port.timeout = wait
        return bytes(self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1)))

    def write(self, data: bytes) -> None:
        self.port.write(data)
        try:
            self.port.flush()
        except Exception:  # noqa: BLE001 - sockets have nothing to flush
            pass


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text


class _Session:
    def __init__(self, link: _Link, progress: Progress | None) -> None:
        self.link = link
        self.reader = frames.FrameReader()
        self.text = bytearray()
        self.progress = progress
        self.pending: list[frames.Frame | frames.BadFrame] = []

    def send(self, data: bytes, doing: str) -> None:
        try:
            self.link.write(data)
        except Exception as exc:  # noqa: BLE001 - pyserial raises SerialException, sockets OSError
            raise LinkDropped(
                f"{self.link.where}: the link dropped {doing} ({_why(exc)})", hint=LinkDropped.HINT
            ) from exc

    def next_frame(self, deadline: float, doing: str) -> frames.Frame | frames.BadFrame | None:
        """The next frame, or None at the deadline."""
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                data = self.link.read(min(left, 0.1))
            except Exception as exc:  # noqa: BLE001
                raise LinkDropped(
                    f"{self.link.where}: the link dropped {doing} ({_why(exc)})", hint=LinkDropped.HINT
                ) from exc
            if data:
                self.pending.extend(self.reader.feed(data))
                self.text += self.reader.take_text()
        return self.pending.pop(0)

    def last_text(self) -> str:
        lines = [ln for ln in bytes(self.text).decode("utf-8", "replace").splitlines() if ln.strip()]
        return lines[-1][:120] if lines else ""


def run_session(
    port: str,
    records: Sequence[bytes],
    *,
    expect: Expected,
    baud: int = 115200,
    timeout: float = INFER_TIMEOUT,
    hello_timeout: float = HELLO_TIMEOUT,
    progress: Progress | None = None,
) -> Session:
    """Say HELLO to the firmware serving on `port`, check it runs the expected model, send every
    record, collect the results, say END. A RunError names what failed and, once the inputs flow,
    the index of the input that was on its way."""
    from tinyforge.serial.ports import open_port

    t0 = time.monotonic()
    handle = open_port(port, baud, timeout=0.05, keep_input=True)
    try:
        s = _Session(_Link(handle, port), progress)
        info = _hello(s, expect, hello_timeout)
        results = []
        per_byte = 10.0 / baud  # 8N1 on a real UART; an emulated one is faster
        total = len(records)
        if progress is not None:
            progress.phase("validate", sum(len(r) for r in records))
        for i, record in enumerate(records):
            results.append(_infer(s, i, total, record, info, timeout + 2 * per_byte * (len(record) + 64)))
            if progress is not None:
                progress.advance(len(record))
        if progress is not None:
            progress.done()
        _end(s)
        return Session(
            info, tuple(results), bytes(s.text).decode("utf-8", "replace"), time.monotonic() - t0, port
        )
    finally:
        try:
            handle.close()
        except Exception:  # noqa: BLE001 - closing a dropped socket
            pass


def _hello(s: _Session, expect: Expected, hello_timeout: float) -> frames.Info:
    try:
        return _hello_until(s, expect, time.monotonic() + hello_timeout, hello_timeout)
    except LinkDropped as exc:
        heard = s.last_text()
        raise LinkDropped(
            exc.message + (f"; the last line the board printed: {heard!r}" if heard else ""),
            hint="a firmware that ends after its run (an emulator exits with it) does not serve the host link: "
            "flash one that does (drop --no-flash)",
        ) from exc


def _hello_until(s: _Session, expect: Expected, deadline: float, hello_timeout: float) -> frames.Info:
    while True:
        s.send(frames.encode(frames.HELLO), "before the first input (sending HELLO)")
        resend = min(deadline, time.monotonic() + HELLO_RESEND)
        while True:
            f = s.next_frame(resend, "before the first input (waiting for INFO)")
            if f is None:
                break
            if isinstance(f, frames.Frame) and f.kind == frames.INFO:
                try:
                    info = frames.parse_info(f.payload)
                except frames.LinkProtocolError as exc:
                    raise RunError(f"{s.link.where}: the firmware's INFO is malformed ({exc})") from exc
                _check_info(s.link.where, info, expect)
                return info
        if time.monotonic() >= deadline:
            heard = s.last_text()
            raise RunError(
                f"{s.link.where}: no answer to HELLO within {hello_timeout:g} s: the board does not serve the host link"
                + (f" (last line it printed: {heard!r})" if heard else " (it printed nothing)"),
                hint="flash a firmware that serves it (drop --no-flash; `tinyforge build` makes one when the board "
                "has a flash method, or pass --serve), and check --port and --baud",
            )


def _check_info(where: str, info: frames.Info, expect: Expected) -> None:
    if info.version != frames.PROTOCOL_VERSION:
        raise RunError(
            f"{where}: the firmware speaks host-link version {info.version}, this tinyforge {frames.PROTOCOL_VERSION}",
            hint="rebuild and flash the firmware with this tinyforge",
        )
    if info.model != expect.model:
        raise RunError(
            f"{where}: the board runs model {info.model}, not {expect.model} ({info.board})",
            hint="flash this model's firmware first (drop --no-flash)",
        )
    if info.record_bytes != expect.record_bytes or info.output_bytes != expect.output_bytes:
        raise RunError(
            f"{where}: the firmware takes {info.record_bytes}-byte inputs and gives outputs of "
            f"{list(info.output_bytes)} bytes; the model needs {expect.record_bytes} and {list(expect.output_bytes)}",
            hint="rebuild and flash the firmware",
        )


def _infer(
    s: _Session, i: int, total: int, record: bytes, info: frames.Info, timeout: float
) -> frames.Result:
    where = f"input {i} of {total}"
    for attempt in range(RETRIES + 1):
        s.send(frames.infer(i, record), f"while sending {where} ({i} results received)")
        deadline = time.monotonic() + timeout
        resend = False
        while not resend:
            f = s.next_frame(deadline, f"while waiting for the result of {where} ({i} results received)")
            if f is None:
                raise RunError(
                    f"{s.link.where}: no result for {where} within {timeout:g} s ({i} results received)",
                    hint="the model may hang or crash on the board: watch it with `tinyforge monitor`, or raise --timeout",
                )
            if isinstance(f, frames.BadFrame):
                resend = True  # the answer was corrupted on its way: ask again
            elif f.kind == frames.RESULT:
                try:
                    res = frames.parse_result(f.payload, info.output_bytes)
                except frames.LinkProtocolError as exc:
                    raise RunError(f"{s.link.where}: malformed result for {where} ({exc})") from exc
                if res.index == i:
                    return res
            elif f.kind == frames.ERROR:
                code, _ = frames.parse_error(f.payload) if len(f.payload) == 5 else (0, 0)
                if code != 1:  # not a transmission error: sending again would not help
                    raise RunError(
                        f"{s.link.where}: the firmware refused {where}: {frames.describe_error(f.payload)}",
                        hint="rebuild and flash the firmware for this model",
                    )
                resend = True
        if attempt == RETRIES:
            break
    raise RunError(
        f"{s.link.where}: {where} was corrupted on the link {RETRIES + 1} times",
        hint="the line is noisy: check the cable, or try a lower --baud",
    )


def _end(s: _Session) -> None:
    s.send(frames.encode(frames.END), "after the last input (sending END)")
    deadline = time.monotonic() + 5.0
    while True:
        f = s.next_frame(deadline, "after the last input (waiting for BYE)")
        if f is None or (isinstance(f, frames.Frame) and f.kind == frames.BYE):
            return


# ---- the command --------------------------------------------------------------------------------


def expected_for(compiled: CompiledModel) -> Expected:
    import hashlib

    return Expected(
        model=hashlib.sha256(compiled.source.data).hexdigest()[:16],
        record_bytes=sum(s.nbytes for s in compiled.inputs),
        output_bytes=tuple(o.nbytes for o in compiled.outputs),
    )


def test_target(
    model: str | Path | LoadedModel,
    board: BoardProfile,
    *,
    port: str,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    flash: bool = True,
    flash_port: str | None = None,
    baud: int | None = None,
    timeout: float = INFER_TIMEOUT,
    workdir: str | Path | None = None,
    progress: Progress | None = None,
    calib: str | Path | None = None,
    optimize: str | None = None,
) -> TestReport:
    """Validate MODEL (a model file or a `tinyforge build` directory) on the board at `port`:
    flash a firmware that serves the host link (the directory's own when it serves, else one
    built here for the board's default flash method), stream the inputs, compare every output
    byte with the TFLM reference. `flash=False`: the board already runs it (its INFO must name the
    same model). `flash_port`: where the bootloader listens, when it is not the console."""
    from tinyforge.codegen.inputs import make_inputs
    from tinyforge.compiler import compile_for
    from tinyforge.flash.request import flash_target
    from tinyforge.kernels.registry import DEFAULT_OPTIMIZE
    from tinyforge.model.tflite import read_tflite
    from tinyforge.run.testing import built_optimize, report_for
    from tinyforge.run.verify import compare
    from tinyforge.serial.ports import resolve_port
    from tinyforge.toolchain.build import build_firmware
    from tinyforge.toolchain.build_dir import read_build_dir
    from tinyforge.toolchain.layout import app_layout

    if board.is_host:
        raise UsageError(
            "the host board has no serial port to validate over",
            hint="give the --board of the device on --port",
        )
    built = read_build_dir(model) if isinstance(model, str | Path) and Path(model).is_dir() else None
    if built is not None and built.board != board.name:
        raise UsageError(
            f"{model} was built for {built.board}, not {board.name}",
            hint=f"drop --board or pass --board {built.board}",
        )
    mode = built_optimize(built.report, optimize) if built is not None else (optimize or DEFAULT_OPTIMIZE)
    compiled = compile_for(
        read_tflite(built.model) if built is not None else model, board, calib=calib, optimize=mode
    )
    data = make_inputs(compiled.inputs, inputs, seed, input_file)
    records = data.records()
    link_port = resolve_port(port, tuple(board.usb))
    sizes: dict[str, Any] = dict(built.report.get("sizes", {})) if built is not None else {}
    with tempfile.TemporaryDirectory(prefix="tinyforge-target-") as tmp:
        if flash:
            image: Path
            if built is not None and built.serves:
                image = built.directory
            else:  # a firmware that serves the link, with no records built in
                lay = built.report.get("layout", {}) if built is not None else {}
                layout = app_layout(
                    board,
                    method=lay.get("method") if isinstance(lay, dict) else None,
                    app_offset=built.app_offset if built is not None else None,
                )
                res = build_firmware(
                    compiled,
                    board,
                    Path(workdir) if workdir else Path(tmp) / "serve",
                    [],
                    opt=str(built.report.get("opt", "speed")) if built is not None else "speed",
                    layout=layout,
                    serve=True,
                    force=workdir is None,
                )
                image, sizes = res.directory, res.sizes
            flash_target(image, board, port=flash_port or link_port, baud=baud, progress=progress)
        session = run_session(
            link_port,
            records,
            expect=expected_for(compiled),
            baud=board.console.baud if baud is None else baud,
            timeout=timeout,
            progress=progress,
        )
    cmp = compare(compiled, data, [r.outputs for r in session.results])
    hz = session.info.tick_hz or board.timer.hz
    ticks = [r.ticks for r in session.results]
    failed = [r.index for r in session.results if r.status != 0]
    return report_for(
        board.name,
        compiled,
        cmp,
        None,
        {
            "runner": "target",
            "port": session.port,
            "flashed": flash,
            "ticks_per_inference": (sum(ticks) // len(ticks)) if ticks else None,
            "timer_hz": hz,
            "latency_ms": latency_ms(ticks, hz),
            "flash_bytes": int(sizes.get("flash_bytes", 0)) if sizes else None,
            "ram_bytes": int(sizes.get("ram_bytes", 0)) if sizes else None,
            "failed_inferences": failed,
            "link_seconds": round(session.seconds, 3),
        },
    )


def latency_ms(ticks: Sequence[int], hz: int) -> dict[str, float] | None:
    """p50 / p95 / max / mean of the per-inference ticks, in ms at the board's timer rate
    (nearest-rank percentiles: always a value the board measured)."""
    from tinyforge.monitor.stats import percentile

    if not ticks or not hz:
        return None
    s = sorted(ticks)

    def ms(t: float) -> float:
        return round(t * 1000.0 / hz, 4)

    return {
        "p50": ms(percentile(s, 50)),
        "p95": ms(percentile(s, 95)),
        "max": ms(s[-1]),
        "mean": ms(sum(s) / len(s)),
    }
