"""The one Jinja environment for every template: StrictUndefined (a missing value is an error, not
an empty string), no autoescape (we emit C, linker scripts, Makefiles), and filters that format
values Python already computed. Templates stay dumb: no arithmetic in them.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from tinyforge.resources import templates_dir

_C_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "_Bool _Complex _Imaginary".split()
)


def c_ident(name: str) -> str:
    """Validate a C identifier before it is emitted (raises ValueError: a bug in the caller)."""
    if not _C_IDENT.match(name) or name in C_KEYWORDS:
        raise ValueError(f"not a valid C identifier: {name!r}")
    return name


def sanitize_ident(text: str, prefix: str = "t") -> str:
    """Turn arbitrary text (a tensor name) into a valid C identifier."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", text)
    s = re.sub(r"_+", "_", s).strip("_") or prefix
    if s[0].isdigit():
        s = f"{prefix}_{s}"
    if s in C_KEYWORDS:
        s = f"{prefix}_{s}"
    return s


def c_comment(text: str) -> str:
    """Text safe inside a /* */ comment, on one line."""
    return " ".join(str(text).replace("*/", "* /").split())


def c_string(text: str) -> str:
    """A C string literal body (escaped)."""
    out = []
    for ch in str(text):
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append(f"\\{ord(ch) & 0xFF:03o}")
    return "".join(out)


def hex_u32(value: int) -> str:
    return f"0x{value & 0xFFFFFFFF:08X}"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["c_ident"] = c_ident
    env.filters["c_comment"] = c_comment
    env.filters["c_string"] = c_string
    env.filters["hex32"] = hex_u32
    return env


def render(template_name: str, **values: Any) -> str:
    return environment().get_template(template_name).render(**values)
