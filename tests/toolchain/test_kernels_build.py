"""The portable int8 kernels (conv, depthwise, fully connected, pools, softmax, add/sub/mul,
mean, pad, concatenation) compile warning-free as C99 with host gcc and arm-none-eabi-gcc for
Cortex-M0+/M3/M4, and use nothing of libc beyond <stdint.h> and <string.h>."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _kernel_harness import KERNEL_SOURCES

from tinyforge import proc
from tinyforge.resources import firmware_dir

WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
TARGETS = {
    "host": ["gcc", "-O2"],
    "cortex-m0plus": ["arm-none-eabi-gcc", "-mcpu=cortex-m0plus", "-mthumb", "-Os"],
    "cortex-m3": ["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "-O2"],
    "cortex-m4": [
        "arm-none-eabi-gcc",
        "-mcpu=cortex-m4",
        "-mthumb",
        "-mfloat-abi=hard",
        "-mfpu=fpv4-sp-d16",
        "-O2",
    ],
}
ALLOWED_SYSTEM_HEADERS = {"stdint.h", "string.h"}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_kernels_compile_warning_free(target: str, tmp_path: Path) -> None:
    kdir = firmware_dir() / "kernels"
    cc = TARGETS[target]
    for src in KERNEL_SOURCES:
        proc.run_tool(
            [*cc, *WARN, "-I", str(kdir), "-c", str(kdir / src), "-o", str(tmp_path / f"{Path(src).stem}.o")]
        )


def test_kernels_include_only_stdint_and_string() -> None:
    kdir = firmware_dir() / "kernels"
    for src in KERNEL_SOURCES:
        for name in (src, src[:-2] + ".h"):
            text = (kdir / name).read_text()
            system = set(re.findall(r"#include\s*<([^>]+)>", text))
            assert system <= ALLOWED_SYSTEM_HEADERS, (
                f"{name} includes {sorted(system - ALLOWED_SYSTEM_HEADERS)}"
            )
            assert "malloc" not in text and "printf" not in text, f"{name} uses the heap or stdio"
