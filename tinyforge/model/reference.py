"""The oracle: TensorFlow Lite Micro's own interpreter (`tflite_micro` PyPI package), running its
reference kernels; the one place tinyforge creates that interpreter.

    interpreter(model bytes)           a TFLM interpreter (errors name the op TFLM cannot run)
    prepare_problem(model bytes)       why TFLM cannot prepare and run a model, or None
    run_reference(model, inputs)       int8 byte outputs and, on request, every intermediate tensor
                                       (`tinyforge test`, `bench`, the Renode expectations)
    run_tflm(model, samples)           float samples in, float outputs out (quantized at the
                                       edges as TFLM's QUANTIZE does): the convert report
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tinyforge.errors import ModelError, ToolError
from tinyforge.model.native import quiet_native_output

if TYPE_CHECKING:
    from tinyforge.ir.graph import Graph
    from tinyforge.model.calib import Samples


@dataclass(frozen=True)
class ReferenceRun:
    outputs: tuple[bytes, ...]
    tensors: dict[int, bytes] | None = None  # tensor index -> bytes (with intermediates)


def _runtime() -> Any:
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ToolError(
            "the tflite_micro reference interpreter is not installed",
            hint="pip install --pre tflite-micro",
        ) from exc
    return runtime


def interpreter(model_data: bytes, *, preserve_all: bool = False, graph: Graph | None = None) -> Any:
    """A TFLM interpreter for a .tflite; `preserve_all` keeps every intermediate tensor readable.
    ModelError (naming the op, from TFLM's own log) when TFLM cannot prepare the model."""
    runtime = _runtime()
    config = (
        runtime.InterpreterConfig.kPreserveAllTensors
        if preserve_all
        else runtime.InterpreterConfig.kAllocationRecording
    )
    # TFLM's default arena (10x the model size) is too small for models with large activations.
    arena = max(len(model_data) * 10, 16 << 20)
    log: list[str] = []
    try:
        with quiet_native_output() as log:
            return runtime.Interpreter.from_bytes(model_data, intrepreter_config=config, arena_size=arena)
    except (RuntimeError, ValueError) as exc:
        if graph is None:
            from tinyforge.model.tflite import parse_tflite

            graph = parse_tflite(model_data).graph
        reason = _tflm_reason(graph, "".join(log), exc)
        raise ModelError(
            f"the tflite_micro interpreter cannot run the int8 model: {reason}", hint=tflm_hint(reason)
        ) from exc


def tflm_hint(reason: str) -> str:
    """What to try when TFLM refuses a model, from its reason."""
    if "failed to prepare" in reason and "scale" in reason:
        return (
            "a quantization scale of this layer is out of what TFLM accepts: the calibration data "
            "leave its output (nearly) constant; calibrate with --calib on real, preprocessed inputs"
        )
    low = reason.lower()
    if "registration" in low or "didn't find op" in low or "failed to get" in low:
        return "TFLM has no int8 kernel for this op: replace the layer that makes it"
    return "TFLM refused the model at this op; check the layer's quantization (tinyforge inspect)"


def prepare_problem(model_data: bytes) -> str | None:
    """Why TFLM cannot prepare the model (allocate it and invoke it once on zero inputs), or None
    when it can: what `convert` checks before writing a model."""
    from tinyforge.model.tflite import parse_tflite

    graph = parse_tflite(model_data).graph
    log: list[str] = []
    try:
        interp = interpreter(model_data, graph=graph)
        with quiet_native_output() as log:
            for i, t in enumerate(graph.tensors[k] for k in graph.inputs):
                interp.set_input(np.zeros(t.shape, dtype=t.dtype), i)
            interp.invoke()
    except ModelError as exc:
        return exc.message.removeprefix("the tflite_micro interpreter cannot run the int8 model: ")
    except (RuntimeError, ValueError) as exc:
        return _tflm_reason(graph, "".join(log), exc)
    return None


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
    keep_state: bool | None = None,
    reset_every: int = 0,
) -> list[ReferenceRun]:
    """Run every input set (one array per model input) through the TFLM interpreter.

    Stateless models are reset after each input set (each inference stands alone). A stateful
    model (variable tensors: LSTM, SVDF) keeps its state from one input set to the next, as the
    firmware does (`keep_state` None: decided from the model); with `reset_every` N > 0 the state
    is reset before input sets N, 2N, ... (the firmware's `model_reset_state()`)."""
    if keep_state is None:
        keep_state = is_stateful(model_data)
    interp = interpreter(model_data, preserve_all=bool(intermediates))
    runs = []
    for k, arrays in enumerate(inputs):
        if keep_state and reset_every > 0 and k > 0 and k % reset_every == 0:
            interp.reset()
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
        if not keep_state:
            interp.reset()
    return runs


def is_stateful(model_data: bytes) -> bool:
    """Whether the model keeps state across invocations (some op reads a variable tensor)."""
    from tinyforge.model.tflite import parse_tflite

    return bool(parse_tflite(model_data).graph.state_tensors())


def _num_outputs(model_data: bytes) -> int:
    from tinyforge.model.tflite import parse_tflite

    return len(parse_tflite(model_data).graph.outputs)


def _round_half_away(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float -> int8 the way TFLM's QUANTIZE does it (float32 divide, round half away from zero)."""
    q = _round_half_away(x.astype(np.float32) / np.float32(scale)) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    return ((q.astype(np.int32) - zero_point) * np.float32(scale)).astype(np.float32)


def run_tflm(tflite: bytes, samples: Samples) -> tuple[np.ndarray, ...]:
    """Run every sample through the tflite_micro interpreter; outputs as float32, one array
    (N, *output shape[1:]) per output (int8 outputs dequantized, int8 inputs quantized)."""
    from tinyforge.model.tflite import parse_tflite

    graph = parse_tflite(tflite).graph
    ins = [graph.tensors[i] for i in graph.inputs]
    outs = [graph.tensors[i] for i in graph.outputs]
    if len(ins) != len(samples.arrays):
        raise ModelError(f"the model has {len(ins)} inputs, the data {len(samples.arrays)}")
    interp = interpreter(tflite, graph=graph)
    results: list[list[np.ndarray]] = [[] for _ in outs]
    for n in range(samples.count):
        for i, (x, t) in enumerate(zip(samples.sample(n), ins, strict=True)):
            if t.dtype == "int8":
                if t.quant is None:
                    raise ModelError(f"input '{t.name}' is int8 without quantization parameters")
                x = quantize_input(x, t.quant.scale[0], t.quant.zero_point[0])
            interp.set_input(np.ascontiguousarray(x.astype(t.dtype, copy=False).reshape(t.shape)), i)
        try:
            interp.invoke()
        except RuntimeError as exc:
            raise ModelError(f"the tflite_micro interpreter failed on sample {n}: {str(exc)[:160]}") from exc
        for k, t in enumerate(outs):
            y = np.array(interp.get_output(k))
            if t.dtype == "int8" and t.quant is not None:
                y = dequantize(y, t.quant.scale[0], t.quant.zero_point[0])
            results[k].append(y.astype(np.float32).reshape((1, *t.shape[1:])))
    return tuple(np.concatenate(r, axis=0) for r in results)


def _tflm_reason(graph: Graph, log: str, exc: Exception) -> str:
    node = re.search(r"Node (\w+) \(number (\d+)\) failed to (\w+)", log)
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    if node:
        index = int(node.group(2))
        name = graph.ops[index].name if index < len(graph.ops) else ""
        why = next((ln for ln in lines if not ln.startswith("Node ")), "")
        why = re.sub(r"^\S+\.cc:\d+ ", "", why)
        return f"op {index} {node.group(1)} ('{name}') failed to {node.group(3)}: {why[:120]}"
    return (lines[0] if lines else str(exc).strip())[:200]
