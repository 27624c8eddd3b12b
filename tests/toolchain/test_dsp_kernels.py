"""The DSP-extension kernels (firmware/kernels/dsp/) on the host, through the portable shim in
tf_acle.h: every MLPerf Tiny model and the edge-case models bit-exact with the TFLM reference in
every `--optimize` mode (int8 weights in flash, or widened to int16), with and without sanitizers;
depthwise convolutions of any shape (property test); what each mode may spend flash on; RAM at the
liveness bound. (tests/emulator/test_dsp_qemu.py runs the same on a Cortex-M4 in QEMU, where the
assembly runs instead of the shim.)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from tinyforge.codegen.inputs import InputSet, pattern_inputs, random_inputs
from tinyforge.compiler import CompiledModel, arena_limit, compile_model
from tinyforge.kernels.registry import Target
from tinyforge.model.tflite import parse_tflite, read_tflite
from tinyforge.run.host import build_host, run_host
from tinyforge.run.verify import compare

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))

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
from _mve_models import add_model, conv_model, dense_model, depthwise_model  # noqa: E402

from tinyforge.kernels.ops.dsp import conv as conv_ops  # noqa: E402

DSP = Target(cpu="cortex-m4", features=frozenset({"dsp"}))
MODES = ("size", "balanced", "speed")


def dsp(optimize: str) -> Target:
    return Target(cpu="cortex-m4", features=frozenset({"dsp"}), optimize=optimize)


DSP_KERNELS = {
    "tf_dsp_conv_s8",
    "tf_dsp_depthwise_s8",
    "tf_dsp_depthwise_direct_s8",
    "tf_dsp_fully_connected_s8",
    "tf_dsp_add_s8",
    "tf_dsp_avg_pool_s8",
}


def run_dsp_on_host(compiled: CompiledModel, data: InputSet, work: Path, *, sanitize: bool = False) -> int:
    """Mismatched output bytes against the reference."""
    run = run_host(build_host(compiled, work, sanitize=sanitize), data.records())
    cmp = compare(compiled, data, [r.outputs for r in run.results])
    return cmp.mismatched_bytes


def with_pattern(compiled: CompiledModel, count: int, seed: int) -> InputSet:
    rnd = random_inputs(compiled.inputs, count, seed)
    return InputSet(pattern_inputs(compiled.inputs).arrays + rnd.arrays)


@pytest.mark.parametrize("optimize", ["size", "speed"])
@pytest.mark.parametrize("name", ["kws", "resnet", "vww", "ad"])
def test_mlperf_models_bit_exact_on_the_dsp_path(
    name: str, optimize: str, shared_models: dict[str, Path], tmp_path: Path
) -> None:
    compiled = compile_model(read_tflite(shared_models[name]), dsp(optimize))
    used = {lay.call.function for lay in compiled.layers}
    heavy = {lay.op.kind for lay in compiled.layers} & {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
    assert heavy and all(
        lay.call.function.startswith("tf_dsp_") for lay in compiled.layers if lay.op.kind in heavy
    ), used
    assert run_dsp_on_host(compiled, with_pattern(compiled, 4, 1), tmp_path) == 0


def test_dsp_path_is_sanitizer_clean(shared_models: dict[str, Path], tmp_path: Path) -> None:
    compiled = compile_model(read_tflite(shared_models["kws"]), DSP)
    assert run_dsp_on_host(compiled, with_pattern(compiled, 1, 2), tmp_path, sanitize=True) == 0


EDGE_MODELS = {
    "dsp": dsp_model,
    "dsp_conv": dsp_conv_model,
    "dsp_conv_blocks": dsp_conv_blocks_model,
    "dsp_dense": dsp_dense_model,
    "dsp_add": dsp_add_model,
    "mve_conv": conv_model,
    "mve_depthwise": depthwise_model,
    "mve_dense": dense_model,
    "mve_add": add_model,
}


@pytest.mark.parametrize("optimize", ["size", "speed"])
@pytest.mark.parametrize("name", sorted(EDGE_MODELS))
def test_edge_cases_bit_exact(name: str, optimize: str, tmp_path: Path) -> None:
    path = EDGE_MODELS[name](tmp_path / f"{name}.tflite")
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), dsp(optimize))
    used = [lay.call.function for lay in compiled.layers]
    assert DSP_KERNELS & set(used), used
    assert run_dsp_on_host(compiled, with_pattern(compiled, 3, 3), tmp_path / "w", sanitize=True) == 0


def test_edge_model_takes_every_dsp_branch(tmp_path: Path) -> None:
    """The edge-case model really reaches the DSP kernels (a fallback to the portable ones would
    make the bit-exact test above prove nothing about them)."""
    path = dsp_model(tmp_path / "dsp.tflite")
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), DSP)
    funcs = [lay.call.function for lay in compiled.layers]
    assert sum(f.startswith("tf_dsp_depthwise") for f in funcs) == 8, funcs
    assert funcs.count("tf_dsp_conv_s8") == 11, funcs
    assert funcs.count("tf_dsp_avg_pool_s8") == 3, funcs
    comments = " | ".join(lay.call.comment for lay in compiled.layers)
    assert "x2" in comments  # the depth multiplier


def test_conv_model_reaches_the_expanded_weights(tmp_path: Path) -> None:
    """With int8 weights, convolutions with room in the arena expand them to int16 in the scratch
    (wexpand): the conv edge model reaches that path with odd and even chunk pairs (the blocks'
    mid-loop entry), odd out_c, clamps and few input channels (`few` tap order); the layer at the
    arena's peak keeps the int8 kernel."""
    path = dsp_conv_model(tmp_path / "conv.tflite")
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), dsp("size"))
    convs = [lay.call for lay in compiled.layers if lay.call.function == "tf_dsp_conv_s8"]
    expanded = [dict(c.params) for c in convs if dict(c.params)["wexpand"]]
    assert len(expanded) >= 10, [c.comment for c in convs]
    assert {p["kpad"] // 8 % 2 for p in expanded} == {0, 1}
    assert any(p["out_c"] % 2 for p in expanded) and any(p["act_max"] < 127 for p in expanded)
    assert all(" x16" in c.comment for c in convs if dict(c.params)["wexpand"])
    # few input channels: the packer's tap order, 3x3 over 3 (straight-line im2col) and others
    few = [p for p in expanded if p["few"]]
    assert any(p["in_c"] == 3 and p["k_h"] == p["k_w"] == 3 for p in few)
    assert any(p["in_c"] != 3 for p in few)
    assert compiled.stats.arena_bytes <= compiled.stats.liveness_bound + 128
    speed = compile_model(parse_tflite(path.read_bytes(), str(path)), dsp("speed"))
    assert not any(dict(lay.call.params).get("wexpand") for lay in speed.layers)


def test_unfoldable_layers_keep_the_portable_kernel(tmp_path: Path) -> None:
    """Multipliers >= 0.5 leave no right shift to fold the rounding into: portable kernel, still exact."""
    path = depthwise_model(tmp_path / "dw.tflite")
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), DSP)
    funcs = [lay.call.function for lay in compiled.layers]
    # the portable fallback: the fast portable kernel (depth multiplier 1) or the reference one
    assert {"tf_depthwise_conv2d_s8", "tf_fast_dw_s8"} & set(funcs) and "tf_dsp_depthwise_s8" in funcs


def test_host_board_keeps_the_portable_kernels(shared_models: dict[str, Path]) -> None:
    compiled = compile_model(read_tflite(shared_models["kws"]), Target())
    assert not any(lay.call.function.startswith("tf_dsp_") for lay in compiled.layers)
    # and the DSP sources are only compiled for boards with the feature
    assert not any("dsp" in p.parts for p in compiled.project.kernel_sources)


def test_int16_weight_stream_layout() -> None:
    """The packer's weight stream is what the kernel's LDRDs expect: per channel pair and 4 taps,
    channel 0's (k0, k2), (k1, k3) then channel 1's."""
    from tinyforge.kernels.ops.dsp import fold

    w = np.arange(2 * 8).reshape(2, 8)
    words = fold.int16_words(fold.interleave(fold.lane_order(w), 2))
    halves = [(int(v) & 0xFFFF, (int(v) >> 16) & 0xFFFF) for v in words]
    assert halves[:4] == [(0, 2), (1, 3), (8, 10), (9, 11)]
    assert halves[4:] == [(4, 6), (5, 7), (12, 14), (13, 15)]


@pytest.mark.parametrize("optimize", ["size", "balanced"])
def test_depthwise_shapes_bit_exact(optimize: str, tmp_path: Path) -> None:
    """Depthwise shapes besides 3x3 (k x 1 time filters with strides and dilations, 1 x k, 10x8 stride
    2 with depth multiplier 8, 5x5, 7x7, 1x1, 2x2) all take the DSP kernel and match TFLM."""
    path = dsp_depthwise_shapes_model(tmp_path / "dw.tflite")
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), dsp(optimize))
    funcs = [lay.call.function for lay in compiled.layers]
    assert all(f.startswith("tf_dsp_depthwise") for f in funcs), funcs
    comments = [lay.call.comment for lay in compiled.layers]
    assert sum(c.endswith(" T") for c in comments) >= 2  # tall kernels on planes: transposed
    planes = [dict(lay.call.params)["planes"] for lay in compiled.layers]
    assert 4 in planes and 1 in planes  # time filters gather four channels at once, images one
    # the direct channel-last path and the planes both (tinyforge/kernels/ops/dsp/conv.py use_direct):
    # in `size` only time filters go direct (2-D kernels keep the planes, whose code is linked anyway)
    direct = [dict(lay.call.params)["direct"] for lay in compiled.layers]
    time_filter = ["1" in c.split()[1].split("x") for c in comments]  # "dw 3x1 ...": k x 1 or 1 x k
    # and clamped 3x3 (their plane loops are C)
    clamped3 = [
        c.split()[1] == "3x3"
        and (dict(lay.call.params)["act_min"], dict(lay.call.params)["act_max"]) != (-128, 127)
        for c, lay in zip(comments, compiled.layers, strict=True)
    ]
    bits = [dict(lay.call.variants).get("TF_DSP_DW4_VARIANTS") for lay in compiled.layers]
    union = shifts = 0
    for b in bits:
        union |= b or 0
    for lay in compiled.layers:
        shifts |= dict(lay.call.variants).get("TF_DSP_DW4_SHIFTS") or 0
    # the shift runs (bits 12-27: full range, folded clamp, SSUB8 / SEL at act_min or both) where
    # the old runs would correct and clamp, or on long time filters; two shifts S
    assert shifts == 0xF00, hex(shifts)
    if optimize == "size":
        assert sum(direct) >= 12 and any(clamped3), direct
        assert all(not d or t or k for d, t, k in zip(direct, time_filter, clamped3, strict=True)), direct
        # one-row runs, 3-tap single rows, and the clamped 3x3's rows of 3 taps (1-3 rows, shift runs)
        assert union == 0xED0005F, hex(union)
    else:
        assert sum(direct) >= 15 and direct.count(0) >= 3, direct
        # every assembly run of the direct path (TF_DSP_DW4_VARIANTS), and layers all in C (tiny maps)
        assert union == 0xED000FF and 0 in bits, hex(union)
    assert run_dsp_on_host(compiled, with_pattern(compiled, 3, 5), tmp_path / "w", sanitize=True) == 0


def test_depthwise_shift_identity() -> None:
    """tf_dsp_depthwise.c tf_dw4_shift_setup: SMMLA of the accumulator scaled by 2^e with
    kq' = kq 2^e + 2^(e-1), then >> S (S = rshift + e), equals SMMLAR then >> rshift for every
    accumulator (exhaustive near the rounding edges, random elsewhere)."""
    rng = np.random.default_rng(3)
    for _ in range(400):
        rs, e = int(rng.integers(1, 24)), int(rng.integers(1, 8))
        m = int(rng.integers(1 << 30, 1 << 31))
        zp2p1 = 2 * int(rng.integers(-128, 128)) + 1 - 2 * int(rng.integers(-100, 100))
        kq = conv_ops._kq(zp2p1, rs)
        kq2 = kq * (1 << e) + (1 << (e - 1))
        base = int(rng.integers(-(1 << 22), 1 << 22))
        step = max(1, (1 << (32 + rs)) // m)  # one output step of the accumulator
        for a in [base + d for d in range(-3 * step, 3 * step, max(1, step // 64))]:
            want = (((a * m + (1 << 31)) >> 32) + kq) >> rs
            got = (((a << e) * m >> 32) + kq2) >> (rs + e)
            assert got == want, (a, m, rs, e, kq)


def test_depthwise_shift_runs_bit_exact(tmp_path: Path) -> None:
    """The shift requantization (conv.py direct_shift) on the host (its C twin of the assembly
    runs), under the sanitizers: every clamp flavour, strides, dilation, 1-3 kernel rows."""
    path = dsp_depthwise_shift_model(tmp_path / "s.tflite")
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), dsp("balanced"))
    shifts = [dict(lay.call.params).get("shift", 0) for lay in compiled.layers]
    assert sum(1 for s in shifts if s) >= 10 and 0 in shifts, shifts
    assert run_dsp_on_host(compiled, with_pattern(compiled, 3, 7), tmp_path / "w", sanitize=True) == 0


@pytest.mark.parametrize("optimize", ["size", "speed"])
def test_depthwise_rows_of_3_bit_exact(optimize: str, tmp_path: Path) -> None:
    """3x3 maps (plane rows of 3 outputs: the M4's row-of-3 runs, conv.py tiny_row_bits) stay on the
    planes in every mode; on the host their C loops match TFLM under the sanitizers."""
    path = dsp_depthwise_tiny_model(tmp_path / "t.tflite")
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), dsp(optimize))
    bits = [dict(lay.call.variants).get("TF_DSP_DW_VARIANTS", 0) for lay in compiled.layers]
    assert sorted(b for b in bits if b & 0xCF) == [1, 1, 1, 1, 2, 2, 4, 4, 8, 8, 0x40, 0x40, 0x80], bits
    assert not any(
        dict(lay.call.params)["direct"] for lay, b in zip(compiled.layers, bits, strict=True) if b & 0xCF
    )
    assert run_dsp_on_host(compiled, with_pattern(compiled, 3, 9), tmp_path / "w", sanitize=True) == 0


@pytest.mark.parametrize("seed", range(4))
def test_random_depthwise_shapes_bit_exact(seed: int, tmp_path: Path) -> None:
    """Property test: depthwise layers of random kernel, stride, dilation, depth multiplier,
    padding and activation on random input sizes (10 per model), under the sanitizers; odd seeds in
    `size` (2-D kernels on the planes), even ones in `balanced` (strided / clamped ones direct)."""
    path = random_depthwise_model(tmp_path / "r.tflite", seed)
    compiled = compile_model(
        parse_tflite(path.read_bytes(), str(path)), dsp("size" if seed % 2 else "balanced")
    )
    funcs = [lay.call.function for lay in compiled.layers]
    assert sum(f.startswith("tf_dsp_depthwise") for f in funcs) >= 8, funcs
    assert run_dsp_on_host(compiled, with_pattern(compiled, 2, seed), tmp_path / "w", sanitize=True) == 0


@pytest.mark.parametrize("optimize", ["size", "speed"])
@pytest.mark.parametrize("seed", range(3))
def test_random_dense_shapes_bit_exact(seed: int, optimize: str, tmp_path: Path) -> None:
    """Property test: FULLY_CONNECTED layers of random rows, depths (tails, output depths not
    multiples of 4), activations, output zero points (-128: the `fast` requantization) and
    per-tensor / per-channel weights, with int8 and int16 weights, under the sanitizers."""
    path = random_dense_model(tmp_path / "r.tflite", seed)
    compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), dsp(optimize))
    funcs = [lay.call.function for lay in compiled.layers]
    assert funcs.count("tf_dsp_fully_connected_s8") >= 8, funcs
    assert run_dsp_on_host(compiled, with_pattern(compiled, 3, seed), tmp_path / "w", sanitize=True) == 0


@pytest.mark.parametrize("optimize", ["size", "speed"])
def test_lean_dense_bit_exact(optimize: str, tmp_path: Path) -> None:
    """FULLY_CONNECTED layers at the arena's peak (lean: the int8 row unpacked in the loop), every
    entry step of the run's loop, both requantizations, per-tensor and per-channel weights, under
    the sanitizers."""
    for case in range(len(LEAN_DENSE_CASES)):
        path = lean_dense_model(tmp_path / f"m{case}.tflite", case)
        compiled = compile_model(parse_tflite(path.read_bytes(), str(path)), dsp(optimize))
        assert compiled.layers[0].call.comment.endswith(" lean")
        inputs = with_pattern(compiled, 3, case)
        assert run_dsp_on_host(compiled, inputs, tmp_path / f"w{case}", sanitize=True) == 0


@pytest.mark.parametrize("seed", [1, 5])
def test_random_wide_depthwise_shapes_bit_exact(seed: int, tmp_path: Path) -> None:
    """The same over the wider range (kernels up to 15, strides and dilations up to 3, depth
    multipliers up to 8, channel counts not multiples of 4): layers the DSP kernel refuses keep
    the portable one; all bit-exact under the sanitizers (seed 1 in `size`, 5 in `balanced`)."""
    path = random_depthwise_model(tmp_path / "r.tflite", seed, layers=8, wide=True)
    compiled = compile_model(
        parse_tflite(path.read_bytes(), str(path)), dsp("size" if seed == 1 else "balanced")
    )
    funcs = [lay.call.function for lay in compiled.layers]
    assert sum(f.startswith("tf_dsp_depthwise") for f in funcs) >= 4, funcs
    assert run_dsp_on_host(compiled, with_pattern(compiled, 2, seed), tmp_path / "w", sanitize=True) == 0


def test_keras_depthwise_shapes_bit_exact(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """DepthwiseConv2D layers built with Keras and converted by TensorFlow (time kernels (k, 1) with
    strides and dilation, micro_speech's 10x8 stride 2 with depth multiplier 8, 1x5 stride (1, 2)
    multiplier 2): the DSP kernel on the host, bit-exact."""
    from _keras_dw import keras_depthwise_model

    model = keras_depthwise_model(Path(request.config.cache.mkdir("tinyforge-keras-dw")))
    compiled = compile_model(read_tflite(model), dsp("size"))
    funcs = [lay.call.function for lay in compiled.layers]
    assert len(funcs) == 7 and all(f.startswith("tf_dsp_depthwise") for f in funcs), funcs
    assert run_dsp_on_host(compiled, with_pattern(compiled, 3, 6), tmp_path / "w", sanitize=True) == 0


@pytest.mark.parametrize("name", ["kws", "resnet", "vww", "ad"])
def test_optimize_modes_spend_flash_as_they_say(name: str, shared_models: dict[str, Path]) -> None:
    """size: int8 weights, the image's constant data at most 1.02x the model's; balanced: int8
    weights (ADD tables allowed); speed: conv/FC weights widened to int16."""
    loaded = read_tflite(shared_models[name])
    size, balanced, speed = (compile_model(loaded, dsp(m)) for m in MODES)
    assert size.stats.weights_mode == balanced.stats.weights_mode == "int8"
    assert size.stats.weight_bytes <= 1.02 * size.stats.weights_model_bytes
    assert not any(lay.call.widened for lay in size.layers + balanced.layers)
    assert speed.stats.weights_mode == "int16 expanded"
    assert speed.stats.weight_bytes > 1.5 * size.stats.weight_bytes
    assert balanced.stats.weight_bytes >= size.stats.weight_bytes  # tables, never wider weights
    heavy = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
    for c in (size, balanced, speed):
        assert all(lay.call.function.startswith("tf_dsp_") for lay in c.layers if lay.op.kind in heavy)


LIVENESS_BOUND = {"kws": 16_000, "resnet": 49_152, "vww": 55_296, "ad": 768}  # shared/ANCHORS.md


@pytest.mark.parametrize("optimize", MODES)
@pytest.mark.parametrize("name", ["kws", "resnet", "vww", "ad"])
def test_arena_at_most_the_liveness_bound(name: str, optimize: str, shared_models: dict[str, Path]) -> None:
    """In-place execution, tied buffers (a convolution writing its output just before its input)
    and the lean fully-connected variant keep every arena, scratch included, at or under the
    anchors' liveness bound of the activations (`speed`: a third more, compiler.arena_limit; AD's
    last layer keeps its expanded row there, 1,024 B)."""
    compiled = compile_model(read_tflite(shared_models[name]), dsp(optimize))
    assert compiled.stats.liveness_bound == LIVENESS_BOUND[name]
    assert compiled.stats.arena_bytes <= arena_limit(LIVENESS_BOUND[name], optimize)
    if optimize != "speed" or name != "ad":
        assert compiled.stats.arena_bytes <= LIVENESS_BOUND[name]
    if name == "ad":
        lean = [lay.op.index for lay in compiled.layers if lay.call.comment.endswith("lean")]
        assert lean == ([0] if optimize == "speed" else [0, 9])
