"""The QEMU command line for a board: one place builds it; the QEMU runner (run/qemu.py), the
emulated flashing bench (flash/emulated_bench.py) and the generated Makefile's `make run` all use it.

    qemu-system-arm -M <machine> [-cpu <cpu>] -nographic -monitor none -serial <serial>
                    [-icount shift=0] -semihosting-config enable=on,target=native [-no-reboot]
                    [-global armv7m.init-nsvtor=<address>]
                    [-device loader,file=<blob>,addr=<address>,force-raw=on ...] -kernel <elf>

An image linked after a bootloader (`--app-offset`) boots directly: the core's reset vector table
address (VTOR) is set to where the image starts, as the bootloader's jump would leave it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tinyforge.errors import RunError

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile

QEMU = "qemu-system-arm"
# cores that boot Secure: their reset VTOR is the machine's init-svtor, not armv7m.init-nsvtor
TRUSTZONE_CPUS = ("cortex-m33", "cortex-m55")


def qemu_argv(
    board: BoardProfile,
    elf: Path | str,
    *,
    serial: str = "stdio",
    icount: bool = True,
    no_reboot: bool = True,
    blobs: Sequence[tuple[Path, int]] = (),
    extra: Sequence[str] = (),
    app_offset: int = 0,
    machine_options: str = "",
) -> list[str]:
    """The QEMU command line that runs `elf` on `board`.

    `icount`: the virtual clock advances 1 ns per instruction (instruction counts; off for the
    real-time flashing bench). `no_reboot`: a reset ends QEMU. `blobs`: raw files preloaded at an
    address (an application already in the flash). `app_offset`: `elf` is linked that far into
    the flash; the core boots from there. `machine_options` are appended to the machine name
    (",memory-backend=..." for the secure bench's flash file)."""
    if board.emulator.qemu_machine is None:
        raise RunError(
            f"board {board.name} has no QEMU machine",
            hint="emulated boards: "
            + ", ".join(_emulated_boards())
            + "; or flash the real board with `tinyforge flash`",
        )
    argv = [QEMU, "-M", board.emulator.qemu_machine + machine_options]
    if board.emulator.qemu_cpu:
        argv += ["-cpu", board.emulator.qemu_cpu]
    argv += ["-nographic", "-monitor", "none", "-serial", serial]
    if icount:
        argv += ["-icount", "shift=0"]
    argv += ["-semihosting-config", "enable=on,target=native"]
    if no_reboot:
        argv.append("-no-reboot")
    if app_offset:
        if board.cpu in TRUSTZONE_CPUS:
            raise RunError(
                f"an image linked at flash offset 0x{app_offset:x} cannot boot directly in QEMU on {board.name} "
                "(its secure boot address is fixed by the machine)",
                hint="build it with --app-offset 0 to run it in the emulator",
            )
        argv += ["-global", f"armv7m.init-nsvtor=0x{board.flash.origin + app_offset:x}"]
    for path, addr in blobs:
        argv += ["-device", f"loader,file={path},addr=0x{addr:x},force-raw=on"]
    return [*argv, *extra, "-kernel", str(elf)]


def _emulated_boards() -> list[str]:
    from tinyforge.boards import list_boards

    try:
        return [b.name for b in list_boards() if b.is_emulated]
    except Exception:  # noqa: BLE001 - only for a hint
        return []
