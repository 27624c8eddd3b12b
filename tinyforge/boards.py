"""Board profiles: one TOML file per board in `boards/`, shared settings in `boards/families/`.

A board file names its family with `extends = "<family>"`; the family file (which may itself
extend another) is deep-merged under it: tables merge key by key, every other value (arrays
included) is replaced by the more specific file. Each file is checked on its own (unknown keys,
types, allowed values, so an error names the file that has it), then the merged profile is checked
as a whole (missing fields, overlapping memory regions, name == file stem, consistency).

`extends` is looked up in `<file's folder>/families/`, then `<file's folder>/`, then the built-in
`boards/families/`.

Emulator platform names: `renode_platform` starting with `platforms/` is a file Renode ships;
anything else is relative to tinyforge's own `renode/` folder.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tinyforge.errors import BoardError
from tinyforge.resources import boards_dir

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_BOARD = "mps2-an386"

CPUS = ("host", "cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55")
FPUS = ("none", "fpv4-sp-d16", "fpv5-d16", "fpv5-sp-d16")
FLOAT_ABIS = ("hard", "soft")
FEATURES = ("dsp", "mve", "mve-float")
CONSOLE_DRIVERS = ("cmsdk-uart", "stm32-usart", "stm32-lpuart", "host-stdio")
TIMER_KINDS = ("systick", "host")
REGION_KINDS = ("flash", "ram")

# Which optional CPU features each core can have at all.
_CPU_FEATURES: dict[str, frozenset[str]] = {
    "host": frozenset(),
    "cortex-m0plus": frozenset(),
    "cortex-m3": frozenset(),
    "cortex-m4": frozenset({"dsp"}),
    "cortex-m7": frozenset({"dsp"}),
    "cortex-m33": frozenset({"dsp"}),
    "cortex-m55": frozenset({"dsp", "mve", "mve-float"}),
}

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_USB_RE = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$")
# stm32flash `-i` GPIO sequences: signals rts/dtr/brk/GPIO numbers, '-' for low, ',' (100 ms) or '&'.
_GPIO_SEQ_RE = re.compile(r"^(-?(rts|dtr|brk|\d+))?([,&](-?(rts|dtr|brk|\d+))?)*$")


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
        _check_file(data, current)
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
# Per-file checks: keys, types and allowed values of what is present
# ---------------------------------------------------------------------------------------------

Check = Callable[[Any, str, Path], None]


def _fail(path: Path, key: str, problem: str, hint: str | None = None) -> BoardError:
    return BoardError(f"{path}: {key}: {problem}", hint=hint)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(minimum: int = 0) -> Check:
    def check(v: Any, key: str, path: Path) -> None:
        if not _is_int(v):
            raise _fail(path, key, f"expected an integer, got {_type_name(v)} {v!r}")
        if v < minimum:
            raise _fail(path, key, f"must be >= {minimum}, got {v}")

    return check


def _str(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, str):
        raise _fail(path, key, f"expected a string, got {_type_name(v)} {v!r}")


def _bool(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, bool):
        raise _fail(path, key, f"expected true or false, got {_type_name(v)} {v!r}")


def _choice(allowed: Iterable[str], what: str) -> Check:
    options = tuple(allowed)

    def check(v: Any, key: str, path: Path) -> None:
        _str(v, key, path)
        if v not in options:
            raise _fail(path, key, f"unknown {what} '{v}' (allowed: {', '.join(options)})")

    return check


def _regex(pattern: re.Pattern[str], what: str) -> Check:
    def check(v: Any, key: str, path: Path) -> None:
        _str(v, key, path)
        if not pattern.match(v):
            raise _fail(path, key, f"'{v}' is not {what}")

    return check


def _features(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise _fail(path, key, f"expected a list of strings, got {_type_name(v)} {v!r}")
    for x in v:
        if x not in FEATURES:
            raise _fail(path, key, f"unknown feature '{x}' (allowed: {', '.join(FEATURES)})")


def _usb(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, list):
        raise _fail(path, key, f'expected a list of "vid:pid" strings, got {_type_name(v)} {v!r}')
    for x in v:
        if not isinstance(x, str) or not _USB_RE.match(x):
            raise _fail(
                path,
                key,
                f'bad USB id {x!r} (allowed: "vid:pid" as 4 + 4 lowercase hex digits, e.g. "0483:374b")',
            )


def _type_name(v: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "float",
        str: "string",
        list: "array",
        dict: "table",
    }.get(type(v), type(v).__name__)


_REGION_KEYS: dict[str, Check] = {"name": _str, "origin": _int(0), "size": _int(1), "emulated": _bool}
_CONSOLE_KEYS: dict[str, Check] = {
    "driver": _choice(CONSOLE_DRIVERS, "console driver"),
    "base": _int(0),
    "baud": _int(0),
    "clock_hz": _int(0),
}
_TIMER_KEYS: dict[str, Check] = {"kind": _choice(TIMER_KINDS, "timer kind"), "hz": _int(1)}
_EMULATOR_KEYS: dict[str, Check] = {"qemu_machine": _str, "qemu_cpu": _str, "renode_platform": _str}

# Settings each flash method accepts, and which of them it needs.
FLASH_METHOD_SETTINGS: dict[str, dict[str, Check]] = {
    "stm32-uart": {
        "baud": _int(1),
        "parity": _choice(("even", "none", "odd"), "parity"),
        "address": _int(0),
        "app_offset": _int(0),
        "bootloader": _choice(("rom", "tinyforge"), "bootloader"),
        "boot0": _choice(("dtr", "rts"), "modem line"),
        "nrst": _choice(("dtr", "rts"), "modem line"),
        "enter_sequence": _regex(_GPIO_SEQ_RE, 'an stm32flash GPIO sequence (e.g. "-dtr&rts,-rts")'),
        "exit_sequence": _regex(_GPIO_SEQ_RE, 'an stm32flash GPIO sequence (e.g. "dtr&rts,-rts")'),
        "pins": _str,
    },
    "esptool": {"chip": _str, "baud": _int(1), "address": _int(0), "before": _str, "after": _str},
    "uf2": {"family_id": _int(0), "address": _int(0), "volume_label": _str},
    "none": {},
}
FLASH_METHOD_REQUIRED: dict[str, tuple[str, ...]] = {
    "stm32-uart": ("baud", "parity", "address"),
    "esptool": ("chip",),
    "uf2": ("family_id",),
    "none": (),
}


def _flash_methods(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, dict):
        raise _fail(path, key, f"expected a table of [{key}.<kind>] tables, got {_type_name(v)} {v!r}")
    for kind, settings in v.items():
        where = f"{key}.{kind}"
        if kind not in FLASH_METHOD_SETTINGS:
            raise _fail(
                path, where, f"unknown flash method '{kind}' (allowed: {', '.join(FLASH_METHOD_SETTINGS)})"
            )
        if not isinstance(settings, dict):
            raise _fail(path, where, f"expected a table ([{where}]), got {_type_name(settings)} {settings!r}")
        _check_table(settings, FLASH_METHOD_SETTINGS[kind], where, path)


def _region_list(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise _fail(path, key, f"expected an array of tables ([[{key}]]), got {_type_name(v)}")
    for i, region in enumerate(v):
        _check_table(region, _REGION_KEYS, f"{key}[{i}]", path)


def _table(spec: dict[str, Check]) -> Check:
    def check(v: Any, key: str, path: Path) -> None:
        if not isinstance(v, dict):
            raise _fail(path, key, f"expected a table ([{key}]), got {_type_name(v)} {v!r}")
        _check_table(v, spec, key, path)

    return check


_TOP_KEYS: dict[str, Check] = {
    "name": _regex(_NAME_RE, "a board name (lowercase letters, digits, '-', '.', '_')"),
    "extends": _regex(_NAME_RE, "a family name"),
    "description": _str,
    "vendor": _str,
    "url": _str,
    "cpu": _choice(CPUS, "cpu"),
    "fpu": _choice(FPUS, "fpu"),
    "float_abi": _choice(FLOAT_ABIS, "float_abi"),
    "features": _features,
    "clock_hz": _int(1),
    "flash": _table(_REGION_KEYS),
    "ram": _table(_REGION_KEYS),
    "extra_ram": _region_list,
    "console": _table(_CONSOLE_KEYS),
    "timer": _table(_TIMER_KEYS),
    "flash_methods": _flash_methods,
    "usb": _usb,
    "emulator": _table(_EMULATOR_KEYS),
    "stack_bytes": _int(256),
    "vector_table": _int(0),
}


def _check_table(data: Mapping[str, Any], spec: Mapping[str, Check], prefix: str, path: Path) -> None:
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in spec:
            close = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.75)
            guess = f"; did you mean '{close[0]}'?" if close else ""
            raise _fail(path, dotted, f"unknown key{guess} (allowed: {', '.join(spec)})")
        spec[key](value, dotted, path)


def _check_file(data: Mapping[str, Any], path: Path) -> None:
    _check_table(data, _TOP_KEYS, "", path)


# ---------------------------------------------------------------------------------------------
# Whole-profile checks and construction
# ---------------------------------------------------------------------------------------------

_REQUIRED_TOP = (
    "name",
    "description",
    "vendor",
    "url",
    "cpu",
    "fpu",
    "float_abi",
    "clock_hz",
    "flash",
    "ram",
    "console",
    "timer",
    "stack_bytes",
)


def _require(data: Mapping[str, Any], keys: Iterable[str], prefix: str, path: Path) -> None:
    for key in keys:
        if key not in data:
            dotted = f"{prefix}.{key}" if prefix else key
            raise _fail(path, dotted, "missing field", hint="set it in the board file or in its family")


def _region(data: Mapping[str, Any], key: str, kind: str, path: Path) -> MemoryRegion:
    _require(data, ("origin", "size") if key in ("flash", "ram") else ("name", "origin", "size"), key, path)
    return MemoryRegion(
        name=data.get("name", key),
        origin=data["origin"],
        size=data["size"],
        kind=kind,
        emulated=data.get("emulated", True),
    )


def _build(d: Mapping[str, Any], path: Path, family: tuple[str, ...]) -> BoardProfile:
    _require(d, _REQUIRED_TOP, "", path)
    if d["name"] != path.stem:
        raise _fail(path, "name", f"'{d['name']}' does not match the file name (expected '{path.stem}')")
    flash = _region(d["flash"], "flash", "flash", path)
    ram = _region(d["ram"], "ram", "ram", path)
    extra = tuple(_region(r, f"extra_ram[{i}]", "ram", path) for i, r in enumerate(d.get("extra_ram", [])))
    regions = (flash, ram, *extra)
    for i, a in enumerate(regions):
        for b in regions[i + 1 :]:
            if a.overlaps(b):
                raise _fail(
                    path,
                    "memory",
                    f"regions overlap: {a.describe()} and {b.describe()}",
                    hint="memory regions must not share addresses",
                )
    _require(d["console"], ("driver", "base", "baud", "clock_hz"), "console", path)
    _require(d["timer"], ("kind", "hz"), "timer", path)
    console = Console(**{k: d["console"][k] for k in ("driver", "base", "baud", "clock_hz")})
    timer = Timer(kind=d["timer"]["kind"], hz=d["timer"]["hz"])
    methods_table: Mapping[str, Mapping[str, Any]] = d.get("flash_methods") or {"none": {}}
    for kind, settings in methods_table.items():
        for req in FLASH_METHOD_REQUIRED[kind]:
            if req not in settings:
                raise _fail(
                    path, f"flash_methods.{kind}.{req}", f"missing field (the {kind} flash method needs it)"
                )
    if "none" in methods_table and len(methods_table) > 1:
        raise _fail(path, "flash_methods.none", "'none' cannot be combined with other flash methods")
    methods = tuple(FlashMethod(kind=k, settings=MappingProxyType(dict(v))) for k, v in methods_table.items())
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
        ram=ram,
        extra_ram=extra,
        console=console,
        timer=timer,
        flash_methods=methods,
        usb=tuple(d.get("usb", [])),
        emulator=Emulator(emu.get("qemu_machine"), emu.get("qemu_cpu"), emu.get("renode_platform")),
        stack_bytes=d["stack_bytes"],
        vector_table=d.get("vector_table", flash.origin),
        source=str(path),
        family=family,
    )
    _check_consistency(board, path)
    return board


def _check_consistency(b: BoardProfile, path: Path) -> None:
    possible = _CPU_FEATURES[b.cpu]
    for feature in sorted(b.features):
        if feature not in possible:
            allowed = ", ".join(sorted(possible)) or "none"
            raise _fail(path, "features", f"'{feature}' is not available on {b.cpu} (allowed: {allowed})")
    if "mve-float" in b.features and "mve" not in b.features:
        raise _fail(path, "features", "'mve-float' needs 'mve'")
    if b.float_abi == "hard" and b.fpu == "none":
        raise _fail(path, "float_abi", "'hard' needs an fpu (fpu is 'none')", hint='use float_abi = "soft"')
    if b.is_host:
        if b.console.driver != "host-stdio" or b.timer.kind != "host":
            raise _fail(path, "cpu", "cpu 'host' needs console.driver 'host-stdio' and timer.kind 'host'")
        return
    if b.console.driver == "host-stdio" or b.timer.kind == "host":
        raise _fail(
            path, "console", f"'host-stdio' console and 'host' timer are for cpu 'host' only, not {b.cpu}"
        )
    for key in ("base", "baud", "clock_hz"):
        if getattr(b.console, key) <= 0:
            raise _fail(path, f"console.{key}", f"must be > 0 for the {b.console.driver} driver")
    if b.stack_bytes >= b.ram.size:
        raise _fail(path, "stack_bytes", f"{b.stack_bytes} does not fit in ram ({b.ram.size} bytes)")
    if b.stack_bytes % 8:
        raise _fail(path, "stack_bytes", f"{b.stack_bytes} is not a multiple of 8 (AAPCS stack alignment)")
