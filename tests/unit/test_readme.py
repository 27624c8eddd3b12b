"""README.md is the user's manual: figures a benchmark fills in (`@KWS_S@` and the like, written
before the measurement) must never reach a reader as placeholders."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
PLACEHOLDER = re.compile(r"@[A-Z][A-Z0-9_]*@")


def test_readme_has_no_unfilled_placeholder() -> None:
    text = README.read_text(encoding="utf-8")
    found = [
        f"line {n}: {m.group(0)}"
        for n, line in enumerate(text.splitlines(), 1)
        for m in PLACEHOLDER.finditer(line)
    ]
    assert not found, "README.md has unfilled placeholders: " + ", ".join(found)


def test_placeholder_pattern_catches_the_benchmark_style() -> None:
    assert PLACEHOLDER.search("| KWS | @KWS_S@ |")
    assert PLACEHOLDER.search("instructions: @KWS_S_FULL@ per inference")
    assert not PLACEHOLDER.search("mail maintainers@example.org or @decorator")
