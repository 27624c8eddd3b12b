"""Test inputs for a compiled model's inputs (its IOSpecs): random, the anchors' pattern, or a .npy
file, as int8 arrays and as the byte records a firmware bakes into flash (`src/inputs.bin`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyforge.codegen.cgen import IOSpec
from tinyforge.errors import UsageError


@dataclass(frozen=True)
class InputSet:
    arrays: tuple[tuple[np.ndarray, ...], ...]  # per inference, one int8 array per model input

    def records(self) -> list[bytes]:
        return [
            b"".join(np.ascontiguousarray(a, dtype=np.int8).tobytes() for a in rec) for rec in self.arrays
        ]

    def __len__(self) -> int:
        return len(self.arrays)


def random_inputs(specs: Sequence[IOSpec], count: int, seed: int = 0) -> InputSet:
    rng = np.random.default_rng(seed)
    return InputSet(
        tuple(
            tuple(rng.integers(-128, 128, size=s.shape, dtype=np.int16).astype(np.int8) for s in specs)
            for _ in range(count)
        )
    )


def pattern_inputs(specs: Sequence[IOSpec]) -> InputSet:
    """The anchors' input: x[i] = (i*37+11) % 256 - 128."""
    arrs = []
    for s in specs:
        n = int(np.prod(s.shape))
        v = ((np.arange(n) * 37 + 11) % 256 - 128).astype(np.int8).reshape(s.shape)
        arrs.append(v)
    return InputSet((tuple(arrs),))


def load_inputs(path: Path, specs: Sequence[IOSpec]) -> InputSet:
    """A .npy with one model input: shape (N, *input_shape) or input_shape; int8 taken as is,
    float quantized with the input's scale and zero point."""
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
    if arr.dtype == np.int8:
        q = arr
    elif np.issubdtype(arr.dtype, np.floating):
        q = np.clip(np.round(arr / spec.scale) + spec.zero_point, -128, 127).astype(np.int8)
    else:
        raise UsageError(f"{path}: dtype {arr.dtype} is neither int8 nor float")
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
        parts, off = [], 0
        for sp in specs:
            parts.append(np.frombuffer(rec[off : off + sp.nbytes], dtype=np.int8).reshape(sp.shape))
            off += sp.nbytes
        arrays.append(tuple(parts))
    return InputSet(tuple(arrays))
