"""`tinyforge boards`: list the board profiles, or show one resolved profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tinyforge.cli.common import echo_json, table

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile


def _size(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} B"


def _ram(b: BoardProfile) -> str:
    text = _size(b.ram.size)
    extra = sum(r.size for r in b.extra_ram)
    return f"{text} (+{_size(extra)})" if extra else text


def _emulator(b: BoardProfile) -> str:
    if b.is_host:
        return "native"
    return b.emulator.qemu_machine or "-"


def _setting(key: str, value: object) -> str:
    if key in ("address", "app_offset", "family_id") and isinstance(value, int):
        return f"0x{value:08x}"
    return str(value)


def _methods(b: BoardProfile) -> str:
    return ", ".join(m.kind for m in b.flash_methods if m.kind != "none") or "-"


@click.group("boards", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def boards(ctx: click.Context, as_json: bool) -> None:
    """List the board profiles (boards/*.toml), or `show NAME` for one.

    Example: tinyforge boards; tinyforge boards show mps2-an386 --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from tinyforge import api

    profiles = api.boards()
    if as_json:
        echo_json([b.to_dict() for b in profiles])
        return
    default = api.default_board()
    rows = [
        [
            b.name + (" *" if b.name == default else ""),
            b.cpu,
            ",".join(sorted(b.features)) or "-",
            "-" if b.is_host else _size(b.flash.size),
            "-" if b.is_host else _ram(b),
            _emulator(b),
            _methods(b),
        ]
        for b in profiles
    ]
    click.echo(
        table(rows, ["name", "cpu", "features", "flash", "ram", "emulator", "flash methods"], "lllrrll")
    )
    click.echo(f"\n* default board. {len(profiles)} boards; details: tinyforge boards show NAME")


@boards.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show(name: str, as_json: bool) -> None:
    """Show one board profile with its families resolved.

    Example: tinyforge boards show nucleo-f446re
    """
    from tinyforge import api

    b = api.board(name)
    if as_json:
        echo_json(b.to_dict())
        return
    lines = [
        ("name", b.name),
        ("description", b.description),
        ("vendor", b.vendor),
        ("url", b.url),
        ("family", " -> ".join(b.family) or "-"),
        ("cpu", f"{b.cpu}  fpu {b.fpu}  float-abi {b.float_abi}"),
        ("features", ", ".join(sorted(b.features)) or "-"),
        ("clock", f"{b.clock_hz:,} Hz"),
    ]
    for region in b.regions:
        note = "" if region.emulated else "  (not emulated)"
        lines.append((region.kind, region.describe() + note))
    c = b.console
    if c.driver == "host-stdio":
        lines.append(("console", c.driver))
    else:
        lines.append(
            ("console", f"{c.driver} at 0x{c.base:08x}, {c.baud} baud, input clock {c.clock_hz:,} Hz")
        )
    lines.append(("timer", f"{b.timer.kind} at {b.timer.hz:,} Hz"))
    lines.append(("vector table", f"0x{b.vector_table:08x}"))
    lines.append(("stack", _size(b.stack_bytes)))
    for m in b.flash_methods:
        settings = ", ".join(f"{k}={_setting(k, v)}" for k, v in m.settings.items() if k != "image_slots")
        lines.append(("flash method", f"{m.kind}" + (f": {settings}" if settings else "")))
        slots = m.settings.get("image_slots")
        if isinstance(slots, dict) and len(slots.get("addresses", ())) == 2:
            a0, a1 = slots["addresses"]
            lines.append(
                (
                    "image slots",
                    f"0x{a0:08x}, 0x{a1:08x} ({_size(int(slots['size']))} each), header "
                    f"0x{int(slots['header_size']):x}, load address 0x{int(slots['load_address']):08x} "
                    "(signed images: tinyforge build --sign)",
                )
            )
    lines.append(("usb", ", ".join(b.usb) or "-"))
    e = b.emulator
    qemu = f"-M {e.qemu_machine}" + (f" -cpu {e.qemu_cpu}" if e.qemu_cpu else "") if e.qemu_machine else "-"
    lines.append(("qemu", qemu))
    lines.append(("renode", e.renode_platform or "-"))
    lines.append(("source", b.source))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        click.echo(f"{key:<{width}}  {value}")
