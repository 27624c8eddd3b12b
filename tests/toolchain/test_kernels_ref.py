"""Every layer of the four MLPerf Tiny int8 models, run through our portable C kernels on the
reference interpreter's own input tensors, must give the reference's output bytes exactly.

Each model runs on two random inputs; intermediate tensors come from tflite_micro with all
tensors preserved. Built once plainly and once with AddressSanitizer + UBSan.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _kernel_harness import check_layers, random_inputs

from tinyforge.model.tflite import read_tflite


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kernels_ref")


def _check_model(path: Path, workdir: Path, *, sanitize: bool, seeds: tuple[int, ...]) -> dict[str, int]:
    loaded = read_tflite(path)
    input_sets = [random_inputs(loaded.graph, seed) for seed in seeds]
    tag = f"{path.stem}_{'asan' if sanitize else 'plain'}"
    return check_layers(loaded.data, loaded.graph, input_sets, workdir, tag, sanitize=sanitize)


@pytest.mark.parametrize("model", ["kws", "ad", "resnet", "vww"])
def test_mlperf_layers_bit_exact(model: str, shared_models: dict[str, Path], workdir: Path) -> None:
    checked = _check_model(shared_models[model], workdir, sanitize=False, seeds=(1, 2))
    assert sum(checked.values()) > 0


@pytest.mark.parametrize("model", ["kws", "ad", "resnet", "vww"])
def test_mlperf_layers_sanitizers(model: str, shared_models: dict[str, Path], workdir: Path) -> None:
    checked = _check_model(shared_models[model], workdir, sanitize=True, seeds=(3,))
    assert sum(checked.values()) > 0
