"""Shared test fixtures, and the tier markers. The MLPerf Tiny models the tests use are in
tests/data/mlperf-tiny (Apache-2.0).

A test's tier is its folder: tests/unit -> `unit`, tests/toolchain -> `toolchain`, tests/emulator ->
`emulator`, tests/slow -> `slow` (select with `-m`). A test file says nothing about its tier; one
that needs QEMU goes under tests/emulator. Other markers (e.g. `slow` on one long test of another
tier) are still set by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_MODELS = REPO / "tests" / "data" / "mlperf-tiny"

TIERS = ("unit", "toolchain", "emulator", "slow")

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


@pytest.fixture(scope="session")
def cache_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """`cache_dir(name)`: a folder for models the tests make once (pytest's cache, kept across
    runs; a session temp folder under `-p no:cacheprovider`)."""

    def folder(name: str) -> Path:
        store = getattr(request.config, "cache", None)
        if store is not None:
            return Path(store.mkdir(name))
        path = tmp_path_factory.getbasetemp() / name
        path.mkdir(exist_ok=True)
        return path

    return folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with the tier of the folder it is in."""
    tests = REPO / "tests"
    for item in items:
        try:
            folder = Path(str(item.path)).resolve().relative_to(tests).parts[0]
        except ValueError:  # a test outside tests/ (pytester runs, for instance)
            continue
        if folder in TIERS:
            item.add_marker(getattr(pytest.mark, folder))
