"""Shared test fixtures. The MLPerf Tiny models the tests use are in tests/data/mlperf-tiny (Apache-2.0)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_MODELS = REPO / "tests" / "data" / "mlperf-tiny"

INT8_MODELS = {
    "kws": "kws_ref_model.tflite",
    "resnet": "pretrainedResnet_quant.tflite",
    "vww": "vww_96_int8.tflite",
    "ad": "ad01_int8.tflite",
}


def shared_model(name: str) -> Path:
    path = SHARED_MODELS / name
    if not path.exists():
        pytest.fail(f"test model {path} is missing from tests/data/mlperf-tiny")
    return path


@pytest.fixture(scope="session")
def shared_models() -> dict[str, Path]:
    return {k: shared_model(v) for k, v in INT8_MODELS.items()}
