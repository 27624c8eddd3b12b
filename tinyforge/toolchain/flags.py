"""arm-none-eabi-gcc flags for a board: cpu/fpu/float ABI, optimisation, warnings, linking.

One place computes them; the build, the generated Makefile and platformio.ini all print these.
"""

from __future__ import annotations

from typing import Protocol

from tinyforge.errors import BuildError

# -mcpu value per board cpu name (the board TOML uses these names)
_CPU = {
    "cortex-m0": "cortex-m0",
    "cortex-m0plus": "cortex-m0plus",
    "cortex-m3": "cortex-m3",
    "cortex-m4": "cortex-m4",
    "cortex-m7": "cortex-m7",
    "cortex-m23": "cortex-m23",
    "cortex-m33": "cortex-m33",
    "cortex-m35p": "cortex-m35p",
    "cortex-m55": "cortex-m55",
    "cortex-m85": "cortex-m85",
}

OPT_LEVELS = {"speed": "-O2", "size": "-Os"}

# C dialect and code generation for every firmware file
BASE_CFLAGS = ("-std=c99", "-ffunction-sections", "-fdata-sections", "-fno-common", "-g")
# our code (BSP, kernels, generated model, harness) is warning-free
WARN_FLAGS = ("-Wall", "-Wextra", "-Werror")
LDFLAGS = ("-nostartfiles", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments")
LDLIBS = ("-lc", "-lgcc")


class _CpuBoard(Protocol):  # a BoardProfile, or anything with its core fields (read-only)
    @property
    def name(self) -> str: ...
    @property
    def cpu(self) -> str: ...
    @property
    def fpu(self) -> str: ...
    @property
    def float_abi(self) -> str: ...
    @property
    def features(self) -> frozenset[str]: ...


def cpu_flags(board: _CpuBoard) -> tuple[str, ...]:
    """-mcpu/-mthumb/-mfpu/-mfloat-abi for the board's core."""
    mcpu = _CPU.get(board.cpu)
    if mcpu is None:
        raise BuildError(
            f"board {board.name}: cpu {board.cpu!r} is not an Arm Cortex-M core tinyforge can build for",
            hint=f"use one of: {', '.join(sorted(_CPU))}",
        )
    abi = board.float_abi or "soft"
    fpu = board.fpu or "none"
    if mcpu == "cortex-m55":
        # MVE and the FPU come with the core; the board's features switch parts off
        if "mve" not in board.features:
            mcpu += "+nomve"
        elif "mve-float" not in board.features:
            mcpu += "+nomve.fp"
        if fpu == "none":
            mcpu += "+nofp"
    flags = [f"-mcpu={mcpu}", "-mthumb"]
    if abi != "soft":
        flags.append("-mfpu=auto" if mcpu.startswith("cortex-m55") else f"-mfpu={fpu}")
    flags.append(f"-mfloat-abi={abi}")
    return tuple(flags)


def opt_flag(opt: str) -> str:
    try:
        return OPT_LEVELS[opt]
    except KeyError:
        raise BuildError(
            f"unknown optimisation goal {opt!r}", hint=f"use one of: {', '.join(OPT_LEVELS)}"
        ) from None


def compile_flags(board: _CpuBoard, opt: str = "speed") -> tuple[str, ...]:
    return (*cpu_flags(board), opt_flag(opt), *BASE_CFLAGS, *WARN_FLAGS)


def link_flags(board: _CpuBoard) -> tuple[str, ...]:
    return (*cpu_flags(board), *LDFLAGS)
