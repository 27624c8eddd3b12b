"""Differential testing against the reference: comparison, and localisation of the first layer that
differs. Runner-agnostic: host, QEMU and Renode runs all end in `compare()`. The inputs themselves
come from codegen/inputs.py."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tinyforge.codegen.inputs import InputSet
from tinyforge.compiler import CompiledModel
from tinyforge.model.reference import run_reference


@dataclass(frozen=True)
class LayerMismatch:
    """The first layer whose output differs from TFLM's (position -1: no layer could be named;
    `note` says why and where the difference must lie instead)."""

    position: int
    op_index: int
    kind: str
    name: str
    params: str
    mismatched_bytes: int
    total_bytes: int
    note: str = ""

    def describe(self) -> str:
        if self.position < 0:
            return self.note
        text = (
            f"[{self.op_index}] {self.kind} {self.name} "
            f"({self.mismatched_bytes}/{self.total_bytes} bytes differ; {self.params})"
        )
        return f"{text}; {self.note}" if self.note else text


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
    compiled: CompiledModel,
    sequence: Sequence[tuple[np.ndarray, ...]],
    layer_outputs: dict[int, bytes],
) -> LayerMismatch | None:
    """Given our per-layer outputs for one inference, find the first layer that differs from TFLM.

    `sequence` holds the input sets of the inferences up to and including that one: just that
    one for a stateless model; for a stateful one every earlier one too, so that the reference
    reaches the same state."""
    wanted = [lay.op.outputs[0] for lay in compiled.layers]
    run = run_reference(compiled.source.data, [list(a) for a in sequence], intermediates=wanted)[-1]
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
    layer_outputs: Callable[[list[bytes]], dict[int, bytes]],
) -> LayerMismatch | None:
    """After a run that was not bit-exact, the first layer that differs from TFLM in the first
    mismatching inference k. `layer_outputs(records)` re-runs records 0..k, in order, on a build
    that dumps every layer's output (host `debug_layers`, firmware `dump_layers`) and returns the
    last dump of each layer (inference k's): replaying the earlier inferences too keeps whatever
    they left in the arena (and a stateful model's state, which the reference replays as well).
    Never None for a mismatch: when the re-run fails, or no layer differs, the result says so."""
    from tinyforge.errors import TinyforgeError

    if comparison.bit_exact or not comparison.mismatched_inferences:
        return None
    k = comparison.mismatched_inferences[0]
    ref = comparison.reference[k]
    got = comparison.outputs[k] if k < len(comparison.outputs) else ()
    total = sum(len(r) for r in ref)
    bad = sum(
        len(r)
        if j >= len(got) or len(got[j]) != len(r)
        else int(np.count_nonzero(np.frombuffer(got[j], np.uint8) != np.frombuffer(r, np.uint8)))
        for j, r in enumerate(ref)
    )

    def unnamed(note: str) -> LayerMismatch:
        return LayerMismatch(-1, -1, "", "", "", bad, total, note=f"inference {k}: {note}")

    try:
        dumps = layer_outputs(inputs.records()[: k + 1])
    except TinyforgeError as exc:
        return unnamed(f"the re-run with per-layer dumps failed ({exc.message}), so no layer is named")
    if not dumps:
        return unnamed("the re-run with per-layer dumps printed no layer outputs")
    sequence = inputs.arrays[: k + 1] if compiled.graph.state_tensors() else [inputs.arrays[k]]
    found = first_mismatching_layer(compiled, sequence, dumps)
    if found is not None:
        return found
    return unnamed(
        "every layer's output equals TFLM's when re-run with per-layer dumps; the difference lies "
        "after the last layer (copying the outputs out) or in a build difference the dump build hides"
    )
