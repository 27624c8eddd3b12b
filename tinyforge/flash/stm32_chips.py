"""STM32 chips as the AN3155 bootloader's GET_ID names them: product id, flash base and the erase
unit (page or sector) layout, so the runner erases exactly what an image covers."""

from __future__ import annotations

from dataclasses import dataclass


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
