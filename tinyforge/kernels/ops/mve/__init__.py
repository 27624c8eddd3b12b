"""Packers of the Helium kernels (firmware/kernels/mve/) and their build-time packing (pack.py);
boards with the `mve` feature (Cortex-M55) prefer them over the DSP and portable ones."""

from __future__ import annotations

from collections.abc import Callable

from tinyforge.kernels.registry import Accepts, Packer, kernel

PRIORITY = 20  # above the DSP kernels (10): the M55 has both features


def mve_kernel(op: str, name: str, accepts: Accepts) -> Callable[[Packer], Packer]:
    """Register a packer of this folder for boards with the `mve` feature."""
    return kernel(op, name=name, features={"mve"}, priority=PRIORITY, accepts=accepts)
