"""The Helium (MVE) kernels on the Cortex-M55 in QEMU: the vector requantization equals the scalar
one lane by lane, and models made of the kernels' edge cases (tests/emulator/_mve_models.py:
odd channel counts, dot-product tails, single last rows, strides, dilation, per-tensor weights,
left shifts, other filter sizes) run bit-exact with the TFLM reference. Also: which boards get the
Helium kernels, and which layers keep the others."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from _mve_models import (
    LANES_LAYERS,
    LANES_SHIFT_LAYERS,
    Gauntlet,
    add_model,
    conv_model,
    conv_paths_model,
    dense_model,
    depthwise_model,
    lanes_model,
    lanes_shift_model,
    options,
    pool_model,
)

from tinyforge import api
from tinyforge.boards import load_board
from tinyforge.codegen.inputs import random_inputs
from tinyforge.resources import firmware_dir
from tinyforge.run.qemu import run_qemu
from tinyforge.run.verify import compare
from tinyforge.toolchain.gcc import build_program

BOARD = "mps3-an547"
DATA = Path(__file__).resolve().parents[1] / "data"


def test_vector_requantization_equals_the_scalar_code(tmp_path: Path) -> None:
    b = load_board(BOARD)
    img = build_program(
        b,
        [DATA / "firmware/mve_requant_check.c"],
        tmp_path,
        include_dirs=[firmware_dir() / "kernels"],
        opt="speed",
    )
    run = run_qemu(b, img.elf, timeout=60)
    assert run.log_value("first_mismatch") is None, run.logs
    assert int(run.log_value("mismatches") or -1) == 0
    assert int(run.log_value("checks") or 0) > 600_000


MODELS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "conv": (conv_model, "tf_mve_conv2d_s8"),
    "conv_paths": (conv_paths_model, "tf_mve_conv2d_s8"),
    "depthwise": (depthwise_model, "tf_mve_depthwise_conv2d_s8 tf_mve_dw_plane_s8"),
    "dense": (dense_model, "tf_mve_fully_connected_s8"),
    "add": (add_model, "tf_mve_add_s8"),
    "pool": (pool_model, "tf_mve_avg_pool_s8"),
}


@pytest.mark.parametrize("opt", ["speed", "size"])  # the inline assembly under both register allocations
@pytest.mark.parametrize("name", sorted(MODELS))
def test_edge_cases_run_bit_exact(name: str, opt: str, tmp_path: Path) -> None:
    build, kernel = MODELS[name]
    model = build(tmp_path / f"{name}.tflite")
    compiled = api.compile(api.load_int8_model(model), BOARD)
    assert {lay.call.function for lay in compiled.layers} == set(kernel.split())
    if name not in ("add", "pool"):  # some layers multiply by more than 1: the left-shift path
        assert any(dict(lay.call.params).get("left_shifts") for lay in compiled.layers)
    data = random_inputs(compiled.inputs, 4, seed=3)
    res = api.build_firmware(compiled, BOARD, tmp_path / "build", data.records(), opt=opt)
    run = run_qemu(load_board(BOARD), res.elf, timeout=60)
    cmp = compare(compiled, data, [r.outputs for r in run.results])
    assert cmp.bit_exact and cmp.inputs == 4, cmp


@pytest.mark.parametrize("board", ["host", "mps2-an386", "mps2-an505"])
def test_boards_without_helium_keep_their_kernels(board: str, tmp_path: Path) -> None:
    compiled = api.compile(api.load_int8_model(conv_model(tmp_path / "conv.tflite")), board)
    assert not any(lay.call.function.startswith("tf_mve_") for lay in compiled.layers)


def test_layers_the_helium_kernels_do_not_take_keep_the_others(tmp_path: Path) -> None:
    """Depth multiplier 2 and a weight of -128 (two taps would overflow int16) stay off the Helium
    3x3 depthwise kernel and go to the plane kernel (VMLADAVA sums in int32); the model still runs
    bit-exact on the M55."""
    g = Gauntlet(seed=9)
    g.input("x", (1, 5, 6, 8), 0.04, -5)
    g.depthwise("x", 3, 3)
    g.depthwise("x", 3, 3)
    g.add("x", "x")
    m = g.m
    # second depthwise: a weight of -128; an extra layer with depth multiplier 2
    weights = m.buffers[m.tensors[m.ops[1].inputs[1]].buffer]
    weights.data[0] = 0x80
    t, _, si, _ = g.inputs["x"]
    wt = m.tensor((1, 3, 3, 16), "int8", 0.01, 0, data=np.full((1, 3, 3, 16), 3), axis=3)
    b = m.tensor((16,), "int32", si * 0.01, 0, data=np.zeros(16, dtype=np.int32))
    y = m.tensor((1, 5, 6, 16), "int8", 0.5, 1)
    opt = options("DepthwiseConv2DOptions", padding=0, strideH=1, strideW=1, depthMultiplier=2)
    m.op("DEPTHWISE_CONV_2D", [t, wt, b], [y], opt)
    m.output(y)
    model = g.write(tmp_path / "mixed.tflite")
    compiled = api.compile(api.load_int8_model(model), BOARD)
    functions = [lay.call.function for lay in compiled.layers]
    assert functions[0] == "tf_mve_depthwise_conv2d_s8"
    assert functions[1] == functions[3] == "tf_mve_dw_plane_s8"
    assert functions[2] == "tf_mve_add_s8"
    rep = api.test_emulator(model, BOARD, inputs=2, workdir=tmp_path / "build", timeout=60)
    assert rep.bit_exact, rep.first_mismatch


@pytest.mark.parametrize("seed", [1, 5, 11])
def test_random_depthwise_shapes_bit_exact(seed: int, tmp_path: Path) -> None:
    """Property test of the depthwise kernels of any shape (kernel 1..15, stride 1..3, dilation
    1..3, depth multiplier 1..8, SAME/VALID, odd channel counts and widths) against TFLM."""
    from _dsp_models import random_depthwise_model

    model = random_depthwise_model(tmp_path / "r.tflite", seed, layers=8, wide=True)
    compiled = api.compile(api.load_int8_model(model), BOARD)
    functions = {lay.call.function for lay in compiled.layers}
    assert "tf_mve_dw_plane_s8" in functions
    rep = api.test_emulator(model, BOARD, inputs=3, workdir=tmp_path / "b", timeout=120)
    assert rep.bit_exact, rep.first_mismatch


@pytest.mark.parametrize("opt", ["speed", "size"])
def test_the_plane_kernels_lanes_path_runs_bit_exact(opt: str, tmp_path: Path) -> None:
    """Kernels of up to 6 taps take the lanes path (four outputs per vector, the plane rows split
    into phases by the stride): every stride 1-4, dilation, depth multiplier, padding and tiny map of
    tests/emulator/_mve_models.py LANES_LAYERS runs bit-exact; 7 taps and stride 5 keep the segment
    path in the same firmware."""
    model = lanes_model(tmp_path / "lanes.tflite")
    compiled = api.compile(api.load_int8_model(model), BOARD)
    lanes = [dict(lay.call.params)["lanes"] for lay in compiled.layers]
    assert lanes == [taps for *_, taps in LANES_LAYERS]
    data = random_inputs(compiled.inputs, 3, seed=4)
    res = api.build_firmware(compiled, BOARD, tmp_path / "build", data.records(), opt=opt)
    run = run_qemu(load_board(BOARD), res.elf, timeout=60)
    cmp = compare(compiled, data, [r.outputs for r in run.results])
    assert cmp.bit_exact and cmp.inputs == 3, cmp


@pytest.mark.parametrize("opt", ["speed", "size"])
def test_the_lanes_path_runs_channels_without_right_shifts_bit_exact(opt: str, tmp_path: Path) -> None:
    """Channels with a left shift or a shift of 0 take the lanes path's copy without the rounding
    step (weights and bias shifted left once per channel), beside right-shifting channels of the
    same layer: every layer of tests/emulator/_mve_models.py LANES_SHIFT_LAYERS (1-6 taps, strides
    1-4, dilation, depth multipliers, per-tensor shifts) runs bit-exact; 7 taps keep the segment
    path. The 1- and 2-tap layers have no right-shifting channel: the firmware links their copy
    without rounding alone."""
    model = lanes_shift_model(tmp_path / "shifts.tflite")
    compiled = api.compile(api.load_int8_model(model), BOARD)
    lanes = [dict(lay.call.params)["lanes"] for lay in compiled.layers]
    assert lanes == [taps for *_, taps in LANES_SHIFT_LAYERS]
    bits = [dict(lay.call.variants)["TF_MVE_DW_VARIANTS"] for lay in compiled.layers]
    right, left = (lambda t: 1 << (8 + t - 1)), (lambda t: 1 << (18 + t - 1))
    assert bits[0] == bits[1] == right(3) | left(3)  # mixed channels
    assert bits[2] == right(5) | left(5) and bits[3] == left(1) and bits[4] == left(2)
    assert bits[7] == bits[9] == left(6)  # every channel shifts left
    data = random_inputs(compiled.inputs, 3, seed=6)
    res = api.build_firmware(compiled, BOARD, tmp_path / "build", data.records(), opt=opt)
    run = run_qemu(load_board(BOARD), res.elf, timeout=60)
    cmp = compare(compiled, data, [r.outputs for r in run.results])
    assert cmp.bit_exact and cmp.inputs == 3, cmp
