"""The firmware <-> host line protocol."""

from __future__ import annotations

from tinyforge.serial import protocol as p


def test_result_roundtrip():
    line = p.format_result(3, 1234, [b"\x01\xff", b"\x80"])
    rec = p.parse_line(line)
    assert rec == p.Result(3, 1234, (b"\x01\xff", b"\x80"))


def test_other_records():
    assert p.parse_line("TF BEGIN board=mps2-an386 model=abcd inputs=5") == p.Begin("mps2-an386", "abcd", 5)
    f = p.parse_line("TF FAULT kind=UsageFault pc=0x00000100 lr=0xfffffff9 cfsr=0x00020000")
    assert (
        isinstance(f, p.Fault) and f.kind == "UsageFault" and f.pc == 0x100 and f.registers["cfsr"] == 0x20000
    )
    assert p.parse_line("TF DONE status=pass count=2") == p.Done("pass", 2)
    assert p.parse_line("TF DONE status=fail count=0").passed is False
    assert p.parse_line("TF LOG hello world") == p.Log("hello world")
    assert p.SENTINEL_RE.match("TF DONE status=pass count=1")


def test_malformed_lines_are_plain():
    for line in [
        "TF RESULT idx=x",
        "TF RESULT ticks=1",
        "TF RESULT idx=1 out0=zz",
        "hello",
        "TF UNKNOWN a=b",
        "",
    ]:
        assert isinstance(p.parse_line(line), p.Plain)
