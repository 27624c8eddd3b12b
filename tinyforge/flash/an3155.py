"""The STM32 system-memory USART bootloader protocol (ST application note AN3155) over any byte
transport (a pyserial port, a socket URL, a pipe in tests): sync, GET, GET_VERSION, GET_ID,
READ_MEMORY, WRITE_MEMORY, ERASE / EXTENDED_ERASE, GO, with timeouts and typed errors. It knows
nothing about images or boards (flash/stm32_uart.py is the runner built on it).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from tinyforge.errors import FlashError

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
            raise LinkLostError(f"{self.where}: connection lost while sending ({why(exc)})") from exc

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
            raise LinkLostError(f"{self.where}: connection lost while receiving ({why(exc)})") from exc
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
                raise LinkLostError(f"{self.where}: connection lost ({why(exc)})") from exc
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
        self._ack(f"the erase of pages {page_range(pages)}", stage="erase", timeout=timeout)

    def mass_erase(self, erase_cmd: int, *, timeout: float = 60.0) -> None:
        self._command(erase_cmd, "ERASE")
        self._write(b"\xff\x00" if erase_cmd == CMD_ERASE else b"\xff\xff\x00")
        self._ack("the mass erase", stage="erase", timeout=timeout)

    def go(self, address: int) -> None:
        self._command(CMD_GO, "GO")
        self._write(_addr_bytes(address))
        self._ack(f"GO 0x{address:08x}", stage="go", address=address)


def why(exc: BaseException) -> str:
    """The first line of an exception, for one-line error messages."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def page_range(pages: Sequence[int]) -> str:
    """`3` or `3..7`: the pages or sectors of an erase, for messages."""
    return f"{pages[0]}" if len(pages) == 1 else f"{pages[0]}..{pages[-1]}"
