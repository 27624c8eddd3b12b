"""A serial port that survives resets: a reader thread hands received bytes to the monitor and,
when the port disappears (USB re-enumeration, emulator restart, network bench dropped), says so
and reopens it when it comes back: the same path or URL, or a USB port with the same VID:PID and
serial number under a new name (/dev/ttyACM0 -> /dev/ttyACM1).
"""

from __future__ import annotations

import os
import queue
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tinyforge.errors import SerialPortError
from tinyforge.serial import ports

READ_SIZE = 65536
READ_TIMEOUT = 0.02  # seconds a read waits: the longest delay before received bytes are shown


@dataclass(frozen=True)
class Received:
    time: float
    data: bytes


@dataclass(frozen=True)
class PortEvent:
    time: float
    kind: str  # "lost" | "back" | "gone"
    message: str


Opener = Callable[[str, int], Any]


def _default_opener(spec: str, baud: int) -> Any:
    return ports.open_port(spec, baud, timeout=READ_TIMEOUT, keep_input=True)


def _nonblocking_fd(port: Any) -> int | None:
    """Ports with a file descriptor (device paths, socket://) are read without blocking after a
    select(): one read call is then one recv/read, so a disconnect can never discard bytes that
    pyserial had already gathered inside a longer blocking read."""
    try:
        fd = port.fileno()
    except Exception:  # noqa: BLE001 - rfc2217://, loop:// ... have none
        return None
    if not isinstance(fd, int):
        return None
    port.timeout = 0
    return fd


class PortSession:
    """Open with `open()`, then `start()` the reader; `get()` returns Received / PortEvent items."""

    def __init__(
        self,
        spec: str,
        baud: int = 115200,
        *,
        reconnect: bool = True,
        retry_interval: float = 0.25,
        opener: Opener = _default_opener,
    ) -> None:
        self.spec = spec
        self.baud = baud
        self.reconnect = reconnect
        self.retry_interval = retry_interval
        self._opener = opener
        self._port: Any = None
        self._fd: int | None = None
        self._device = spec  # what is open now (a USB port may come back under another name)
        self._usb: tuple[int, int, str | None] | None = None
        self._items: queue.Queue[Received | PortEvent] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    @property
    def device(self) -> str:
        return self._device

    def open(self, wait: float | None = None) -> None:
        """Open the port now; with `wait` (seconds, or `float('inf')`) keep trying until it appears."""
        deadline = time.monotonic() + wait if wait is not None else None
        while True:
            try:
                self._port = self._opener(self.spec, self.baud)
                self._fd = _nonblocking_fd(self._port)
                break
            except SerialPortError as exc:
                if deadline is None or self._stop.is_set():
                    raise
                if time.monotonic() >= deadline:
                    raise SerialPortError(
                        f"{exc.message}, still after waiting {wait:g} s", hint=exc.hint
                    ) from exc
                time.sleep(self.retry_interval)
        self._device = self.spec
        info = ports.port_info(self.spec)
        if info is not None and info.vid is not None and info.pid is not None:
            self._usb = (info.vid, info.pid, info.serial_number)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tinyforge-monitor-reader", daemon=True)
        self._thread.start()

    def get(self, timeout: float) -> Received | PortEvent | None:
        try:
            return self._items.get(timeout=timeout)
        except queue.Empty:
            return None

    def write(self, data: bytes) -> bool:
        """Send bytes to the device; False when the port is away right now."""
        with self._write_lock:
            port = self._port
            if port is None:
                return False
            try:
                port.write(data)
                return True
            except Exception:  # noqa: BLE001 - a vanished port; the reader reports it
                return False

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._close_port()

    # ------------------------------------------------------------------

    def _close_port(self) -> None:
        with self._write_lock:
            port, self._port, self._fd = self._port, None, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001 - closing a port that is already gone
                pass

    def _run(self) -> None:
        while not self._stop.is_set():
            port, fd = self._port, self._fd
            try:
                if fd is not None and not select.select([fd], [], [], READ_TIMEOUT)[0]:
                    continue
                data = port.read(READ_SIZE)
            except Exception as exc:  # noqa: BLE001 - pyserial raises SerialException, OSError, ...
                if self._stop.is_set():
                    return
                if not self._lost(exc):
                    return
                continue
            if data:
                self._items.put(Received(time.time(), data))

    def _lost(self, exc: BaseException) -> bool:
        """The port went away: report it, wait for it to come back. False when giving up."""
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self._close_port()
        since = time.monotonic()
        if not self.reconnect:
            self._items.put(PortEvent(time.time(), "gone", f"port {self._device} closed ({reason})"))
            return False
        self._items.put(
            PortEvent(
                time.time(), "lost", f"port {self._device} lost ({reason}); waiting for it to come back"
            )
        )
        while not self._stop.wait(self.retry_interval):
            target = self._find_again()
            if target is None:
                continue
            try:
                port = self._opener(target, self.baud)
                fd = _nonblocking_fd(port)
            except (SerialPortError, OSError):
                continue  # e.g. back, but udev has not set its permissions yet
            with self._write_lock:
                self._port, self._fd = port, fd
            self._device = target
            self._items.put(
                PortEvent(time.time(), "back", f"port {target} back after {time.monotonic() - since:.1f} s")
            )
            return True
        return False

    def _find_again(self) -> str | None:
        """Where the port is now: the same path or URL, else the same USB device by its ids."""
        if self.spec.startswith(ports.URL_SCHEMES) or os.path.exists(self.spec):
            return self.spec
        if self._usb is not None:
            return ports.find_usb_port(*self._usb)
        return None
