"""The `stm32-uart` flash runner: flashing over the STM32 system-memory USART bootloader.

Built on two modules usable alone: flash/an3155.py (the protocol, `An3155`) and
flash/stm32_chips.py (the chip table, `CHIPS`, from GET_ID). Here: the DTR/RTS bootloader entry
sequence and `flash()`: open the port (8E1), enter the bootloader, check the image fits, erase the
sectors it covers, write in 256-byte blocks with bounded retries, verify by reading back, start it
with GO.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tinyforge.errors import BoardError, FlashError
from tinyforge.flash.an3155 import (
    BLOCK,
    CMD_ERASE,
    CMD_GO,
    CMD_WRITE_MEMORY,
    DEFAULT_BAUD,
    READ_SLICE,
    An3155,
    LinkLostError,
    NackError,
    NoReplyError,
    page_range,
    why,
)
from tinyforge.flash.stm32_chips import CHIPS, ChipInfo

if TYPE_CHECKING:
    from tinyforge.flash.image import FlashImage
    from tinyforge.flash.progress import Progress
    from tinyforge.flash.registry import FlashRequest, FlashResult


@dataclass(frozen=True)
class LineStep:
    line: str  # "dtr" | "rts" | "brk" | "wait"
    value: int  # 1 assert / 0 release for lines, milliseconds for wait


def parse_sequence(text: str, where: str = "stm32-uart enter_sequence") -> tuple[LineStep, ...]:
    """A modem-line sequence in stm32flash's `-i` syntax, as board profiles write it:
    `"-dtr&rts,-rts"` = release DTR, assert RTS, wait 100 ms, release RTS. `x` asserts (pyserial
    `port.x = True`), `-x` releases, `&` joins without delay, `,` waits 100 ms; `brk` sends a break.
    (stm32flash's GPIO numbers need Linux sysfs GPIOs and are not supported.)"""
    steps: list[LineStep] = []
    token = ""
    for ch in text.strip() + "\0":
        if ch in ",&\0":
            tok = token.strip()
            token = ""
            if tok:
                neg = tok.startswith("-")
                name = tok[1:] if neg else tok
                if name not in ("dtr", "rts", "brk"):
                    raise BoardError(
                        f"{where}: unsupported signal {tok!r} in {text!r}",
                        hint="use dtr, rts or brk, '-' to release, '&' or ',' (100 ms) between them, "
                        "e.g. '-dtr&rts,-rts'",
                    )
                steps.append(LineStep(name, 0 if neg else 1))
            if ch == ",":
                steps.append(LineStep("wait", 100))
        else:
            token += ch
    return tuple(steps)


def run_sequence(port: Any, steps: Sequence[LineStep]) -> None:
    for s in steps:
        if s.line == "wait":
            time.sleep(s.value / 1000)
        elif s.line == "dtr":
            port.dtr = bool(s.value)
        elif s.line == "rts":
            port.rts = bool(s.value)
        elif s.value:
            port.send_break(0.25)


# ==== the runner ==============================================================================


@dataclass(frozen=True)
class FlashPlan:
    """Where each byte goes and which erase units must be erased first."""

    blocks: tuple[tuple[int, bytes], ...]  # (protocol address, data <= 256 bytes, 4-aligned)
    pages: tuple[int, ...]  # erase unit numbers
    start: int
    end: int


def plan_flash(
    image: FlashImage,
    *,
    flash_base: int,
    capacity: int,
    sectors: Sequence[int],
    protect_below: int = 0,
    where: str = "",
) -> FlashPlan:
    """Blocks to write and pages to erase for `image` in a flash at `flash_base` of `capacity`
    bytes; raises when the image falls outside it or into the first `protect_below` bytes."""
    lo, hi = flash_base + protect_below, flash_base + capacity
    if image.start < lo or image.end > hi:
        if image.end > hi and image.start >= lo:
            raise FlashError(
                f"{where}{image.source.name} does not fit: it ends at 0x{image.end:08x} but the flash ends at "
                f"0x{hi:08x} ({image.end - hi} bytes too many; {capacity - protect_below} bytes available from "
                f"0x{lo:08x})",
                hint="make the model smaller (tinyforge build --opt size) or pick a board with more flash",
            )
        raise FlashError(
            f"{where}{image.source.name} spans 0x{image.start:08x}..0x{image.end:08x}, outside the writable "
            f"flash 0x{lo:08x}..0x{hi:08x}",
            hint="was it built for another board or without --app-offset? rebuild it, or give --address",
        )
    blocks: list[tuple[int, bytes]] = []
    for seg in image.segments:
        a0 = seg.address & ~3
        data = b"\xff" * (seg.address - a0) + seg.data  # 0xFF leaves NOR flash untouched
        for off in range(0, len(data), BLOCK):
            blocks.append((a0 + off, data[off : off + BLOCK]))
    pages: list[int] = []
    off = 0
    for i, size in enumerate(sectors):
        s0, s1 = flash_base + off, flash_base + off + size
        if any(seg.address < s1 and seg.end > s0 for seg in image.segments):
            pages.append(i)
        off += size
    return FlashPlan(tuple(blocks), tuple(pages), image.start, image.end)


def _setting_int(settings: dict[str, Any], key: str, default: int) -> int:
    v = settings.get(key, default)
    if isinstance(v, str):
        v = int(v, 0)
    return int(v)


def flash(request: FlashRequest, image: FlashImage, progress: Progress) -> FlashResult:
    from tinyforge.flash.registry import FlashResult
    from tinyforge.serial.ports import open_port, resolve_port

    settings = request.settings
    enter = parse_sequence(str(settings.get("enter_sequence", "")), f"board {request.board}: enter_sequence")
    leave = parse_sequence(str(settings.get("exit_sequence", "")), f"board {request.board}: exit_sequence")
    retries = _setting_int(settings, "retries", 3)
    app_offset = _setting_int(settings, "app_offset", 0)
    baud = request.baud or _setting_int(settings, "baud", DEFAULT_BAUD)
    port_name = resolve_port(request.port, request.usb_ids)

    parity = {"even": "E", "none": "N", "odd": "O"}[str(settings.get("parity", "even"))]
    port = open_port(port_name, baud, parity=parity, timeout=READ_SLICE)
    try:
        run_sequence(port, enter)
        bl = An3155(port, where=port_name, stream=settings.get("bootloader") == "tinyforge")
        bl.sync(attempts=_setting_int(settings, "sync_attempts", 3))
        info = bl.info()
        if settings.get("bootloader") == "tinyforge" and settings.get("image_slots"):
            _refuse_unsigned(bl, settings, port_name)  # a bootloader with slots takes signed images only
        chip = CHIPS.get(info.pid)
        progress.note(
            f"bootloader v{info.version_text} on {port_name}: chip id 0x{info.pid:03x}"
            + (f" ({chip.name}, {chip.flash_size // 1024} KB flash)" if chip else " (unknown chip)")
        )
        erase_cmd = info.erase_command
        if erase_cmd is None or CMD_WRITE_MEMORY not in info.commands:
            raise FlashError(
                f"{port_name}: the bootloader offers no erase or write command (GET listed "
                f"{' '.join(f'{c:02x}' for c in info.commands)})",
                hint="the chip may be read-protected; remove the protection with ST's tools first",
            )
        if chip is None and not request.erase_all:
            raise FlashError(
                f"{port_name}: unknown chip id 0x{info.pid:03x}: tinyforge does not know its flash sectors",
                hint="pass --erase-all to mass-erase the chip instead, or add the chip to CHIPS in "
                "tinyforge/flash/stm32_chips.py",
            )
        plan = _plan_for(request, image, chip, app_offset)
        t0 = time.monotonic()
        if request.erase_all:
            progress.note("mass erase")
            bl.mass_erase(erase_cmd)
        else:
            _erase(bl, plan.pages, erase_cmd)
        written = _write(bl, plan, progress, retries, port_name)
        if request.verify:
            _verify(bl, plan, progress, port_name)
        seconds = time.monotonic() - t0
        started = False
        output: tuple[str, ...] = ()
        if request.start:
            if CMD_GO in info.commands:
                bl.go(image.start)
                started = True
            elif leave:
                run_sequence(port, leave)
                started = True
            if started and request.follow:
                output = _follow(port, progress, request.follow_timeout)
        elif leave:
            run_sequence(port, leave)
    finally:
        try:
            port.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must not hide the real error
            pass
    return FlashResult(
        runner="stm32-uart",
        board=request.board,
        port=port_name,
        image=str(image.source),
        start_address=image.start,
        bytes_written=written,
        verified=request.verify,
        started=started,
        seconds=seconds,
        chip=f"0x{info.pid:03x} {chip.name}" if chip else f"0x{info.pid:03x}",
        details={
            "bootloader_version": info.version_text,
            "erase_command": f"0x{erase_cmd:02x}",
            "erased_pages": list(plan.pages) if not request.erase_all else "all",
            "blocks": len(plan.blocks),
            "end_address": f"0x{image.end:08x}",
        },
        output=output,
    )


def _refuse_unsigned(bl: An3155, settings: dict[str, Any], port: str) -> None:
    """An unsigned image sent to the bench bootloader: if it is the secure one (its status block
    answers), say so before anything is erased (flash/ab_update.py takes signed images)."""
    from tinyforge.secureboot.status import SIZE, parse_status

    if parse_status(bl.read_memory(int(settings["image_slots"]["shared"]), SIZE)) is not None:
        raise FlashError(
            f"{port}: the bootloader only starts signed images (A/B slots); this image is not signed",
            hint="build it with `tinyforge build MODEL --sign KEY.pem --version X.Y.Z` and flash that directory",
        )


def _plan_for(request: FlashRequest, image: FlashImage, chip: ChipInfo | None, app_offset: int) -> FlashPlan:
    """Fit the image into min(chip flash from GET_ID, board profile flash), in whichever address
    window (the board's flash origin or the chip's 0x08000000) holds it."""
    region = request.flash_region
    if chip is None and region is None:
        raise FlashError(
            "unknown chip and no flash region in the board profile: cannot check the image fits",
            hint="add the flash memory region to the board profile",
        )
    sectors: tuple[int, ...] = chip.sectors if chip else (region[1],)  # type: ignore[index]
    capacity = chip.flash_size if chip else region[1]  # type: ignore[index]
    if region is not None:
        capacity = min(capacity, region[1])
    bases = [
        b for b in ((region[0] if region else None), (chip.flash_base if chip else None)) if b is not None
    ]
    base = next((b for b in bases if b <= image.start < b + capacity), bases[0])
    where = f"board {request.board}: " if request.board else ""
    return plan_flash(
        image, flash_base=base, capacity=capacity, sectors=sectors, protect_below=app_offset, where=where
    )


def _erase(bl: An3155, pages: Sequence[int], erase_cmd: int) -> None:
    chunk = 255 if erase_cmd == CMD_ERASE else 64
    for i in range(0, len(pages), chunk):
        part = pages[i : i + chunk]
        try:
            bl.erase(part, erase_cmd, timeout=5.0 + 2.0 * len(part))
        except NackError as exc:
            raise FlashError(
                f"{bl.where}: the bootloader refused to erase sectors {page_range(part)}",
                hint="they may be write-protected (clear the protection with ST's tools) or hold the "
                "bootloader itself: check the board's app_offset",
            ) from exc


def _write(bl: An3155, plan: FlashPlan, progress: Progress, retries: int, port_name: str) -> int:
    total = sum(len(d) for _, d in plan.blocks)
    progress.phase("write", total)
    done = 0
    for address, data in plan.blocks:
        for attempt in range(retries + 1):
            try:
                bl.write_memory(address, data)
                break
            except NackError as exc:
                if attempt == retries:
                    raise FlashError(
                        f"{port_name}: the bootloader refused the write at 0x{address:08x} "
                        f"{retries + 1} times ({exc.stage} NACKed)",
                        hint="that address may be write-protected or outside the flash, or the link corrupts "
                        "data; check --address, the board's app_offset and the cable, then try a lower --baud",
                    ) from exc
            except NoReplyError:
                if attempt == retries:
                    raise
                bl.sync(attempts=2)
            except LinkLostError as exc:
                raise LinkLostError(
                    f"{port_name}: connection dropped while writing 0x{address:08x} ({done} of {total} bytes "
                    "written)",
                    hint="check the cable or the bench, then run the same command again: it erases, rewrites "
                    "and verifies the whole image",
                ) from exc
        done += len(data)
        progress.advance(len(data))
    progress.done()
    return done


def _verify(bl: An3155, plan: FlashPlan, progress: Progress, port_name: str) -> None:
    total = sum(len(d) for _, d in plan.blocks)
    progress.phase("verify", total)
    for address, data in plan.blocks:
        try:
            got = bl.read_memory(address, len(data))
        except LinkLostError as exc:
            raise LinkLostError(
                f"{port_name}: connection dropped while verifying 0x{address:08x}",
                hint="run the same command again: it rewrites and verifies the whole image",
            ) from exc
        if got != data:
            i = next(k for k in range(len(data)) if got[k] != data[k])
            raise FlashError(
                f"{port_name}: verify failed at 0x{address + i:08x}: wrote 0x{data[i]:02x}, read back 0x{got[i]:02x}",
                hint="the flash was not erased or is worn or protected; run again with --erase-all",
            )
        progress.advance(len(data))
    progress.done()


def _follow(port: Any, progress: Progress, timeout: float) -> tuple[str, ...]:
    """The started application's lines until its `TF DONE` line (or `timeout` seconds)."""
    from tinyforge.serial.protocol import SENTINEL_RE

    lines: list[str] = []
    buf = bytearray()
    deadline = time.monotonic() + timeout

    def emit(raw: bytes) -> bool:
        line = raw.decode("utf-8", "replace").rstrip("\r")
        lines.append(line)
        progress.output(line)
        return bool(SENTINEL_RE.match(line))

    while time.monotonic() < deadline:
        try:
            # a byte at a time: pyserial's socket read drops what it got when the peer closes
            b = port.read(1)
        except Exception as exc:  # noqa: BLE001 - the app may end and the bench close the port
            if buf and emit(bytes(buf)):
                return tuple(lines)
            raise FlashError(
                f"the port closed before the application printed TF DONE ({why(exc)}; {len(lines)} lines)",
                hint="see the lines above; the application may have crashed",
            ) from exc
        if not b:
            continue
        if b == b"\n":
            if emit(bytes(buf)):
                return tuple(lines)
            buf.clear()
        else:
            buf += b
    raise FlashError(
        f"the application printed no TF DONE line within {timeout:g} s ({len(lines)} lines)",
        hint="raise --follow-timeout, or watch it with `tinyforge monitor`",
    )
