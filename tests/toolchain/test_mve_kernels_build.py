"""The Helium kernels (firmware/kernels/mve/) compile warning-free as C99 with arm-none-eabi-gcc
for the Cortex-M55 at -O2 and -Os (their inline assembly must fit both register allocations),
refuse to build without MVE, and use nothing of libc beyond <stdint.h> (plus <arm_mve.h>)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tinyforge import proc
from tinyforge.resources import firmware_dir

KDIR = firmware_dir() / "kernels"
SOURCES = sorted((KDIR / "mve").glob("*.c"))
M55 = ["arm-none-eabi-gcc", "-mcpu=cortex-m55+nomve.fp", "-mthumb", "-mfloat-abi=hard", "-mfpu=auto"]
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror"]


def test_there_are_helium_kernels() -> None:
    names = {p.name for p in SOURCES}
    assert {"tf_mve_gemm.c", "tf_mve_conv.c", "tf_mve_depthwise.c", "tf_mve_add.c", "tf_mve_pool.c"} <= names


@pytest.mark.parametrize("opt", ["-O2", "-Os"])
def test_helium_kernels_compile_warning_free(opt: str, tmp_path: Path) -> None:
    for src in SOURCES:
        proc.run_tool(
            [*M55, opt, *WARN, "-I", str(KDIR), "-c", str(src), "-o", str(tmp_path / (src.name + ".o"))]
        )


def test_helium_kernels_need_mve(tmp_path: Path) -> None:
    m4 = ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O2"]
    src = KDIR / "mve" / "tf_mve_gemm.c"
    res = proc.run_tool(
        [*m4, *WARN, "-I", str(KDIR), "-c", str(src), "-o", str(tmp_path / "x.o")], check=False
    )
    assert res.returncode != 0 and "MVE" in res.stderr


def test_helium_kernels_include_only_stdint_and_mve() -> None:
    for path in sorted((KDIR / "mve").glob("*.[ch]")):
        text = path.read_text()
        system = set(re.findall(r"#include\s*<([^>]+)>", text))
        assert system <= {"stdint.h", "arm_mve.h"}, f"{path.name} includes {sorted(system)}"
        assert "malloc" not in text and "printf" not in text, f"{path.name} uses the heap or stdio"
