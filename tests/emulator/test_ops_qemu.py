"""The activation, quantize and layout kernels cross-compiled for Cortex-M and run in QEMU: one
model chains them all (float DEQUANTIZE/QUANTIZE on the FPU or in soft float, int16 slices and
transposes, the scratch lookup tables) and must match TFLite Micro byte for byte on each core."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tinyforge import api

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))
from opmodels import ModelBuilder, options  # noqa: E402


def chain_model() -> bytes:
    m = ModelBuilder()
    shape = (4, 5, 30)  # 600 elements: LOGISTIC/TANH/HARD_SWISH take their lookup-table variants
    x = m.input(shape, "int8", 0.07, 5)
    f = m.tensor(shape, "float32")
    m.op("DEQUANTIZE", [x], [f])
    q = m.tensor(shape, "int8", 0.5, -3)  # 0.07 / 0.5 puts values on exact halves: rounding matters
    m.op("QUANTIZE", [f], [q])
    outs = []
    for kind, qo in [
        ("LOGISTIC", (1 / 256, -128)),
        ("TANH", (1 / 128, 0)),
        ("HARD_SWISH", (0.03, 7)),
        ("LEAKY_RELU", (0.04, -9)),
        ("RELU", (0.05, -128)),
        ("RELU6", (0.5, -3)),
    ]:
        o = m.tensor(shape, "int8", *qo)
        m.op(kind, [q], [o], options("LeakyReluOptions", alpha=0.3) if kind == "LEAKY_RELU" else None)
        outs.append(o)
    h = m.tensor(shape, "int16", 0.002, 0)
    m.op("QUANTIZE", [outs[2]], [h])
    begin = m.tensor((3,), "int32", data=[3, 0, 29])
    end = m.tensor((3,), "int32", data=[0, 5, 0])
    strides = m.tensor((3,), "int32", data=[-1, 2, -3])
    s16 = m.tensor((3, 3, 10), "int16", 0.002, 0)
    m.op("STRIDED_SLICE", [h, begin, end, strides], [s16], options("StridedSliceOptions"))
    perm = m.tensor((3,), "int32", data=[2, 0, 1])
    t16 = m.tensor((10, 3, 3), "int16", 0.002, 0)
    m.op("TRANSPOSE", [s16, perm], [t16])
    o8 = m.tensor((10, 3, 3), "int8", 0.03, 7)
    m.op("QUANTIZE", [t16], [o8])
    for o in [*outs[:2], *outs[3:], o8]:
        m.output(o)
    return m.build()


@pytest.mark.parametrize("board", ["mps2-an385", "mps2-an386", "mps2-an505"])  # M3 soft float, M4F, M33
def test_part_b_kernels_bit_exact_in_qemu(board: str, tmp_path: Path) -> None:
    model = tmp_path / "chain.tflite"
    model.write_bytes(chain_model())
    report = api.test_emulator(model, board, inputs=4, workdir=tmp_path / "build")
    assert report.bit_exact, report.first_mismatch
    assert report.inputs == 4 and report.scratch_bytes == 256
