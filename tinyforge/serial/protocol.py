"""The one firmware <-> host protocol. Every tinyforge firmware (host harness, QEMU, Renode, a
real board over serial) prints the same machine-readable lines, parsed here for all of them:

    TF BEGIN board=<name> model=<sha256[:16]> inputs=<n>
    TF RESULT idx=<i> ticks=<t> out0=<hex> [out1=<hex> ...]
    TF FAULT kind=<HardFault|MemManage|BusFault|UsageFault> pc=0x.. lr=0x.. xpsr=0x.. cfsr=0x.. hfsr=0x.. mmfar=0x.. bfar=0x.. sp=0x..
    TF LOG <free text>
    TF DONE status=<pass|fail> count=<n>        (the one sentinel: the run is over)
    TF BOOT slot=<n|none> [version=<a.b.c+d> image=<pending|confirmed> sequence=<n>]
            [fallback="<why the other slot was not started>" | reason="<why nothing started>"]
                                                (the secure bench bootloader, before the image runs)

After TF DONE the firmware exits, or, built to serve `tinyforge test --port`, answers the framed
host link (serial/frames.py) until a new run starts with TF BEGIN.

`ticks` are the board's timer ticks for one inference (see the board's timer hz); on QEMU with
`-icount shift=0`, instructions = ticks * 1e9 / hz. Any other line is device output (a plain log).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

PREFIX = "TF "
SENTINEL_RE = re.compile(r"^TF DONE status=(pass|fail)\b")
_KV = re.compile(r"(\w+)=(\S*)")
_KV_QUOTED = re.compile(r'(\w+)=(?:"([^"]*)"|(\S*))')


@dataclass(frozen=True)
class Begin:
    board: str
    model: str
    inputs: int


@dataclass(frozen=True)
class Result:
    index: int
    ticks: int
    outputs: tuple[bytes, ...]


@dataclass(frozen=True)
class Fault:
    kind: str
    registers: dict[str, int] = field(default_factory=dict)

    @property
    def pc(self) -> int | None:
        return self.registers.get("pc")


@dataclass(frozen=True)
class Log:
    text: str


@dataclass(frozen=True)
class Done:
    status: str  # "pass" | "fail"
    count: int

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass(frozen=True)
class Boot:
    """What the secure bench bootloader started (slot None: nothing), and why not the other slot."""

    slot: int | None
    version: str | None = None
    image: str | None = None  # "pending" (first start, not yet confirmed) | "confirmed"
    sequence: int = 0
    note: str | None = None  # fallback / reason text


@dataclass(frozen=True)
class Plain:
    """A line that is not part of the protocol."""

    text: str


Record = Begin | Result | Fault | Log | Done | Boot | Plain


def _kv(text: str) -> dict[str, str]:
    return dict(_KV.findall(text))


def _int(v: str | None, default: int = 0) -> int:
    if v is None or v == "":
        return default
    try:
        return int(v, 0)
    except ValueError:
        return default


def parse_line(line: str) -> Record:
    """Parse one line (without its newline). Malformed protocol lines become `Plain`."""
    line = line.rstrip("\r\n")
    if not line.startswith(PREFIX):
        return Plain(line)
    body = line[len(PREFIX) :]
    word, _, rest = body.partition(" ")
    try:
        if word == "RESULT":
            kv = _kv(rest)
            outs = []
            n = 0
            while f"out{n}" in kv:
                outs.append(bytes.fromhex(kv[f"out{n}"]))
                n += 1
            return Result(int(kv["idx"]), _int(kv.get("ticks")), tuple(outs))
        if word == "BEGIN":
            kv = _kv(rest)
            return Begin(kv.get("board", ""), kv.get("model", ""), _int(kv.get("inputs")))
        if word == "FAULT":
            kv = _kv(rest)
            regs = {k: _int(v) for k, v in kv.items() if k != "kind"}
            return Fault(kv.get("kind", "HardFault"), regs)
        if word == "LOG":
            return Log(rest)
        if word == "DONE":
            kv = _kv(rest)
            return Done(kv.get("status", "fail"), _int(kv.get("count")))
        if word == "BOOT":
            q = {k: a if a or not b else b for k, a, b in _KV_QUOTED.findall(rest)}
            slot = q["slot"]
            return Boot(
                None if slot == "none" else int(slot),
                q.get("version"),
                q.get("image"),
                _int(q.get("sequence")),
                q.get("fallback") or q.get("reason"),
            )
    except (KeyError, ValueError):
        return Plain(line)
    return Plain(line)


def layer_outputs(logs: Iterable[str]) -> dict[int, bytes]:
    """Layer position -> output bytes, from the `TF LOG layer n=.. op=.. data=<hex>` texts that a
    build with per-layer dumps prints (host `--layers`, firmware `dump_layers`); other texts are
    skipped. A layer printed twice keeps its last dump."""
    layers: dict[int, bytes] = {}
    for text in logs:
        if text.startswith("layer ") and "data=" in text:
            kv = _kv(text)
            layers[int(kv["n"])] = bytes.fromhex(kv["data"])
    return layers


def format_result(index: int, ticks: int, outputs: list[bytes]) -> str:
    """The RESULT line as firmware prints it (used by tests and the Python-side simulators)."""
    outs = " ".join(f"out{i}={o.hex()}" for i, o in enumerate(outputs))
    return f"TF RESULT idx={index} ticks={ticks} {outs}"
