"""Results a person reads: with a build's labels, `TF RESULT` lines become table rows (label,
score, latency) in the monitor's terminal and JSON views and in `flash --follow`."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyforge.monitor.core import MonitorCore
from tinyforge.monitor.expect import Expectations
from tinyforge.monitor.table import ResultTable, TableLines
from tinyforge.monitor.views import JsonView, TextView
from tinyforge.serial import protocol

LABELS = ["silence", "unknown", "yes", "no"]
MANIFEST = {
    "board": "mps2-an386",
    "labels": LABELS,
    "outputs": [{"bytes": 4, "scale": 1 / 256, "zero_point": -128}],
}
TABLE = ResultTable.from_manifest(MANIFEST, tick_hz=25_000_000)
# out0 = [-128, -120, 127, -128]: "yes", score (127 + 128) / 256 = 0.996; 250,000 ticks = 10 ms
LINE = protocol.format_result(3, 250_000, [bytes([0x80, 0x88, 0x7F, 0x80])])


def test_a_result_is_classified_with_its_real_score() -> None:
    assert TABLE is not None
    item = TABLE.classify(protocol.parse_line(LINE))  # type: ignore[arg-type]
    assert item is not None and (item.index, item.label, item.value) == (3, "yes", 127)
    assert item.score == pytest.approx(255 / 256)
    assert TABLE.row(item).split() == ["3", "yes", "0.996", "10.000", "ms"]


def test_no_labels_no_table_and_a_wrong_size_is_not_classified() -> None:
    assert ResultTable.from_manifest({"outputs": []}) is None
    assert TABLE is not None
    assert TABLE.classify(protocol.parse_line(protocol.format_result(0, 1, [b"\x00" * 5]))) is None  # type: ignore[arg-type]


def test_table_lines_put_the_header_before_the_first_row_of_each_run() -> None:
    assert TABLE is not None
    t = TableLines(TABLE)
    shown = [*t.render("TF BEGIN board=b model=m inputs=2"), *t.render(LINE), *t.render(LINE)]
    assert shown[0].startswith("TF BEGIN") and shown[1].startswith("  idx  label") and len(shown) == 4
    assert t.render("hello") == ["hello"]
    assert t.render("TF BEGIN board=b model=m inputs=2") and t.render(LINE)[0].startswith("  idx")


def monitor_text(chunks: list[bytes], table: ResultTable | None) -> str:
    out = io.StringIO()
    core = MonitorCore([TextView(out, table=table)], Expectations((), ()), tick_hz=25_000_000)
    for c in chunks:
        core.data(c, 0.0)
    core.finish(0.0)
    return out.getvalue()


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(1, 200), min_size=0, max_size=8))
def test_the_monitor_shows_rows_instead_of_hex_however_the_bytes_arrive(cuts: list[int]) -> None:
    stream = (
        f"boot\nTF BEGIN board=b model=m inputs=1\n{LINE}\nTF RESULTS are near\nTF DONE status=pass count=1\n"
    )
    data = stream.encode()
    chunks, pos = [], 0
    for c in sorted(set(cuts)):
        chunks.append(data[pos:c])
        pos = c
    chunks.append(data[pos:])
    text = monitor_text([c for c in chunks if c], TABLE)
    assert "7f80" not in text  # no hex
    lines = text.splitlines()
    assert lines[0] == "boot" and lines[1].startswith("TF BEGIN")
    assert lines[2].split() == ["idx", "label", "score", "latency"]
    assert lines[4].split() == ["3", "yes", "0.996", "10.000", "ms"]
    assert "TF RESULTS are near" in lines  # a line that only looks like one passes as it came
    assert monitor_text([data], None).count("7f80") == 1  # without labels: the line as it came


def test_the_json_view_adds_label_and_score() -> None:
    out = io.StringIO()
    view = JsonView(out, 25_000_000, TABLE)
    view.line(0.0, LINE, protocol.parse_line(LINE), None)
    d = json.loads(out.getvalue())
    assert (d["type"], d["index"], d["label"], d["value"]) == ("result", 3, "yes", 127)
    assert d["score"] == pytest.approx(0.996, abs=1e-3) and d["outputs"] == ["80887f80"]
