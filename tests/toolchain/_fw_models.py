"""Tiny int8 .tflite models for the firmware tests, written with tests/toolchain/opmodels.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from opmodels import ModelBuilder, options


def logistic(path: Path, shape: tuple[int, ...] = (1, 8, 8, 4)) -> Path:
    """One LOGISTIC layer: no weights, a few instructions per element."""
    m = ModelBuilder()
    x = m.input(shape, "int8", scale=0.05, zero_point=-3, name="x")
    y = m.tensor(shape, "int8", scale=1 / 256, zero_point=-128, name="y")
    m.op("LOGISTIC", [x], [y])
    m.output(y)
    path.write_bytes(m.build())
    return path


def dense(path: Path, n_in: int = 64, n_out: int = 16, seed: int = 1) -> Path:
    """One FULLY_CONNECTED layer with int8 weights and int32 bias (n_in * n_out weight bytes)."""
    rng = np.random.default_rng(seed)
    m = ModelBuilder()
    x = m.input((1, n_in), "int8", scale=0.02, zero_point=1, name="x")
    w = m.tensor(
        (n_out, n_in), "int8", scale=0.01, zero_point=0, data=rng.integers(-127, 128, (n_out, n_in)), name="w"
    )
    b = m.tensor((n_out,), "int32", scale=0.0002, zero_point=0, data=rng.integers(-500, 500, n_out), name="b")
    y = m.tensor((1, n_out), "int8", scale=0.1, zero_point=-2, name="y")
    m.op("FULLY_CONNECTED", [x, w, b], [y], options("FullyConnectedOptions"))
    m.output(y)
    path.write_bytes(m.build())
    return path


def max_pool(path: Path, shape: tuple[int, ...] = (1, 8, 8, 4)) -> Path:
    """One 2x2 stride-2 MAX_POOL_2D layer: its output cannot overwrite its input, so the arena holds both."""
    n, h, w, c = shape
    m = ModelBuilder()
    x = m.input(shape, "int8", scale=0.05, zero_point=-3, name="x")
    y = m.tensor((n, h // 2, w // 2, c), "int8", scale=0.05, zero_point=-3, name="y")
    m.op(
        "MAX_POOL_2D",
        [x],
        [y],
        options("Pool2DOptions", padding=1, strideW=2, strideH=2, filterWidth=2, filterHeight=2),
    )
    m.output(y)
    path.write_bytes(m.build())
    return path
