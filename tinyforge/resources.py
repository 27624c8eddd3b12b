"""Where the data folders (boards, templates, firmware, renode, examples) live.

In a wheel they are copied into `tinyforge/_data/`; in a source checkout (editable install or
running from the repo) they are the top-level folders beside the package.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PKG = Path(__file__).resolve().parent


@cache
def data_root() -> Path:
    installed = _PKG / "_data"
    if (installed / "boards").is_dir():
        return installed
    return _PKG.parent


def boards_dir() -> Path:
    return data_root() / "boards"


def templates_dir() -> Path:
    return data_root() / "templates"


def firmware_dir() -> Path:
    return data_root() / "firmware"


def renode_dir() -> Path:
    return data_root() / "renode"


def examples_dir() -> Path:
    return data_root() / "examples"


def cache_dir() -> Path:
    """Where tinyforge caches build products: $TINYFORGE_CACHE, else ~/.cache/tinyforge."""
    base = os.environ.get("TINYFORGE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tinyforge"
    )
    return Path(base)
