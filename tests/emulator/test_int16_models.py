"""Whole 16x8 models (int16 activations, int8 weights, int64 biases, int16 I/O, as TF's converter
writes them) as firmware in QEMU on the Cortex-M4 (mps2-an386, DSP-extension kernels with their
inline assembly) and the Cortex-M55 (mps3-an547), byte for byte against TFLite Micro: a small CNN
(conv, depthwise, pools, pad, mean, softmax), a small MLP (FC, tanh, logistic, mul, add, sub,
concatenation, softmax), MLPerf Tiny's keyword-spotting DS-CNN quantized 16x8, and a model
through every branch of the DSP 16x8 kernels.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tinyforge import api

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

from _int16_models import convert16, dsp_gauntlet16, kws16  # noqa: E402

pytestmark = pytest.mark.emulator

BOARDS = ["mps2-an386", "mps3-an547"]
# KWS 16x8 on the M4 measured 5.52 M instructions per inference (0.48 MACs/instruction); the
# budget catches a kernel falling back to the portable path (about 4x slower)
KWS16_M4_BUDGET = 6_500_000


def _model(name: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(kws16() if name == "kws16" else convert16({"model": name}))
    return path


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("name", ["small_cnn", "small_mlp", "kws16"])
def test_16x8_model_is_bit_exact_in_qemu(name: str, board: str, tmp_path: Path) -> None:
    path = _model(name, tmp_path)
    compiled = api.compile(api.load_int8_model(path), board)
    heavy = [lay.call.function for lay in compiled.layers if lay.call.macs and lay.op.kind != "MUL"]
    assert heavy and all(f.startswith("tf_dsp_") and f.endswith("_s16") for f in heavy), heavy
    rep = api.test_emulator(path, board, inputs=3, seed=7, workdir=tmp_path / "run", timeout=180)
    assert rep.bit_exact and rep.mismatched_bytes == 0, rep.first_mismatch
    if name == "kws16" and board == "mps2-an386":
        ipi = rep.extra["instructions_per_inference"]
        assert ipi <= KWS16_M4_BUDGET, f"{ipi:,} instructions per inference"


@pytest.mark.parametrize("board", BOARDS)
def test_dsp_kernel_branches_in_qemu(board: str, tmp_path: Path) -> None:
    """The inline assembly of the DSP 16x8 kernels on every branch (tails, int64 runs, 4x1
    blocks, int32 wrap, clipped depthwise windows): byte for byte against TFLM."""
    path = tmp_path / "gauntlet16.tflite"
    path.write_bytes(dsp_gauntlet16())
    rep = api.test_emulator(path, board, inputs=4, seed=3, workdir=tmp_path / "run", timeout=180)
    assert rep.bit_exact and rep.mismatched_bytes == 0, rep.first_mismatch


def test_dsp_kernel_branches_in_qemu_built_for_size(tmp_path: Path) -> None:
    """The same built with `--opt size` (-Os: the inline assembly under other register pressure)."""
    path = tmp_path / "gauntlet16.tflite"
    path.write_bytes(dsp_gauntlet16())
    api.build(path, "mps2-an386", tmp_path / "os", opt="size", inputs=3, seed=4)
    rep = api.test_emulator(tmp_path / "os", timeout=180)
    assert rep.bit_exact and rep.mismatched_bytes == 0, rep.first_mismatch
