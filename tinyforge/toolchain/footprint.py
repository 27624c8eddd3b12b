"""Will the model fit, and how full is the board: the pre-link budget check and the post-link
memory report (PlatformIO-style bars, per region, plus a per-layer table)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyforge.errors import BuildError

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile, MemoryRegion
    from tinyforge.compiler import CompiledModel

# What the firmware needs besides the model, before we know exactly (checked again by the linker):
# BSP + harness code and constants, and the harness's RAM (fault stack, output buffers, bss).
CODE_RESERVE = 16 * 1024
HARNESS_RAM_RESERVE = 1024
ARENA_ALIGN = 16


def kib(n: int) -> str:
    """Human size: '612 KB', '1.5 KB', '300 B' (1 KB = 1024 bytes)."""
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n >= 10 * 1024:
        return f"{round(n / 1024):,} KB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} B"


def _align(n: int, a: int = ARENA_ALIGN) -> int:
    return (n + a - 1) // a * a


@dataclass(frozen=True)
class Budget:
    """Where the model goes, decided before compiling."""

    arena_region: str  # linker region name: "RAM" or an extra region
    arena_bytes: int  # arena + scratch, aligned
    flash_needed: int  # weights + inputs + code reserve (an estimate; the linker checks exactly)
    flash_available: int


def check_fit(
    board: BoardProfile,
    *,
    weight_bytes: int,
    optimize: str = "balanced",
    weights_mode: str = "int8",
    weights_model_bytes: int = 0,
    arena_bytes: int,
    scratch_bytes: int,
    input_bytes: int = 0,
    output_bytes: int = 0,
    app_offset: int = 0,
    for_emulator: bool = False,
) -> Budget:
    """Raise a BuildError naming the dominant consumer when the model cannot fit the board."""
    from tinyforge.toolchain.bsp import region_name

    flash_avail = board.flash.size - app_offset
    widened = weights_mode != "int8"
    flash_parts = [("weights", weight_bytes), ("test inputs", input_bytes), ("code (estimate)", CODE_RESERVE)]
    flash_need = sum(n for _, n in flash_parts)
    where = f" after --app-offset {app_offset:#x}" if app_offset else ""
    if flash_need > flash_avail and widened:
        # the user asked for wider weights: say so, and what int8 weights would need
        int8_fits = weights_model_bytes + input_bytes + CODE_RESERVE <= flash_avail
        raise BuildError(
            f"model does not fit with --optimize {optimize}: weights {kib(weight_bytes)} ({weights_mode}) "
            f"+ test inputs and code {kib(input_bytes + CODE_RESERVE)} > flash {kib(flash_avail)}{where} "
            f"on {board.name}, {kib(flash_need - flash_avail)} too much",
            hint=f"--optimize balanced or size keeps the weights int8 (about {kib(weights_model_bytes)}"
            + (", which fits)" if int8_fits else "; they do not fit either), or a board with more flash"),
        )
    if flash_need > flash_avail:
        big_name, big = max(flash_parts, key=lambda p: p[1])
        if big > flash_avail:
            msg = f"{big_name} {kib(big)} > flash {kib(flash_avail)}{where} on {board.name}"
        else:
            parts = " + ".join(f"{name} {kib(n)}" for name, n in flash_parts if n)
            msg = f"{parts} = {kib(flash_need)} > flash {kib(flash_avail)}{where} on {board.name} (mostly {big_name})"
        raise BuildError(
            f"model does not fit: {msg}, {kib(flash_need - flash_avail)} too much",
            hint="a smaller model, fewer --inputs, or a board with more flash",
        )
    arena = _align(arena_bytes) + _align(scratch_bytes)
    harness = HARNESS_RAM_RESERVE + _align(output_bytes)
    stack = board.stack_bytes
    if arena + harness + stack <= board.ram.size:
        return Budget("RAM", arena, flash_need, flash_avail)
    # the arena may go to another RAM region (CCM, DTCM, SRAM2...)
    candidates: list[MemoryRegion] = [
        r for r in board.extra_ram if r.size >= arena and (r.emulated or not for_emulator)
    ]
    if candidates and harness + stack <= board.ram.size:
        best = min(candidates, key=lambda r: r.size)
        return Budget(region_name(best.name), arena, flash_need, flash_avail)
    biggest = max(
        [board.ram, *[r for r in board.extra_ram if r.emulated or not for_emulator]], key=lambda r: r.size
    )
    parts = f"arena {kib(arena_bytes)}"
    if scratch_bytes:
        parts += f" + scratch {kib(scratch_bytes)}"
    if output_bytes >= 1024:
        parts += f" + output buffers {kib(output_bytes)}"
    need = arena + harness + stack
    if biggest is board.ram:
        msg = f"{parts} + stack {kib(stack)} > RAM {kib(board.ram.size)} on {board.name}"
        over = need - board.ram.size
    else:
        msg = f"{parts.split(' + output')[0]} > {biggest.name} {kib(biggest.size)} (the largest RAM region) on {board.name}"
        over = arena - biggest.size
    raise BuildError(
        f"model does not fit: {msg}, {kib(over)} too much",
        hint="a smaller model (fewer channels, smaller input) or a board with more RAM",
    )


@dataclass(frozen=True)
class RegionUsage:
    name: str
    origin: int
    size: int
    used: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.size if self.size else 0.0


def region_usage(elf: Path, regions: Sequence[Any]) -> tuple[RegionUsage, ...]:
    """Bytes used per linker region, from the ELF's allocated sections (.data counts in both its
    RAM region and FLASH, where its initial values live)."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    used = {r.name: 0 for r in regions}
    with open(elf, "rb") as f:
        for sec in ELFFile(f).iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            addr, size = int(sec["sh_addr"]), int(sec["sh_size"])
            for r in regions:
                if r.origin <= addr < r.origin + r.length:
                    used[r.name] += size
                    break
            if sec.name == ".data" and "FLASH" in used:
                used["FLASH"] += size
    return tuple(RegionUsage(r.name, r.origin, r.length, used[r.name]) for r in regions)


def bar(usage: RegionUsage, width: int = 10) -> str:
    filled = min(width, round(width * usage.used / usage.size)) if usage.size else 0
    label = {"FLASH": "Flash", "RAM": "RAM"}.get(usage.name, usage.name)
    return (
        f"{label + ':':<7}[{'=' * filled}{' ' * (width - filled)}] {usage.percent:5.1f}% "
        f"(used {usage.used:,} bytes from {usage.size:,} bytes)"
    )


@dataclass(frozen=True)
class LayerMemory:
    index: int
    kind: str
    name: str
    output_shape: str
    weight_bytes: int
    output_bytes: int
    arena_offset: int
    macs: int


def layer_table(compiled: CompiledModel) -> tuple[LayerMemory, ...]:
    g = compiled.graph
    rows = []
    for lay in compiled.layers:
        out = lay.op.outputs[0]
        t = g.tensor(out)
        rows.append(
            LayerMemory(
                index=lay.op.index,
                kind=lay.op.kind,
                name=lay.op.name,
                output_shape="x".join(str(d) for d in t.shape),
                weight_bytes=sum(len(c.data) for c in lay.call.consts()),
                output_bytes=t.nbytes,
                arena_offset=compiled.plan.offset_of(g, out),
                macs=lay.call.macs,
            )
        )
    return tuple(rows)


def layer_rows(layers: Sequence[LayerMemory]) -> list[dict[str, Any]]:
    return [asdict(x) for x in layers]
