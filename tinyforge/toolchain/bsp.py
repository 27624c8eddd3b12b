"""The board support package for a board profile: which firmware/bsp/ sources to build, the
`bsp_config.h` defines, and the linker script. Every value comes from boards/<name>.toml;
templates only print them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tinyforge.codegen.jinja import c_string, render, sanitize_ident
from tinyforge.errors import BuildError
from tinyforge.resources import firmware_dir

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile

# console driver -> (source file in firmware/bsp, extra defines)
CONSOLE_DRIVERS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "cmsdk-uart": ("uart_cmsdk.c", ()),
    "stm32-usart": ("uart_stm32.c", ()),  # v1 register layout (F1/F2/F4)
    "stm32-usart-v2": ("uart_stm32.c", (("BSP_STM32_USART_V2", "1"),)),  # F0/F7/L4/G4/H7
    "stm32-lpuart": ("uart_stm32.c", (("BSP_STM32_LPUART", "1"),)),
}
COMMON_SOURCES = ("startup.c", "fault.c", "bsp.c")
HEADERS = (
    "bsp.h",
    "bsp_internal.h",
    "cortexm.h",
    "tf_profile.h",
    "tf_dump.h",
    "tf_link.h",
    "tf_boot.h",
    "tf_image.h",
)
LINK_SOURCE = "tf_link.c"  # the host link (framed messages), only in firmware that serves it
IMAGE_SOURCE = "tf_image.c"  # the running image's slot/confirm API, for builds made for image slots
DEFAULT_NUM_IRQS = 96


def bsp_dir() -> Path:
    return firmware_dir() / "bsp"


def _require_firmware_board(board: BoardProfile) -> None:
    if board.is_host:
        raise BuildError(
            "the host board runs models natively, it has no firmware to build",
            hint="use `tinyforge test MODEL --board host`, or pick a microcontroller board (`tinyforge boards`)",
        )


def console_driver(board: BoardProfile) -> tuple[str, tuple[tuple[str, str], ...]]:
    _require_firmware_board(board)
    entry = CONSOLE_DRIVERS.get(board.console.driver)
    if entry is None:
        raise BuildError(
            f"board {board.name}: console driver {board.console.driver!r} has no firmware implementation",
            hint=f"use one of: {', '.join(CONSOLE_DRIVERS)}",
        )
    return entry


def board_file(board: BoardProfile) -> Path | None:
    """firmware/bsp/board_<name>.c: clocks and pin muxing of a real board, if it needs any."""
    p = bsp_dir() / f"board_{sanitize_ident(board.name)}.c"
    return p if p.is_file() else None


def bsp_sources(board: BoardProfile) -> tuple[Path, ...]:
    """The BSP C files a firmware for `board` compiles (only the board's own console driver)."""
    driver, _defs = console_driver(board)
    files = [bsp_dir() / f for f in (*COMMON_SOURCES, driver)]
    extra = board_file(board)
    if extra is not None:
        files.append(extra)
    return tuple(files)


def link_source() -> Path:
    """firmware/bsp/tf_link.c: the host link a serving harness compiles in."""
    return bsp_dir() / LINK_SOURCE


def bsp_headers() -> tuple[Path, ...]:
    return tuple(bsp_dir() / h for h in HEADERS)


def num_irqs(board: BoardProfile) -> int:
    """External interrupt vectors in the table (all point at Default_Handler: firmware polls)."""
    del board
    return DEFAULT_NUM_IRQS


def has_mve(board: BoardProfile) -> bool:
    return "mve" in board.features


def bsp_defines(board: BoardProfile) -> list[tuple[str, str]]:
    """(NAME, value) pairs of bsp_config.h."""
    _driver, extra = console_driver(board)
    c = board.console
    return [
        ("BSP_BOARD_NAME", f'"{c_string(board.name)}"'),
        ("BSP_CPU_HZ", f"{int(board.clock_hz)}u"),
        ("BSP_CONSOLE_BASE", f"0x{int(c.base):08X}u"),
        ("BSP_CONSOLE_BAUD", f"{int(c.baud)}u"),
        ("BSP_CONSOLE_CLOCK_HZ", f"{int(c.clock_hz or board.clock_hz)}u"),
        ("BSP_TICK_HZ", f"{int(board.timer.hz)}u"),
        ("BSP_HAS_FPU", "1" if board.fpu and board.fpu != "none" else "0"),
        ("BSP_HAS_MVE", "1" if has_mve(board) else "0"),
        ("BSP_SEMIHOSTING", "1" if board.is_emulated else "0"),
        ("BSP_NUM_IRQS", str(num_irqs(board))),
        *extra,
    ]


def render_bsp_config(board: BoardProfile, extra: Sequence[tuple[str, str]] = ()) -> str:
    return render("bsp_config.h.j2", board_name=board.name, defines=[*bsp_defines(board), *extra])


def vector_table_align(board: BoardProfile) -> int:
    """VTOR needs the table aligned to its size rounded up to a power of two (at least 128)."""
    size = (16 + num_irqs(board)) * 4
    align = 128
    while align < size:
        align *= 2
    return align


@dataclass(frozen=True)
class LinkRegion:
    name: str  # linker MEMORY name
    origin: int
    length: int
    attrs: str  # "rx" | "rwx"


def region_name(name: str) -> str:
    return sanitize_ident(name).upper()


def link_regions(board: BoardProfile, app_offset: int = 0) -> tuple[LinkRegion, ...]:
    _require_firmware_board(board)
    align = vector_table_align(board)
    if app_offset < 0 or app_offset % align:
        raise BuildError(
            f"--app-offset {app_offset:#x} is not a multiple of {align:#x} (the vector table alignment on {board.name})",
            hint=f"use a multiple of {align:#x}, e.g. {((max(app_offset, 1) + align - 1) // align) * align:#x}",
        )
    if app_offset >= board.flash.size:
        raise BuildError(
            f"--app-offset {app_offset:#x} is beyond the {board.flash.size // 1024} KB flash of {board.name}",
            hint="use an offset inside the flash (the size of the bootloader)",
        )
    regions = [
        LinkRegion("FLASH", board.flash.origin + app_offset, board.flash.size - app_offset, "rx"),
        LinkRegion("RAM", board.ram.origin, board.ram.size, "rwx"),
    ]
    for r in board.extra_ram:
        name = region_name(r.name)
        if name in ("FLASH", "RAM"):
            name = f"{name}_{len(regions)}"
        regions.append(LinkRegion(name, r.origin, r.size, "rwx"))
    return tuple(regions)


def render_linker(
    board: BoardProfile, *, app_offset: int = 0, arena_region: str = "RAM", stack_bytes: int | None = None
) -> str:
    regions = link_regions(board, app_offset)
    if arena_region not in {r.name for r in regions}:
        raise ValueError(f"unknown linker region {arena_region!r}")
    return render(
        "linker.ld.j2",
        board_name=board.name,
        flash_origin=f"0x{board.flash.origin:08X}",
        app_offset=f"0x{app_offset:X}",
        regions=[
            {"name": r.name, "attrs": r.attrs, "origin": f"0x{r.origin:08X}", "length": f"0x{r.length:X}"}
            for r in regions
        ],
        arena_region=arena_region,
        stack_bytes=int(stack_bytes if stack_bytes is not None else board.stack_bytes),
        vector_align=vector_table_align(board),
    )


def write_bsp_files(
    board: BoardProfile, directory: Path, *, app_offset: int = 0, arena_region: str = "RAM"
) -> list[Path]:
    """bsp_config.h and linker.ld for `board` into `directory` (for firmware built outside `build`)."""
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in (
        ("bsp_config.h", render_bsp_config(board)),
        ("linker.ld", render_linker(board, app_offset=app_offset, arena_region=arena_region)),
    ):
        p = directory / name
        p.write_text(text)
        out.append(p)
    return out


def sources_relative(paths: Sequence[Path], root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in paths]
