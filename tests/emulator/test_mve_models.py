"""The four MLPerf Tiny models on the Cortex-M55 (mps3-an547) with the Helium kernels, in QEMU:
bit-exact with the TFLM reference, within the instruction budget (0.8 x TFLM + CMSIS-NN on the
same core, ../shared/ANCHORS.md) on the anchors' input pattern, and in under 16 KB of code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinyforge import api

BOARD = "mps3-an547"
# TFLM + CMSIS-NN on the M55 (ANCHORS.md), instructions per inference
CMSIS_NN_M55 = {"kws": 1_813_718, "resnet": 4_910_156, "vww": 6_558_312, "ad": 150_000}
BUDGET = 0.8


@pytest.mark.parametrize("name", sorted(CMSIS_NN_M55))
def test_model_on_m55_is_bit_exact_and_within_budget(
    name: str, shared_models: dict[str, Path], tmp_path: Path
) -> None:
    model = shared_models[name]
    compiled = api.compile(api.load_int8_model(model), BOARD)
    kernels = {lay.call.function for lay in compiled.layers if lay.call.macs}
    assert kernels and all(k.startswith("tf_mve_") for k in kernels), kernels  # every MAC on Helium

    rep = api.test_emulator(model, BOARD, inputs=3, seed=5, workdir=tmp_path / "test", timeout=120)
    assert rep.bit_exact and rep.mismatched_bytes == 0, rep.first_mismatch

    bench = api.bench(model, BOARD, workdir=tmp_path / "bench")
    assert bench.bit_exact
    budget = BUDGET * CMSIS_NN_M55[name]
    assert bench.instructions <= budget, f"{name}: {bench.instructions:,} instructions > {budget:,.0f}"
    # code besides weights and harness under 16 KB (VWW 14.6 KB: the kernel variants it links)
    assert bench.flash.kernels_runtime < 16 * 1024, bench.flash
