"""Serial ports: a device path, `auto` (the board's USB VID:PID), or any pyserial URL
(`socket://host:port`, `rfc2217://host:port`, `loop://`). One place opens them all.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tinyforge.errors import SerialPortError

URL_SCHEMES = ("socket://", "rfc2217://", "loop://", "spy://", "alt://", "hwgrep://", "cp2110://")


@dataclass(frozen=True)
class PortInfo:
    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str

    def usb_id(self) -> str:
        if self.vid is None or self.pid is None:
            return "-"
        return f"{self.vid:04x}:{self.pid:04x}"


def list_ports() -> list[PortInfo]:
    from serial.tools import list_ports as lp

    return [
        PortInfo(p.device, p.vid, p.pid, p.serial_number, p.description or "")
        for p in sorted(lp.comports(), key=lambda p: p.device)
    ]


def _parse_usb_id(text: str) -> tuple[int, int]:
    vid, _, pid = text.partition(":")
    return int(vid, 16), int(pid, 16)


def resolve_port(spec: str, usb_ids: Sequence[str] = (), ports: Sequence[PortInfo] | None = None) -> str:
    """Turn `spec` into something pyserial opens. `auto` matches the board's USB VID:PIDs."""
    if spec != "auto":
        return spec
    if not usb_ids:
        raise SerialPortError(
            "--port auto: this board has no USB VID:PID in its profile",
            hint="give the port explicitly, e.g. --port /dev/ttyACM0 or --port socket://host:4000",
        )
    found = list_ports() if ports is None else list(ports)
    wanted = {_parse_usb_id(u) for u in usb_ids}
    matches = [p for p in found if (p.vid, p.pid) in wanted]
    listing = (
        ", ".join(f"{p.device} ({p.usb_id()} {p.description})" for p in found) or "no serial ports at all"
    )
    if not matches:
        raise SerialPortError(
            f"--port auto: no port with USB id {', '.join(usb_ids)}; found: {listing}",
            hint="plug the board in, or give --port explicitly",
        )
    if len(matches) > 1:
        raise SerialPortError(
            f"--port auto: {len(matches)} ports match {', '.join(usb_ids)}: "
            + ", ".join(f"{p.device} (serial {p.serial_number or '?'})" for p in matches),
            hint="choose one with --port",
        )
    return matches[0].device


def open_port(
    spec: str,
    baud: int = 115200,
    *,
    parity: str = "N",
    timeout: float = 0.1,
    keep_input: bool = False,
    **kw: Any,
) -> Any:
    """Open a port or URL with pyserial; failures become one-line SerialPortErrors.

    `keep_input`: keep what arrived while opening. pyserial's open() ends by flushing the input,
    which on socket:// throws away the first lines an emulator sends right after accepting."""
    import serial

    try:
        if spec.startswith(URL_SCHEMES):
            port = serial.serial_for_url(
                spec, baudrate=baud, parity=parity, timeout=timeout, do_not_open=True, **kw
            )
        else:
            port = serial.Serial(None, baudrate=baud, parity=parity, timeout=timeout, **kw)
            port.port = spec
        if keep_input:
            port.reset_input_buffer = lambda: None  # shadows the method during open() only
        try:
            port.open()
        finally:
            if keep_input:
                del port.reset_input_buffer
        return port
    except serial.SerialException as exc:
        err = getattr(exc, "errno", None)
        text = str(exc)
        if err == errno.ENOENT or (not spec.startswith(URL_SCHEMES) and not os.path.exists(spec)):
            raise SerialPortError(
                f"{spec}: no such serial port", hint="list ports with `ls /dev/tty*` or use --port auto"
            ) from exc
        if err == errno.EACCES or "Permission denied" in text:
            raise SerialPortError(
                f"{spec}: permission denied",
                hint="add yourself to the dialout group (sudo usermod -aG dialout $USER, then log in again) "
                "or install the board's udev rules",
            ) from exc
        if "Connection refused" in text or "could not open port" in text and "socket" in spec:
            raise SerialPortError(
                f"{spec}: connection refused",
                hint="is the bench (ser2net, rfc2217 server, tinyforge emulate) running?",
            ) from exc
        raise SerialPortError(
            f"{spec}: cannot open ({text.splitlines()[0] if text else 'unknown error'})"
        ) from exc


def port_info(device: str, ports: Sequence[PortInfo] | None = None) -> PortInfo | None:
    """The listing entry of a device path (symlinks such as /dev/serial/by-id/... resolved)."""
    if device.startswith(URL_SCHEMES):
        return None
    real = os.path.realpath(device)
    for p in list_ports() if ports is None else ports:
        if p.device == device or os.path.realpath(p.device) == real:
            return p
    return None


def find_usb_port(
    vid: int, pid: int, serial_number: str | None, ports: Sequence[PortInfo] | None = None
) -> str | None:
    """The device path of the USB port with this VID:PID and serial number (it may have come back
    under another name after a reset, e.g. /dev/ttyACM0 -> /dev/ttyACM1), or None. Without a serial
    number the VID:PID must be unique."""
    found = list_ports() if ports is None else ports
    same = [p for p in found if (p.vid, p.pid) == (vid, pid)]
    if serial_number is not None:
        same = [p for p in same if p.serial_number == serial_number]
    return same[0].device if len(same) == 1 else None
