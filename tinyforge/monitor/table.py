"""Results a person reads: when a build carries class labels (`tinyforge build --labels`), each
`TF RESULT` line becomes a table row with the top class, its score and the latency instead of
hex bytes. Used by `monitor` (terminal and JSON views) and by `flash --follow`.

    idx  label     score  latency
    ---  --------  -----  --------
      0  yes       0.996  11.9 ms

The label is the largest value of output 0 (one value per label); the score is that value in
real units, scale * (q - zero_point) (a probability for a softmax output).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinyforge.monitor.stats import format_ticks
from tinyforge.serial import protocol

HEADERS = ("idx", "label", "score", "latency")


@dataclass(frozen=True)
class Labelled:
    index: int
    label: str
    score: float | None  # real units; None when the output's quantization is unknown
    value: int  # the int8 value of the top class
    ticks: int


@dataclass(frozen=True)
class ResultTable:
    labels: tuple[str, ...]
    scale: float | None = None
    zero_point: int = 0
    tick_hz: int | None = None

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], tick_hz: int | None = None) -> ResultTable | None:
        """The table for a build's manifest (report.json `manifest`, or the one in firmware.elf);
        None when it carries no labels."""
        labels = manifest.get("labels")
        if not isinstance(labels, list) or not labels:
            return None
        outs = manifest.get("outputs")
        first = outs[0] if isinstance(outs, list) and outs and isinstance(outs[0], dict) else {}
        scale = first.get("scale")
        return cls(
            tuple(str(x) for x in labels),
            float(scale) if isinstance(scale, int | float) else None,
            int(first.get("zero_point", 0)),
            tick_hz,
        )

    def classify(self, result: protocol.Result) -> Labelled | None:
        """Top class of output 0; None when the output does not have one value per label."""
        if not result.outputs or len(result.outputs[0]) != len(self.labels):
            return None
        values = [b - 256 if b > 127 else b for b in result.outputs[0]]
        top = max(range(len(values)), key=values.__getitem__)
        q = values[top]
        score = self.scale * (q - self.zero_point) if self.scale is not None else None
        return Labelled(result.index, self.labels[top], score, q, result.ticks)

    def widths(self) -> tuple[int, int, int, int]:
        return (5, max(8, *(len(x) for x in self.labels)), 6, 10)

    def header(self) -> str:
        w = self.widths()
        head = "  ".join(
            h.rjust(n) if i in (0, 2, 3) else h.ljust(n)
            for i, (h, n) in enumerate(zip(HEADERS, w, strict=True))
        )
        rule = "  ".join("-" * n for n in w)
        return f"{head.rstrip()}\n{rule}"

    def row(self, item: Labelled) -> str:
        w = self.widths()
        score = f"{item.score:.3f}" if item.score is not None else f"q={item.value}"
        cells = (
            str(item.index).rjust(w[0]),
            item.label.ljust(w[1]),
            score.rjust(w[2]),
            format_ticks(item.ticks, self.tick_hz).rjust(w[3]),
        )
        return "  ".join(cells).rstrip()


class TableLines:
    """Device lines in, lines to show out: `TF RESULT` lines that can be labelled become table
    rows (the header before the first one, again after each `TF BEGIN`); others pass as they are."""

    def __init__(self, table: ResultTable) -> None:
        self.table = table
        self._header_due = True

    def render(self, line: str, record: protocol.Record | None = None) -> list[str]:
        rec = protocol.parse_line(line) if record is None else record
        if isinstance(rec, protocol.Begin):
            self._header_due = True
        if isinstance(rec, protocol.Result):
            item = self.table.classify(rec)
            if item is not None:
                out = [self.table.header()] if self._header_due else []
                self._header_due = False
                return [*out, self.table.row(item)]
        return [line]


def fields(item: Labelled) -> dict[str, Any]:
    """The JSON view's extra fields of a labelled result."""
    d: dict[str, Any] = {"label": item.label, "value": item.value}
    if item.score is not None:
        d["score"] = round(item.score, 6)
    return d
