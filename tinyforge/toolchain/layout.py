"""Where in the flash a firmware image goes: the layout `tinyforge build` links for.

A board's flash methods say where their loader starts applications (`app_offset` in
[flash_methods.<kind>]): tinyforge's emulated bench bootloader keeps the first 64 KiB of the
mps2-an386 flash, an STM32's ROM bootloader lives outside the flash (offset 0). `build` links for
the board's default flash method (its first one), so `tinyforge build` then `tinyforge flash` need
no extra flag; `--method` picks another one, `--app-offset` overrides the offset.

    app_layout(board, method=None, app_offset=None) -> AppLayout
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tinyforge.errors import UsageError

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile

LOADER_NAMES = {"tinyforge": "tinyforge's bench bootloader", "rom": "the chip's ROM bootloader"}


@dataclass(frozen=True)
class AppLayout:
    """The flash method (and its loader) an image is laid out for, and where it starts."""

    method: str | None  # "stm32-uart", ...; None: no loader (runs from the flash start)
    loader: str | None  # the method's `bootloader` setting ("tinyforge", "rom"), if it has one
    app_offset: int  # bytes from the flash origin
    address: int  # flash origin + app_offset: where the vector table goes
    chosen_by: str  # "board default" | "--method" | "--app-offset"

    def describe(self) -> str:
        """`stm32-uart (tinyforge's bench bootloader), application at 0x00010000 (board default)`."""
        where = f"application at 0x{self.address:08x}"
        if self.method is None:
            what = "no loader" if self.app_offset == 0 else f"offset 0x{self.app_offset:x}"
            return f"{what}, {where} ({self.chosen_by})"
        loader = f" ({LOADER_NAMES.get(self.loader, self.loader)})" if self.loader else ""
        return f"{self.method}{loader}, {where} ({self.chosen_by})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "loader": self.loader,
            "app_offset": self.app_offset,
            "address": f"0x{self.address:08x}",
            "chosen_by": self.chosen_by,
        }


def _offset(settings: Any) -> int:
    v = settings.get("app_offset", 0)
    return int(v, 0) if isinstance(v, str) else int(v)


def app_layout(board: BoardProfile, method: str | None = None, app_offset: int | None = None) -> AppLayout:
    """The layout to link for: `app_offset` when given, else the offset of `method`, else of the
    board's first flash method; boards without one start at the flash origin."""
    methods = [m for m in board.flash_methods if m.kind != "none"]
    if method is not None:
        chosen = board.flash_method(method)
        if chosen is None or chosen.kind == "none":
            raise UsageError(
                f"board {board.name} has no {method} flash method",
                hint=f"its methods: {', '.join(m.kind for m in methods) or 'none'}",
            )
        by = "--method"
    else:
        chosen = methods[0] if methods else None
        by = "board default"
    if app_offset is not None:
        by = "--app-offset"
        offset = app_offset
    else:
        offset = _offset(chosen.settings) if chosen is not None else 0
    if (
        chosen is not None
        and app_offset is not None
        and method is None
        and offset != _offset(chosen.settings)
    ):
        chosen = None  # an offset the board's loader does not use: laid out for no known loader
    loader = chosen.settings.get("bootloader") if chosen is not None else None
    return AppLayout(
        method=chosen.kind if chosen is not None else None,
        loader=str(loader) if loader is not None else None,
        app_offset=offset,
        address=board.flash.origin + offset,
        chosen_by=by,
    )
