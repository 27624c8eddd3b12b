"""Calibration and evaluation data: sample arrays checked against what the model's inputs expect.

Formats: a `.npy` (N x input shape), a `.npz` (one array per model input, matched by name, else by
order) or a folder of `.npy` files (each one sample or a batch; read in name order). Every
mismatch is a `UsageError` that names the expected and the given shape or dtype. numpy only: no
TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyforge.errors import UsageError

SYNTHETIC_COUNT = 64
SYNTHETIC_SEED = 0


@dataclass(frozen=True)
class InputSpec:
    """One model input as the converted model sees it: batch 1, static shape."""

    name: str
    shape: tuple[int, ...]  # includes the batch dimension (1)
    dtype: str  # numpy dtype name, e.g. "float32"

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return self.shape[1:]

    def describe(self) -> str:
        return f"'{self.name}' {_fmt_shape(('N', *self.sample_shape))} {self.dtype}"


@dataclass(frozen=True)
class Samples:
    """N samples for every model input: `arrays[i]` has shape (N, *inputs[i].sample_shape)."""

    arrays: tuple[np.ndarray, ...] = field(repr=False, compare=False)
    count: int
    source: str  # a path, or "synthetic"
    synthetic: bool = False

    def sample(self, i: int) -> list[np.ndarray]:
        """Sample `i`, one array per input, each with a batch dimension of 1."""
        return [a[i : i + 1] for a in self.arrays]

    def batch(self, start: int, stop: int) -> list[np.ndarray]:
        return [a[start:stop] for a in self.arrays]


def _fmt_shape(shape: Sequence[object]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_dtype(arr: np.ndarray, spec: InputSpec, where: str) -> np.ndarray:
    want = np.dtype(spec.dtype)
    have = arr.dtype
    if want.kind == "f":
        if have.kind != "f":
            raise UsageError(
                f"{where}: dtype {have}, but model input {spec.describe()} is floating point",
                hint="save the data after the same preprocessing used in training, "
                "as float32 (e.g. np.save(path, x.astype(np.float32)))",
            )
        out = arr.astype(want, copy=False)
        if not np.all(np.isfinite(out)):
            bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
            raise UsageError(
                f"{where}: {bad} values are NaN or infinite (or overflow {want})",
                hint="clean the data; calibration needs finite values",
            )
        return out
    if want.kind in "iu":
        if have.kind not in "iu":
            raise UsageError(
                f"{where}: dtype {have}, but model input {spec.describe()} is an integer input",
                hint=f"save the data as {want}",
            )
        info = np.iinfo(want)
        if arr.size and (arr.min() < info.min or arr.max() > info.max):
            raise UsageError(f"{where}: values outside the range of {want}")
        return arr.astype(want, copy=False)
    raise UsageError(f"{where}: model input {spec.describe()} has a dtype tinyforge cannot feed")


def _check_shape(arr: np.ndarray, spec: InputSpec, where: str) -> np.ndarray:
    if arr.dtype.kind not in "fiub":
        raise UsageError(
            f"{where}: dtype {arr.dtype} is not numeric; model input {spec.describe()}",
            hint="save a numeric array with np.save",
        )
    if tuple(arr.shape[1:]) != spec.sample_shape or arr.ndim != len(spec.shape):
        raise UsageError(
            f"{where}: shape {_fmt_shape(arr.shape)}, but model input '{spec.name}' expects "
            f"{_fmt_shape(('N', *spec.sample_shape))} {spec.dtype}",
            hint="stack samples along the first axis; each sample must have the model input's "
            "shape without the batch dimension",
        )
    if arr.shape[0] == 0:
        raise UsageError(f"{where}: holds no samples (shape {_fmt_shape(arr.shape)})")
    return arr


def _load_npy(path: Path) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise UsageError(
            f"{path}: cannot read as a numeric .npy array ({str(exc)[:80]})",
            hint="save data with np.save(path, array) (object arrays are not accepted)",
        ) from exc
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(arr, np.ndarray):
        raise UsageError(f"{path}: is an .npz archive, not an .npy array", hint="rename it to .npz")
    return arr


def _from_npz(path: Path, specs: Sequence[InputSpec]) -> list[np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise UsageError(
            f"{path}: cannot read as an .npz archive ({str(exc)[:80]})",
            hint="save data with np.savez(path, input_name=array, ...)",
        ) from exc
    if not hasattr(archive, "files"):
        raise UsageError(f"{path}: is an .npy array, not an .npz archive", hint="rename it to .npy")
    with archive:
        keys = list(archive.files)
        names = [s.name for s in specs]
        if all(n in keys for n in names):
            chosen = names
        elif len(keys) == len(specs):
            chosen = keys  # by order, as saved
        else:
            raise UsageError(
                f"{path}: holds arrays {keys}, the model has {len(specs)} input(s) {names}",
                hint="save one array per model input, named like the inputs (or in their order)",
            )
        try:
            return [archive[k] for k in chosen]
        except ValueError as exc:
            raise UsageError(f"{path}: cannot read an array ({str(exc)[:80]})") from exc


def _from_folder(path: Path, spec: InputSpec) -> np.ndarray:
    files = sorted(p for p in path.iterdir() if p.suffix == ".npy" and p.is_file())
    if not files:
        raise UsageError(f"{path}: folder holds no .npy files", hint="put one .npy per sample or batch in it")
    parts = []
    for f in files:
        arr = _load_npy(f)
        if arr.ndim == len(spec.shape) - 1:
            arr = arr[np.newaxis]  # a single sample without the batch axis
        parts.append(_check_shape(arr, spec, str(f)))
    kinds = {p.dtype.kind for p in parts}
    if len(kinds) > 1:
        raise UsageError(f"{path}: files mix dtypes {sorted({str(p.dtype) for p in parts})}")
    return np.concatenate(parts, axis=0)


def load_samples(path: str | Path, specs: Sequence[InputSpec], *, what: str = "--calib") -> Samples:
    """Read and check samples for a model whose inputs are `specs`."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{what} {p}: no such file or folder", hint="check the path")
    if p.is_dir():
        if len(specs) != 1:
            raise UsageError(
                f"{what} {p}: a folder of .npy files feeds single-input models; this one has "
                f"{len(specs)} inputs",
                hint="use an .npz with one array per input",
            )
        arrays = [_from_folder(p, specs[0])]
    elif p.suffix == ".npz":
        arrays = _from_npz(p, specs)
    elif p.suffix == ".npy":
        if len(specs) != 1:
            raise UsageError(
                f"{what} {p}: an .npy feeds single-input models; this one has {len(specs)} inputs "
                f"({', '.join(s.name for s in specs)})",
                hint="use an .npz with one array per input",
            )
        arrays = [_load_npy(p)]
    else:
        raise UsageError(
            f"{what} {p}: unknown data format '{p.suffix or p.name}'",
            hint="give an .npy (N x input shape), an .npz (one array per input) or a folder of .npy files",
        )
    checked: list[np.ndarray] = []
    for arr, spec in zip(arrays, specs, strict=True):
        where = f"{what} {p}" + (f" [{spec.name}]" if len(specs) > 1 else "")
        arr = _check_shape(arr, spec, where)
        checked.append(np.ascontiguousarray(_check_dtype(arr, spec, where)))
    counts = {a.shape[0] for a in checked}
    if len(counts) > 1:
        raise UsageError(f"{what} {p}: inputs hold different sample counts {sorted(counts)}")
    return Samples(arrays=tuple(checked), count=checked[0].shape[0], source=str(p))


def synthetic_samples(
    specs: Sequence[InputSpec], count: int = SYNTHETIC_COUNT, seed: int = SYNTHETIC_SEED
) -> Samples:
    """Seeded standard-normal samples: a stand-in when the user gives no calibration data."""
    rng = np.random.default_rng(seed)
    arrays = []
    for spec in specs:
        kind = np.dtype(spec.dtype).kind
        shape = (count, *spec.sample_shape)
        if kind == "f":
            arrays.append(rng.standard_normal(shape).astype(spec.dtype))
        else:
            arrays.append(rng.integers(0, 2, size=shape).astype(spec.dtype))
    return Samples(arrays=tuple(arrays), count=count, source="synthetic", synthetic=True)


def load_labels(path: str | Path, count: int) -> np.ndarray:
    """Integer class labels, one per evaluation sample."""
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"--labels {p}: no such file", hint="give a .npy of integer class labels")
    if p.suffix != ".npy":
        raise UsageError(f"--labels {p}: expected a .npy file", hint="np.save(path, labels.astype(np.int64))")
    arr = _load_npy(p)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise UsageError(
            f"--labels {p}: shape {_fmt_shape(arr.shape)}, expected ({count},) integer class labels",
            hint="for one-hot labels save np.argmax(onehot, axis=1)",
        )
    if arr.dtype.kind not in "iu":
        raise UsageError(
            f"--labels {p}: dtype {arr.dtype}, expected integers", hint="save labels.astype(np.int64)"
        )
    if arr.shape[0] != count:
        raise UsageError(
            f"--labels {p}: {arr.shape[0]} labels for {count} evaluation samples",
            hint="give one label per sample of the --eval (or --calib) data, in the same order",
        )
    return arr.astype(np.int64)
