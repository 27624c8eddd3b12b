"""Test inputs for a compiled model's inputs (its IOSpecs): random, the anchors' pattern, or a .npy
file, as int8, int16 or float32 arrays (the input's type) and as the byte records a firmware bakes
into flash (`src/inputs.bin`, little-endian)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyforge.codegen.cgen import IOSpec
from tinyforge.errors import UsageError

# numpy type of each I/O element type the firmware carries (compiler.IO_DTYPES)
_IO_NUMPY: dict[str, type] = {"int8": np.int8, "int16": np.int16, "float32": np.float32}


def _np_type(spec: IOSpec) -> type:
    return _IO_NUMPY.get(spec.dtype, np.int8)


def _le_bytes(a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    return a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()


@dataclass(frozen=True)
class InputSet:
    arrays: tuple[tuple[np.ndarray, ...], ...]  # per inference, one array per model input (its dtype)

    def records(self) -> list[bytes]:
        """Each inference's inputs back to back, little-endian, as the firmware reads them."""
        return [b"".join(_le_bytes(a) for a in rec) for rec in self.arrays]

    def __len__(self) -> int:
        return len(self.arrays)


def _random_floats(s: IOSpec, rng: np.random.Generator) -> np.ndarray:
    """A float32 input: values over the int8 grid of the QUANTIZE after it (IOSpec scale and zero
    point) and 10% past each end (saturation), a quarter exactly halfway between two grid points
    (where the rounding of ties is decided)."""
    lo, hi = s.scale * (-128 - s.zero_point), s.scale * (127 - s.zero_point)
    x = rng.uniform(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), size=s.shape)
    ties = (rng.integers(-128, 127, size=s.shape) - s.zero_point + 0.5) * s.scale
    return np.where(rng.random(size=s.shape) < 0.25, ties, x).astype(np.float32)


def random_inputs(specs: Sequence[IOSpec], count: int, seed: int = 0) -> InputSet:
    rng = np.random.default_rng(seed)

    def one(s: IOSpec) -> np.ndarray:
        if s.dtype == "float32":
            return _random_floats(s, rng)
        info = np.iinfo(_np_type(s))
        return rng.integers(info.min, info.max + 1, size=s.shape, dtype=np.int32).astype(_np_type(s))

    return InputSet(tuple(tuple(one(s) for s in specs) for _ in range(count)))


def pattern_inputs(specs: Sequence[IOSpec]) -> InputSet:
    """The anchors' input: x[i] = (i*37+11) % 256 - 128 (int16 inputs: the same times 256; float32
    inputs: dequantized with the input's scale and zero point)."""
    arrs: list[np.ndarray] = []
    for s in specs:
        n = int(np.prod(s.shape))
        v = (np.arange(n) * 37 + 11) % 256 - 128
        if s.dtype == "float32":
            arrs.append(((v - s.zero_point) * np.float32(s.scale)).astype(np.float32).reshape(s.shape))
            continue
        arrs.append((v * (256 if s.dtype == "int16" else 1)).astype(_np_type(s)).reshape(s.shape))
    return InputSet((tuple(arrs),))


def load_inputs(path: Path, specs: Sequence[IOSpec]) -> InputSet:
    """A .npy with one model input: shape (N, *input_shape) or input_shape; integers of the
    input's type taken as is, float quantized with the input's scale and zero point (a float32
    input takes floats as they are)."""
    if len(specs) != 1:
        raise UsageError(f"--input takes a .npy for single-input models; this model has {len(specs)} inputs")
    spec = specs[0]
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot read as .npy ({exc})", hint="save inputs with numpy.save") from exc
    shape = tuple(spec.shape)
    if tuple(arr.shape) == shape:
        arr = arr[None]
    elif tuple(arr.shape[1:]) != shape:
        if arr.ndim >= 1 and int(np.prod(arr.shape[1:])) == int(np.prod(shape)):
            arr = arr.reshape((arr.shape[0], *shape))
        else:
            raise UsageError(
                f"{path}: shape {tuple(arr.shape)} does not fit the model input {shape} (or N x {shape})"
            )
    want = _np_type(spec)
    if spec.dtype == "float32":  # the model quantizes its float input itself
        if not np.issubdtype(arr.dtype, np.floating):
            raise UsageError(
                f"{path}: dtype {arr.dtype}, but the model takes float32 input",
                hint="give the (preprocessed) float values; the model quantizes them itself",
            )
        q = arr.astype(np.float32)
    elif arr.dtype == want:
        q = arr
    elif np.issubdtype(arr.dtype, np.floating):
        info = np.iinfo(want)
        q = np.clip(np.round(arr / spec.scale) + spec.zero_point, info.min, info.max).astype(want)
    else:
        raise UsageError(f"{path}: dtype {arr.dtype} is neither {spec.dtype} (the model input) nor float")
    return InputSet(tuple((q[i],) for i in range(q.shape[0])))


def make_inputs(
    specs: Sequence[IOSpec], count: int = 20, seed: int = 0, input_file: str | Path | None = None
) -> InputSet:
    """The inputs of a test run: `count` random records (with `seed`), or those of a .npy file."""
    if input_file is not None:
        return load_inputs(Path(input_file), specs)
    return random_inputs(specs, count, seed)


def split_records(specs: Sequence[IOSpec], records: Sequence[bytes]) -> InputSet:
    """The inverse of `InputSet.records()`: each record holds every model input back to back."""
    arrays = []
    for rec in records:
        parts: list[np.ndarray] = []
        off = 0
        for sp in specs:
            raw = np.frombuffer(rec[off : off + sp.nbytes], dtype=np.dtype(_np_type(sp)).newbyteorder("<"))
            parts.append(raw.astype(_np_type(sp)).reshape(sp.shape))
            off += sp.nbytes
        arrays.append(tuple(parts))
    return InputSet(tuple(arrays))
