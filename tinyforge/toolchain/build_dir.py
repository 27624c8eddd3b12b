"""A `tinyforge build` output directory read back: the one reader of its layout, for `tinyforge
test DIR` (which needs the model, firmware and input records) and `tinyforge flash DIR` (which needs
an image and, if it says, the board). Reading never modifies the directory.

    DIR/report.json       what the build did (board, sizes, inputs, ...)
    DIR/firmware.elf      the image (.hex and .bin beside it)
    DIR/model.tflite      the int8 model
    DIR/src/inputs.bin    the input records baked into the firmware, back to back (none in a
                          firmware built only to serve the host link: `--inputs 0`)
    DIR/labels.txt        the class names (`--labels`), one per line
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyforge.errors import UsageError

IMAGE_FILES = ("firmware.elf", "firmware.hex", "firmware.bin")  # in order of preference


@dataclass(frozen=True)
class BuildDir:
    """What a directory holds, whatever is missing."""

    path: Path
    report: dict[str, Any]  # report.json ({} when there is none)
    board: str | None  # the board it was built for, when report.json says
    image: Path | None  # firmware.elf, else firmware.hex, else firmware.bin


@dataclass(frozen=True)
class BuiltFirmware:
    """A complete build directory, for `tinyforge test DIR`."""

    directory: Path
    board: str
    elf: Path
    model: Path
    records: tuple[bytes, ...]
    report: dict[str, Any]

    @property
    def serves(self) -> bool:
        """The firmware answers the host link after its run (`tinyforge test --port`)."""
        return bool(self.report.get("serve"))

    @property
    def app_offset(self) -> int:
        v = self.report.get("app_offset", 0)
        return v if isinstance(v, int) else 0

    @property
    def labels(self) -> tuple[str, ...] | None:
        v = self.report.get("labels")
        return tuple(str(x) for x in v) if isinstance(v, list) else None


def board_ref(report: dict[str, Any]) -> str | None:
    """What names the board a build was made for, for `api.board()`: the board file it was built
    from when that was not a built-in board (and the file is still there), else the board's name."""
    path = report.get("board_file")
    if isinstance(path, str) and Path(path).is_file():
        return path
    board = report.get("board")
    if isinstance(board, dict):
        board = board.get("name")
    return board if isinstance(board, str) else None


def scan_build_dir(directory: str | Path) -> BuildDir:
    """The report and the preferred image of a directory (ELF first: it carries addresses)."""
    d = Path(directory)
    report: Any = {}
    rp = d / "report.json"
    if rp.is_file():
        try:
            report = json.loads(rp.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{rp}: not valid JSON ({exc})", hint="rebuild with `tinyforge build`") from exc
    if not isinstance(report, dict):
        report = {}
    board = report.get("board")
    if isinstance(board, dict):
        board = board.get("name")
    image = next((d / name for name in IMAGE_FILES if (d / name).is_file()), None)
    return BuildDir(d, report, board if isinstance(board, str) else None, image)


def read_build_dir(directory: str | Path) -> BuiltFirmware:
    """Read back a complete `tinyforge build` directory: board, firmware, model and input records."""
    d = Path(directory)
    rep_path = d / "report.json"
    if not rep_path.is_file():
        raise UsageError(
            f"{d} is not a tinyforge build directory (no report.json)",
            hint="build one with `tinyforge build MODEL -o DIR`",
        )
    report = scan_build_dir(d).report
    try:
        count = int(report["inputs"])
        board = str(report["board"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{rep_path}: not a tinyforge build report ({exc})", hint="rebuild the directory"
        ) from exc
    blob = (d / "src" / "inputs.bin").read_bytes() if (d / "src" / "inputs.bin").is_file() else b""
    serves = bool(report.get("serve"))
    if count < 0 or (count == 0 and (blob or not serves)) or (count and len(blob) % count):
        raise UsageError(
            f"{d}/src/inputs.bin does not hold {count} input records", hint="rebuild the directory"
        )
    n = len(blob) // count if count else 0
    records = tuple(blob[i * n : (i + 1) * n] for i in range(count))
    for need in ("firmware.elf", "model.tflite"):
        if not (d / need).is_file():
            raise UsageError(f"{d}/{need} is missing", hint="rebuild with `tinyforge build` or `make`")
    return BuiltFirmware(d, board, d / "firmware.elf", d / "model.tflite", records, report)
