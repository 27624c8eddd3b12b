"""Differential testing against the reference: inputs, comparison, and localisation of the first
layer that differs. Runner-agnostic: host, QEMU and Renode runs all end in `compare()`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyforge.codegen.cgen import IOSpec
from tinyforge.compiler import CompiledModel
from tinyforge.errors import UsageError
from tinyforge.run.reference import run_reference


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


@dataclass(frozen=True)
class LayerMismatch:
    position: int
    op_index: int
    kind: str
    name: str
    params: str
    mismatched_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class Comparison:
    inputs: int
    mismatched_bytes: int
    total_bytes: int
    mismatched_inferences: tuple[int, ...]
    outputs: tuple[tuple[bytes, ...], ...]  # what the device produced
    reference: tuple[tuple[bytes, ...], ...]
    first_layer: LayerMismatch | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def bit_exact(self) -> bool:
        return self.mismatched_bytes == 0 and len(self.outputs) == self.inputs


def reference_outputs(compiled: CompiledModel, inputs: InputSet) -> list[tuple[bytes, ...]]:
    return [r.outputs for r in run_reference(compiled.source.data, [list(a) for a in inputs.arrays])]


def compare(compiled: CompiledModel, inputs: InputSet, got: Sequence[Sequence[bytes]]) -> Comparison:
    ref = reference_outputs(compiled, inputs)
    bad = 0
    total = 0
    bad_idx = []
    for i, r in enumerate(ref):
        g = got[i] if i < len(got) else ()
        diff = 0
        for j, rb in enumerate(r):
            gb = g[j] if j < len(g) else b""
            total += len(rb)
            if len(gb) != len(rb):
                diff += len(rb)
            else:
                diff += int(np.count_nonzero(np.frombuffer(gb, np.uint8) != np.frombuffer(rb, np.uint8)))
        if diff:
            bad_idx.append(i)
        bad += diff
    return Comparison(
        inputs=len(ref),
        mismatched_bytes=bad,
        total_bytes=total,
        mismatched_inferences=tuple(bad_idx),
        outputs=tuple(tuple(g) for g in got),
        reference=tuple(ref),
    )


def first_mismatching_layer(
    compiled: CompiledModel, inputs: tuple[np.ndarray, ...], layer_outputs: dict[int, bytes]
) -> LayerMismatch | None:
    """Given our per-layer outputs for one inference, find the first layer that differs from TFLM."""
    wanted = [lay.op.outputs[0] for lay in compiled.layers]
    run = run_reference(compiled.source.data, [list(inputs)], intermediates=wanted)[0]
    tensors = run.tensors or {}
    for pos, lay in enumerate(compiled.layers):
        ours = layer_outputs.get(pos)
        ref = tensors.get(lay.op.outputs[0])
        if ours is None or ref is None:
            continue
        if ours != ref:
            n = min(len(ours), len(ref))
            diff = int(
                np.count_nonzero(np.frombuffer(ours[:n], np.uint8) != np.frombuffer(ref[:n], np.uint8))
            )
            diff += abs(len(ours) - len(ref))
            params = ", ".join(f"{k}={v}" for k, v in lay.op.options.items() if v not in (None, ""))
            return LayerMismatch(pos, lay.op.index, lay.op.kind, lay.op.name, params, diff, len(ref))
    return None


def localise_mismatch(
    compiled: CompiledModel,
    inputs: InputSet,
    comparison: Comparison,
    layer_outputs: Callable[[bytes], dict[int, bytes]],
) -> LayerMismatch | None:
    """After a run that was not bit-exact, the first layer that differs from TFLM in the first
    mismatching inference. `layer_outputs(record)` re-runs that one input record on a build that
    dumps every layer's output (host `debug_layers`, firmware `dump_layers`) and returns them."""
    if comparison.bit_exact or not comparison.mismatched_inferences:
        return None
    k = comparison.mismatched_inferences[0]
    return first_mismatching_layer(compiled, inputs.arrays[k], layer_outputs(inputs.records()[k]))
