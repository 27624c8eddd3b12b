"""Helpers shared by the click commands: JSON output and tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

PLACE_HELP = (
    "A labgrid place instead of --port: acquired for the run (or used if you hold it), its serial "
    "port and its `tinyforge.board` tag used, released afterwards."
)
COORDINATOR_HELP = "The labgrid coordinator, HOST:PORT [default: $LG_COORDINATOR, else 127.0.0.1:20408]."


def place_options(fn: Any) -> Any:
    """--place NAME and --coordinator HOST:PORT (tinyforge/farm/places.py)."""
    fn = click.option("--coordinator", metavar="HOST:PORT", help=COORDINATOR_HELP)(fn)
    return click.option("--place", metavar="NAME", help=PLACE_HELP)(fn)


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=str))


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], align: str | None = None) -> str:
    """A plain text table. `align` is one char per column: 'l' or 'r' (default: numbers right)."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if align is None:
        align = "".join(
            "r" if rows and all(isinstance(r[i], (int, float)) for r in rows) else "l"
            for i in range(len(headers))
        )
    out = []
    for n, r in enumerate(cells):
        line = "  ".join(
            c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(r, widths, align, strict=True)
        )
        out.append(line.rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def dump_ir_to_stderr(pass_name: str, text: str) -> None:
    """`--dump-ir`: the graph after each named compiler pass."""
    click.echo(f"--- after pass {pass_name} ---", err=True)
    click.echo(text, err=True)
