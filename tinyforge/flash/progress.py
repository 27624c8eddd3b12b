"""Progress of a flash: a bar with bytes/s on a terminal, plain lines in CI or a pipe, nothing with
--json (the result is printed as JSON at the end)."""

from __future__ import annotations

import os
import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    def phase(self, name: str, total: int) -> None: ...
    def advance(self, nbytes: int) -> None: ...
    def done(self) -> None: ...
    def note(self, text: str) -> None: ...
    def output(self, line: str) -> None: ...


def _rate(nbytes: int, seconds: float) -> str:
    if seconds <= 0:
        return "- B/s"
    r = nbytes / seconds
    return f"{r / 1024:.1f} KB/s" if r >= 1024 else f"{r:.0f} B/s"


class _Base:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.name = ""
        self.total = 0
        self.count = 0
        self.t0 = time.monotonic()

    def phase(self, name: str, total: int) -> None:
        self.name, self.total, self.count, self.t0 = name, total, 0, time.monotonic()

    def advance(self, nbytes: int) -> None:
        self.count += nbytes

    def note(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def output(self, line: str) -> None:
        """A line the flashed application printed (--follow): to stdout, it is the program's output."""
        print(line, flush=True)


class BarProgress(_Base):
    """`write  [##########----------]  52%  133.0 KB / 256.0 KB  41.2 KB/s`, redrawn in place."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._last = 0.0

    def advance(self, nbytes: int) -> None:
        super().advance(nbytes)
        now = time.monotonic()
        if now - self._last >= 0.1 or self.count >= self.total:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        frac = self.count / self.total if self.total else 1.0
        n = int(frac * self.WIDTH)
        bar = "#" * n + "-" * (self.WIDTH - n)
        self.stream.write(
            f"\r{self.name:<7} [{bar}] {frac * 100:3.0f}%  {self.count / 1024:.1f} KB / "
            f"{self.total / 1024:.1f} KB  {_rate(self.count, now - self.t0)}   "
        )
        self.stream.flush()

    def done(self) -> None:
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()


class LineProgress(_Base):
    """One line per quarter: readable in CI logs."""

    def phase(self, name: str, total: int) -> None:
        super().phase(name, total)
        self._next = 25
        print(f"{name}: {total} bytes", file=self.stream, flush=True)

    def advance(self, nbytes: int) -> None:
        super().advance(nbytes)
        pct = self.count * 100 // self.total if self.total else 100
        while pct >= self._next and self._next < 100:
            print(f"{self.name}: {self._next}% ({self.count} bytes)", file=self.stream, flush=True)
            self._next += 25

    def done(self) -> None:
        dt = time.monotonic() - self.t0
        print(
            f"{self.name}: done, {self.count} bytes in {dt:.2f} s ({_rate(self.count, dt)})",
            file=self.stream,
            flush=True,
        )


class NullProgress:
    def phase(self, name: str, total: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def done(self) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def output(self, line: str) -> None:
        pass


def make_progress(quiet: bool = False, stream: TextIO | None = None) -> Progress:
    """The right reporter for where we are: nothing when quiet (--json), lines in CI or a pipe."""
    if quiet:
        return NullProgress()
    s = stream or sys.stderr
    if os.environ.get("CI") or not (hasattr(s, "isatty") and s.isatty()):
        return LineProgress(s)
    return BarProgress(s)
