"""The emulated flashing bench: tinyforge's serial bootloader (firmware/bootloader/, AN3155 on the
console UART) built for a board and run in qemu-system-arm with the UART on a TCP server socket or
a pty, so `tinyforge flash` and stock `stm32flash` talk to it like to a board on a cable.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tinyforge import proc, resources
from tinyforge.errors import BoardError, BuildError, RunError, UsageError
from tinyforge.flash.qmp import Qmp
from tinyforge.resources import firmware_dir
from tinyforge.toolchain.qemu_cmd import qemu_argv

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.flash.serial_relay import SerialRelay

BOOTLOADER_SOURCES = ("main.c", "an3155.c")
BOOTLOADER_HEADERS = ("an3155.h", "bl_layout.h")
BOOTLOADER_RAM_LIMIT = 0x20003000  # bl_layout.h: the host may write RAM from here on


def bootloader_dir() -> Path:
    return firmware_dir() / "bootloader"


def cache_dir() -> Path:
    return resources.cache_dir()


def bootloader_settings(board: BoardProfile) -> dict[str, object]:
    method = board.flash_method("stm32-uart")
    if method is None or method.settings.get("bootloader") != "tinyforge":
        raise BoardError(
            f"board {board.name} has no tinyforge serial bootloader (no [flash_methods.stm32-uart] with "
            'bootloader = "tinyforge")',
            hint="the emulated bench runs on mps2-an386; real STM32 boards use the chip's ROM bootloader",
        )
    if not board.is_emulated:
        raise BoardError(f"board {board.name} has no QEMU machine", hint="use --board mps2-an386")
    return dict(method.settings)


def build_bootloader(
    board: BoardProfile, out_dir: Path | None = None, *, key: str | Path | None = None
) -> Path:
    """bootloader.elf for `board`, built once per source/board/key change into the cache. With
    `key` (an Ed25519 public or private key PEM; only its public half is compiled in), the secure
    variant: two MCUboot image slots, images checked before they start (tinyforge/secureboot/)."""
    from tinyforge.flash.image import load_image
    from tinyforge.toolchain.bsp import bsp_headers, bsp_sources
    from tinyforge.toolchain.firmware import symbol_address
    from tinyforge.toolchain.gcc import build_program

    settings = bootloader_settings(board)
    app_offset = int(settings.get("app_offset", 0x10000))  # type: ignore[call-overload]
    src = bootloader_dir()
    sources = [src / f for f in BOOTLOADER_SOURCES]
    headers = [src / f for f in BOOTLOADER_HEADERS]
    defines = _bootloader_defines(board, app_offset)
    include_dirs = [src]
    key_header = None
    limit = board.flash.origin + app_offset
    if key is not None:
        from tinyforge.secureboot.bootloader import secure_parts

        parts = secure_parts(board, key)
        sources += list(parts.sources)
        headers += list(parts.headers)
        defines += list(parts.defines)
        include_dirs += list(parts.include_dirs)
        key_header = parts.key_header
        limit = parts.code_limit
    files = [*sources, *headers, *bsp_sources(board), *bsp_headers()]
    h = hashlib.sha256(json.dumps([board.to_dict(), defines], sort_keys=True).encode())
    for f in files:
        if f.is_file():
            h.update(f.read_bytes())
    if key_header is not None:
        h.update(key_header.encode())
    key_id = h.hexdigest()[:16]
    variant = "secure-" if key is not None else ""
    out = Path(out_dir) if out_dir else cache_dir() / f"bootloader-{variant}{board.name}-{key_id}"
    elf = out / "bootloader.elf"
    if elf.is_file():
        return elf
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".bootloader-", dir=out.parent))
    try:
        if key_header is not None:
            (tmp / "bl_key.h").write_text(key_header)
        build_program(
            board,
            sources,
            tmp,
            include_dirs=include_dirs,
            name="bootloader",
            opt="size",
            defines=defines,
        )
        img = load_image(tmp / "bootloader.elf")
        if img.end > limit:
            raise BuildError(
                f"the bootloader ends at 0x{img.end:08x}, past 0x{limit:08x} (its space before the application"
                + (" and its status block)" if key is not None else ")"),
                hint="raise app_offset in the board profile",
            )
        top = symbol_address(tmp / "bootloader.elf", "__tf_stack_top")
        if top is not None and board.ram.origin <= top and top > BOOTLOADER_RAM_LIMIT:
            raise BuildError(
                f"the bootloader's RAM ends at 0x{top:08x}, past 0x{BOOTLOADER_RAM_LIMIT:08x}",
                hint="lower stack_bytes for the bootloader build",
            )
        if out.exists():
            shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return elf


# QEMU 7.2 hw/arm/mps2.c: on the MPS2 FPGA images (AN385/AN386/AN500, the `mps2` board family)
# the RX interrupt of UART0 (at 0x40004000) is IRQ 0 (TX is the next one)
CMSDK_UART0_BASE = 0x40004000
CMSDK_UART0_RX_IRQ = {"mps2": 0}  # board family -> IRQ


def _bootloader_defines(board: BoardProfile, app_offset: int) -> list[str]:
    defines = [f"BL_APP_OFFSET=0x{app_offset:x}u", f"BL_FLASH_CPU_BASE=0x{board.flash.origin:x}u"]
    irq = next((CMSDK_UART0_RX_IRQ[f] for f in board.family if f in CMSDK_UART0_RX_IRQ), None)
    if board.console.driver == "cmsdk-uart" and board.console.base == CMSDK_UART0_BASE and irq is not None:
        defines.append(f"BL_CMSDK_RX_IRQ={irq}u")  # idle in WFI, woken by the RX interrupt
    return defines


# ---- QEMU ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SerialSpec:
    kind: str  # "tcp" | "pty"
    host: str = "127.0.0.1"
    port: int = 0  # 0: pick a free one


def parse_serial(text: str) -> SerialSpec:
    """`tcp:PORT`, `tcp:HOST:PORT`, `tcp` (a free port) or `pty`."""
    t = text.strip()
    if t == "pty":
        return SerialSpec("pty")
    if t == "tcp" or t.startswith("tcp:"):
        parts = t.split(":")[1:]
        try:
            if len(parts) == 0:
                return SerialSpec("tcp")
            if len(parts) == 1:
                return SerialSpec("tcp", port=int(parts[0]))
            if len(parts) == 2:
                return SerialSpec("tcp", host=parts[0], port=int(parts[1]))
        except ValueError:
            pass
    raise UsageError(
        f"--serial {text!r}: expected tcp:PORT, tcp:HOST:PORT or pty", hint="e.g. --serial tcp:4000"
    )


class PtyRelay:
    """A pty whose other end is relayed to the board's UART socket (a connected socket to QEMU).

    QEMU's own `-serial pty` ties the pty to the QEMU process: when the firmware exits (and QEMU
    with it) the kernel hangs the pty up and drops what the reader has not read yet, and writes
    are dropped while no client holds the pty open. This relay keeps the pty (raw, its slave end
    held open) for the whole session, so a client sees everything the board sent, even after the
    board is gone. Bytes are moved as they come, in both directions."""

    def __init__(self, sock: socket.socket) -> None:
        import tty

        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.sock = sock
        self._stop_r, self._stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import select

        sock_open = True
        while True:
            fds = [self.master, self._stop_r] + ([self.sock] if sock_open else [])
            ready = select.select(fds, [], [])[0]
            if self._stop_r in ready:
                return
            if self.sock in ready:
                data = self.sock.recv(65536)
                if not data:
                    sock_open = False  # the board is gone; keep the pty and what it holds
                else:
                    os.write(self.master, data)
            if self.master in ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if sock_open and data:
                    try:
                        self.sock.sendall(data)
                    except OSError:
                        sock_open = False

    def pending(self) -> int:
        return 0  # the pty itself keeps what the board sent

    def wait_delivered(self, timeout: float | None = None) -> bool:
        """The pty stays for whoever reads it: until Ctrl-C (or `timeout`)."""
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self.thread.join(5)
        for fd in (self.master, self._slave, self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.sock.close()


@dataclass
class Emulator:
    """A running QEMU with the board's console UART on `port` (a pyserial URL or a pty path).
    `relay` serves the UART (SerialRelay on TCP, PtyRelay on a pty); `hold`: the CPU runs only
    while a TCP client is attached."""

    board: str
    process: proc.Process
    port: str
    serial: SerialSpec
    argv: tuple[str, ...]
    _log: list[bytes] = field(default_factory=list)
    relay: PtyRelay | SerialRelay | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    qmp: Qmp | None = None
    hold: bool = False

    def log(self) -> str:
        return b"".join(self._log).decode("utf-8", "replace")

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def stop(self, timeout: float = 5.0) -> int | None:
        proc.stop(self.process, timeout)
        if self.qmp is not None:
            self.qmp.close()
            self.qmp = None
        if self.relay is not None:
            self.relay.close()
            self.relay = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return self.process.returncode

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _nothing() -> None:
    pass


def _drain(stream: object, sink: list[bytes]) -> None:
    for chunk in iter(lambda: stream.read1(4096), b""):  # type: ignore[attr-defined]
        sink.append(chunk)


def start_emulator(
    board: BoardProfile,
    kernel: Path,
    serial: str | SerialSpec = "tcp",
    *,
    extra_images: tuple[Path, ...] = (),
    ready_timeout: float = 10.0,
    hold: bool = False,
    app_offset: int = 0,
    machine_options: str = "",
    extra_args: tuple[str, ...] = (),
) -> Emulator:
    """Start QEMU for `board` running `kernel`, console UART on TCP or a pty; returns once the
    port can be opened. `hold` (TCP only): the CPU runs only while a client is attached, from
    the first instruction, so nothing the board prints is missed (serial_relay.py). `app_offset`:
    `kernel` is linked that far into the flash (after a bootloader) and boots from there.
    `machine_options` and `extra_args`: more QEMU options (the secure bench's flash file and
    BOOT0 strap, tinyforge/secureboot/bootloader.py)."""
    from tinyforge.flash.qmp import wait_for_unix_socket
    from tinyforge.flash.serial_relay import SerialRelay, listen

    spec = parse_serial(serial) if isinstance(serial, str) else serial
    if not board.is_emulated:
        raise BoardError(
            f"board {board.name} has no QEMU machine", hint="pick an emulated board (`tinyforge boards`)"
        )
    listener = None
    if spec.kind == "tcp":
        try:
            listener = listen(spec.host, spec.port)
        except OSError as exc:
            raise RunError(
                f"cannot listen on {spec.host}:{spec.port} ({exc.strerror or exc})",
                hint="is the port already in use? try another --serial tcp:PORT (tcp:0 picks a free one)",
            ) from exc
    # QEMU serves the UART and its machine protocol on unix sockets only tinyforge connects to; the
    # board starts held (-S) and runs once the console is relayed
    tmp = tempfile.TemporaryDirectory(prefix="tinyforge-emulate-")
    uart_path, qmp_path = str(Path(tmp.name) / "uart.sock"), str(Path(tmp.name) / "qmp.sock")
    blobs: list[tuple[Path, int]] = []
    p: proc.Process | None = None
    qmp: Qmp | None = None
    uart: socket.socket | None = None
    try:
        if extra_images:
            # preloaded as the flash bytes only (an ELF's RAM sections would collide with the kernel's)
            from tinyforge.flash.image import load_image

            for i, path in enumerate(extra_images):
                img = load_image(path)
                blob = Path(tmp.name) / f"image{i}.bin"
                blob.write_bytes(img.flat())
                blobs.append((blob, img.start))
        argv = qemu_argv(
            board,
            kernel,
            serial=f"unix:{uart_path},server=on,wait=off",
            icount=False,
            no_reboot=False,
            blobs=blobs,
            extra=["-S", "-qmp", f"unix:{qmp_path},server=on,wait=off", *extra_args],
            app_offset=app_offset,
            machine_options=machine_options,
        )
        p = proc.start_tool(argv, stdout=proc.PIPE, stderr=proc.STDOUT)
        started = p

        def alive() -> bool:
            return started.poll() is None

        try:
            qmp = Qmp(wait_for_unix_socket(qmp_path, alive, ready_timeout))
            uart = wait_for_unix_socket(uart_path, alive, ready_timeout)
        except (OSError, TimeoutError) as exc:
            if p.poll() is not None:
                out = p.stdout.read().decode("utf-8", "replace").strip() if p.stdout else ""
                raise RunError(
                    f"QEMU exited at once (code {p.returncode}): {out.splitlines()[0] if out else 'no output'}",
                    hint="check the firmware was built for this board (`tinyforge inspect firmware.elf`)",
                ) from exc
            raise RunError(f"QEMU did not come up within {ready_timeout:g} s ({exc})") from exc
        relay: PtyRelay | SerialRelay
        q = qmp
        if spec.kind == "pty":
            relay = PtyRelay(uart)
            hold = False
        else:
            assert listener is not None
            relay = SerialRelay(
                listener,
                uart,
                on_attach=functools.partial(q.try_command, "cont") if hold else _nothing,
                on_detach=functools.partial(q.try_command, "stop") if hold else _nothing,
            )
        if not hold:
            qmp.command("cont")
    except BaseException:
        if p is not None:
            proc.stop(p, grace=0)
        for closeable in (qmp, uart, listener):
            if closeable is not None:
                closeable.close()
        tmp.cleanup()
        raise
    log: list[bytes] = []
    if p.stdout is not None:
        threading.Thread(target=_drain, args=(p.stdout, log), daemon=True).start()
    if isinstance(relay, PtyRelay):
        url = relay.path
    else:
        host, port_no = relay.listener.getsockname()[:2]
        url = f"socket://{host}:{port_no}"
    return Emulator(board.name, p, url, spec, tuple(argv), log, relay, tmp, qmp, hold)
