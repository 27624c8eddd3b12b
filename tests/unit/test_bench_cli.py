"""`tinyforge bench` refuses what it cannot measure with one clear line (no QEMU needed), and its
flash split reads a linker map."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyforge.cli import main
from tinyforge.run.bench import flash_split


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_bench_needs_an_emulated_board(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run_cli(capsys, "bench", str(tmp_path / "m.tflite"), "--board", "nucleo-f446re")
    assert code == 2
    assert err.count("\n") == 1 and "board nucleo-f446re is not emulated" in err and "mps2-an386" in err


def test_bench_missing_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run_cli(capsys, "bench", str(tmp_path / "nope.tflite"))
    assert code != 0 and "nope.tflite: no such file" in err and "Traceback" not in err


def test_bench_unknown_board(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run_cli(capsys, "bench", str(tmp_path / "m.tflite"), "--board", "mps2-an368")
    assert code != 0 and "mps2-an368" in err and "Traceback" not in err


MAP = """\
Memory Configuration

Linker script and memory map

.isr_vector     0x00000000      0x1c0
 .isr_vector    0x00000000      0x1c0 /b/build/lib/bsp/startup.c.o
                0x00000000                bsp_vectors

.text           0x000001c0      0x400
 .text.startup.main
                0x000001c0      0x100 /b/build/src/main.c.o
                0x000001c0                main
 .text.tf_dsp_conv_s8
                0x000002c0      0x200 /b/build/lib/kernels/dsp/tf_dsp_conv.c.o
 *fill*         0x000004c0        0x4
 .text          0x000004c4       0xfc /usr/lib/libc.a(lib_a-memcpy.o)

.tf_weights     0x000005c0     0x1000
 .tf_weights    0x000005c0     0x1000 /b/build/lib/model/weights.S.o

.rodata         0x000015c0       0x40
 .rodata.L0     0x000015c0       0x30 /b/build/lib/model/model.c.o
 .rodata.str1.4
                0x000015f0       0x10 /b/build/lib/bsp/bsp.c.o
"""


def test_flash_split_from_the_linker_map(tmp_path: Path) -> None:
    path = tmp_path / "firmware.map"
    path.write_text(MAP)
    sizes = {"weights": 0x1000, "inputs": 0x20, "flash_bytes": 0x1C0 + 0x400 + 0x1000 + 0x40 + 0x20}
    got = flash_split(path, sizes)
    assert got.weights == 0x1000
    assert got.harness == 0x1C0 + 0x100 + 0x10 + 0x20  # vectors, main, BSP strings, inputs
    assert got.kernels_runtime == 0x200 + 0x4 + 0xFC + 0x30  # kernel, fill, libc, layer params
    assert got.weights + got.harness + got.kernels_runtime == got.total
