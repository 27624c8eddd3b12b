"""The DSP-extension kernels on a Cortex-M4 (mps2-an386) in QEMU, where their assembly runs: the
MLPerf Tiny models, the edge-case models and depthwise convolutions of any shape bit-exact with TFLM
in every `--optimize` mode; the per-layer table of `tinyforge bench`. (The instruction counts the
issues ask for are measured by benchmarks/bench_mlperf.py, not asserted here.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tinyforge import api
from tinyforge.compiler import compile_model
from tinyforge.kernels.registry import Target
from tinyforge.model.tflite import parse_tflite

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _dsp_models import (  # noqa: E402
    LEAN_DENSE_CASES,
    dsp_add_model,
    dsp_conv_blocks_model,
    dsp_conv_model,
    dsp_dense_model,
    dsp_depthwise_shapes_model,
    dsp_depthwise_shift_model,
    dsp_depthwise_tiny_model,
    dsp_model,
    lean_dense_model,
    random_dense_model,
    random_depthwise_model,
)

BOARD = "mps2-an386"

# Code besides weights (kernels and runtime) per `--optimize` mode, measured with VWW, the largest:
# 21,747 B in `size` (its stride-2 3x3 depthwise layers on the planes: use_direct keeps 2-D kernels
# there), 26,339 B in `balanced` (those layers on the direct path's 3-row assembly runs, with the
# border copies) and 26,400 in `speed` (that and the wide stream's 16-chunk conv block loop); only
# the runs a model calls are linked (the fully-connected assembly runs, the conv and depthwise
# variants). Each guard is the measured figure + ~1 KB.
CODE_GUARD = {"size": 22_800, "balanced": 27_400, "speed": 27_400}


@pytest.mark.parametrize("optimize", ["size", "speed"])
@pytest.mark.parametrize("name", ["kws", "resnet", "vww", "ad"])
def test_mlperf_model_bit_exact(
    name: str, optimize: str, shared_models: dict[str, Path], tmp_path: Path
) -> None:
    rep = api.bench(shared_models[name], BOARD, optimize=optimize, workdir=tmp_path)
    assert rep.bit_exact
    assert rep.optimize == optimize
    assert rep.weights_mode == ("int16 expanded" if optimize == "speed" else "int8")
    if optimize == "size":  # the image's constant data against the model's (ir/metrics.py)
        assert rep.flash.weights <= 1.02 * rep.weights_model_bytes
    assert rep.flash.kernels_runtime <= CODE_GUARD[optimize]


@pytest.mark.parametrize("optimize", ["size", "speed"])
@pytest.mark.parametrize(
    "builder",
    [
        dsp_model,
        dsp_conv_model,
        dsp_dense_model,
        dsp_add_model,
        dsp_depthwise_shapes_model,
        dsp_depthwise_shift_model,
    ],
    ids=lambda f: f.__name__,
)
def test_edge_cases_bit_exact_in_qemu(builder, optimize: str, tmp_path: Path) -> None:  # noqa: ANN001
    path = builder(tmp_path / "m.tflite")
    rep = api.test_emulator(path, BOARD, inputs=3, workdir=tmp_path / "b", timeout=60, optimize=optimize)
    assert rep.bit_exact, rep.first_mismatch


@pytest.mark.parametrize("optimize", ["size", "balanced", "speed"])
def test_conv_assembly_blocks_bit_exact_in_qemu(optimize: str, tmp_path: Path) -> None:
    """Every layer of the model runs the assembly channel blocks of its mode (int8, expanded int16 or
    the wide stream of `speed`), over every entry into their MAC loops and both requantizations."""
    path = dsp_conv_blocks_model(tmp_path / "m.tflite")
    target = Target(cpu="cortex-m4", features=frozenset({"dsp"}), optimize=optimize)
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), target)
    bits = [dict(lay.call.variants)["TF_DSP_CONV_VARIANTS"] for lay in compiled.layers]
    block = 0x10 if optimize == "speed" else 0x3
    assert all(b & block for b in bits), bits
    if optimize == "speed":
        assert sum(b & 0x20 != 0 for b in bits) == 2, bits  # the 1x1 im2col of both pixels
    rep = api.test_emulator(path, BOARD, inputs=3, workdir=tmp_path / "b", timeout=60, optimize=optimize)
    assert rep.bit_exact, rep.first_mismatch


# `size` keeps 2-D depthwise kernels on the planes, `balanced` sends the strided / clamped ones direct
@pytest.mark.parametrize(
    "seed,wide,optimize",
    [
        (0, False, "size"),
        (7, False, "balanced"),
        (3, False, "size"),
        (11, False, "balanced"),
        (5, True, "balanced"),
    ],
)
def test_random_depthwise_shapes_in_qemu(seed: int, wide: bool, optimize: str, tmp_path: Path) -> None:
    path = random_depthwise_model(tmp_path / "r.tflite", seed, layers=8 if wide else 10, wide=wide)
    rep = api.test_emulator(path, BOARD, inputs=3, workdir=tmp_path / "b", timeout=60, optimize=optimize)
    assert rep.bit_exact, rep.first_mismatch


@pytest.mark.parametrize("optimize", ["size", "balanced"])
def test_depthwise_rows_of_3_in_qemu(optimize: str, tmp_path: Path) -> None:
    """Plane rows of 3 outputs (3x3 maps) run whole in the row-of-3 assembly (tf_dw3t_*: stride 1
    and 2, with and without the rounding correction, transposed planes, one-channel gathers), and
    stride 2 along rows of 3k (tf_dw3l_*), on the planes in every mode (not direct: small maps),
    bit-exact on the M4."""
    path = dsp_depthwise_tiny_model(tmp_path / "m.tflite")
    compiled = api.compile(path, BOARD, optimize=optimize)
    bits = [dict(lay.call.variants).get("TF_DSP_DW_VARIANTS", 0) for lay in compiled.layers]
    union = 0
    for b in bits:
        union |= b
    assert union & 0xCF == 0xCF and bits.count(0) >= 2, bits
    direct = [
        dict(lay.call.params)["direct"] for lay, b in zip(compiled.layers, bits, strict=True) if b & 0xCF
    ]
    assert not any(direct), direct
    rep = api.test_emulator(path, BOARD, inputs=3, workdir=tmp_path / "b", timeout=60, optimize=optimize)
    assert rep.bit_exact, rep.first_mismatch


def test_depthwise_shift_runs_in_qemu(tmp_path: Path) -> None:
    """The direct path's shift runs (every clamp flavour, 1-3 kernel rows, rows of any length) in
    `balanced` next to the old runs, bit-exact on the M4."""
    path = dsp_depthwise_shift_model(tmp_path / "m.tflite")
    compiled = api.compile(path, BOARD, optimize="balanced")
    union = shifts = 0
    for lay in compiled.layers:
        v = dict(lay.call.variants)
        union |= v.get("TF_DSP_DW4_VARIANTS", 0)
        shifts |= v.get("TF_DSP_DW4_SHIFTS", 0)
    assert union == 0xFB55001 and shifts == 0xE00, (hex(union), hex(shifts))
    rep = api.test_emulator(path, BOARD, inputs=3, workdir=tmp_path / "b", timeout=60, optimize="balanced")
    assert rep.bit_exact, rep.first_mismatch


@pytest.mark.parametrize("optimize", ["size", "speed"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_dense_shapes_in_qemu(seed: int, optimize: str, tmp_path: Path) -> None:
    """FULLY_CONNECTED of random rows, depths, activations and zero points (lean and expanded rows,
    the full-range block loops and the clamped / tail path) with the assembly."""
    path = random_dense_model(tmp_path / "r.tflite", seed)
    rep = api.test_emulator(path, BOARD, inputs=3, workdir=tmp_path / "b", timeout=60, optimize=optimize)
    assert rep.bit_exact, rep.first_mismatch


@pytest.mark.parametrize("optimize", ["size", "speed"])
@pytest.mark.parametrize("case", range(len(LEAN_DENSE_CASES)))
def test_lean_dense_in_qemu(case: int, optimize: str, tmp_path: Path) -> None:
    """A FULLY_CONNECTED layer at the arena's peak (the lean variant: the int8 row unpacked in the
    assembly's loop), entering the 32-input loop at each step, fast and corrected requantization,
    per-tensor (the assembly runs) and per-channel int8 weights (the C block loops)."""
    path = lean_dense_model(tmp_path / "m.tflite", case)
    compiled = api.compile(path, BOARD, optimize=optimize)
    assert compiled.layers[0].call.comment.endswith(" lean")
    rep = api.test_emulator(path, BOARD, inputs=3, workdir=tmp_path / "b", timeout=60, optimize=optimize)
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
    d = rep.to_dict()
    assert d["optimize"] == "balanced" and d["weights_model_bytes"] == rep.weights_model_bytes > 0
    assert d["flash"]["weights"] <= 1.1 * d["weights_model_bytes"]


def test_keras_depthwise_shapes_in_qemu(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """DepthwiseConv2D layers built with Keras ((k, 1) time kernels with strides and dilation,
    10x8 stride 2 with depth multiplier 8) and converted by TensorFlow: bit-exact on the M4."""
    from _keras_dw import keras_depthwise_model

    model = keras_depthwise_model(Path(request.config.cache.mkdir("tinyforge-keras-dw")))
    compiled = api.compile(model, BOARD, optimize="size")
    funcs = [lay.call.function for lay in compiled.layers]
    assert len(funcs) == 7 and all(f.startswith("tf_dsp_depthwise") for f in funcs), funcs
    rep = api.test_emulator(model, BOARD, inputs=2, workdir=tmp_path / "b", timeout=60, optimize="size")
    assert rep.bit_exact, rep.first_mismatch
