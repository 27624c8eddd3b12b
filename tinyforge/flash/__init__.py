"""Flashing: firmware images (image.py), the runner registry with its capabilities (registry.py),
what the user asked resolved to a checked request (request.py), progress reporting, the runners
(stm32_uart.py on an3155.py and stm32_chips.py, esptool.py, uf2.py) and the emulated bench (a
serial bootloader in QEMU, emulated_bench.py)."""
