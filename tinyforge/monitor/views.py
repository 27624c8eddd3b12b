"""What the monitor shows: the terminal view (device text as it arrives, optional timestamps,
decoded faults, periodic statistics), the JSON view (one object per record), the log file, and
the summary table at exit.

Every view has the same five methods; the monitor core calls all of them and never formats text
itself.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Protocol, TextIO

from tinyforge.monitor.stats import LatencySummary, format_ticks
from tinyforge.monitor.stream import Piece
from tinyforge.monitor.table import ResultTable, TableLines, fields
from tinyforge.serial import protocol

RESULT_PREFIX = protocol.PREFIX + "RESULT "

EVENT_PREFIX = "--- "

_RED, _GREEN, _YELLOW, _DIM, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[2m", "\x1b[0m"


def timestamp(t: float) -> str:
    """`[12:34:56.789] `: local wall-clock time of a line's first byte."""
    lt = time.localtime(t)
    return f"[{time.strftime('%H:%M:%S', lt)}.{int((t % 1) * 1000):03d}] "


class View(Protocol):
    def piece(self, piece: Piece) -> None: ...

    def line(self, t: float, text: str, record: protocol.Record, fault: dict[str, Any] | None) -> None: ...

    def event(self, t: float, kind: str, message: str) -> None: ...

    def stats(self, t: float, counts: dict[str, int], latency: LatencySummary | None) -> None: ...

    def flush(self) -> None: ...


def stats_text(counts: dict[str, int], latency: LatencySummary | None) -> str:
    text = f"{counts['inferences']} inferences"
    if latency is not None:
        hz = latency.tick_hz
        text += ", latency " + " ".join(
            f"{name} {format_ticks(getattr(latency, name), hz)}" for name in ("p50", "p95", "p99")
        )
    return text + f", errors: {counts['errors']}"


def fault_text(fault: dict[str, Any]) -> str:
    return f"fault: {fault.get('summary') or fault.get('kind', '?')}"


class TextView:
    """Device text as it arrives (pieces), with events on lines of their own starting `--- `.

    Used for the terminal (`color` when it is a TTY) and for the log file (no color). With a
    `table` (the build's labels), `TF RESULT` lines are shown as rows of a result table
    (monitor/table.py) instead of hex: their pieces are held until the line is complete."""

    def __init__(
        self, out: TextIO, *, timestamps: bool = False, color: bool = False, table: ResultTable | None = None
    ) -> None:
        self.out = out
        self.timestamps = timestamps
        self.color = color
        self._mid_line = False
        self._table = TableLines(table) if table is not None else None
        self._held: list[Piece] = []  # pieces of a line that may be a TF RESULT

    def _paint(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text

    def piece(self, piece: Piece) -> None:
        if self._table is not None:
            if piece.start or self._held:
                text = "".join(p.text for p in self._held) + piece.text
                if RESULT_PREFIX.startswith(text) or text.startswith(RESULT_PREFIX):
                    self._held.append(piece)
                    return  # shown by line(), as a row or as it came
                self._release()
        self._show(piece)

    def _release(self) -> None:
        held, self._held = self._held, []
        for p in held:
            self._show(p)

    def _show(self, piece: Piece) -> None:
        parts = []
        if piece.start and self.timestamps:
            parts.append(self._paint(timestamp(piece.time), _DIM))
        parts.append(piece.text)
        if piece.end:
            parts.append("\n")
        self.out.write("".join(parts))
        self._mid_line = not piece.end

    def line(self, t: float, text: str, record: protocol.Record, fault: dict[str, Any] | None) -> None:
        if self._table is not None:
            if self._held:
                rows = self._table.render(text, record)
                if rows == [text]:
                    self._release()
                else:
                    self._held = []
                    stamp = self._paint(timestamp(t), _DIM) if self.timestamps else ""
                    self.out.write("".join(f"{stamp}{r}\n" for row in rows for r in row.split("\n")))
                    self._mid_line = False
            elif isinstance(record, protocol.Begin):
                self._table.render(text, record)  # a new run: the header again
        if fault is not None:
            self._note(t, fault_text(fault), _RED)
        elif isinstance(record, protocol.Done):
            self._note(
                t,
                f"device reports {record.status} ({record.count} results)",
                _GREEN if record.passed else _RED,
            )

    def event(self, t: float, kind: str, message: str) -> None:
        self._release()  # a line cut by the event is shown as it came
        self._note(t, message, _YELLOW)

    def stats(self, t: float, counts: dict[str, int], latency: LatencySummary | None) -> None:
        if self._held:
            return  # not in the middle of a held line; the next interval shows them
        self._note(t, stats_text(counts, latency), _DIM)

    def _note(self, t: float, message: str, code: str) -> None:
        head = "\n" if self._mid_line else ""
        stamp = timestamp(t) if self.timestamps else ""
        self.out.write(head + self._paint(f"{stamp}{EVENT_PREFIX}{message}", code) + "\n")
        self._mid_line = False

    def flush(self) -> None:
        self.out.flush()


def record_dict(
    t: float, text: str, record: protocol.Record, tick_hz: int | None, table: ResultTable | None = None
) -> dict[str, Any]:
    """One JSON object per device line: the protocol record's fields (a result with the build's
    labels also gets `label`, `value` and `score`), or the plain text."""
    base: dict[str, Any] = {"time": round(t, 6)}
    if isinstance(record, protocol.Result):
        d = {"type": "result", "index": record.index, "ticks": record.ticks}
        if tick_hz:
            d["us"] = record.ticks * 1e6 / tick_hz
        item = table.classify(record) if table is not None else None
        if item is not None:
            d.update(fields(item))
        d["outputs"] = [o.hex() for o in record.outputs]
    elif isinstance(record, protocol.Fault):
        d = {
            "type": "fault",
            "kind": record.kind,
            "registers": {k: f"0x{v:08x}" for k, v in record.registers.items()},
        }
    elif isinstance(record, protocol.Begin):
        d = {"type": "begin", "board": record.board, "model": record.model, "inputs": record.inputs}
    elif isinstance(record, protocol.Log):
        d = {"type": "log", "text": record.text}
    elif isinstance(record, protocol.Done):
        d = {"type": "done", "status": record.status, "count": record.count}
    elif isinstance(record, protocol.Boot):
        d = {"type": "boot", "slot": record.slot, "version": record.version, "image": record.image}
        if record.note:
            d["note"] = record.note
    else:
        d = {"type": "line", "text": text}
    return {"type": d.pop("type"), **base, **d}


class JsonView:
    """`--json`: one JSON object per line on `out` (records, plain lines, events, statistics)."""

    def __init__(self, out: TextIO, tick_hz: int | None = None, table: ResultTable | None = None) -> None:
        self.out = out
        self.tick_hz = tick_hz
        self.table = table

    def _emit(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj, separators=(",", ":")) + "\n")

    def piece(self, piece: Piece) -> None:
        return None

    def line(self, t: float, text: str, record: protocol.Record, fault: dict[str, Any] | None) -> None:
        d = record_dict(t, text, record, self.tick_hz, self.table)
        if fault is not None:
            d["decoded"] = fault
        self._emit(d)

    def event(self, t: float, kind: str, message: str) -> None:
        self._emit({"type": "event", "time": round(t, 6), "event": kind, "message": message})

    def stats(self, t: float, counts: dict[str, int], latency: LatencySummary | None) -> None:
        self._emit(
            {
                "type": "stats",
                "time": round(t, 6),
                **counts,
                "latency": latency.to_dict() if latency else None,
            }
        )

    def flush(self) -> None:
        self.out.flush()


class LogFile(TextView):
    """`--log FILE`: the terminal text (without color) appended to a file, flushed as it comes."""

    def __init__(self, path: Path, *, timestamps: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(open(path, "a", encoding="utf-8", newline="\n"), timestamps=timestamps)

    def close(self) -> None:
        self.out.close()


def summary_rows(counts: dict[str, int], latency: LatencySummary | None) -> list[tuple[str, str]]:
    rows = [(k.replace("_", " "), f"{v:,}") for k, v in counts.items()]
    if latency is not None:
        hz = latency.tick_hz
        for name in ("min", "p50", "p95", "p99", "max", "mean"):
            value = getattr(latency, name)
            text = f"{value:,.0f} ticks"
            if hz:
                text = f"{format_ticks(value, hz)} ({text})"
            rows.append((f"latency {name}", text))
    return rows
