"""The expected failures: each carries what failed, where, and what to try.

Anything that is not a `TinyforgeError` is a bug; the CLI shows its traceback.
"""

from __future__ import annotations


class TinyforgeError(Exception):
    """An expected failure shown to the user as one line plus a hint, with an exit code."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())  # one line, always
        self.hint = " ".join(hint.split()) if hint else None
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class UsageError(TinyforgeError):
    """Bad arguments or options."""


class ModelError(TinyforgeError):
    """The model file is missing, malformed or uses something we cannot handle."""


class UnsupportedOpError(ModelError):
    """An operator (or operator variant) the compiler has no kernel for."""


class BoardError(TinyforgeError):
    """A board profile is unknown or invalid."""


class ToolError(TinyforgeError):
    """An external tool is missing or failed."""


class BuildError(TinyforgeError):
    """Code generation, compilation or linking failed, or the firmware does not fit."""


class RunError(TinyforgeError):
    """Firmware did not run to completion: timeout, hard fault, bad output protocol."""


class MismatchError(TinyforgeError):
    """Outputs differ from the reference interpreter."""

    exit_code = 1


class FlashError(TinyforgeError):
    """Flashing failed: port, protocol, verification."""


class SerialPortError(TinyforgeError):
    """A serial port could not be opened or was lost."""


class PlaceError(TinyforgeError):
    """A board-farm place could not be used: it does not exist, someone else holds it, it has no
    serial port, or the labgrid coordinator cannot be reached."""
