"""The board file schema: which keys a board TOML may hold, their types and allowed values, the
fields a merged profile must have, and the whole-profile consistency rules. Data in tables; the
loader (boards.py) calls `check_file` on each file of an `extends` chain, `require` while building
the profile and `check_consistency` on the result. Every error names the file and the dotted key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyforge.errors import BoardError

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile

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
# Per-file checks: keys, types and allowed values of what is present
# ---------------------------------------------------------------------------------------------

Check = Callable[[Any, str, Path], None]


def fail(path: Path, key: str, problem: str, hint: str | None = None) -> BoardError:
    """`<file>: <dotted key>: <problem>`."""
    return BoardError(f"{path}: {key}: {problem}", hint=hint)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(minimum: int = 0) -> Check:
    def check(v: Any, key: str, path: Path) -> None:
        if not _is_int(v):
            raise fail(path, key, f"expected an integer, got {_type_name(v)} {v!r}")
        if v < minimum:
            raise fail(path, key, f"must be >= {minimum}, got {v}")

    return check


def _str(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, str):
        raise fail(path, key, f"expected a string, got {_type_name(v)} {v!r}")


def _bool(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, bool):
        raise fail(path, key, f"expected true or false, got {_type_name(v)} {v!r}")


def _choice(allowed: Iterable[str], what: str) -> Check:
    options = tuple(allowed)

    def check(v: Any, key: str, path: Path) -> None:
        _str(v, key, path)
        if v not in options:
            raise fail(path, key, f"unknown {what} '{v}' (allowed: {', '.join(options)})")

    return check


def _regex(pattern: re.Pattern[str], what: str) -> Check:
    def check(v: Any, key: str, path: Path) -> None:
        _str(v, key, path)
        if not pattern.match(v):
            raise fail(path, key, f"'{v}' is not {what}")

    return check


def _int_list(length: int) -> Check:
    def check(v: Any, key: str, path: Path) -> None:
        if not isinstance(v, list) or len(v) != length or not all(_is_int(x) and x >= 0 for x in v):
            raise fail(
                path, key, f"expected a list of {length} non-negative integers, got {_type_name(v)} {v!r}"
            )

    return check


def _features(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise fail(path, key, f"expected a list of strings, got {_type_name(v)} {v!r}")
    for x in v:
        if x not in FEATURES:
            raise fail(path, key, f"unknown feature '{x}' (allowed: {', '.join(FEATURES)})")


def _usb(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, list):
        raise fail(path, key, f'expected a list of "vid:pid" strings, got {_type_name(v)} {v!r}')
    for x in v:
        if not isinstance(x, str) or not _USB_RE.match(x):
            raise fail(
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


def _table(spec: dict[str, Check]) -> Check:
    def check(v: Any, key: str, path: Path) -> None:
        if not isinstance(v, dict):
            raise fail(path, key, f"expected a table ([{key}]), got {_type_name(v)} {v!r}")
        _check_table(v, spec, key, path)

    return check


_REGION_KEYS: dict[str, Check] = {"name": _str, "origin": _int(0), "size": _int(1), "emulated": _bool}
_CONSOLE_KEYS: dict[str, Check] = {
    "driver": _choice(CONSOLE_DRIVERS, "console driver"),
    "base": _int(0),
    "baud": _int(0),
    "clock_hz": _int(0),
}
_TIMER_KEYS: dict[str, Check] = {"kind": _choice(TIMER_KINDS, "timer kind"), "hz": _int(1)}
_EMULATOR_KEYS: dict[str, Check] = {"qemu_machine": _str, "qemu_cpu": _str, "renode_platform": _str}

# MCUboot-format A/B image slots of tinyforge's bench bootloader when it is built with a key
# (firmware/bootloader/bl_layout.h holds the same numbers; tinyforge/secureboot/layout.py checks them).
_IMAGE_SLOT_KEYS: dict[str, Check] = {
    "addresses": _int_list(2),  # protocol (AN3155) addresses of slot 0 and slot 1
    "size": _int(1),  # bytes per slot (header + image + TLVs + trailer)
    "header_size": _int(32),  # imgtool --header-size
    "align": _int(1),  # imgtool --align: the flash write unit
    "load_address": _int(0),  # RAM load: where the bootloader copies the chosen image to run it
    "storage": _int(0),  # emulator: CPU address of the memory that holds the emulated flash
    "shared": _int(0),  # CPU address of the bootloader's status block (readable over AN3155)
}

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
        "image_slots": _table(_IMAGE_SLOT_KEYS),
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
        raise fail(path, key, f"expected a table of [{key}.<kind>] tables, got {_type_name(v)} {v!r}")
    for kind, settings in v.items():
        where = f"{key}.{kind}"
        if kind not in FLASH_METHOD_SETTINGS:
            raise fail(
                path, where, f"unknown flash method '{kind}' (allowed: {', '.join(FLASH_METHOD_SETTINGS)})"
            )
        if not isinstance(settings, dict):
            raise fail(path, where, f"expected a table ([{where}]), got {_type_name(settings)} {settings!r}")
        _check_table(settings, FLASH_METHOD_SETTINGS[kind], where, path)


def _region_list(v: Any, key: str, path: Path) -> None:
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise fail(path, key, f"expected an array of tables ([[{key}]]), got {_type_name(v)}")
    for i, region in enumerate(v):
        _check_table(region, _REGION_KEYS, f"{key}[{i}]", path)


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
            raise fail(path, dotted, f"unknown key{guess} (allowed: {', '.join(spec)})")
        spec[key](value, dotted, path)


def check_file(data: Mapping[str, Any], path: Path) -> None:
    """One board or family file on its own: known keys, types, allowed values."""
    _check_table(data, _TOP_KEYS, "", path)


# ---------------------------------------------------------------------------------------------
# Whole-profile checks: required fields, consistency
# ---------------------------------------------------------------------------------------------

# Fields a merged profile must have, per table ("" is the top level; "extra_ram[]" each element).
REQUIRED: dict[str, tuple[str, ...]] = {
    "": (
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
    ),
    "flash": ("origin", "size"),
    "ram": ("origin", "size"),
    "extra_ram[]": ("name", "origin", "size"),
    "console": ("driver", "base", "baud", "clock_hz"),
    "timer": ("kind", "hz"),
}


def _require(data: Mapping[str, Any], keys: Iterable[str], prefix: str, path: Path) -> None:
    for key in keys:
        if key not in data:
            dotted = f"{prefix}.{key}" if prefix else key
            raise fail(path, dotted, "missing field", hint="set it in the board file or in its family")


def check_merged(d: Mapping[str, Any], path: Path) -> None:
    """The merged profile (board file over its families) before it is built: required fields,
    name == file stem, the settings each flash method needs."""
    _require(d, REQUIRED[""], "", path)
    if d["name"] != path.stem:
        raise fail(path, "name", f"'{d['name']}' does not match the file name (expected '{path.stem}')")
    _require(d["flash"], REQUIRED["flash"], "flash", path)
    _require(d["ram"], REQUIRED["ram"], "ram", path)
    for i, region in enumerate(d.get("extra_ram", [])):
        _require(region, REQUIRED["extra_ram[]"], f"extra_ram[{i}]", path)
    _require(d["console"], REQUIRED["console"], "console", path)
    _require(d["timer"], REQUIRED["timer"], "timer", path)
    methods: Mapping[str, Mapping[str, Any]] = d.get("flash_methods") or {"none": {}}
    for kind, settings in methods.items():
        for req in FLASH_METHOD_REQUIRED[kind]:
            if req not in settings:
                raise fail(
                    path, f"flash_methods.{kind}.{req}", f"missing field (the {kind} flash method needs it)"
                )
    if "none" in methods and len(methods) > 1:
        raise fail(path, "flash_methods.none", "'none' cannot be combined with other flash methods")


def check_consistency(b: BoardProfile, path: Path) -> None:
    """The built profile as a whole: memory regions apart, features the core has, FPU, console
    and timer fit the cpu, stack fits the RAM."""
    regions = b.regions
    for i, a in enumerate(regions):
        for other in regions[i + 1 :]:
            if a.overlaps(other):
                raise fail(
                    path,
                    "memory",
                    f"regions overlap: {a.describe()} and {other.describe()}",
                    hint="memory regions must not share addresses",
                )
    possible = _CPU_FEATURES[b.cpu]
    for feature in sorted(b.features):
        if feature not in possible:
            allowed = ", ".join(sorted(possible)) or "none"
            raise fail(path, "features", f"'{feature}' is not available on {b.cpu} (allowed: {allowed})")
    if "mve-float" in b.features and "mve" not in b.features:
        raise fail(path, "features", "'mve-float' needs 'mve'")
    if b.float_abi == "hard" and b.fpu == "none":
        raise fail(path, "float_abi", "'hard' needs an fpu (fpu is 'none')", hint='use float_abi = "soft"')
    if b.is_host:
        if b.console.driver != "host-stdio" or b.timer.kind != "host":
            raise fail(path, "cpu", "cpu 'host' needs console.driver 'host-stdio' and timer.kind 'host'")
        return
    if b.console.driver == "host-stdio" or b.timer.kind == "host":
        raise fail(
            path, "console", f"'host-stdio' console and 'host' timer are for cpu 'host' only, not {b.cpu}"
        )
    for key in ("base", "baud", "clock_hz"):
        if getattr(b.console, key) <= 0:
            raise fail(path, f"console.{key}", f"must be > 0 for the {b.console.driver} driver")
    if b.stack_bytes >= b.ram.size:
        raise fail(path, "stack_bytes", f"{b.stack_bytes} does not fit in ram ({b.ram.size} bytes)")
    if b.stack_bytes % 8:
        raise fail(path, "stack_bytes", f"{b.stack_bytes} is not a multiple of 8 (AAPCS stack alignment)")
