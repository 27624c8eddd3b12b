"""Flashing: firmware images (bin/hex/elf/build dir), the runner registry with its capabilities,
progress reporting, and the emulated bench (a serial bootloader in QEMU). The runners
(stm32_uart.py, esptool.py, uf2.py) live here too."""
