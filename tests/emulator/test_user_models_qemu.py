"""Issue 12's models as firmware in QEMU, compared byte for byte with TFLM: float I/O (the edge
QUANTIZE/DEQUANTIZE in float on the M4's and M55's FPU, in soft float on the M3), a pruned
(sparse) model on the M4 and M55, and a mismatch in QEMU naming its first differing layer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

import _tf_models as tfm  # noqa: E402
from _fw_models import float_edge_inputs, float_edges  # noqa: E402

from tinyforge import api  # noqa: E402

pytestmark = pytest.mark.emulator

FLOAT_BOARDS = ["mps2-an386", "mps3-an547", "mps2-an385"]  # M4 (FPU), M55 (FPU + MVE), M3 (soft float)


@pytest.fixture(scope="module")
def float_io_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fio")
    return tfm.float_io(root / "float_io.tflite", root)


@pytest.mark.parametrize("board", FLOAT_BOARDS)
def test_float_io_model_in_qemu(board: str, float_io_model: Path, tmp_path: Path) -> None:
    rep = api.test_emulator(float_io_model, board, inputs=8, seed=4, workdir=tmp_path / "b", timeout=120)
    assert rep.bit_exact and rep.mismatched_bytes == 0, rep.first_mismatch
    assert rep.inputs == 8 and rep.extra["instructions_per_inference"] > 0


@pytest.mark.parametrize("board", FLOAT_BOARDS)
def test_float_edges_in_qemu(board: str, tmp_path: Path) -> None:
    """Float QUANTIZE/DEQUANTIZE on rounding ties, ulps around them, signed zeros, subnormals and
    saturating values: the same bytes as TFLM, with hardware or soft float."""
    path = float_edges(tmp_path / "edges.tflite")
    np.save(tmp_path / "x.npy", float_edge_inputs())
    rep = api.test_emulator(path, board, input_file=tmp_path / "x.npy", workdir=tmp_path / "b")
    assert rep.bit_exact and rep.inputs == 3, rep.first_mismatch


@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
def test_sparse_model_in_qemu(board: str, tmp_path: Path) -> None:
    path = tfm.sparse_int8(tmp_path / "sparse.tflite", "block")
    rep = api.test_emulator(path, board, inputs=6, workdir=tmp_path / "b")
    assert rep.bit_exact, rep.first_mismatch


def test_qemu_mismatch_names_first_layer(
    shared_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Corrupt one DSP layer's clamp on purpose: the QEMU report must name that layer."""
    from tinyforge import compiler
    from tinyforge.kernels.registry import KernelCall

    real = compiler.select

    def corrupt(graph: Any, op: Any, target: Any) -> KernelCall:
        call = real(graph, op, target)
        if op.index != 3:
            return call
        params = tuple((k, (v - 60 if k == "act_max" else v)) for k, v in call.params)
        return KernelCall(**{**call.__dict__, "params": params})

    monkeypatch.setattr(compiler, "select", corrupt)
    rep = api.test_emulator(shared_models["ad"], "mps2-an386", inputs=2, workdir=tmp_path / "b")
    assert not rep.bit_exact and rep.mismatched_bytes > 0
    m = rep.first_mismatch
    assert m is not None and m["op_index"] == 3 and m["kind"] == "FULLY_CONNECTED", m
