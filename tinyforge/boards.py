"""Board profiles: one TOML file per board in `boards/`, shared settings in `boards/families/`.

A board file names its family with `extends = "<family>"`; the family file (which may itself
extend another) is deep-merged under it: tables merge key by key, every other value (arrays
included) is replaced by the more specific file. Each file is checked on its own (unknown keys,
types, allowed values, so an error names the file that has it), then the merged profile is checked
as a whole (missing fields, overlapping memory regions, name == file stem, consistency): the
schema and those rules are in board_schema.py; this module holds the profile dataclasses and
the loader.

`extends` is looked up in `<file's folder>/families/`, then `<file's folder>/`, then the built-in
`boards/families/`.

Emulator platform names: `renode_platform` starting with `platforms/` is a file Renode ships;
anything else is relative to tinyforge's own `renode/` folder.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tinyforge.board_schema import check_consistency, check_file, check_merged
from tinyforge.errors import BoardError
from tinyforge.resources import boards_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_BOARD = "mps2-an386"

# ---------------------------------------------------------------------------------------------
# The profile
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    origin: int
    size: int
    kind: str  # "flash" | "ram"
    # False when the emulator (QEMU 7.2) does not model this region although the chip has it.
    emulated: bool = True

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.origin + self.size

    def overlaps(self, other: MemoryRegion) -> bool:
        return self.origin < other.end and other.origin < self.end

    def describe(self) -> str:
        return f"{self.name} 0x{self.origin:08x}..0x{self.end - 1:08x} ({_size_text(self.size)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "size": self.size,
            "kind": self.kind,
            "emulated": self.emulated,
        }


@dataclass(frozen=True)
class Console:
    driver: str  # "cmsdk-uart" | "stm32-usart" | "stm32-lpuart" | "host-stdio"
    base: int
    baud: int
    clock_hz: int  # the UART's input clock, for the baud divisor


@dataclass(frozen=True)
class Timer:
    kind: str  # "systick" | "host"
    hz: int  # tick rate of the time source the firmware reads


@dataclass(frozen=True)
class FlashMethod:
    kind: str  # "stm32-uart" | "esptool" | "uf2" | "none"
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)


@dataclass(frozen=True)
class Emulator:
    qemu_machine: str | None = None
    qemu_cpu: str | None = None
    renode_platform: str | None = None


@dataclass(frozen=True)
class BoardProfile:
    name: str
    description: str
    vendor: str
    url: str
    cpu: str
    fpu: str
    float_abi: str
    features: frozenset[str]
    clock_hz: int
    flash: MemoryRegion
    ram: MemoryRegion
    extra_ram: tuple[MemoryRegion, ...]
    console: Console
    timer: Timer
    flash_methods: tuple[FlashMethod, ...]
    usb: tuple[str, ...]
    emulator: Emulator
    stack_bytes: int
    vector_table: int
    source: str
    family: tuple[str, ...]

    @property
    def is_host(self) -> bool:
        return self.cpu == "host"

    @property
    def is_emulated(self) -> bool:
        return self.emulator.qemu_machine is not None

    def flash_method(self, kind: str) -> FlashMethod | None:
        for method in self.flash_methods:
            if method.kind == kind:
                return method
        return None

    @property
    def regions(self) -> tuple[MemoryRegion, ...]:
        return (self.flash, self.ram, *self.extra_ram)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (addresses as integers)."""
        return {
            "name": self.name,
            "description": self.description,
            "vendor": self.vendor,
            "url": self.url,
            "family": list(self.family),
            "cpu": self.cpu,
            "fpu": self.fpu,
            "float_abi": self.float_abi,
            "features": sorted(self.features),
            "clock_hz": self.clock_hz,
            "flash": self.flash.to_dict(),
            "ram": self.ram.to_dict(),
            "extra_ram": [r.to_dict() for r in self.extra_ram],
            "console": {
                "driver": self.console.driver,
                "base": self.console.base,
                "baud": self.console.baud,
                "clock_hz": self.console.clock_hz,
            },
            "timer": {"kind": self.timer.kind, "hz": self.timer.hz},
            "flash_methods": [{"kind": m.kind, **dict(m.settings)} for m in self.flash_methods],
            "usb": list(self.usb),
            "emulator": {
                "qemu_machine": self.emulator.qemu_machine,
                "qemu_cpu": self.emulator.qemu_cpu,
                "renode_platform": self.emulator.renode_platform,
            },
            "stack_bytes": self.stack_bytes,
            "vector_table": self.vector_table,
            "source": self.source,
        }


def _size_text(n: int) -> str:
    if n and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"


# ---------------------------------------------------------------------------------------------
# Public loaders
# ---------------------------------------------------------------------------------------------


def board_names() -> list[str]:
    """Names of the built-in concrete boards (file stems), sorted."""
    return sorted(p.stem for p in boards_dir().glob("*.toml"))


def load_board(name: str) -> BoardProfile:
    """A built-in board by name, or a board file when `name` ends in `.toml`."""
    if name.endswith(".toml"):
        return load_board_file(name)
    names = board_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        if close:
            raise BoardError(
                f"unknown board '{name}'; did you mean {', '.join(close)}?",
                hint="`tinyforge boards` lists every board",
            )
        raise BoardError(
            f"unknown board '{name}' (known: {', '.join(names)})",
            hint="`tinyforge boards` lists every board; a path ending in .toml loads a board file",
        )
    return load_board_file(boards_dir() / f"{name}.toml")


def list_boards() -> list[BoardProfile]:
    """Every built-in concrete board (family files excluded), sorted by name."""
    return [load_board_file(boards_dir() / f"{n}.toml") for n in board_names()]


def load_board_file(path: str | Path) -> BoardProfile:
    """Load, merge (`extends`) and validate one board file."""
    path = Path(path)
    if not path.is_file():
        raise BoardError(f"{path}: no such board file", hint="check the path")
    chain = _resolve_chain(path)
    merged: dict[str, Any] = {}
    for _file, data in reversed(chain):
        merged = _deep_merge(merged, data)
    merged.pop("extends", None)
    family = tuple(f.stem for f, _ in chain[1:])
    return _build(merged, path, family)


# ---------------------------------------------------------------------------------------------
# Reading and merging
# ---------------------------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise BoardError(f"{path}: not valid TOML: {exc}", hint="fix the syntax at that line") from exc
    except OSError as exc:
        raise BoardError(f"{path}: cannot read ({exc.strerror})") from exc


def _find_family(name: str, referrer: Path) -> Path | None:
    for folder in (referrer.parent / "families", referrer.parent, boards_dir() / "families"):
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
    return None


def _resolve_chain(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """[(file, data)] from the board itself up to its root family; each file checked alone."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: list[Path] = []
    current: Path | None = path
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            names = " -> ".join([p.stem for p in seen] + [current.stem])
            raise BoardError(
                f"{path}: extends: cycle {names}",
                hint="a family must not extend, directly or not, a file that extends it",
            )
        seen.append(resolved)
        data = _read_toml(current)
        check_file(data, current)
        chain.append((current, data))
        parent = data.get("extends")
        if parent is None:
            break
        found = _find_family(parent, current)
        if found is None:
            known = sorted(p.stem for p in (boards_dir() / "families").glob("*.toml"))
            raise BoardError(
                f"{current}: extends: unknown family '{parent}' (known: {', '.join(known)})",
                hint="families live in boards/families/<name>.toml",
            )
        current = found
    return chain


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# Construction (the checks are in board_schema.py)
# ---------------------------------------------------------------------------------------------


def _region(data: Mapping[str, Any], key: str, kind: str) -> MemoryRegion:
    return MemoryRegion(
        name=data.get("name", key),
        origin=data["origin"],
        size=data["size"],
        kind=kind,
        emulated=data.get("emulated", True),
    )


def _build(d: Mapping[str, Any], path: Path, family: tuple[str, ...]) -> BoardProfile:
    check_merged(d, path)
    flash = _region(d["flash"], "flash", "flash")
    methods_table: Mapping[str, Mapping[str, Any]] = d.get("flash_methods") or {"none": {}}
    emu = d.get("emulator", {})
    board = BoardProfile(
        name=d["name"],
        description=d["description"],
        vendor=d["vendor"],
        url=d["url"],
        cpu=d["cpu"],
        fpu=d["fpu"],
        float_abi=d["float_abi"],
        features=frozenset(d.get("features", [])),
        clock_hz=d["clock_hz"],
        flash=flash,
        ram=_region(d["ram"], "ram", "ram"),
        extra_ram=tuple(_region(r, f"extra_ram[{i}]", "ram") for i, r in enumerate(d.get("extra_ram", []))),
        console=Console(**{k: d["console"][k] for k in ("driver", "base", "baud", "clock_hz")}),
        timer=Timer(kind=d["timer"]["kind"], hz=d["timer"]["hz"]),
        flash_methods=tuple(
            FlashMethod(kind=k, settings=MappingProxyType(dict(v))) for k, v in methods_table.items()
        ),
        usb=tuple(d.get("usb", [])),
        emulator=Emulator(emu.get("qemu_machine"), emu.get("qemu_cpu"), emu.get("renode_platform")),
        stack_bytes=d["stack_bytes"],
        vector_table=d.get("vector_table", flash.origin),
        source=str(path),
        family=family,
    )
    check_consistency(board, path)
    return board
