"""The 16x8 kernels (firmware/kernels/*_s16.c, tf_requantize_s32.c) compile warning-free as C99
with host gcc and arm-none-eabi-gcc for Cortex-M0+/M3/M4, and use nothing of libc beyond
<stdint.h> and <string.h> (the same rules as the int8 kernels, test_kernels_build.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_kernels_build import ALLOWED_SYSTEM_HEADERS, TARGETS, WARN

from tinyforge import proc
from tinyforge.resources import firmware_dir

pytestmark = pytest.mark.toolchain

S16_SOURCES = tuple(
    sorted(
        p.name
        for p in (firmware_dir() / "kernels").glob("*.c")
        if p.stem.endswith("_s16") or p.stem.endswith("_s32")
    )
)


def test_the_16x8_family_is_all_there() -> None:
    assert {
        "tf_conv_s16.c",
        "tf_elementwise_s16.c",
        "tf_pool_s16.c",
        "tf_mean_s16.c",
        "tf_pad_s16.c",
        "tf_softmax_s16.c",
        "tf_activations_s16.c",
        "tf_requantize_s32.c",
    } <= set(S16_SOURCES)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_s16_kernels_compile_warning_free(target: str, tmp_path: Path) -> None:
    kdir = firmware_dir() / "kernels"
    for src in S16_SOURCES:
        proc.run_tool(
            [
                *TARGETS[target],
                *WARN,
                "-pedantic",
                "-I",
                str(kdir),
                "-c",
                str(kdir / src),
                "-o",
                str(tmp_path / (src + ".o")),
            ]
        )


def test_s16_kernels_include_only_stdint_and_string() -> None:
    kdir = firmware_dir() / "kernels"
    for src in S16_SOURCES:
        for name in (src, src[:-2] + ".h", "tf_s16_common.h"):
            text = (kdir / name).read_text()
            system = set(re.findall(r"#include\s*<([^>]+)>", text))
            assert system <= ALLOWED_SYSTEM_HEADERS, (
                f"{name} includes {sorted(system - ALLOWED_SYSTEM_HEADERS)}"
            )
            assert "malloc" not in text and "printf" not in text, f"{name} uses the heap or stdio"


@pytest.mark.parametrize("target", ["host", "cortex-m4"])
def test_dsp_s16_kernels_compile_warning_free(target: str, tmp_path: Path) -> None:
    """The DSP 16x8 kernels: inline assembly on the M4, tf_acle.h's portable C on the host."""
    kdir = firmware_dir() / "kernels"
    src = kdir / "dsp" / "tf_dsp_conv_s16.c"
    proc.run_tool([*TARGETS[target], *WARN, "-I", str(kdir), "-c", str(src), "-o", str(tmp_path / "dsp16.o")])


@pytest.mark.parametrize("opt", ["-O0", "-Os", "-O3"])
def test_dsp_s16_kernels_compile_at_every_optimisation(opt: str, tmp_path: Path) -> None:
    """-O0 takes the C loops (gcc cannot place the inline assembly's operands unoptimised)."""
    kdir = firmware_dir() / "kernels"
    cc = [c for c in TARGETS["cortex-m4"] if not c.startswith("-O")]
    src = kdir / "dsp" / "tf_dsp_conv_s16.c"
    proc.run_tool(
        [*cc, opt, *WARN, "-I", str(kdir), "-c", str(src), "-o", str(tmp_path / "dsp16.o")], timeout=300
    )
