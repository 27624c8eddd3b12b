"""Helpers for the signed-update tests on the emulated bench: the secure bootloader in QEMU with its
flash in a file (which survives QEMU being killed, like a device's flash survives a power cut),
power cycles that read the console from its first line, and a raw AN3155 writer that puts bytes
in a slot as an attacker or a broken flasher would (bypassing tinyforge flash's own checks), so the
bootloader's checks are what is tested."""

from __future__ import annotations

import contextlib
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from tinyforge import api
from tinyforge.boards import load_board
from tinyforge.secureboot import layout as L
from tinyforge.secureboot.bootloader import FLASH_BYTES

BOARD = "mps2-an386"
LAYOUT = L.require_layout(load_board(BOARD))
TEST_SECONDS = 240  # every test of the tier is stopped after this long


@contextlib.contextmanager
def deadline(seconds: float = TEST_SECONDS) -> Iterator[None]:
    """Fail the test (TimeoutError in the main thread) if it runs longer than `seconds`."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"the test took more than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class Bench:
    """One emulated device: the secure bootloader (built with `public_key`) and its flash file."""

    def __init__(self, public_key: Path, flash_file: Path) -> None:
        self.public_key = public_key
        self.flash_file = flash_file

    def programming(self):  # noqa: ANN201 - an Emulator context manager
        """Power on with BOOT0 high: the bootloader waits for a flasher (the CPU runs whether a
        client is attached or not, as a real device does)."""
        return api.emulate(BOARD, key=self.public_key, flash_file=self.flash_file, serial="tcp", hold=False)

    def power_cycle(self, *, until: tuple[str, ...] = ("TF DONE",), timeout: float = 60.0) -> list[str]:
        """Power on with BOOT0 low and return the console lines until one starts with an `until`
        prefix, the firmware exits, or `timeout`; QEMU is stopped in every case. (The CPU starts
        when this attaches: the console is read from its first line.)"""
        emu = api.emulate(BOARD, key=self.public_key, flash_file=self.flash_file, boot=True, serial="tcp")
        try:
            return read_lines(emu.port, until=until, timeout=timeout)
        finally:
            emu.stop()

    def slot_bytes(self, slot: int) -> bytes:
        off = LAYOUT.slot_offset(slot)
        with open(self.flash_file, "rb") as f:
            f.seek(off)
            return f.read(LAYOUT.size)

    def flash_bytes(self) -> bytes:
        with open(self.flash_file, "rb") as f:
            return f.read(FLASH_BYTES)


def read_lines(url: str, *, until: tuple[str, ...], timeout: float) -> list[str]:
    host, port = url.removeprefix("socket://").rsplit(":", 1)
    end = time.monotonic() + timeout
    sock = None
    while sock is None:
        try:
            sock = socket.create_connection((host, int(port)), timeout=1.0)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.05)
    lines: list[str] = []
    buf = b""
    try:
        sock.settimeout(0.2)
        while time.monotonic() < end:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                break  # the firmware exited (semihosting) and QEMU with it
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                lines.append(raw.decode("utf-8", "replace").rstrip("\r"))
                if lines[-1].startswith(until):
                    return lines
    finally:
        sock.close()
    if buf:
        lines.append(buf.decode("utf-8", "replace"))
    return lines


def raw_install(port: str, slot: int, data: bytes, *, mark: bool = True, sequence: int = 99) -> None:
    """Write `data` into `slot` over AN3155 and (with `mark`) mark it pending, then reset, with none
    of `tinyforge flash`'s checks: what a tampering attacker or a broken tool could do."""
    from tinyforge.flash.ab_update import _slot_plan, sync, trailer_block
    from tinyforge.flash.an3155 import An3155
    from tinyforge.flash.progress import NullProgress
    from tinyforge.flash.stm32_chips import CHIPS
    from tinyforge.flash.stm32_uart import FlashPlan, _erase, _verify, _write
    from tinyforge.serial.ports import open_port

    p = open_port(port, 115200, parity="E", timeout=0.05)
    try:
        bl = An3155(p, where=port, stream=True)
        sync(bl, 3)
        info = bl.info()
        chip = CHIPS[info.pid]
        plan = _slot_plan(FlashPlan, data, LAYOUT.slots[slot], LAYOUT, chip.sectors, chip.flash_base)
        _erase(bl, plan.pages, info.erase_command)
        _write(bl, plan, NullProgress(), 3, port)
        _verify(bl, plan, NullProgress(), port)
        if mark:
            bl.write_memory(LAYOUT.trailer_address(slot, L.TRAILER_WRITE), trailer_block(sequence))
    finally:
        p.close()
