"""The DSP-extension kernels on a Cortex-M4 (mps2-an386) in QEMU, where their inline assembly runs:
the MLPerf Tiny models and the edge-case models bit-exact with TFLM, and the instruction counts
that issue 8 asks for (<= 0.6x TFLM + CMSIS-NN and at or under the X-CUBE-AI cycle counts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tinyforge import api

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _dsp_models import dsp_add_model, dsp_dense_model, dsp_model  # noqa: E402

BOARD = "mps2-an386"
# instructions per inference that must not be exceeded on the Cortex-M4 (the goals)
GOALS = {"kws": 4_600_000, "resnet": 17_900_000, "vww": 10_700_000, "ad": 350_000}


@pytest.mark.parametrize("name", ["kws", "resnet", "vww", "ad"])
def test_mlperf_model_bit_exact_and_within_goal(
    name: str, shared_models: dict[str, Path], tmp_path: Path
) -> None:
    rep = api.bench(shared_models[name], BOARD, workdir=tmp_path)
    assert rep.bit_exact
    assert rep.instructions <= GOALS[name], f"{name}: {rep.instructions:,} instructions"
    assert rep.flash.kernels_runtime < 16 * 1024


@pytest.mark.parametrize("builder", [dsp_model, dsp_dense_model, dsp_add_model], ids=lambda f: f.__name__)
def test_edge_cases_bit_exact_in_qemu(builder, tmp_path: Path) -> None:  # noqa: ANN001
    path = builder(tmp_path / "m.tflite")
    rep = api.test_emulator(path, BOARD, inputs=3, workdir=tmp_path / "b", timeout=60)
    assert rep.bit_exact, rep.first_mismatch


def test_bench_layers_add_up(shared_models: dict[str, Path], tmp_path: Path) -> None:
    rep = api.bench(shared_models["kws"], BOARD, layers=True, workdir=tmp_path)
    assert len(rep.layers) == 12
    total = sum(x.instructions for x in rep.layers)
    # the profiling hooks add a little; every layer is counted once
    assert rep.instructions * 0.98 <= total <= rep.instructions * 1.05
    conv = [x for x in rep.layers if x.kernel == "tf_dsp_conv_s8"]
    assert conv and all(x.macs_per_instruction and x.macs_per_instruction > 0.5 for x in conv)
    assert rep.ram.stack_used > 0 and rep.ram.arena >= rep.ram.scratch > 0
    assert rep.flash.weights + rep.flash.kernels_runtime + rep.flash.harness == rep.flash.total


@pytest.mark.parametrize("builder", [dsp_model, dsp_dense_model], ids=lambda f: f.__name__)
def test_int8_weight_variant_in_qemu(builder, tmp_path: Path) -> None:  # noqa: ANN001
    """The int8-weight inner loops (boards with little flash) on the real instruction set."""
    from tinyforge.boards import load_board
    from tinyforge.codegen.inputs import random_inputs
    from tinyforge.compiler import compile_model
    from tinyforge.kernels.registry import Target
    from tinyforge.model.tflite import read_tflite
    from tinyforge.run.qemu import run_qemu
    from tinyforge.run.verify import compare

    path = builder(tmp_path / "m.tflite")
    compiled = compile_model(read_tflite(path), Target("cortex-m4", frozenset({"dsp"}), flash_bytes=1))
    assert any(lay.call.comment.endswith("w8") for lay in compiled.layers)
    data = random_inputs(compiled.inputs, 3, 5)
    res = api.build_firmware(compiled, BOARD, tmp_path / "b", data.records(), force=True)
    run = run_qemu(load_board(BOARD), res.elf, timeout=60)
    assert compare(compiled, data, [r.outputs for r in run.results]).bit_exact
