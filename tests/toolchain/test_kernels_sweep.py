"""Parameter sweeps of the portable int8 kernels against the TFLM reference, on tiny int8 models
built with TensorFlow (tests/toolchain/_tiny_models.py): strides, SAME/VALID, dilation, groups,
depth multipliers, per-tensor and per-channel weights, keep_num_dims, broadcasting up to 5-D,
constant operands, fused activations, extreme scales and zero points, batches > 1.

Every op of every model is run through its C kernel on the reference's own input tensors, for
random int8 inputs and for inputs drawn from the calibration range, and must match byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _kernel_harness import case_for_op, mismatch_report, random_inputs, reference_tensors, run_cases
from _tiny_models import MODELS, build_model, patch_tensor_quant

from tinyforge.ir.graph import Graph
from tinyforge.kernels.registry import unsupported_reason
from tinyforge.model.tflite import parse_tflite

pytestmark = [pytest.mark.toolchain, pytest.mark.slow]

PART_A_OPS = frozenset(
    {
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "FULLY_CONNECTED",
        "AVERAGE_POOL_2D",
        "MAX_POOL_2D",
        "SOFTMAX",
        "ADD",
        "SUB",
        "MUL",
        "MEAN",
        "PAD",
        "PADV2",
        "CONCATENATION",
    }
)
IN_PLACE_OPS = frozenset({"SOFTMAX", "ADD", "SUB", "MUL"})


@pytest.fixture(scope="session")
def tiny_models(request: pytest.FixtureRequest) -> dict[str, bytes]:
    cache = Path(request.config.cache.mkdir("tinyforge-tiny-models"))
    return {name: build_model(spec, cache) for name, spec in MODELS.items()}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kernels_sweep")


def _calibration_inputs(graph: Graph, low: float, high: float, seed: int) -> list[np.ndarray]:
    """Float inputs from the representative range, quantized with the model's input parameters."""
    rng = np.random.default_rng(seed)
    out = []
    for i in graph.inputs:
        t = graph.tensor(i)
        assert t.quant is not None
        real = rng.uniform(low, high, size=t.shape)
        q = np.round(real / t.quant.scale[0]) + t.quant.zero_point[0]
        out.append(np.clip(q, -128, 127).astype(np.int8))
    return out


def _check(model: bytes, workdir: Path, tag: str, input_sets: list[list[np.ndarray]], *, sanitize: bool) -> set[str]:
    graph = parse_tflite(model).graph
    ops = [op for op in graph.ops if op.kind in PART_A_OPS]
    rejected = [f"[{op.index}] {op.kind}: {r}" for op in ops if (r := unsupported_reason(graph, op))]
    assert not rejected, "kernels rejected converter output:\n" + "\n".join(rejected)
    all_tensors = list(range(len(graph.tensors)))
    cases, expected = [], []
    for inputs in input_sets:
        tensors = reference_tensors(model, inputs, all_tensors)
        for op in ops:
            want = {o: tensors[o] for o in op.outputs}
            cases.append(case_for_op(graph, op, tensors))
            expected.append(want)
            if op.kind in IN_PLACE_OPS and cases[-1].call.in_place:
                cases.append(case_for_op(graph, op, tensors, in_place=True))
                expected.append(want)
    results = run_cases(cases, workdir, sanitize=sanitize, tag=tag)
    failures = [
        mismatch_report(case.label + (" (in place)" if case.in_place else "") + f" {case.call.comment}", got[t], data)
        for case, got, want in zip(cases, results, expected, strict=True)
        for t, data in want.items()
        if got[t] != data
    ]
    assert not failures, f"{len(failures)} of {len(cases)} kernel runs differ from the reference:\n" + "\n".join(
        failures
    )
    return {op.kind for op in ops}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sweep_bit_exact(name: str, tiny_models: dict[str, bytes], workdir: Path) -> None:
    spec, model = MODELS[name], tiny_models[name]
    graph = parse_tflite(model).graph
    input_sets = [random_inputs(graph, seed) for seed in (1, 2)]
    input_sets += [_calibration_inputs(graph, spec.low, spec.high, seed) for seed in (3, 4)]
    kinds = _check(model, workdir, f"sweep_{name}", input_sets, sanitize=False)
    missing = set(spec.expect) - kinds
    assert not missing, f"the converter produced no {sorted(missing)} in model {name}: the sweep would not cover it"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sweep_sanitizers(name: str, tiny_models: dict[str, bytes], workdir: Path) -> None:
    spec, model = MODELS[name], tiny_models[name]
    graph = parse_tflite(model).graph
    _check(model, workdir, f"asan_{name}", [_calibration_inputs(graph, spec.low, spec.high, 5)], sanitize=True)


def test_mean_with_equal_quantization(tiny_models: dict[str, bytes], workdir: Path) -> None:
    """TFLM's other MEAN path (input and output share scale and zero point): sum / count."""
    model = tiny_models["mean"]
    graph = parse_tflite(model).graph
    means = [op for op in graph.ops if op.kind == "MEAN"]
    assert means
    for op in means:
        src = graph.tensor(op.inputs[0])
        assert src.quant is not None
        model = patch_tensor_quant(model, op.outputs[0], src.quant.scale[0], src.quant.zero_point[0])
    graph = parse_tflite(model).graph
    for op in means:
        call = case_for_op(graph, op, {op.inputs[0]: bytes(graph.tensor(op.inputs[0]).nbytes)}).call
        assert dict(call.params)["requantize"] == 0
    inputs = [random_inputs(graph, 7), _calibration_inputs(graph, -1.0, 3.0, 8)]
    _check(model, workdir, "mean_same_quant", inputs, sanitize=True)
