"""The firmware tests' tiny models (tests/toolchain/_fw_models.py), importable from here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

from _fw_models import dense, logistic  # noqa: E402

__all__ = ["dense", "logistic"]
