"""`build --platformio`: a platformio.ini for the build directory, so PlatformIO users get the
model as a library (lib/model) next to the kernels and the BSP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinyforge import __version__
from tinyforge.codegen.jinja import render
from tinyforge.errors import BuildError
from tinyforge.toolchain.flags import BASE_CFLAGS, LDFLAGS, WARN_FLAGS, cpu_flags, opt_flag

if TYPE_CHECKING:
    from tinyforge.toolchain.project import FirmwareProject

# tinyforge board -> (PlatformIO platform, PlatformIO board id). Boards without a PlatformIO
# board (the MPS2/MPS3 FPGA images) are not listed.
PLATFORMIO_BOARDS: dict[str, tuple[str, str]] = {
    "nucleo-f446re": ("ststm32", "nucleo_f446re"),
    "nucleo-l4r5zi": ("ststm32", "nucleo_l4r5zi"),
}


def render_platformio(project: FirmwareProject) -> str:
    board = project.board
    entry = PLATFORMIO_BOARDS.get(board.name)
    if entry is None:
        raise BuildError(
            f"--platformio: PlatformIO has no board for {board.name}",
            hint="boards with a PlatformIO id: " + ", ".join(sorted(PLATFORMIO_BOARDS)),
        )
    platform, pio_board = entry
    flags = [
        *cpu_flags(board),
        opt_flag(project.opt),
        *BASE_CFLAGS,
        *WARN_FLAGS,
        *LDFLAGS,
        "-Isrc",
        "-Ilib/model",
        "-Ilib/kernels",
        "-Ilib/bsp",
    ]
    return render(
        "platformio.ini.j2",
        board_name=board.name,
        version=__version__,
        env_name=pio_board,
        platform=platform,
        pio_board=pio_board,
        build_flags=flags,
        libs=["model", "kernels", "bsp"],
        upload_protocol="stlink",
        baud=board.console.baud,
    )
