"""The monitor's pure parts: byte stream -> lines, expectations, latency statistics, views."""

from __future__ import annotations

import io
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyforge.errors import UsageError
from tinyforge.monitor.core import MonitorCore
from tinyforge.monitor.expect import Expectations
from tinyforge.monitor.keys import translate_keys
from tinyforge.monitor.stats import LatencyStats, format_ticks, percentile
from tinyforge.monitor.stream import LineSplitter, escape_text
from tinyforge.monitor.views import JsonView, TextView
from tinyforge.serial.ports import PortInfo, find_usb_port, port_info


def feed_all(chunks: list[bytes]) -> tuple[list[str], str]:
    """(complete lines, everything shown) for a sequence of received chunks."""
    sp = LineSplitter()
    lines, shown = [], []
    for c in chunks:
        for p in sp.feed(c, 0.0):
            shown.append(p.text + ("\n" if p.end else ""))
            if p.line is not None:
                lines.append(p.line)
    for p in sp.flush(0.0):
        shown.append(p.text + "\n")
        if p.line is not None:
            lines.append(p.line)
    return lines, "".join(shown)


def test_lines_crlf_lfcr_and_partial():
    lines, shown = feed_all([b"boot\r\nTF LOG a\n\rsecond", b" half\r", b"\nprompt> "])
    assert lines == ["boot", "TF LOG a", "second half", "prompt> "]
    assert shown == "boot\nTF LOG a\nsecond half\nprompt> \n"


def test_partial_pieces_are_emitted_at_once():
    sp = LineSplitter()
    pieces = sp.feed(b"> ", 1.0)
    assert [(p.text, p.start, p.end, p.line) for p in pieces] == [("> ", True, False, None)]
    pieces = sp.feed(b"ok\n", 2.0)
    assert [(p.text, p.start, p.end, p.line, p.time) for p in pieces] == [("ok", False, True, "> ok", 1.0)]


def test_utf8_split_across_chunks_and_binary_escaped():
    lines, _ = feed_all([b"caf\xc3", b"\xa9 \xff\x00\x1b[0m\ttab"])
    assert lines == ["café \\xff\\x00\\x1b[0m\ttab"]
    assert escape_text(bytes(range(0x20))) == "".join(f"\\x{i:02x}" if i != 9 else "\t" for i in range(0x20))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.lists(st.integers(1, 50), max_size=20))
def test_no_byte_is_lost(data: bytes, cuts: list[int]):
    """However the stream is chunked, the lines are those of the whole stream, and every byte
    shows up (as itself or as an escape)."""
    chunks, pos = [], 0
    for c in cuts:
        chunks.append(data[pos : pos + c])
        pos += c
    chunks.append(data[pos:])
    lines, shown = feed_all(chunks)
    whole, _ = feed_all([data])
    assert lines == whole
    expected = [escape_text(seg.removeprefix(b"\r").removesuffix(b"\r")) for seg in data.split(b"\n")]
    if data.endswith(b"\n") or not data:
        expected = expected[:-1]
    assert lines == expected
    assert shown.count("\n") == len(lines)


def test_long_line_passes_whole_but_match_text_is_capped():
    sp = LineSplitter(match_limit=1000)
    shown = []
    for _ in range(100):
        shown += [p.text for p in sp.feed(b"x" * 1000, 0.0)]
    (last,) = sp.feed(b"END\n", 0.0)
    assert "".join(shown) + last.text == "x" * 100_000 + "END"
    assert last.line == "x" * 1000


def test_expect_in_order_then_pass():
    e = Expectations(["BOOT", "PASS"], ["FAIL"])
    assert e.feed("PASS early", 1) is None  # out of order: BOOT first
    assert e.feed("BOOT ok", 2) is None
    v = e.feed("ALL PASS", 3)
    assert v is not None and v.exit_code == 0 and v.status == "pass"
    assert v.summary == "PASS; seen 'BOOT' (line 2), 'PASS' (line 3)"


def test_fail_wins_and_summary_says_what_was_missing():
    e = Expectations(["BOOT", "PASS"], ["FAIL|panic"])
    e.feed("BOOT", 1)
    v = e.feed("test 3 FAIL but PASS", 2)
    assert v is not None and v.exit_code == 1 and v.status == "fail"
    assert (
        v.summary
        == "FAIL: line 2 matched --fail 'FAIL|panic': 'test 3 FAIL but PASS'; seen 'BOOT' (line 1); not seen 'PASS'"
    )


def test_timeout_and_stop_verdicts():
    e = Expectations(["READY"])
    v = e.timeout(30)
    assert (v.status, v.exit_code, v.summary) == ("timeout", 1, "TIMEOUT after 30 s; not seen 'READY'")
    assert Expectations([], ["FAIL"]).timeout(5).exit_code == 0  # nothing expected: the time ran out cleanly
    assert Expectations(["X"]).stopped("port closed").summary == "STOPPED (port closed); not seen 'X'"
    assert Expectations(["X"]).stopped("port closed").exit_code == 1
    assert Expectations().stopped("quit").exit_code == 0


def test_bad_regex_is_a_usage_error():
    with pytest.raises(UsageError, match=r"--expect 'PASS\(' is not a valid regular expression"):
        Expectations(["PASS("])


def test_percentiles_nearest_rank():
    values = list(range(1000, 100_001, 1000))  # 1000 .. 100000, 100 samples
    random.Random(1).shuffle(values)
    st_ = LatencyStats(tick_hz=25_000_000)
    for v in values:
        st_.add(v)
    s = st_.summary()
    assert s is not None
    assert (s.count, s.min, s.p50, s.p95, s.p99, s.max, s.mean) == (
        100,
        1000,
        50_000,
        95_000,
        99_000,
        100_000,
        50_500,
    )
    assert s.us(s.p50) == pytest.approx(2000.0)
    assert s.to_dict()["p99_us"] == pytest.approx(3960.0)
    assert percentile([7], 99) == 7
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile([1, 2, 3, 4], 51) == 3
    assert LatencyStats().summary() is None
    assert format_ticks(12345, None) == "12,345 ticks"
    assert format_ticks(25_000, 25_000_000) == "1.000 ms"


def test_core_records_stats_json_and_verdict():
    out = io.StringIO()
    text = io.StringIO()
    core = MonitorCore(
        [JsonView(out, tick_hz=1_000_000), TextView(text, timestamps=False)],
        Expectations(["TF DONE status=pass"], ["PANIC"]),
        tick_hz=1_000_000,
    )
    stream = (
        b"hello\nTF BEGIN board=b model=m inputs=2\nTF RESULT idx=0 ticks=100 out0=7f\n"
        b"TF RESULT idx=1 ticks=300 out0=80\nTF FAULT kind=BusFault pc=0x10 lr=0x21 cfsr=0x8200 bfar=0x40000000\n"
        b"TF RESULT garbage\nTF DONE status=pass count=2\nafter\n"
    )
    for i in range(0, len(stream), 7):  # arbitrary chunking
        core.data(stream[i : i + 7], 1.5)
    verdict = core.verdict
    assert verdict is not None and verdict.exit_code == 0
    objs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [o["type"] for o in objs] == ["line", "begin", "result", "result", "fault", "line", "done", "line"]
    assert objs[2] == {
        "type": "result",
        "time": 1.5,
        "index": 0,
        "ticks": 100,
        "us": 100.0,
        "outputs": ["7f"],
    }
    assert objs[4]["decoded"]["fault_address"] == "0x40000000"
    assert "PRECISERR" in objs[4]["decoded"]["summary"]
    rep = core.report("socket://x", 1.0)
    assert rep.counts["inferences"] == 2 and rep.counts["faults"] == 1 and rep.counts["runs"] == 1
    assert rep.counts["errors"] == 2  # the fault and the malformed RESULT line
    assert rep.latency is not None and (rep.latency.p50, rep.latency.max) == (100, 300)
    assert "--- fault: BusFault at pc=0x00000010" in text.getvalue()
    assert rep.to_dict()["status"] == "pass"


def test_text_view_timestamps_and_events_on_their_own_line():
    out = io.StringIO()
    core = MonitorCore([TextView(out, timestamps=True)], Expectations())
    core.data(b"abc", 0.0)
    core.port_event("lost", "port x lost", 1.0)
    core.data(b"def\n", 2.0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("] abc") and lines[0].startswith("[")
    assert lines[1].endswith("] --- port x lost")
    assert lines[2].endswith("] def")


def test_usb_port_found_again_by_ids():
    before = [PortInfo("/dev/ttyACM0", 0x0483, 0x374B, "0670FF", "ST-Link")]
    after = [
        PortInfo("/dev/ttyACM1", 0x0483, 0x374B, "0670FF", "ST-Link"),
        PortInfo("/dev/ttyACM2", 0x0483, 0x374B, "99AA", "ST-Link"),
    ]
    info = port_info("/dev/ttyACM0", before)
    assert info is not None and info.serial_number == "0670FF"
    assert find_usb_port(0x0483, 0x374B, "0670FF", after) == "/dev/ttyACM1"
    assert find_usb_port(0x0483, 0x374B, None, after) is None  # ambiguous without a serial number
    assert find_usb_port(0x0483, 0x374B, "0670FF", []) is None
    assert port_info("socket://127.0.0.1:4000", before) is None


def test_enter_key_translation():
    assert translate_keys(b"ls\r", b"\r\n") == b"ls\r\n"
    assert translate_keys(b"ls\r", b"\r") == b"ls\r"
    assert translate_keys(b"a\x03", b"\n") == b"a\x03"
