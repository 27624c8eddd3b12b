"""Inference statistics from the device's own timer: latency percentiles, counts, errors.

Latency comes from the `ticks=` field of `TF RESULT` lines (the board measured it, so host and
serial delays do not matter). With the board's timer frequency the ticks become microseconds.
Percentiles use the nearest-rank method: pXX is the smallest sample such that at least XX % of
all samples are <= it, so it is always a value the device really reported.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

PERCENTILES = (50, 95, 99)


def percentile(sorted_values: Sequence[int], p: float) -> int:
    """Nearest-rank percentile of an ascending, non-empty sequence (0 < p <= 100)."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} outside (0, 100]")
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[max(rank, 1) - 1]


@dataclass(frozen=True)
class LatencySummary:
    """Latency of `count` inferences in timer ticks; `*_us` when the tick rate is known."""

    count: int
    tick_hz: int | None
    min: int
    p50: int
    p95: int
    p99: int
    max: int
    mean: float

    def us(self, ticks: float) -> float | None:
        return None if not self.tick_hz else ticks * 1e6 / self.tick_hz

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = asdict(self)
        if self.tick_hz:
            for k in ("min", "p50", "p95", "p99", "max", "mean"):
                d[f"{k}_us"] = self.us(getattr(self, k))
        return d


class LatencyStats:
    """Accumulates tick counts; keeps them sorted so percentiles are cheap at any time."""

    def __init__(self, tick_hz: int | None = None) -> None:
        self.tick_hz = tick_hz
        self._sorted: list[int] = []
        self._total = 0

    def add(self, ticks: int) -> None:
        bisect.insort(self._sorted, ticks)
        self._total += ticks

    @property
    def count(self) -> int:
        return len(self._sorted)

    def summary(self) -> LatencySummary | None:
        if not self._sorted:
            return None
        s = self._sorted
        p50, p95, p99 = (percentile(s, p) for p in PERCENTILES)
        return LatencySummary(len(s), self.tick_hz, s[0], p50, p95, p99, s[-1], self._total / len(s))


def format_ticks(ticks: float, tick_hz: int | None) -> str:
    """`1.234 ms` / `56.7 us` when the rate is known, else `12345 ticks`."""
    if not tick_hz:
        return f"{ticks:,.0f} ticks"
    us = ticks * 1e6 / tick_hz
    if us >= 1e6:
        return f"{us / 1e6:.3f} s"
    if us >= 1e3:
        return f"{us / 1e3:.3f} ms"
    return f"{us:.1f} us"
