"""The flash runners and what each can do, declared in one place.

A runner is one module under tinyforge/flash/ with a `flash(request, image, progress)` function.
Asking a runner for something it cannot do (`uf2` doesn't support --verify) fails here, before any
port is opened or any file is read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from tinyforge.errors import UsageError

if TYPE_CHECKING:
    from tinyforge.flash.image import FlashImage
    from tinyforge.flash.progress import Progress


@dataclass(frozen=True)
class RunnerCaps:
    """What a flash runner can do. Each field names the option that needs it."""

    verify: bool = False  # --verify: read the image back and compare
    erase: bool = False  # --erase-all: erase the whole chip first
    start: bool = False  # start the application afterwards (--no-start to stay in the bootloader)
    address: bool = False  # --address: place the image at a given address
    baud: bool = False  # --baud: the bootloader's serial speed
    follow: bool = False  # --follow: the same port then carries the application's output


@dataclass(frozen=True)
class FlashRequest:
    """Everything the user asked for, resolved against the board profile."""

    board: str
    method: str
    port: str
    baud: int | None = None
    verify: bool = True
    erase_all: bool = False
    start: bool = True
    address: int | None = None
    follow: bool = False
    follow_timeout: float = 60.0
    settings: dict[str, Any] = field(default_factory=dict)  # the board's [flash.<method>] table
    flash_region: tuple[int, int] | None = None  # (origin, size) of the board's flash
    usb_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FlashResult:
    runner: str
    board: str
    port: str
    image: str
    start_address: int
    bytes_written: int
    verified: bool
    started: bool
    seconds: float
    chip: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    output: tuple[str, ...] = ()  # the application's lines with --follow

    @property
    def bytes_per_second(self) -> float:
        return self.bytes_written / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "runner": self.runner,
            "board": self.board,
            "port": self.port,
            "image": self.image,
            "start_address": f"0x{self.start_address:08x}",
            "bytes_written": self.bytes_written,
            "verified": self.verified,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "bytes_per_second": round(self.bytes_per_second),
            "chip": self.chip,
            **self.details,
            "output": list(self.output),
        }


class FlashFn(Protocol):
    def __call__(self, request: FlashRequest, image: FlashImage, progress: Progress) -> FlashResult: ...


@dataclass(frozen=True)
class RunnerSpec:
    name: str
    module: str  # under tinyforge.flash
    caps: RunnerCaps
    summary: str

    def load(self) -> FlashFn:
        return importlib.import_module(f"tinyforge.flash.{self.module}").flash


FLASH_RUNNERS: dict[str, RunnerSpec] = {
    "stm32-uart": RunnerSpec(
        "stm32-uart",
        "stm32_uart",
        RunnerCaps(verify=True, erase=True, start=True, address=True, baud=True, follow=True),
        "STM32 system-memory USART bootloader (AN3155), our own implementation over pyserial",
    ),
    "esptool": RunnerSpec(
        "esptool",
        "esptool",
        RunnerCaps(verify=True, erase=True, start=True, address=True, baud=True, follow=True),
        "ESP32 family ROM bootloader through the esptool library",
    ),
    "uf2": RunnerSpec(
        "uf2",
        "uf2",
        RunnerCaps(verify=False, erase=False, start=False, address=True, baud=False, follow=False),
        "copy a .uf2 file to the board's USB mass-storage bootloader (1200-baud touch to enter it)",
    ),
}


def runner(name: str) -> RunnerSpec:
    spec = FLASH_RUNNERS.get(name)
    if spec is None:
        raise UsageError(
            f"unknown flash method {name!r}", hint=f"known methods: {', '.join(sorted(FLASH_RUNNERS))}"
        )
    return spec


def check_request(spec: RunnerSpec, asked: dict[str, bool]) -> None:
    """Fail if the user explicitly asked for an option the runner cannot honour.

    `asked` maps an option (as typed: "--verify") to whether the user gave it explicitly.
    """
    needs = {
        "--verify": spec.caps.verify,
        "--erase-all": spec.caps.erase,
        "--start": spec.caps.start,
        "--address": spec.caps.address,
        "--baud": spec.caps.baud,
        "--follow": spec.caps.follow,
    }
    refused = [opt for opt, given in asked.items() if given and not needs.get(opt, True)]
    if refused:
        what = " or ".join(refused)
        raise UsageError(
            f"`{spec.name}` doesn't support {what}",
            hint=f"drop {what}; `{spec.name}` can: {', '.join(capabilities(spec)) or 'flash only'}",
        )


def capabilities(spec: RunnerSpec) -> list[str]:
    return [name for name, on in vars(spec.caps).items() if on]
