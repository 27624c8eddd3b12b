"""The build manifest: a JSON string tinyforge embeds in every firmware (section .tf_manifest) and
reads back with `tinyforge inspect firmware.elf`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tinyforge.errors import BuildError

SECTION = ".tf_manifest"


def manifest_json(values: Mapping[str, Any]) -> str:
    """The compact JSON the firmware carries (ASCII only, so it is a plain C string)."""
    return json.dumps(dict(values), separators=(",", ":"), sort_keys=False, ensure_ascii=True)


def read_manifest(elf_path: Path) -> dict[str, Any]:
    """The manifest of a firmware built by tinyforge, as a dict."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    elf_path = Path(elf_path)
    if not elf_path.is_file():
        raise BuildError(f"{elf_path}: no such file", hint="pass the firmware.elf of a tinyforge build")
    try:
        with open(elf_path, "rb") as f:
            sec = ELFFile(f).get_section_by_name(SECTION)
            data = sec.data() if sec is not None else None
    except ELFError as exc:
        raise BuildError(
            f"{elf_path}: not an ELF file ({exc})", hint="pass the firmware.elf of a tinyforge build"
        ) from exc
    if not data:
        raise BuildError(
            f"{elf_path}: no tinyforge build manifest (section {SECTION})",
            hint="only firmware built by `tinyforge build` carries one",
        )
    text = data.split(b"\0", 1)[0].decode("ascii", "replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildError(f"{elf_path}: the build manifest is corrupt ({exc.msg})") from exc
    if not isinstance(value, dict):
        raise BuildError(f"{elf_path}: the build manifest is not a JSON object")
    return value
