"""Flashing over the STM32 system-memory USART bootloader (ST application note AN3155).

Three layers, each usable alone:
  * `An3155`: the protocol over any byte transport (pyserial port, socket URL, a pipe in tests):
    sync, GET, GET_VERSION, GET_ID, READ_MEMORY, WRITE_MEMORY, ERASE / EXTENDED_ERASE, GO, with
    timeouts and typed errors. It knows nothing about images or boards.
  * the chip table (`CHIPS`, from GET_ID) and the DTR/RTS bootloader entry sequence.
  * `flash()`: the runner: open the port (8E1), enter the bootloader, check the image fits,
    erase the sectors it covers, write in 256-byte blocks with bounded retries, verify by
    reading back, start it with GO.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tinyforge.errors import BoardError, FlashError

if TYPE_CHECKING:
    from tinyforge.flash.image import FlashImage
    from tinyforge.flash.progress import Progress
    from tinyforge.flash.registry import FlashRequest, FlashResult

ACK = 0x79
NACK = 0x1F
SYNC = 0x7F

CMD_GET = 0x00
CMD_GET_VERSION = 0x01
CMD_GET_ID = 0x02
CMD_READ_MEMORY = 0x11
CMD_GO = 0x21
CMD_WRITE_MEMORY = 0x31
CMD_ERASE = 0x43
CMD_EXTENDED_ERASE = 0x44

BLOCK = 256  # the most one READ_MEMORY / WRITE_MEMORY moves

DEFAULT_BAUD = 115200
READ_SLICE = 0.05  # the port's read timeout; operations loop up to their own deadlines


# ==== protocol ================================================================================


class Transport(Protocol):
    """What the protocol needs from a port: pyserial's Serial and serial_for_url objects fit.
    `read` should give up after a short time (opened with e.g. timeout=0.05): An3155 loops up to
    each operation's own deadline."""

    def write(self, data: bytes) -> int | None: ...
    def read(self, size: int = 1) -> bytes: ...
    def reset_input_buffer(self) -> None: ...


class An3155Error(FlashError):
    """A protocol-level failure."""


class NackError(An3155Error):
    def __init__(
        self, message: str, *, stage: str, address: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.stage = stage
        self.address = address


class NoReplyError(An3155Error):
    """The device did not answer in time."""


class LinkLostError(An3155Error):
    """The port went away (USB unplugged, TCP connection closed)."""


@dataclass(frozen=True)
class BootloaderInfo:
    version: int  # e.g. 0x31 for v3.1
    commands: tuple[int, ...]
    pid: int

    @property
    def erase_command(self) -> int | None:
        if CMD_EXTENDED_ERASE in self.commands:
            return CMD_EXTENDED_ERASE
        if CMD_ERASE in self.commands:
            return CMD_ERASE
        return None

    @property
    def version_text(self) -> str:
        return f"{self.version >> 4}.{self.version & 0xF}"


def _xor(data: Iterable[int]) -> int:
    x = 0
    for b in data:
        x ^= b
    return x


def _addr_bytes(address: int) -> bytes:
    a = address.to_bytes(4, "big")
    return a + bytes([_xor(a)])


class An3155:
    """The host side of AN3155 over a byte transport. Not thread-safe; one instance per port."""

    def __init__(
        self, transport: Transport, *, where: str = "the port", timeout: float = 1.0, stream: bool = False
    ) -> None:
        """`stream`: send a WRITE command together with its address (then the data after their
        ACKs), and a READ command with its address and length, without waiting for each ACK in
        between: 3 round trips per written-and-verified block instead of 6. Only for a bootloader
        known to consume its input as a byte stream (tinyforge's own, firmware/bootloader/); a ROM
        bootloader gets strict AN3155 turn-taking. A WRITE's data is never sent before its address
        is ACKed, so a refused address cannot turn data bytes into commands."""
        self.t = transport
        self.where = where
        self.timeout = timeout
        self.stream = stream

    # ---- byte I/O ----------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        try:
            self.t.write(data)
        except Exception as exc:  # pyserial raises SerialException, sockets OSError
            raise LinkLostError(f"{self.where}: connection lost while sending ({_why(exc)})") from exc

    def _read(self, n: int, timeout: float | None = None) -> bytes:
        """Up to n bytes within `timeout` seconds. The transport's own timeout stays as opened
        (short, e.g. 50 ms): changing it reconfigures a tty, which a pty with parity refuses."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        data = b""
        try:
            while len(data) < n:
                data += self.t.read(n - len(data))
                if time.monotonic() >= deadline:
                    break
        except Exception as exc:
            raise LinkLostError(f"{self.where}: connection lost while receiving ({_why(exc)})") from exc
        return bytes(data)

    def _read_exact(self, n: int, what: str, timeout: float | None = None) -> bytes:
        data = self._read(n, timeout)
        if len(data) < n:
            raise NoReplyError(
                f"{self.where}: no reply to {what} within {self.timeout if timeout is None else timeout:g} s "
                f"(got {len(data)} of {n} bytes)",
                hint="the bootloader stopped answering: reset the board and try again",
            )
        return data

    def _ack(
        self, what: str, *, stage: str, address: int | None = None, timeout: float | None = None
    ) -> None:
        b = self._read_exact(1, what, timeout)[0]
        if b == ACK:
            return
        if b == NACK:
            raise NackError(
                f"{self.where}: the bootloader refused {what} (NACK)", stage=stage, address=address
            )
        raise An3155Error(
            f"{self.where}: got byte 0x{b:02x} instead of ACK after {what}",
            hint="the link is out of sync or noisy; check the baud rate and wiring",
        )

    def _command(self, cmd: int, what: str) -> None:
        self._write(bytes([cmd, cmd ^ 0xFF]))
        self._ack(what, stage="command")

    def _command_at(self, cmd: int, address: int, what: str) -> None:
        """A command followed by its address (both ACKed), streamed when allowed."""
        if self.stream:
            self._write(bytes([cmd, cmd ^ 0xFF]) + _addr_bytes(address))
            self._ack(what, stage="command")
        else:
            self._command(cmd, what)
            self._write(_addr_bytes(address))
        self._ack(f"the address 0x{address:08x} of {what.split(' ')[0]}", stage="address", address=address)

    # ---- commands ----------------------------------------------------------------------------

    def sync(self, *, attempts: int = 3, reply_wait: float = 0.3, settle: float = 1.2) -> bool:
        """Send 0x7F until the bootloader answers. True: it just synced (ACK); False: it was
        already synced (NACK). Between attempts waits `settle` seconds, so a device left in the
        middle of a command (a dropped connection) times it out and listens again."""
        noise = bytearray()
        for attempt in range(attempts):
            if attempt:
                time.sleep(settle)
            try:
                self.t.reset_input_buffer()
            except Exception as exc:
                raise LinkLostError(f"{self.where}: connection lost ({_why(exc)})") from exc
            for _ in range(2):
                # a first 0x7F may be taken as a command byte by an already-synced device: the
                # second then is a wrong complement and gets a NACK
                self._write(bytes([SYNC]))
                got = self._read(1, reply_wait)
                if got == bytes([ACK]):
                    return True
                if got == bytes([NACK]):
                    return False
                if got:
                    noise += got + self._read(200, 0.2)
                    break
        heard = ""
        if noise:
            text = bytes(noise[:60]).decode("ascii", "replace").replace("\r", " ").replace("\n", " ").strip()
            heard = f"; it sent {len(noise)} other bytes instead ({text!r}): the application may be running"
        raise NoReplyError(
            f"{self.where}: no answer to 0x7F (bootloader sync) after {attempts} attempts{heard}",
            hint="check the BOOT0 and reset wiring (the board's stm32-uart enter sequence) and that the "
            "bootloader is running; try another --baud",
        )

    def get(self) -> tuple[int, tuple[int, ...]]:
        """GET: bootloader version and the commands it supports."""
        self._command(CMD_GET, "GET")
        n = self._read_exact(1, "GET")[0]
        body = self._read_exact(n + 1, "GET")
        self._ack("GET", stage="reply")
        return body[0], tuple(body[1:])

    def get_version(self) -> tuple[int, int, int]:
        """GET_VERSION: version and the two option bytes (UART bootloaders send three bytes)."""
        self._command(CMD_GET_VERSION, "GET_VERSION")
        body = self._read_exact(3, "GET_VERSION")
        self._ack("GET_VERSION", stage="reply")
        return body[0], body[1], body[2]

    def get_id(self) -> int:
        """GET_ID: the product ID (e.g. 0x413 for STM32F405/407)."""
        self._command(CMD_GET_ID, "GET_ID")
        n = self._read_exact(1, "GET_ID")[0]
        body = self._read_exact(n + 1, "GET_ID")
        self._ack("GET_ID", stage="reply")
        return int.from_bytes(body[:2], "big")

    def info(self) -> BootloaderInfo:
        version, commands = self.get()
        return BootloaderInfo(version, commands, self.get_id())

    def read_memory(self, address: int, length: int) -> bytes:
        if not 1 <= length <= BLOCK:
            raise ValueError(f"READ_MEMORY length {length} not in 1..{BLOCK}")
        what = f"READ_MEMORY at 0x{address:08x}"
        n = length - 1
        if self.stream:
            # command, address and length in one go: a READ has no payload that a refused
            # address could turn into commands (the length pair is answered with a NACK or
            # ignored); addresses are checked against the flash plan before this is sent
            self._write(
                bytes([CMD_READ_MEMORY, CMD_READ_MEMORY ^ 0xFF]) + _addr_bytes(address) + bytes([n, n ^ 0xFF])
            )
            self._ack(what, stage="command")
            self._ack(f"the address 0x{address:08x} of READ_MEMORY", stage="address", address=address)
        else:
            self._command_at(CMD_READ_MEMORY, address, what)
            self._write(bytes([n, n ^ 0xFF]))
        self._ack(f"the read length at 0x{address:08x}", stage="length", address=address)
        return self._read_exact(length, what)

    def write_memory(self, address: int, data: bytes, *, timeout: float = 2.0) -> None:
        """One WRITE_MEMORY of up to 256 bytes (padded with 0xFF to a multiple of 4)."""
        if not 1 <= len(data) <= BLOCK:
            raise ValueError(f"WRITE_MEMORY length {len(data)} not in 1..{BLOCK}")
        if len(data) % 4:
            data = data + b"\xff" * (4 - len(data) % 4)
        self._command_at(CMD_WRITE_MEMORY, address, f"WRITE_MEMORY at 0x{address:08x}")
        frame = bytes([len(data) - 1]) + data
        self._write(frame + bytes([_xor(frame)]))
        self._ack(f"the data written at 0x{address:08x}", stage="data", address=address, timeout=timeout)

    def erase(self, pages: Sequence[int], erase_cmd: int, *, timeout: float = 10.0) -> None:
        """Erase the listed pages/sectors with ERASE (0x43, 1-byte numbers) or EXTENDED_ERASE
        (0x44, 2-byte numbers)."""
        if not pages:
            return
        if erase_cmd == CMD_ERASE:
            if len(pages) > 255 or max(pages) > 0xFF:
                raise ValueError("ERASE takes at most 255 pages numbered below 256")
            frame = bytes([len(pages) - 1, *pages])
        else:
            frame = (len(pages) - 1).to_bytes(2, "big") + b"".join(p.to_bytes(2, "big") for p in pages)
        self._command(erase_cmd, "ERASE")
        self._write(frame + bytes([_xor(frame)]))
        self._ack(f"the erase of pages {_ranges(pages)}", stage="erase", timeout=timeout)

    def mass_erase(self, erase_cmd: int, *, timeout: float = 60.0) -> None:
        self._command(erase_cmd, "ERASE")
        self._write(b"\xff\x00" if erase_cmd == CMD_ERASE else b"\xff\xff\x00")
        self._ack("the mass erase", stage="erase", timeout=timeout)

    def go(self, address: int) -> None:
        self._command(CMD_GO, "GO")
        self._write(_addr_bytes(address))
        self._ack(f"GO 0x{address:08x}", stage="go", address=address)


def _why(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _ranges(pages: Sequence[int]) -> str:
    return f"{pages[0]}" if len(pages) == 1 else f"{pages[0]}..{pages[-1]}"


# ==== chips and boards ========================================================================


@dataclass(frozen=True)
class ChipInfo:
    pid: int
    name: str
    flash_base: int
    sectors: tuple[int, ...]  # erase unit sizes in order from flash_base (pages or sectors)

    @property
    def flash_size(self) -> int:
        return sum(self.sectors)


def _f4(kb: int) -> tuple[int, ...]:
    """STM32F2/F4 sector layout for `kb` KB of flash in one bank: 4x16K, 64K, then 128K."""
    head = (0x4000,) * 4 + (0x10000,)
    return head + (0x20000,) * max(0, (kb * 1024 - 0x20000) // 0x20000)


def _pages(size: int, kb: int) -> tuple[int, ...]:
    return (size,) * (kb * 1024 // size)


# Product IDs as GET_ID reports them (ST AN2606); sizes are the largest part of each line.
CHIPS: dict[int, ChipInfo] = {
    c.pid: c
    for c in (
        ChipInfo(0x412, "STM32F10x low-density", 0x08000000, _pages(1024, 32)),
        ChipInfo(0x410, "STM32F10x medium-density", 0x08000000, _pages(1024, 128)),
        ChipInfo(0x414, "STM32F10x high-density", 0x08000000, _pages(2048, 512)),
        ChipInfo(0x440, "STM32F030x8/F05x", 0x08000000, _pages(1024, 64)),
        ChipInfo(0x448, "STM32F07x", 0x08000000, _pages(2048, 128)),
        ChipInfo(0x411, "STM32F2xx", 0x08000000, _f4(1024)),
        ChipInfo(0x413, "STM32F405/407/415/417", 0x08000000, _f4(1024)),
        ChipInfo(0x419, "STM32F42x/43x", 0x08000000, _f4(1024) + _f4(1024)),
        ChipInfo(0x423, "STM32F401xB/C", 0x08000000, _f4(256)),
        ChipInfo(0x433, "STM32F401xD/E", 0x08000000, _f4(512)),
        ChipInfo(0x431, "STM32F411xC/E", 0x08000000, _f4(512)),
        ChipInfo(0x421, "STM32F446xx", 0x08000000, _f4(512)),
        ChipInfo(0x449, "STM32F74x/75x", 0x08000000, (0x8000,) * 4 + (0x20000,) + (0x40000,) * 3),
        ChipInfo(0x415, "STM32L47x/48x", 0x08000000, _pages(2048, 1024)),
        ChipInfo(0x435, "STM32L43x/44x", 0x08000000, _pages(2048, 256)),
        ChipInfo(0x460, "STM32G07x/08x", 0x08000000, _pages(2048, 128)),
        ChipInfo(0x468, "STM32G431/441", 0x08000000, _pages(2048, 128)),
        ChipInfo(0x469, "STM32G47x/48x", 0x08000000, _pages(2048, 512)),
    )
}


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
                "tinyforge/flash/stm32_uart.py",
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
                f"{bl.where}: the bootloader refused to erase sectors {_ranges(part)}",
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
                f"the port closed before the application printed TF DONE ({_why(exc)}; {len(lines)} lines)",
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
