"""The faster portable kernels (firmware/kernels/fast/tf_fast_conv.c, tinyforge/kernels/ops/
fast/conv.py): odd shapes (channel counts not a multiple of 4, odd pixel counts, padding on every
side, strides, dilation, batches) bit-exact with TFLite Micro's reference interpreter, and the
reference kernels they replace still bit-exact on every layer of the MLPerf Tiny models.
(tests/toolchain/test_kernels_ref.py runs the fast kernels themselves on those layers.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _kernel_harness import case_for_op, mismatch_report, random_inputs, reference_tensors, run_cases
from opmodels import Lab, ModelBuilder, options

from tinyforge.kernels.registry import Target, select
from tinyforge.model.tflite import read_tflite

SAME, VALID = 0, 1
RELU = 1


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(tmp_path_factory.mktemp("fast"))


def _conv_model(h, w, cin, cout, k, stride, dil, pad, zi, seed, act=0, batch=1) -> bytes:  # noqa: ANN001
    rng = np.random.default_rng(seed)
    oh = (h + stride - 1) // stride if pad == SAME else (h - (k - 1) * dil - 1) // stride + 1
    ow = (w + stride - 1) // stride if pad == SAME else (w - (k - 1) * dil - 1) // stride + 1
    si = 0.05
    ws = rng.uniform(0.002, 0.02, cout).tolist()
    m = ModelBuilder()
    a = m.input((batch, h, w, cin), "int8", si, zi)
    wt = m.tensor((cout, k, k, cin), "int8", ws, 0, data=rng.integers(-127, 128, (cout, k, k, cin)))
    bs = m.tensor((cout,), "int32", [si * s for s in ws], 0, data=rng.integers(-3000, 3000, cout))
    o = m.tensor((batch, oh, ow, cout), "int8", si * max(ws) * np.sqrt(k * k * cin) * 48, -7)
    opt = options(
        "Conv2DOptions",
        padding=pad,
        strideH=stride,
        strideW=stride,
        dilationHFactor=dil,
        dilationWFactor=dil,
        fusedActivationFunction=act,
    )
    m.op("CONV_2D", [a, wt, bs], [o], opt)
    m.output(o)
    return m.build()


@pytest.mark.parametrize(
    ("h", "w", "cin", "cout", "k", "stride", "dil", "pad", "zi"),
    [
        (5, 3, 7, 5, 1, 1, 1, VALID, -128),  # direct 1x1, 15 pixels (odd), 5 channels
        (4, 4, 3, 9, 1, 2, 1, SAME, 17),  # strided 1x1: through the patch copy
        (7, 5, 3, 6, 3, 1, 1, SAME, 100),  # 3x3 padding on every side
        (9, 8, 2, 3, 3, 2, 1, SAME, -3),  # stride 2, SAME pads bottom/right only
        (8, 7, 5, 7, 3, 1, 2, SAME, 5),  # dilation
        (6, 6, 1, 1, 5, 1, 1, VALID, 127),  # one channel in and out, 5x5
        (6, 5, 17, 6, 3, 1, 1, SAME, 21),  # 17 channels: tap by tap (no patch copy), padded taps
        (7, 6, 20, 5, 3, 2, 2, SAME, -90),  # tap by tap, stride and dilation
        (5, 5, 16, 7, 3, 1, 1, SAME, 3),  # 3x3x16 = 144 bytes: the patch copy at its depth limit
        (6, 5, 8, 3, 6, 1, 1, SAME, -50),  # 6x6x8 = 288 bytes: the patch's size limit
        (7, 7, 8, 3, 7, 1, 1, SAME, -50),  # 7x7x8 = 392 bytes: over it, tap by tap
    ],
)
def test_conv_odd_shapes(lab: Lab, h, w, cin, cout, k, stride, dil, pad, zi) -> None:  # noqa: ANN001
    lab.exact(
        _conv_model(h, w, cin, cout, k, stride, dil, pad, zi, seed=h * w + cout, act=RELU),
        expect="tf_fast_conv_s8",
    )


@pytest.mark.parametrize(
    ("cin", "k", "im2col"), [(1, 5, 1), (16, 3, 1), (8, 6, 1), (8, 7, 0), (17, 3, 0), (32, 3, 0), (64, 1, 0)]
)
def test_conv_copies_patches_of_shallow_inputs(cin: int, k: int, im2col: int) -> None:
    """im2col for inputs of at most 16 channels whose patch fits TF_FAST_PATCH (288 bytes);
    1x1 stride-1 convolutions read their input directly."""
    from tinyforge.model.tflite import parse_tflite

    graph = parse_tflite(_conv_model(8, 8, cin, 4, k, 1, 1, SAME, 0, seed=1), "<m>").graph
    call = select(graph, graph.ops[0], Target(cpu="cortex-m3"))
    fields = dict(call.params)
    assert call.function == "tf_fast_conv_s8"
    assert (fields["im2col"], fields["direct"]) == (im2col, int(k == 1))


def test_conv_batches(lab: Lab) -> None:
    lab.exact(_conv_model(3, 3, 4, 5, 3, 1, 1, SAME, 9, seed=3, batch=3), expect="tf_fast_conv_s8")


@pytest.mark.parametrize(
    ("h", "w", "c", "k", "stride", "dil", "pad", "zi"),
    [
        (5, 5, 5, 3, 1, 1, SAME, -128),  # 4 channels blocked + 1 left over
        (8, 7, 7, 3, 2, 1, SAME, 33),
        (9, 9, 8, 5, 2, 1, VALID, -20),
        (7, 6, 3, 3, 1, 2, SAME, 0),  # fewer channels than one block, dilation
        (10, 4, 12, 8, 1, 1, SAME, 64),  # 64 taps: the kernel's limit
    ],
)
def test_depthwise_odd_shapes(lab: Lab, h, w, c, k, stride, dil, pad, zi) -> None:  # noqa: ANN001
    rng = np.random.default_rng(h * c + k)
    oh = (h + stride - 1) // stride if pad == SAME else (h - (k - 1) * dil - 1) // stride + 1
    ow = (w + stride - 1) // stride if pad == SAME else (w - (k - 1) * dil - 1) // stride + 1
    si = 0.03
    ws = rng.uniform(0.002, 0.02, c).tolist()
    kh = kw = k
    m = ModelBuilder()
    a = m.input((1, h, w, c), "int8", si, zi)
    wt = m.tensor((1, kh, kw, c), "int8", ws, 0, data=rng.integers(-127, 128, (1, kh, kw, c)), axis=3)
    bs = m.tensor((c,), "int32", [si * s for s in ws], 0, data=rng.integers(-3000, 3000, c))
    o = m.tensor((1, oh, ow, c), "int8", si * max(ws) * kh * 20, 3)
    opt = options(
        "DepthwiseConv2DOptions",
        padding=pad,
        strideH=stride,
        strideW=stride,
        depthMultiplier=1,
        dilationHFactor=dil,
        dilationWFactor=dil,
        fusedActivationFunction=RELU,
    )
    m.op("DEPTHWISE_CONV_2D", [a, wt, bs], [o], opt)
    m.output(o)
    lab.exact(m.build(), expect="tf_fast_dw_s8")


@pytest.mark.parametrize(
    ("batch", "n", "units", "bias"), [(1, 37, 7, True), (3, 5, 1, False), (2, 64, 10, True)]
)
def test_fully_connected_odd_shapes(lab: Lab, batch: int, n: int, units: int, bias: bool) -> None:
    rng = np.random.default_rng(n)
    si, ws = 0.04, 0.01
    m = ModelBuilder()
    a = m.input((batch, n), "int8", si, -11)
    wt = m.tensor((units, n), "int8", ws, 0, data=rng.integers(-127, 128, (units, n)))
    bs = m.tensor((units,), "int32", si * ws, 0, data=rng.integers(-3000, 3000, units)) if bias else -1
    o = m.tensor((batch, units), "int8", si * ws * np.sqrt(n) * 48, 12)
    m.op("FULLY_CONNECTED", [a, wt, bs], [o], options("FullyConnectedOptions", fusedActivationFunction=0))
    m.output(o)
    lab.exact(m.build(), expect="tf_fast_conv_s8")


REFERENCE = {
    "CONV_2D": "conv2d_s8",
    "DEPTHWISE_CONV_2D": "depthwise_conv2d_s8",
    "FULLY_CONNECTED": "fully_connected_s8",
}


@pytest.mark.parametrize("model", ["kws", "ad", "resnet", "vww"])
def test_reference_kernels_still_bit_exact(
    model: str, shared_models: dict[str, Path], tmp_path: Path
) -> None:
    """select() now prefers the fast kernels; the reference ones, run by name, stay exact."""
    loaded = read_tflite(shared_models[model])
    graph = loaded.graph
    ops = [op for op in graph.ops if op.kind in REFERENCE]
    tensors = reference_tensors(loaded.data, random_inputs(graph, 1), list(range(len(graph.tensors))))
    cases = [case_for_op(graph, op, tensors, kernel=REFERENCE[op.kind]) for op in ops]
    results = run_cases(cases, tmp_path, sanitize=False, tag=f"{model}_ref")
    bad = [
        mismatch_report(c.label, got[o], tensors[o])
        for c, got, op in zip(cases, results, ops, strict=True)
        for o in op.outputs
        if got[o] != tensors[o]
    ]
    assert not bad, "\n".join(bad)
    assert {c.call.function for c in cases} <= {
        "tf_conv2d_s8",
        "tf_depthwise_conv2d_s8",
        "tf_fully_connected_s8",
    }


def test_mlperf_heavy_layers_take_the_fast_kernels(shared_models: dict[str, Path]) -> None:
    graph = read_tflite(shared_models["kws"]).graph
    funcs = {
        op.kind: select(graph, op, Target(cpu="cortex-m3")).function
        for op in graph.ops
        if op.kind in REFERENCE
    }
    assert funcs == {
        "CONV_2D": "tf_fast_conv_s8",
        "DEPTHWISE_CONV_2D": "tf_fast_dw_s8",
        "FULLY_CONNECTED": "tf_fast_conv_s8",
    }


def test_filters_over_64_taps_keep_the_reference_kernel(lab: Lab) -> None:
    out = lab.exact(_conv_model(10, 9, 2, 3, 9, 1, 1, VALID, 4, seed=9), expect="tf_conv2d_s8")
    assert "tf_fast_conv_s8" not in out.functions
