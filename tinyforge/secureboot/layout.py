"""Where signed images live on a board: its two MCUboot slots, the header size, the RAM-load
address, and the bench's status block. Read from the board profile's
`[flash_methods.stm32-uart.image_slots]` table (firmware/bootloader/bl_layout.h has the same
numbers for the bootloader).

The trailer at the end of each slot is MCUboot's (max_align 8): the 16-byte magic at the end,
image_ok 24 bytes before the end, copy_done 32 bytes before it. tinyforge keeps an install
sequence number in the trailer's swap-size word (48 bytes before the end, unused by the RAM-load
scheme), so "the newest image" is the one installed last, whatever its version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tinyforge.errors import BoardError

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.toolchain.layout import AppLayout

MAX_ALIGN = 8  # MCUboot's BOOT_MAX_ALIGN: trailer fields are this far apart
MAGIC_SIZE = 16
TRAILER_MAGIC = -16  # offsets from the end of the slot
TRAILER_IMAGE_OK = -24
TRAILER_COPY_DONE = -32
TRAILER_SEQUENCE = -48  # MCUboot's swap_size word
TRAILER_WRITE = -48  # the flasher writes the last 48 bytes in one block (sequence ... magic)
BUS_FLASH_BASE = 0x08000000  # STM32 flash in the AN3155 address space
FLASH_BYTES = 0x100000  # bl_layout.h BL_FLASH_SIZE: the bench's emulated STM32F405 has 1 MiB
BOOTLOADER_BYTES = 0x10000  # bl_layout.h BL_APP_OFFSET: its first 64 KiB hold the bootloader


@dataclass(frozen=True)
class SlotLayout:
    board: str
    slots: tuple[int, int]  # AN3155 addresses of slot 0 and slot 1
    size: int
    header_size: int
    align: int
    load_address: int  # CPU address the bootloader copies the image (header first) to
    storage: int  # CPU address of the emulated flash's bytes (QEMU memory backend)
    shared: int  # CPU address of the bootloader's status block

    @property
    def entry_address(self) -> int:
        """Where the application's vector table is: right after the header."""
        return self.load_address + self.header_size

    def slot_offset(self, slot: int) -> int:
        """Offset of a slot from the start of the flash."""
        return self.slots[slot] - BUS_FLASH_BASE

    def trailer_address(self, slot: int, field: int) -> int:
        """AN3155 address of a trailer field (TRAILER_* offsets from the slot's end)."""
        return self.slots[slot] + self.size + field

    def app_layout(self, board: BoardProfile) -> AppLayout:
        """Where `tinyforge build --sign/--mcuboot` links the firmware: after the image header at
        the load address, for the stm32-uart bench bootloader (built with a key)."""
        from tinyforge.toolchain.layout import AppLayout

        return AppLayout(
            method="stm32-uart",
            loader="tinyforge",
            app_offset=self.entry_address - board.flash.origin,
            address=self.entry_address,
            chosen_by="--mcuboot (image slots)",
        )

    def bootloader_defines(self) -> list[str]:
        """The -D options that build the bootloader for this layout."""
        return [
            f"BL_SLOT0_OFFSET=0x{self.slot_offset(0):x}u",
            f"BL_SLOT1_OFFSET=0x{self.slot_offset(1):x}u",
            f"BL_SLOT_SIZE=0x{self.size:x}u",
            f"BL_LOAD_ADDR=0x{self.load_address:x}u",
            f"BL_STORAGE_BASE=0x{self.storage:x}u",
            f"TF_BOOT_SHARED_ADDR=0x{self.shared:x}u",
        ]


def slot_layout(board: BoardProfile) -> SlotLayout | None:
    """The board's slot layout, or None when it has none."""
    method = board.flash_method("stm32-uart")
    table = method.settings.get("image_slots") if method is not None else None
    if not table:
        return None
    where = f"{board.source}: flash_methods.stm32-uart.image_slots"
    for key in ("addresses", "size", "header_size", "load_address", "storage", "shared"):
        if key not in table:
            raise BoardError(f"{where}.{key}: missing field", hint="see boards/mps2-an386.toml")
    a0, a1 = (int(x) for x in table["addresses"])
    layout = SlotLayout(
        board=board.name,
        slots=(a0, a1),
        size=int(table["size"]),
        header_size=int(table["header_size"]),
        align=int(table.get("align", 4)),
        load_address=int(table["load_address"]),
        storage=int(table["storage"]),
        shared=int(table["shared"]),
    )
    _check(layout, board, where)
    return layout


def require_layout(board: BoardProfile) -> SlotLayout:
    layout = slot_layout(board)
    if layout is None:
        raise BoardError(
            f"board {board.name} has no image slots for signed images",
            hint="signed images need a board with [flash_methods.stm32-uart.image_slots] (mps2-an386)",
        )
    return layout


def _check(layout: SlotLayout, board: BoardProfile, where: str) -> None:
    end = BUS_FLASH_BASE + FLASH_BYTES
    a0, a1 = layout.slots
    if layout.header_size % 4 or layout.header_size & (layout.header_size - 1):
        raise BoardError(f"{where}.header_size: 0x{layout.header_size:x} is not a power of two")
    if layout.align not in (1, 2, 4, 8):
        raise BoardError(f"{where}.align: {layout.align} (allowed: 1, 2, 4, 8)")
    if layout.size % MAX_ALIGN:
        raise BoardError(f"{where}.size: 0x{layout.size:x} is not a multiple of {MAX_ALIGN}")
    for i, a in enumerate(layout.slots):
        if a - BUS_FLASH_BASE < BOOTLOADER_BYTES or a + layout.size > end:
            raise BoardError(
                f"{where}.addresses[{i}]: slot 0x{a:08x}..0x{a + layout.size:08x} is outside the "
                f"writable flash 0x{BUS_FLASH_BASE + BOOTLOADER_BYTES:08x}..0x{end:08x}"
            )
    if a0 < a1 + layout.size and a1 < a0 + layout.size:
        raise BoardError(f"{where}: the two slots overlap")
    if not board.flash.origin <= layout.load_address < board.flash.end - layout.size:
        raise BoardError(
            f"{where}.load_address: 0x{layout.load_address:08x} is not in {board.flash.describe()}"
        )


def check_sectors(layout: SlotLayout, sectors: Sequence[int], flash_base: int) -> None:
    """Each slot starts on an erase sector and no sector holds parts of both (the flasher erases
    whole sectors): checked against the chip the bootloader reports."""
    starts = {flash_base + sum(sectors[:i]) for i in range(len(sectors))}
    for i, a in enumerate(layout.slots):
        if a not in starts:
            raise BoardError(
                f"board {layout.board}: image slot {i} at 0x{a:08x} is not the start of a flash sector",
                hint="fix [flash_methods.stm32-uart.image_slots] addresses in the board profile",
            )
    off = 0
    for k, size in enumerate(sectors):
        s0, s1 = flash_base + off, flash_base + off + size
        if all(s0 < a + layout.size and s1 > a for a in layout.slots):
            raise BoardError(f"board {layout.board}: flash sector {k} holds parts of both image slots")
        off += size
