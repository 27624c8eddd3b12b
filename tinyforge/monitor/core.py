"""The monitor's brain, free of I/O: received bytes and port events in; views fed, records
parsed, statistics counted, expectations checked; a `Verdict` out when the run is decided.

    bytes --LineSplitter--> pieces --views (terminal, log)
                            lines --protocol.parse_line--> records --stats, fault decoder, JSON
                            lines --Expectations--> Verdict
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyforge.monitor.expect import Expectations, Verdict
from tinyforge.monitor.stats import LatencyStats, LatencySummary
from tinyforge.monitor.stream import LineSplitter
from tinyforge.monitor.views import View
from tinyforge.serial import protocol

# A fault decoder turns a TF FAULT record into a JSON-friendly dict with at least `summary`.
FaultDecoder = Callable[[protocol.Fault], dict[str, Any]]


@dataclass(frozen=True)
class MonitorReport:
    """Everything a finished monitor run learned."""

    port: str
    verdict: Verdict
    duration_s: float
    counts: dict[str, int]
    latency: LatencySummary | None
    faults: tuple[dict[str, Any], ...] = ()
    log: str | None = None
    events: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "summary",
            "port": self.port,
            "status": self.verdict.status,
            "exit_code": self.verdict.exit_code,
            "summary": self.verdict.summary,
            "seen": [{"pattern": s.pattern, "line": s.line_number} for s in self.verdict.seen],
            "not_seen": list(self.verdict.missing),
            "duration_s": round(self.duration_s, 3),
            **self.counts,
            "latency": self.latency.to_dict() if self.latency else None,
            "faults": list(self.faults),
            "log": self.log,
        }


def decoder_for(elf: Path | None) -> FaultDecoder:
    """Fault type and causes from the registers; with the ELF also function and source line."""
    from tinyforge.serial.faults import decode_fault

    def decode(fault: protocol.Fault) -> dict[str, Any]:
        return decode_fault(fault, elf).to_dict()

    return decode


class MonitorCore:
    """Feed it with `data()` and `port_event()`; ask `report()` at the end."""

    def __init__(
        self,
        views: Sequence[View],
        expectations: Expectations,
        *,
        tick_hz: int | None = None,
        fault_decoder: FaultDecoder | None = None,
        stats_interval: float = 0.0,
    ) -> None:
        self.views = list(views)
        self.expectations = expectations
        self.splitter = LineSplitter()
        self.latency = LatencyStats(tick_hz)
        self.fault_decoder = fault_decoder or decoder_for(None)
        self.stats_interval = stats_interval
        self.counts = {
            "bytes": 0,
            "lines": 0,
            "inferences": 0,
            "errors": 0,
            "faults": 0,
            "runs": 0,
            "reconnects": 0,
        }
        self.faults: list[dict[str, Any]] = []
        self.events: list[str] = []
        self._last_stats = 0.0
        self._results_since_stats = 0
        self._verdict: Verdict | None = None

    @property
    def verdict(self) -> Verdict | None:
        """The first decision (pass or fail); later lines do not change it."""
        return self._verdict

    def data(self, chunk: bytes, now: float) -> Verdict | None:
        self.counts["bytes"] += len(chunk)
        for piece in self.splitter.feed(chunk, now):
            for v in self.views:
                v.piece(piece)
            if piece.line is not None:
                self._line(piece.time, piece.line)
        self._maybe_stats(now)
        self._flush()
        return self._verdict

    def port_event(self, kind: str, message: str, now: float) -> None:
        """`lost` / `back` / `gone` / `info`: shown in every view and kept in the report."""
        if kind in ("lost", "gone"):
            for piece in self.splitter.flush(now):  # the line cut by the reset ends here
                for v in self.views:
                    v.piece(piece)
                if piece.line is not None:
                    self._line(piece.time, piece.line)
        if kind == "back":
            self.counts["reconnects"] += 1
        self.events.append(message)
        for v in self.views:
            v.event(now, kind, message)
        self._flush()

    def finish(self, now: float) -> None:
        for piece in self.splitter.flush(now):
            for v in self.views:
                v.piece(piece)
            if piece.line is not None:
                self._line(piece.time, piece.line)
        self._flush()

    def settle(self, verdict: Verdict) -> Verdict:
        """Record an outside decision (timeout, quit) unless the lines decided first."""
        if self._verdict is None:
            self._verdict = verdict
        return self._verdict

    def report(self, port: str, duration_s: float, log: str | None = None) -> MonitorReport:
        verdict = self._verdict or self.expectations.stopped("nothing decided")
        return MonitorReport(
            port=port,
            verdict=verdict,
            duration_s=duration_s,
            counts=dict(self.counts),
            latency=self.latency.summary(),
            faults=tuple(self.faults),
            log=log,
            events=tuple(self.events),
        )

    # ------------------------------------------------------------------

    def _line(self, t: float, text: str) -> None:
        self.counts["lines"] += 1
        record = protocol.parse_line(text)
        fault = None
        if isinstance(record, protocol.Result):
            self.counts["inferences"] += 1
            self.latency.add(record.ticks)
            self._results_since_stats += 1
        elif isinstance(record, protocol.Fault):
            self.counts["faults"] += 1
            self.counts["errors"] += 1
            fault = self.fault_decoder(record)
            self.faults.append(fault)
        elif isinstance(record, protocol.Begin):
            self.counts["runs"] += 1  # a TF BEGIN: the firmware (re)started
        elif isinstance(record, protocol.Done):
            if not record.passed:
                self.counts["errors"] += 1
        elif isinstance(record, protocol.Plain) and text.startswith(protocol.PREFIX):
            self.counts["errors"] += 1  # a malformed protocol line
        for v in self.views:
            v.line(t, text, record, fault)
        if self._verdict is None:
            verdict = self.expectations.feed(text, self.counts["lines"])
            if verdict is not None:
                self._verdict = verdict

    def _maybe_stats(self, now: float) -> None:
        if self.stats_interval <= 0 or not self._results_since_stats:
            return
        if not self._last_stats:
            self._last_stats = now
        if now - self._last_stats < self.stats_interval:
            return
        self._last_stats = now
        self._results_since_stats = 0
        for v in self.views:
            v.stats(now, dict(self.counts), self.latency.summary())

    def _flush(self) -> None:
        for v in self.views:
            v.flush()
