"""The oracle: TensorFlow Lite Micro's own interpreter (`tflite_micro` PyPI package), running its
reference kernels. Outputs and, on request, every intermediate tensor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tinyforge.errors import ToolError


@dataclass(frozen=True)
class ReferenceRun:
    outputs: tuple[bytes, ...]
    tensors: dict[int, bytes] | None = None  # tensor index -> bytes (with intermediates)


def _runtime():  # type: ignore[no-untyped-def]
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ToolError(
            "the tflite_micro reference interpreter is not installed",
            hint="pip install --pre tflite-micro",
        ) from exc
    return runtime


def _tensor_bytes(value: object) -> bytes | None:
    if isinstance(value, dict):
        for key in ("tensor_data", "data", "value"):
            if key in value:
                return np.ascontiguousarray(value[key]).tobytes()
        return None
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value).tobytes()
    return None


def run_reference(
    model_data: bytes,
    inputs: Sequence[Sequence[np.ndarray]],
    *,
    intermediates: Sequence[int] = (),
    num_outputs: int | None = None,
) -> list[ReferenceRun]:
    """Run every input set (one array per model input) through the TFLM interpreter."""
    runtime = _runtime()
    config = (
        runtime.InterpreterConfig.kPreserveAllTensors
        if intermediates
        else runtime.InterpreterConfig.kAllocationRecording
    )
    # TFLM's default arena (10x the model size) is too small for models with large activations.
    arena = max(len(model_data) * 10, 16 << 20)
    interp = runtime.Interpreter.from_bytes(model_data, intrepreter_config=config, arena_size=arena)
    runs = []
    for arrays in inputs:
        for i, arr in enumerate(arrays):
            interp.set_input(arr, i)
        interp.invoke()
        n_out = num_outputs if num_outputs is not None else _num_outputs(model_data)
        outs = tuple(np.ascontiguousarray(interp.get_output(i)).tobytes() for i in range(n_out))
        tensors = None
        if intermediates:
            tensors = {}
            for t in intermediates:
                b = _tensor_bytes(interp.GetTensor(t, 0))
                if b is not None:
                    tensors[t] = b
        runs.append(ReferenceRun(outs, tensors))
        interp.reset()
    return runs


def _num_outputs(model_data: bytes) -> int:
    from tinyforge.model.tflite import parse_tflite

    return len(parse_tflite(model_data).graph.outputs)
