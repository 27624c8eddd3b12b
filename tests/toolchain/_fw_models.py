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


FLOAT_EDGE_Q = (0.0234375 * 1.37, -7)  # scale (not a power of two: the division rounds), zero point


def float_edges(path: Path, n: int = 512) -> Path:
    """float32 -> QUANTIZE (int8) -> DEQUANTIZE -> float32 at the model edges, as a float-I/O model
    has them: the device's float division and multiplication are what is checked."""
    scale, zp = FLOAT_EDGE_Q
    m = ModelBuilder()
    x = m.input((1, n), "float32", name="x")
    q = m.tensor((1, n), "int8", scale=scale, zero_point=zp, name="q")
    y = m.tensor((1, n), "float32", name="y")
    m.op("QUANTIZE", [x], [q])
    m.op("DEQUANTIZE", [q], [y])
    m.output(y)
    path.write_bytes(m.build())
    return path


def float_edge_inputs(n: int = 512, records: int = 3) -> np.ndarray:
    # (1e6 / scale stays far inside int32: TFLM's cast of larger quotients is undefined)
    """Floats where float -> int8 rounding is decided: every grid point, every halfway point
    computed in double and rounded to float32 (so just off the tie), exact float32 ties, values
    one ulp either side, signed zeros, subnormals, and values well past both ends (saturation)."""
    scale, zp = FLOAT_EDGE_Q
    k = np.arange(-128, 128) - zp
    half = ((k + 0.5) * np.float64(np.float32(scale))).astype(np.float32)
    exact = (k.astype(np.float32) + np.float32(0.5)) * np.float32(scale)  # float32 product
    pool = np.concatenate(
        [
            (k * np.float64(np.float32(scale))).astype(np.float32),
            half,
            exact,
            np.nextafter(half, np.float32(np.inf)),
            np.nextafter(half, np.float32(-np.inf)),
            np.array([0.0, -0.0, 1e-45, -1e-45, 1e-39, -1e-39, 1e-30, 3e4, -3e4, 1e6, -1e6], np.float32),
        ]
    ).astype(np.float32)
    idx = (np.arange(records * n) % pool.size).reshape(records, 1, n)  # 3 x 512 covers the pool
    return pool[idx]
