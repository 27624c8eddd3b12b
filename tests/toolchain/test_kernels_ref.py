"""Every layer of the four MLPerf Tiny int8 models, run through our portable C kernels on the
reference interpreter's own input tensors, must give the reference's output bytes exactly.

Each model runs on two random inputs; intermediate tensors come from tflite_micro with all
tensors preserved. Built once plainly and once with AddressSanitizer + UBSan.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _kernel_harness import case_for_op, mismatch_report, random_inputs, reference_tensors, run_cases

from tinyforge.model.tflite import read_tflite

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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kernels_ref")


def _check_model(path: Path, workdir: Path, *, sanitize: bool, seeds: tuple[int, ...]) -> dict[str, int]:
    loaded = read_tflite(path)
    graph = loaded.graph
    ops = [op for op in graph.ops if op.kind in PART_A_OPS]
    assert ops, f"{path.name} has none of the kernel library's ops"
    all_tensors = list(range(len(graph.tensors)))
    cases, expected = [], []
    for seed in seeds:
        tensors = reference_tensors(loaded.data, random_inputs(graph, seed), all_tensors)
        for op in ops:
            cases.append(case_for_op(graph, op, tensors))
            expected.append({o: tensors[o] for o in op.outputs})
            if op.kind in IN_PLACE_OPS and cases[-1].call.in_place:
                cases.append(case_for_op(graph, op, tensors, in_place=True))
                expected.append(expected[-1])
    results = run_cases(
        cases, workdir, sanitize=sanitize, tag=f"{path.stem}_{'asan' if sanitize else 'plain'}"
    )
    failures = []
    checked: dict[str, int] = {}
    for case, got, want in zip(cases, results, expected, strict=True):
        for t, data in want.items():
            label = case.label + (" (in place)" if case.in_place else "")
            if got[t] != data:
                failures.append(mismatch_report(label, got[t], data))
        checked[case.call.function] = checked.get(case.call.function, 0) + 1
    assert not failures, f"{len(failures)} layer outputs differ from the reference:\n" + "\n".join(failures)
    return checked


@pytest.mark.parametrize("model", ["kws", "ad", "resnet", "vww"])
def test_mlperf_layers_bit_exact(model: str, shared_models: dict[str, Path], workdir: Path) -> None:
    checked = _check_model(shared_models[model], workdir, sanitize=False, seeds=(1, 2))
    assert sum(checked.values()) > 0


@pytest.mark.parametrize("model", ["kws", "ad", "resnet", "vww"])
def test_mlperf_layers_sanitizers(model: str, shared_models: dict[str, Path], workdir: Path) -> None:
    checked = _check_model(shared_models[model], workdir, sanitize=True, seeds=(3,))
    assert sum(checked.values()) > 0
