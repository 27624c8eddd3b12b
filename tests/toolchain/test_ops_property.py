"""Per-op property tests: tiny one-op models over many shapes, scales, zero points and options,
compiled by tinyforge for the host and compared byte for byte with TFLite Micro's reference
interpreter (the `tflite_micro` package).

The models are written straight into the TFLite flatbuffer (tests/toolchain/opmodels.py), which
takes milliseconds and reaches parameters the TF converter rarely produces (odd zero points,
negative strides, large multipliers). Hypothesis runs derandomized with a fixed example budget,
so every run checks the same cases. Keras-converted models are in test_ops_keras.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _props import ACT, SAME, VALID, fixed
from hypothesis import given
from hypothesis import strategies as st
from opmodels import Lab, ModelBuilder, options, run_ours


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(tmp_path_factory.mktemp("ops"))


scales = st.floats(0.002, 0.5)
zero_points = st.integers(-128, 127)
small_shapes = st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple)


def _unary(
    kind: str, shape: tuple[int, ...], si: float, zi: int, so: float, zo: int, opt: object = None
) -> bytes:
    m = ModelBuilder()
    a = m.input(shape, "int8", si, zi)
    b = m.tensor(shape, "int8", so, zo)
    m.op(kind, [a], [b], opt)
    m.output(b)
    return m.build()


def _out_size(padding: int, size: int, k: int, stride: int, dil: int = 1) -> int:
    eff = (k - 1) * dil + 1
    return (size + stride - 1) // stride if padding == SAME else (size - eff + stride) // stride


# ---- activations (this module's own kernels) -------------------------------------------------------


@fixed(30)
@given(shape=small_shapes, si=scales, zi=zero_points, so=scales, zo=zero_points)
def test_relu(lab: Lab, shape, si, zi, so, zo) -> None:
    lab.exact(_unary("RELU", shape, si, zi, so, zo), expect="tf_relu_s8")


@fixed(20)
@given(shape=small_shapes, si=st.floats(0.005, 0.2), zi=zero_points, so=scales, zo=zero_points)
def test_relu6(lab: Lab, shape, si, zi, so, zo) -> None:
    lab.exact(_unary("RELU6", shape, si, zi, so, zo), expect="tf_clamp_s8")


@fixed(30)
@given(
    shape=small_shapes,
    si=scales,
    zi=zero_points,
    so=scales,
    zo=zero_points,
    alpha=st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.01, 0.1, 0.2, 0.3, 2.0, -0.5])),
)
def test_leaky_relu(lab: Lab, shape, si, zi, so, zo, alpha) -> None:
    opt = options("LeakyReluOptions", alpha=float(alpha))
    lab.exact(_unary("LEAKY_RELU", shape, si, zi, so, zo, opt), expect="tf_leaky_relu_s8")


sigmoid_scales = st.one_of(
    st.floats(0.001, 1.0), st.sampled_from([1e-5, 3e-4, 2.0, 7.5, 40.0, 1 / 16, 0.1171875])
)


@fixed(40)
@given(shape=small_shapes, si=sigmoid_scales, zi=zero_points)
def test_logistic(lab: Lab, shape, si, zi) -> None:
    lab.exact(_unary("LOGISTIC", shape, si, zi, 1.0 / 256, -128), expect="tf_logistic_s8")


@fixed(40)
@given(shape=small_shapes, si=sigmoid_scales, zi=zero_points)
def test_tanh(lab: Lab, shape, si, zi) -> None:
    lab.exact(_unary("TANH", shape, si, zi, 1.0 / 128, 0), expect="tf_tanh_s8")


@fixed(40)
@given(shape=small_shapes, si=scales, zi=zero_points, so=scales, zo=zero_points)
def test_hard_swish(lab: Lab, shape, si, zi, so, zo) -> None:
    if si / 128 > so:  # TFLM rejects an output multiplier above one; so do we
        so = si / 64
    lab.exact(_unary("HARD_SWISH", shape, si, zi, so, zo), expect="tf_hard_swish_s8")


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH", "HARD_SWISH", "RELU", "LEAKY_RELU", "QUANTIZE"])
def test_lookup_table_variant_is_exact(lab: Lab, kind: str) -> None:
    """Big tensors tabulate the 256 inputs in scratch first: same bytes as the direct kernel."""
    so, zo = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}.get(kind, (0.03, -20))
    opt = options("LeakyReluOptions", alpha=0.15) if kind == "LEAKY_RELU" else None
    for si, zi in [(0.02, 0), (0.09, -77), (0.35, 100)]:
        out = lab.exact(_unary(kind, (4, 300), si, zi, so, zo, opt))
        assert out.functions[0].endswith("_lut"), out.functions


@fixed(10)
@given(n=st.sampled_from([7, 300, 1000]), si=scales, zi=zero_points, data=st.data())
def test_activation_chain_runs_in_place(lab: Lab, n, si, zi, data) -> None:
    """Every layer overwrites its input (the kernels declare in_place and each input dies at its
    reader); the bytes must not change."""
    kinds = ["QUANTIZE", "LEAKY_RELU", "HARD_SWISH", "TANH", "RELU6", "RELU", "LOGISTIC"]
    m = ModelBuilder()
    cur = m.input((1, n), "int8", si, zi)
    for k in kinds:
        if k == "TANH":
            q = (1 / 128, 0)
        elif k == "LOGISTIC":
            q = (1 / 256, -128)
        else:
            q = (data.draw(st.floats(0.01, 0.1)), data.draw(zero_points))
        nxt = m.tensor((1, n), "int8", *q)
        m.op(k, [cur], [nxt], options("LeakyReluOptions", alpha=0.25) if k == "LEAKY_RELU" else None)
        cur = nxt
    m.output(cur)
    out = lab.exact(m.build(), layers=True)
    # every layer runs in place (the input buffer, too, is reused once read, as in TFLM)
    assert out.aliases == len(kinds), out.aliases


# ---- QUANTIZE / DEQUANTIZE: chains that stay int8 at the model edges --------------------------------


@fixed(20)
@given(
    shape=small_shapes,
    si=scales,
    zi=zero_points,
    mid=st.sampled_from(["int8", "uint8", "int16"]),
    sm=st.floats(0.0005, 1.0),
    zm=st.integers(-128, 127),
    so=scales,
    zo=zero_points,
)
def test_requantize_chain(lab: Lab, shape, si, zi, mid, sm, zm, so, zo) -> None:
    """int8 -> QUANTIZE -> {int8, uint8, int16} -> QUANTIZE -> int8, every layer compared."""
    if mid == "uint8":
        zm = zm + 128
    if mid == "int16":
        zm = 0
    m = ModelBuilder()
    a = m.input(shape, "int8", si, zi)
    b = m.tensor(shape, mid, sm, zm)
    c = m.tensor(shape, "int8", so, zo)
    m.op("QUANTIZE", [a], [b])
    m.op("QUANTIZE", [b], [c])
    m.output(c)
    lab.exact(m.build(), layers=True, expect="tf_requantize")


@fixed(20)
@given(
    shape=small_shapes,
    si=st.one_of(scales, st.sampled_from([0.5, 0.25, 1.0, 0.125])),
    zi=zero_points,
    so=st.one_of(scales, st.sampled_from([1.0, 0.5, 2.0])),
    zo=zero_points,
    wide=st.booleans(),
)
def test_dequantize_quantize_chain(lab: Lab, shape, si, zi, so, zo, wide) -> None:
    """int8 -> DEQUANTIZE -> float32 -> QUANTIZE -> int8 (or via int16): float bytes compared too.
    Power-of-two scale pairs put many values exactly on .5, where rounding direction matters."""
    m = ModelBuilder()
    a = m.input(shape, "int8", si, zi)
    f = m.tensor(shape, "float32")
    m.op("DEQUANTIZE", [a], [f])
    if wide:
        h = m.tensor(shape, "int16", so / 200, 0)
        c = m.tensor(shape, "int8", so, zo)
        m.op("QUANTIZE", [f], [h])
        m.op("QUANTIZE", [h], [c])
    else:
        c = m.tensor(shape, "int8", so, zo)
        m.op("QUANTIZE", [f], [c])
    m.output(c)
    out = lab.exact(m.build(), layers=True)
    assert "tf_dequantize_s8_f32" in out.functions
    assert any(f.startswith("tf_quantize_f32") for f in out.functions)


# ---- STRIDED_SLICE, TRANSPOSE, reshape copies ------------------------------------------------------


@st.composite
def strided_slices(draw: st.DrawFn, max_rank: int = 4) -> dict:
    from tinyforge.kernels.ops.portable.layout import resolve_strided_slice

    rank = draw(st.integers(1, max_rank))
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=rank, max_size=rank)))
    begin, end, strides = [], [], []
    for d in shape:
        begin.append(draw(st.integers(-d - 2, d + 2)))
        end.append(draw(st.integers(-d - 2, d + 2)))
        strides.append(draw(st.sampled_from([1, 1, 1, 2, 3, -1, -2])))
    bm, em = draw(st.integers(0, 2**rank - 1)), draw(st.integers(0, 2**rank - 1))
    shrink = draw(st.integers(0, 2**rank - 1))
    # shrinking needs an in-range begin and a positive stride (as TF builds them)
    for i, d in enumerate(shape):
        if shrink & (1 << i):
            begin[i] = draw(st.integers(-d, d - 1))
            strides[i] = 1
            bm &= ~(1 << i)
    axes = resolve_strided_slice(shape, begin, end, strides, bm, em, shrink)
    for i, a in enumerate(axes):  # an empty axis is legal but checks nothing: flip its direction
        if a.count == 0 and not a.shrink:
            strides[i] = -strides[i]
    axes = resolve_strided_slice(shape, begin, end, strides, bm, em, shrink)
    out_shape = tuple(a.count for a in axes if not a.shrink)
    return {
        "shape": shape,
        "begin": begin,
        "end": end,
        "strides": strides,
        "begin_mask": bm,
        "end_mask": em,
        "shrink": shrink,
        "out_shape": out_shape,
    }


def _slice_model(c: dict, dtype: str = "int8") -> bytes:
    rank = len(c["shape"])
    m = ModelBuilder()
    a = m.input(c["shape"], dtype, 0.1, 3)
    bg = m.tensor((rank,), "int32", data=c["begin"])
    en = m.tensor((rank,), "int32", data=c["end"])
    stv = m.tensor((rank,), "int32", data=c["strides"])
    b = m.tensor(c["out_shape"], dtype, 0.1, 3)
    opt = options(
        "StridedSliceOptions", beginMask=c["begin_mask"], endMask=c["end_mask"], shrinkAxisMask=c["shrink"]
    )
    m.op("STRIDED_SLICE", [a, bg, en, stv], [b], opt)
    m.output(b)
    return m.build()


@fixed(60)
@given(c=strided_slices())
def test_strided_slice(lab: Lab, c: dict) -> None:
    if int(np.prod(c["out_shape"])) == 0:
        return  # empty outputs are not compiled (nothing to compare)
    lab.exact(_slice_model(c), expect="tf_strided_slice")
    # and the same as numpy's basic slicing, which TF's semantics follow
    x = np.zeros(c["shape"], np.int8)
    assert tuple(np.shape(x[_numpy_slice(c)])) == c["out_shape"]


def _numpy_slice(c: dict) -> tuple:
    index: list[object] = []
    for i in range(len(c["shape"])):
        if c["shrink"] & (1 << i):
            index.append(c["begin"][i])
            continue
        b = None if c["begin_mask"] & (1 << i) else c["begin"][i]
        e = None if c["end_mask"] & (1 << i) else c["end"][i]
        index.append(slice(b, e, c["strides"][i]))
    return tuple(index)


@fixed(20)
@given(c=strided_slices(max_rank=5))
def test_strided_slice_5d_matches_numpy(lab: Lab, c: dict) -> None:
    """TFLM stops at 4-D; our kernel takes 5-D, so numpy's slicing is the oracle here."""
    if int(np.prod(c["out_shape"])) == 0:
        return
    x = (np.arange(int(np.prod(c["shape"]))) % 251 - 125).astype(np.int8).reshape(c["shape"])
    lab.count += 1
    got = run_ours(_slice_model(c), [[x]], lab.kernels, lab.root, f"np{lab.count}")
    assert got[0][0] == np.ascontiguousarray(x[_numpy_slice(c)]).tobytes()


@fixed(10)
@given(shape=st.lists(st.integers(1, 4), min_size=6, max_size=6).map(tuple), data=st.data())
def test_transpose_6d_matches_numpy(lab: Lab, shape, data) -> None:
    """TFLM stops at 5-D; our kernel takes 6-D, so numpy is the oracle here."""
    perm = data.draw(st.permutations(range(6)))
    m = ModelBuilder()
    a = m.input(shape, "int8", 0.05, -7)
    p = m.tensor((6,), "int32", data=list(perm))
    b = m.tensor(tuple(shape[i] for i in perm), "int8", 0.05, -7)
    m.op("TRANSPOSE", [a, p], [b])
    m.output(b)
    x = (np.arange(int(np.prod(shape))) % 241 - 120).astype(np.int8).reshape(shape)
    lab.count += 1
    got = run_ours(m.build(), [[x]], lab.kernels, lab.root, f"np{lab.count}")
    assert got[0][0] == np.ascontiguousarray(x.transpose(perm)).tobytes()


@fixed(15)
@given(c=strided_slices(), data=st.data())
def test_int16_slice_and_transpose(lab: Lab, c: dict, data) -> None:
    """2-byte elements: int8 -> QUANTIZE(int16) -> STRIDED_SLICE -> TRANSPOSE -> QUANTIZE(int8)."""
    out_shape = c["out_shape"]
    if int(np.prod(out_shape)) == 0 or not out_shape:
        return
    perm = data.draw(st.permutations(range(len(out_shape))))
    rank = len(c["shape"])
    m = ModelBuilder()
    a = m.input(c["shape"], "int8", 0.1, 3)
    h = m.tensor(c["shape"], "int16", 0.001, 0)
    m.op("QUANTIZE", [a], [h])
    bg = m.tensor((rank,), "int32", data=c["begin"])
    en = m.tensor((rank,), "int32", data=c["end"])
    stv = m.tensor((rank,), "int32", data=c["strides"])
    s16 = m.tensor(out_shape, "int16", 0.001, 0)
    opt = options(
        "StridedSliceOptions", beginMask=c["begin_mask"], endMask=c["end_mask"], shrinkAxisMask=c["shrink"]
    )
    m.op("STRIDED_SLICE", [h, bg, en, stv], [s16], opt)
    pm = m.tensor((len(perm),), "int32", data=list(perm))
    t16 = m.tensor(tuple(out_shape[i] for i in perm), "int16", 0.001, 0)
    m.op("TRANSPOSE", [s16, pm], [t16])
    o = m.tensor(tuple(out_shape[i] for i in perm), "int8", 0.1, 3)
    m.op("QUANTIZE", [t16], [o])
    m.output(o)
    lab.exact(m.build(), layers=True, expect="tf_transpose")


@fixed(25)
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=5).map(tuple),
    data=st.data(),
)
def test_transpose(lab: Lab, shape, data) -> None:
    perm = data.draw(st.permutations(range(len(shape))))
    m = ModelBuilder()
    a = m.input(shape, "int8", 0.05, -7)
    p = m.tensor((len(shape),), "int32", data=list(perm))
    b = m.tensor(tuple(shape[i] for i in perm), "int8", 0.05, -7)
    m.op("TRANSPOSE", [a, p], [b])
    m.output(b)
    lab.exact(m.build(), expect="tf_transpose")


@pytest.mark.parametrize("kind", ["RESHAPE", "SQUEEZE", "EXPAND_DIMS"])
def test_reshape_like_copy(lab: Lab, kind: str) -> None:
    """Graph input straight to graph output: the alias pass keeps the op, our copy kernel runs."""
    m = ModelBuilder()
    a = m.input((1, 3, 1, 4), "int8", 0.05, 1)
    if kind == "RESHAPE":
        shp = m.tensor((2,), "int32", data=[3, 4])
        b = m.tensor((3, 4), "int8", 0.05, 1)
        m.op("RESHAPE", [a, shp], [b], options("ReshapeOptions", newShape=[3, 4]))
    elif kind == "SQUEEZE":
        b = m.tensor((3, 4), "int8", 0.05, 1)
        m.op("SQUEEZE", [a], [b], options("SqueezeOptions", squeezeDims=[0, 2]))
    else:
        ax = m.tensor((1,), "int32", data=[0])
        b = m.tensor((1, 1, 3, 1, 4), "int8", 0.05, 1)
        m.op("EXPAND_DIMS", [a, ax], [b])
    m.output(b)
    lab.exact(m.build(), expect="tf_copy")


# ---- part A's kernels: conv, depthwise, FC, pools, softmax, add/sub/mul, mean, pad, concat ---------


def _out_scale(si: float, ws: float, k: int, factor: float) -> float:
    return si * ws * math.sqrt(k) * 48 * factor


@fixed(25)
@given(data=st.data())
def test_conv2d(lab: Lab, data) -> None:
    d = data.draw
    h, w = d(st.integers(1, 9)), d(st.integers(1, 9))
    cin, cout = d(st.integers(1, 6)), d(st.integers(1, 6))
    kh, kw = d(st.integers(1, 3)), d(st.integers(1, 3))
    sh, sw = d(st.integers(1, 3)), d(st.integers(1, 3))
    dh, dw = d(st.sampled_from([1, 1, 2])), d(st.sampled_from([1, 1, 2]))
    if dh > 1 or dw > 1:
        sh = sw = 1  # TF forbids strides with dilation
    pad = d(st.sampled_from([SAME, VALID]))
    oh, ow = _out_size(pad, h, kh, sh, dh), _out_size(pad, w, kw, sw, dw)
    if oh < 1 or ow < 1:
        pad, oh, ow = SAME, _out_size(SAME, h, kh, sh, dh), _out_size(SAME, w, kw, sw, dw)
    si, zi = d(scales), d(zero_points)
    rng = np.random.default_rng(d(st.integers(0, 2**16)))
    ws = (rng.uniform(0.002, 0.02, cout)).tolist()
    so, zo = _out_scale(si, max(ws), kh * kw * cin, d(st.floats(0.25, 4))), d(zero_points)
    act = d(st.sampled_from(list(ACT)))
    m = ModelBuilder()
    a = m.input((1, h, w, cin), "int8", si, zi)
    wt = m.tensor((cout, kh, kw, cin), "int8", ws, 0, data=rng.integers(-127, 128, (cout, kh, kw, cin)))
    bias_scales = [si * s for s in ws]
    bs = m.tensor((cout,), "int32", bias_scales, 0, data=rng.integers(-3000, 3000, cout))
    o = m.tensor((1, oh, ow, cout), "int8", so, zo)
    opt = options(
        "Conv2DOptions",
        padding=pad,
        strideH=sh,
        strideW=sw,
        dilationHFactor=dh,
        dilationWFactor=dw,
        fusedActivationFunction=ACT[act],
    )
    m.op("CONV_2D", [a, wt, bs], [o], opt)
    m.output(o)
    lab.exact(m.build(), inputs=2)


@fixed(25)
@given(data=st.data())
def test_depthwise_conv2d(lab: Lab, data) -> None:
    d = data.draw
    h, w = d(st.integers(1, 9)), d(st.integers(1, 9))
    cin, mult = d(st.integers(1, 5)), d(st.sampled_from([1, 1, 2, 3]))
    cout = cin * mult
    kh, kw = d(st.integers(1, 3)), d(st.integers(1, 3))
    sh, sw = d(st.integers(1, 2)), d(st.integers(1, 2))
    dh, dw = d(st.sampled_from([1, 1, 2])), d(st.sampled_from([1, 1, 2]))
    if dh > 1 or dw > 1:
        sh = sw = 1
    pad = d(st.sampled_from([SAME, VALID]))
    oh, ow = _out_size(pad, h, kh, sh, dh), _out_size(pad, w, kw, sw, dw)
    if oh < 1 or ow < 1:
        pad, oh, ow = SAME, _out_size(SAME, h, kh, sh, dh), _out_size(SAME, w, kw, sw, dw)
    si, zi = d(scales), d(zero_points)
    rng = np.random.default_rng(d(st.integers(0, 2**16)))
    ws = rng.uniform(0.002, 0.02, cout).tolist()
    so, zo = _out_scale(si, max(ws), kh * kw, d(st.floats(0.25, 4))), d(zero_points)
    act = d(st.sampled_from(list(ACT)))
    m = ModelBuilder()
    a = m.input((1, h, w, cin), "int8", si, zi)
    wt = m.tensor((1, kh, kw, cout), "int8", ws, 0, data=rng.integers(-127, 128, (1, kh, kw, cout)), axis=3)
    bs = m.tensor((cout,), "int32", [si * s for s in ws], 0, data=rng.integers(-3000, 3000, cout))
    o = m.tensor((1, oh, ow, cout), "int8", so, zo)
    opt = options(
        "DepthwiseConv2DOptions",
        padding=pad,
        strideH=sh,
        strideW=sw,
        depthMultiplier=mult,
        dilationHFactor=dh,
        dilationWFactor=dw,
        fusedActivationFunction=ACT[act],
    )
    m.op("DEPTHWISE_CONV_2D", [a, wt, bs], [o], opt)
    m.output(o)
    lab.exact(m.build(), inputs=2)


@fixed(25)
@given(data=st.data())
def test_fully_connected(lab: Lab, data) -> None:
    d = data.draw
    batch, n, units = d(st.integers(1, 3)), d(st.integers(1, 40)), d(st.integers(1, 20))
    si, zi = d(scales), d(zero_points)
    rng = np.random.default_rng(d(st.integers(0, 2**16)))
    ws = float(rng.uniform(0.002, 0.02))
    so, zo = _out_scale(si, ws, n, d(st.floats(0.25, 4))), d(zero_points)
    has_bias = d(st.booleans())
    m = ModelBuilder()
    a = m.input((batch, n), "int8", si, zi)
    wt = m.tensor((units, n), "int8", ws, 0, data=rng.integers(-127, 128, (units, n)))
    bs = m.tensor((units,), "int32", si * ws, 0, data=rng.integers(-3000, 3000, units)) if has_bias else -1
    o = m.tensor((batch, units), "int8", so, zo)
    opt = options("FullyConnectedOptions", fusedActivationFunction=ACT[d(st.sampled_from(list(ACT)))])
    m.op("FULLY_CONNECTED", [a, wt, bs], [o], opt)
    m.output(o)
    lab.exact(m.build(), inputs=2)


@fixed(25)
@given(data=st.data(), kind=st.sampled_from(["AVERAGE_POOL_2D", "MAX_POOL_2D"]))
def test_pool2d(lab: Lab, data, kind) -> None:
    d = data.draw
    h, w, c = d(st.integers(1, 10)), d(st.integers(1, 10)), d(st.integers(1, 5))
    fh, fw = d(st.integers(1, 4)), d(st.integers(1, 4))
    sh, sw = d(st.integers(1, 3)), d(st.integers(1, 3))
    pad = d(st.sampled_from([SAME, VALID]))
    oh, ow = _out_size(pad, h, fh, sh), _out_size(pad, w, fw, sw)
    if oh < 1 or ow < 1:
        pad, oh, ow = SAME, _out_size(SAME, h, fh, sh), _out_size(SAME, w, fw, sw)
    s, z = d(scales), d(zero_points)
    m = ModelBuilder()
    a = m.input((1, h, w, c), "int8", s, z)
    o = m.tensor((1, oh, ow, c), "int8", s, z)
    opt = options(
        "Pool2DOptions",
        padding=pad,
        strideH=sh,
        strideW=sw,
        filterHeight=fh,
        filterWidth=fw,
        fusedActivationFunction=ACT[d(st.sampled_from(list(ACT)))],
    )
    m.op(kind, [a], [o], opt)
    m.output(o)
    lab.exact(m.build())


@fixed(25)
@given(
    shape=small_shapes, si=st.floats(0.01, 0.5), zi=zero_points, beta=st.sampled_from([1.0, 1.0, 0.5, 2.0])
)
def test_softmax(lab: Lab, shape, si, zi, beta) -> None:
    m = ModelBuilder()
    a = m.input(shape, "int8", si, zi)
    o = m.tensor(shape, "int8", 1 / 256, -128)
    m.op("SOFTMAX", [a], [o], options("SoftmaxOptions", beta=beta))
    m.output(o)
    lab.exact(m.build())


@st.composite
def broadcast_pairs(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    rank = draw(st.integers(1, 4))
    out = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    a = tuple(d if draw(st.integers(0, 3)) else 1 for d in out)
    b = tuple(d if draw(st.integers(0, 3)) else 1 for d in out)
    b = b[draw(st.integers(0, rank - 1)) :] if draw(st.booleans()) else b  # lower-rank operand
    full = tuple(max(x, y) for x, y in zip(a, (1,) * (rank - len(b)) + b, strict=True))
    return a, b, full


@fixed(25)
@given(
    kind=st.sampled_from(["ADD", "SUB", "MUL"]),
    shapes=broadcast_pairs(),
    s1=scales,
    z1=zero_points,
    s2=scales,
    z2=zero_points,
    so=scales,
    zo=zero_points,
    act=st.sampled_from(list(ACT)),
)
def test_add_sub_mul(lab: Lab, kind, shapes, s1, z1, s2, z2, so, zo, act) -> None:
    sa, sb, full = shapes
    if kind == "MUL":
        so = max(so, s1 * s2 * 4)
    m = ModelBuilder()
    a = m.input(sa, "int8", s1, z1)
    b = m.input(sb, "int8", s2, z2)
    o = m.tensor(full, "int8", so, zo)
    opt = options(f"{kind.title()}Options", fusedActivationFunction=ACT[act])
    m.op(kind, [a, b], [o], opt)
    m.output(o)
    lab.exact(m.build())


@fixed(20)
@given(
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    c=st.integers(1, 6),
    keep=st.booleans(),
    si=scales,
    zi=zero_points,
    same_q=st.booleans(),
    so=scales,
    zo=zero_points,
)
def test_mean(lab: Lab, h, w, c, keep, si, zi, same_q, so, zo) -> None:
    if same_q:
        so, zo = si, zi
    m = ModelBuilder()
    a = m.input((1, h, w, c), "int8", si, zi)
    ax = m.tensor((2,), "int32", data=[1, 2])
    o = m.tensor((1, 1, 1, c) if keep else (1, c), "int8", so, zo)
    m.op("MEAN", [a, ax], [o], options("ReducerOptions", keepDims=keep))
    m.output(o)
    lab.exact(m.build())


@fixed(20)
@given(shape=small_shapes, data=st.data(), s=scales, z=zero_points)
def test_pad(lab: Lab, shape, data, s, z) -> None:
    pads = [[data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))] for _ in shape]
    out = tuple(d + p[0] + p[1] for d, p in zip(shape, pads, strict=True))
    m = ModelBuilder()
    a = m.input(shape, "int8", s, z)
    p = m.tensor((len(shape), 2), "int32", data=pads)
    o = m.tensor(out, "int8", s, z)
    m.op("PAD", [a, p], [o], options("PadOptions"))
    m.output(o)
    lab.exact(m.build())


@fixed(20)
@given(shape=small_shapes, data=st.data(), s=scales, z=zero_points)
def test_concatenation(lab: Lab, shape, data, s, z) -> None:
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    n = data.draw(st.integers(2, 4))
    parts = []
    for _ in range(n):
        sh = list(shape)
        sh[axis] = data.draw(st.integers(1, 4))
        parts.append(tuple(sh))
    out = list(shape)
    out[axis] = sum(p[axis] for p in parts)
    m = ModelBuilder()
    ins = [m.input(p, "int8", s, z) for p in parts]
    o = m.tensor(tuple(out), "int8", s, z)
    m.op("CONCATENATION", ins, [o], options("ConcatenationOptions", axis=axis))
    m.output(o)
    lab.exact(m.build())
