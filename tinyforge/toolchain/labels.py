"""Class labels a build carries (`tinyforge build --labels labels.txt`): one name per line, in the
order of output 0's values. They go into the build directory (labels.txt, report.json) and the
firmware's manifest, so `flash --follow` and `monitor --elf` print readable result tables."""

from __future__ import annotations

from pathlib import Path

from tinyforge.errors import UsageError


def read_labels(path: str | Path) -> list[str]:
    """Class names from a text file: one per line, in output order (blank lines at the end and
    surrounding spaces dropped)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"--labels {p}: no such file", hint="a text file with one class name per line"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"--labels {p}: cannot read it ({exc})", hint="a UTF-8 text file, one class per line"
        ) from None
    labels = [line.strip() for line in text.splitlines()]
    while labels and not labels[-1]:
        labels.pop()
    if not labels:
        raise UsageError(f"--labels {p}: the file holds no labels", hint="one class name per line")
    return labels
