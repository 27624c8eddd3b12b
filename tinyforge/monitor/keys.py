"""Interactive use: the terminal in raw mode, keystrokes sent to the device, Ctrl-] quits.

Only for a TTY on stdin (POSIX termios). Output processing stays on, so "\\n" still starts a new
line on screen; Ctrl-C goes to the device like any other key.
"""

from __future__ import annotations

import os
import select
from types import TracebackType
from typing import Any

QUIT_KEY = b"\x1d"  # Ctrl-]
EOLS = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}


class RawKeyboard:
    """Context manager: raw tty on `fd`, restored on exit. `read()` never blocks."""

    def __init__(self, fd: int, eol: str = "crlf") -> None:
        self.fd = fd
        self.eol = EOLS[eol]
        self._saved: list[Any] | None = None  # termios attributes to restore

    def __enter__(self) -> RawKeyboard:
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setraw(self.fd)
        mode = termios.tcgetattr(self.fd)
        mode[1] |= termios.OPOST | termios.ONLCR  # oflag: keep "\n" -> "\r\n" on screen
        termios.tcsetattr(self.fd, termios.TCSANOW, mode)
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        import termios

        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def read(self) -> tuple[bytes, bool]:
        """(bytes to send to the device, quit?) from what was typed since the last call."""
        ready, _, _ = select.select([self.fd], [], [], 0)
        if not ready:
            return b"", False
        data = os.read(self.fd, 1024)
        if not data:  # the terminal went away
            return b"", True
        head, quit_key, _ = data.partition(QUIT_KEY)
        return translate_keys(head, self.eol), bool(quit_key)


def translate_keys(data: bytes, eol: bytes) -> bytes:
    """Enter (CR in raw mode) becomes the chosen end of line; everything else goes as typed."""
    return data.replace(b"\r", eol) if eol != b"\r" else data
