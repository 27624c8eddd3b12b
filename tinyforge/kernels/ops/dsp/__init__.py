"""Packers of the DSP-extension kernels (firmware/kernels/dsp/) and their build-time folding
(fold.py); boards with the `dsp` feature (Cortex-M4/M7/M33) prefer them over the portable ones."""

from __future__ import annotations

from collections.abc import Callable

from tinyforge.kernels.registry import Accepts, Packer, kernel

PRIORITY = 10  # above the portable (0) and fast (5) kernels


def dsp_kernel(op: str, name: str, accepts: Accepts) -> Callable[[Packer], Packer]:
    """Register a packer of this folder for boards with the `dsp` feature."""
    return kernel(op, name=name, features={"dsp"}, priority=PRIORITY, accepts=accepts)
