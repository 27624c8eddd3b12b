"""The monitor loop: a `PortSession` feeds a `MonitorCore`; the keyboard (raw tty) feeds the
port; the timeout and the quit key end it. Returns a `MonitorReport`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tinyforge.errors import UsageError
from tinyforge.monitor.core import FaultDecoder, MonitorCore, MonitorReport
from tinyforge.monitor.expect import Expectations
from tinyforge.monitor.keys import RawKeyboard
from tinyforge.monitor.session import PortEvent, PortSession, Received
from tinyforge.monitor.table import ResultTable
from tinyforge.monitor.views import JsonView, LogFile, TextView, View

if TYPE_CHECKING:
    from tinyforge.monitor.metrics import MetricsView

POLL = 0.02  # seconds between keyboard / deadline checks when the port is quiet


@dataclass(frozen=True)
class MonitorOptions:
    port: str  # a device path or pyserial URL (already resolved from `auto`)
    baud: int = 115200
    timestamps: bool = False
    log: Path | None = None
    expect: tuple[str, ...] = ()
    fail: tuple[str, ...] = ()
    timeout: float | None = None
    tick_hz: int | None = None
    json: bool = False
    reconnect: bool = True
    wait: bool = False  # wait for the port to appear (bounded by `timeout`)
    interactive: bool = False  # raw tty on stdin, keys to the device, Ctrl-] quits
    eol: str = "crlf"
    stats_interval: float = 5.0
    color: bool = False
    table: ResultTable | None = None  # the build's labels: results as table rows
    metrics: str | None = None  # serve Prometheus metrics on 127.0.0.1:PORT (tinyforge/monitor/metrics.py)


def run_monitor(
    opts: MonitorOptions,
    out: TextIO,
    *,
    fault_decoder: FaultDecoder | None = None,
) -> MonitorReport:
    expectations = Expectations(opts.expect, opts.fail)  # bad patterns fail before the port opens
    metrics = None
    if opts.metrics is not None:
        from tinyforge.monitor.metrics import MetricsView, parse_address

        metrics = MetricsView(parse_address(opts.metrics), opts.tick_hz)
    try:
        return _run(opts, out, expectations, metrics, fault_decoder)
    finally:
        if metrics is not None:
            metrics.close()


def _run(
    opts: MonitorOptions,
    out: TextIO,
    expectations: Expectations,
    metrics: MetricsView | None,
    fault_decoder: FaultDecoder | None,
) -> MonitorReport:
    session = PortSession(opts.port, opts.baud, reconnect=opts.reconnect)
    started = time.monotonic()
    deadline = started + opts.timeout if opts.timeout is not None else None
    wait = (float("inf") if deadline is None else opts.timeout) if opts.wait else None
    session.open(wait=wait)

    views: list[View] = [
        JsonView(out, opts.tick_hz, opts.table)
        if opts.json
        else TextView(out, timestamps=opts.timestamps, color=opts.color, table=opts.table)
    ]
    try:
        log = LogFile(opts.log, timestamps=opts.timestamps) if opts.log is not None else None
    except OSError as exc:
        session.close()
        raise UsageError(
            f"--log {opts.log}: cannot write ({exc.strerror})", hint="choose a writable path"
        ) from None
    if log is not None:
        views.append(log)
    if metrics is not None:
        views.append(metrics)
    core = MonitorCore(
        views,
        expectations,
        tick_hz=opts.tick_hz,
        fault_decoder=fault_decoder,
        stats_interval=0.0 if opts.json else opts.stats_interval,
    )
    hint = "; quit with Ctrl-]" if opts.interactive else ""
    now = time.time()
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    core.port_event("open", f"monitor on {session.device} at {opts.baud} baud, {when}{hint}", now)
    if metrics is not None:
        core.port_event("info", f"metrics on {metrics.url}", now)
    try:
        session.start()
        with _keyboard(opts) as keyboard:
            _loop(opts, session, core, expectations, keyboard, deadline)
    except KeyboardInterrupt:
        core.settle(expectations.stopped("interrupted", exit_code=130))
    finally:
        session.close()
        _drain(session, core)
        core.finish(time.time())
        if log is not None:
            verdict = core.verdict or expectations.stopped("nothing decided")
            log.stats(time.time(), dict(core.counts), core.latency.summary())
            log.event(time.time(), "end", f"end: {verdict.summary}")
            log.close()
    return core.report(opts.port, time.monotonic() - started, str(opts.log) if opts.log else None)


@contextlib.contextmanager
def _keyboard(opts: MonitorOptions) -> Iterator[RawKeyboard | None]:
    if not opts.interactive:
        yield None
        return
    with RawKeyboard(0, opts.eol) as kb:
        yield kb


def _loop(
    opts: MonitorOptions,
    session: PortSession,
    core: MonitorCore,
    expectations: Expectations,
    keyboard: RawKeyboard | None,
    deadline: float | None,
) -> None:
    while core.verdict is None:
        item = session.get(POLL)
        if isinstance(item, Received):
            core.data(item.data, item.time)
        elif isinstance(item, PortEvent):
            core.port_event(item.kind, item.message, item.time)
            if item.kind == "gone":
                core.settle(expectations.stopped("port closed"))
        if keyboard is not None:
            keys, quit_key = keyboard.read()
            if keys:
                session.write(keys)
            if quit_key:
                core.settle(expectations.stopped("quit with Ctrl-]"))
        if deadline is not None and time.monotonic() >= deadline:
            core.settle(expectations.timeout(opts.timeout or 0.0))


def _drain(session: PortSession, core: MonitorCore) -> None:
    """Bytes already received when the run was decided still go to the views and the log (port
    events after the decision are not news any more)."""
    while True:
        item = session.get(0)
        if item is None:
            return
        if isinstance(item, Received):
            core.data(item.data, item.time)


def want_color(out: TextIO) -> bool:
    return bool(getattr(out, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ
