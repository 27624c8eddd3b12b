"""Firmware build pieces that need no compiler: flags, linker script, BSP config, fit checks,
fault decoding, memory bars."""

from __future__ import annotations

import re

import pytest

from tinyforge.boards import list_boards, load_board
from tinyforge.errors import BuildError
from tinyforge.serial import protocol
from tinyforge.serial.faults import decode_fault, fault_causes
from tinyforge.toolchain import bsp
from tinyforge.toolchain.flags import compile_flags, cpu_flags
from tinyforge.toolchain.footprint import RegionUsage, bar, check_fit, kib

FIRMWARE_BOARDS = [b.name for b in list_boards() if not b.is_host]


@pytest.mark.parametrize(
    ("board", "expected"),
    [
        ("mps2-an385", ["-mcpu=cortex-m3", "-mthumb", "-mfloat-abi=soft"]),
        ("mps2-an386", ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]),
        ("mps2-an500", ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"]),
        ("mps2-an505", ["-mcpu=cortex-m33", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"]),
        ("mps3-an547", ["-mcpu=cortex-m55+nomve.fp", "-mthumb", "-mfpu=auto", "-mfloat-abi=hard"]),
        ("nucleo-l4r5zi", ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]),
    ],
)
def test_cpu_flags(board: str, expected: list[str]) -> None:
    assert list(cpu_flags(load_board(board))) == expected


def test_opt_levels_and_warnings() -> None:
    b = load_board("mps2-an386")
    assert "-O2" in compile_flags(b, "speed") and "-Os" in compile_flags(b, "size")
    assert {"-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections"} <= set(compile_flags(b))
    with pytest.raises(BuildError, match="unknown optimisation goal 'fast'"):
        compile_flags(b, "fast")


@pytest.mark.parametrize("board", FIRMWARE_BOARDS)
def test_linker_script_regions_come_from_the_board(board: str) -> None:
    b = load_board(board)
    text = bsp.render_linker(b)
    m = re.search(r"FLASH \(rx\) : ORIGIN = (0x[0-9A-F]+), LENGTH = (0x[0-9A-F]+)", text)
    assert m and int(m.group(1), 16) == b.flash.origin and int(m.group(2), 16) == b.flash.size
    m = re.search(r"RAM \(rwx\) : ORIGIN = (0x[0-9A-F]+), LENGTH = (0x[0-9A-F]+)", text)
    assert m and int(m.group(1), 16) == b.ram.origin and int(m.group(2), 16) == b.ram.size
    assert f". = . + {b.stack_bytes};" in text
    for sym in (
        "__tf_stack_bottom",
        "__tf_stack_top",
        "__tf_data_load",
        "__tf_bss_start",
        "__tf_arena_start",
    ):
        assert sym in text
    for r in b.extra_ram:
        assert f"ORIGIN = 0x{r.origin:08X}, LENGTH = 0x{r.size:X}" in text


def test_app_offset_moves_flash_and_is_checked() -> None:
    b = load_board("mps2-an386")
    text = bsp.render_linker(b, app_offset=0x10000)
    assert "FLASH (rx) : ORIGIN = 0x00010000, LENGTH = 0x3F0000" in text
    with pytest.raises(BuildError, match=r"--app-offset 0x100 is not a multiple of 0x200"):
        bsp.render_linker(b, app_offset=0x100)
    with pytest.raises(BuildError, match="beyond the 4096 KB flash"):
        bsp.render_linker(b, app_offset=0x400000)


def test_bsp_config_defines() -> None:
    d = dict(bsp.bsp_defines(load_board("mps3-an547")))
    assert d["BSP_CONSOLE_BASE"] == "0x59303000u"
    assert d["BSP_TICK_HZ"] == "32000000u" and d["BSP_HAS_MVE"] == "1" and d["BSP_SEMIHOSTING"] == "1"
    d = dict(bsp.bsp_defines(load_board("nucleo-l4r5zi")))
    assert d["BSP_STM32_LPUART"] == "1" and d["BSP_SEMIHOSTING"] == "0"
    assert d["BSP_BOARD_NAME"] == '"nucleo-l4r5zi"'
    names = [p.name for p in bsp.bsp_sources(load_board("nucleo-l4r5zi"))]
    assert names == ["startup.c", "fault.c", "bsp.c", "uart_stm32.c", "board_nucleo_l4r5zi.c"]
    assert [p.name for p in bsp.bsp_sources(load_board("mps2-an386"))][-1] == "uart_cmsdk.c"


def test_host_board_has_no_firmware() -> None:
    with pytest.raises(BuildError, match="the host board runs models natively"):
        bsp.bsp_sources(load_board("host"))


def test_fit_check_names_the_dominant_part() -> None:
    b = load_board("nucleo-f446re")
    with pytest.raises(BuildError) as exc:
        check_fit(b, weight_bytes=612 * 1024, arena_bytes=1000, scratch_bytes=0)
    assert "weights 612 KB > flash 512 KB on nucleo-f446re" in exc.value.message
    with pytest.raises(BuildError) as exc:
        check_fit(b, weight_bytes=300 * 1024, input_bytes=250 * 1024, arena_bytes=1000, scratch_bytes=0)
    assert (
        "weights 300 KB + test inputs 250 KB" in exc.value.message and "(mostly weights)" in exc.value.message
    )
    with pytest.raises(BuildError) as exc:
        check_fit(b, weight_bytes=1000, arena_bytes=300 * 1024, scratch_bytes=0)
    assert "arena 300 KB + stack 8.0 KB > RAM 128 KB on nucleo-f446re" in exc.value.message
    assert check_fit(b, weight_bytes=1000, arena_bytes=100 * 1024, scratch_bytes=0).arena_region == "RAM"


def test_fit_check_moves_a_big_arena_to_another_ram() -> None:
    b = load_board("nucleo-l4r5zi")  # sram1 192 KB, sram2 64 KB, sram3 384 KB
    assert check_fit(b, weight_bytes=0, arena_bytes=200 * 1024, scratch_bytes=0).arena_region == "SRAM3"
    assert check_fit(b, weight_bytes=0, arena_bytes=60 * 1024, scratch_bytes=0).arena_region == "RAM"
    with pytest.raises(BuildError, match=r"arena 400 KB > sram3 384 KB \(the largest RAM region\)"):
        check_fit(b, weight_bytes=0, arena_bytes=400 * 1024, scratch_bytes=0)


def test_memory_bar_and_sizes() -> None:
    assert (
        bar(RegionUsage("RAM", 0, 1000, 250))
        == "RAM:   [==        ]  25.0% (used 250 bytes from 1,000 bytes)"
    )
    assert bar(RegionUsage("FLASH", 0, 1000, 1000)).startswith("Flash: [==========] 100.0%")
    assert kib(612 * 1024) == "612 KB" and kib(1536) == "1.5 KB" and kib(300) == "300 B"


def test_fault_decoding_without_elf() -> None:
    rec = protocol.parse_line(
        "TF FAULT kind=BusFault pc=0x00000416 lr=0x0000036d xpsr=0x21000000 cfsr=0x00008200 "
        "hfsr=0x00000000 mmfar=0x00000000 bfar=0xf0000000 sp=0x20002178"
    )
    assert isinstance(rec, protocol.Fault)
    rep = decode_fault(rec)
    assert rep.kind == "BusFault" and rep.pc == 0x416 and rep.sp == 0x20002178
    assert rep.fault_address == 0xF0000000
    assert rep.causes == ("PRECISERR: precise bus error on a data access",)
    assert (
        rep.summary()
        == "BusFault at pc=0x00000416: PRECISERR: precise bus error on a data access (address 0xf0000000)"
    )
    assert fault_causes(1 << 19, 1 << 30) == ("NOCP: coprocessor (FPU/MVE) used while disabled",)
    assert fault_causes(0, 1 << 30) == ("FORCED: escalated from a configurable fault",)
