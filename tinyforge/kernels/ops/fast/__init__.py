"""Packers of the faster portable kernels (firmware/kernels/fast/): plain C99, any core, preferred
over the reference kernels where no DSP or Helium kernel takes a layer."""

from __future__ import annotations

from collections.abc import Callable

from tinyforge.kernels.registry import Accepts, Packer, kernel

PRIORITY = 5  # above the portable reference kernels (0), below the DSP (10) and Helium (20) ones


def fast_kernel(op: str, name: str, accepts: Accepts) -> Callable[[Packer], Packer]:
    """Register a packer of this folder for every board."""
    return kernel(op, name=name, features=(), priority=PRIORITY, accepts=accepts)
