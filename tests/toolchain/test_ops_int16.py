"""Per-op property tests of the 16x8 kernels (int16 activations, int8 weights, int64/int32 bias):
one-op flatbuffer models over many shapes, scales and options, compiled by tinyforge for the host
and compared byte for byte with TFLite Micro's reference interpreter (`tflite_micro`).

As in test_ops_property.py the models are written straight into the flatbuffer (opmodels.py), so
hypothesis can sweep what TF's converter rarely writes (int32 biases, pot scales, big
accumulations); tests/toolchain/test_int16_converter.py runs the same ops as TF's converter
makes them. Hypothesis runs derandomized with fixed budgets: every run checks the same cases.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _props import ACT, SAME, VALID, fixed
from hypothesis import given
from hypothesis import strategies as st
from opmodels import Lab, ModelBuilder, options

pytestmark = pytest.mark.toolchain


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(tmp_path_factory.mktemp("ops16"))


# The convolutions run twice: on the portable kernels and on the DSP-extension ones (built for the
# host through tf_acle.h's portable equivalents; tests/emulator runs them on a Cortex-M4).
CONV_KERNELS = {
    "portable": {"CONV_2D": "tf_conv2d_s16", "DEPTHWISE_CONV_2D": "tf_depthwise_conv2d_s16", "FULLY_CONNECTED": "tf_fully_connected_s16"},
    "dsp": {"CONV_2D": "tf_dsp_conv_s16", "DEPTHWISE_CONV_2D": "tf_dsp_depthwise_conv2d_s16", "FULLY_CONNECTED": "tf_dsp_conv_s16"},
}  # fmt: skip


@pytest.fixture(scope="module", params=sorted(CONV_KERNELS))
def conv_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Lab:
    from tinyforge.kernels.registry import Target

    target = Target(cpu="cortex-m4", features=frozenset({"dsp"})) if request.param == "dsp" else None
    lab = Lab(tmp_path_factory.mktemp(f"conv16_{request.param}"), target)
    lab.kernel_names = CONV_KERNELS[request.param]  # type: ignore[attr-defined]
    return lab


def _expect(lab: Lab, kind: str) -> str:
    names: dict[str, str] = lab.kernel_names  # type: ignore[attr-defined]
    return names[kind]


# activation scales of int16 tensors: real ranges of about +-0.1 .. +-100
act_scales = st.floats(3e-6, 3e-3)
small_shapes = st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple)


def _out_size(padding: int, size: int, k: int, stride: int, dil: int = 1) -> int:
    eff = (k - 1) * dil + 1
    return (size + stride - 1) // stride if padding == SAME else (size - eff + stride) // stride


def _out_scale(si: float, ws: float, k: int, factor: float) -> float:
    """An output scale that keeps typical accumulations inside int16 (times `factor`)."""
    return si * ws * math.sqrt(k) * 127 * 24 * factor / 32768 * 256


def _bias(m: ModelBuilder, rng: np.random.Generator, n: int, scales: list[float], dtype: str) -> int:
    hi = 2**33 if dtype == "int64" else 2**24
    return m.tensor((n,), dtype, scales, 0, data=rng.integers(-hi, hi, n))


# ---- CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED --------------------------------------------------


@fixed(30)
@given(data=st.data())
def test_conv2d_s16(conv_lab: Lab, data) -> None:
    d = data.draw
    h, w = d(st.integers(1, 8)), d(st.integers(1, 8))
    cin, cout = d(st.integers(1, 6)), d(st.integers(1, 6))
    groups = d(st.sampled_from([1, 1, 1, 2]))
    if groups > 1:
        cin, cout = cin * groups, cout * groups
    kh, kw = d(st.integers(1, 3)), d(st.integers(1, 3))
    sh, sw = d(st.integers(1, 3)), d(st.integers(1, 3))
    dh, dw = d(st.sampled_from([1, 1, 2])), d(st.sampled_from([1, 1, 2]))
    if dh > 1 or dw > 1:
        sh = sw = 1
    pad = d(st.sampled_from([SAME, VALID]))
    oh, ow = _out_size(pad, h, kh, sh, dh), _out_size(pad, w, kw, sw, dw)
    if oh < 1 or ow < 1:
        pad, oh, ow = SAME, _out_size(SAME, h, kh, sh, dh), _out_size(SAME, w, kw, sw, dw)
    si = d(act_scales)
    rng = np.random.default_rng(d(st.integers(0, 2**16)))
    per_channel = d(st.booleans())
    ws = rng.uniform(0.002, 0.02, cout).tolist() if per_channel else [float(rng.uniform(0.002, 0.02))]
    so = _out_scale(si, max(ws), kh * kw * cin // groups, d(st.floats(0.25, 4)))
    bias = d(st.sampled_from(["int64", "int64", "int32", "none"]))
    m = ModelBuilder()
    a = m.input((1, h, w, cin), "int16", si, 0)
    wt = m.tensor(
        (cout, kh, kw, cin // groups),
        "int8",
        ws,
        0,
        data=rng.integers(-127, 128, (cout, kh, kw, cin // groups)),
    )
    ins = [a, wt]
    if bias != "none":
        ins.append(_bias(m, rng, cout, [si * s for s in (ws * cout if len(ws) == 1 else ws)], bias))
    o = m.tensor((1, oh, ow, cout), "int16", so, 0)
    opt = options(
        "Conv2DOptions",
        padding=pad,
        strideH=sh,
        strideW=sw,
        dilationHFactor=dh,
        dilationWFactor=dw,
        fusedActivationFunction=ACT[d(st.sampled_from(list(ACT)))],
    )
    m.op("CONV_2D", ins, [o], opt)
    m.output(o)
    grouped = groups > 1  # the DSP kernel takes groups of 1: grouped ones stay portable
    conv_lab.exact(m.build(), inputs=3, expect="tf_conv2d_s16" if grouped else _expect(conv_lab, "CONV_2D"))


@fixed(30)
@given(data=st.data())
def test_depthwise_conv2d_s16(conv_lab: Lab, data) -> None:
    d = data.draw
    h, w = d(st.integers(1, 8)), d(st.integers(1, 8))
    cin, mult = d(st.integers(1, 5)), d(st.sampled_from([1, 1, 2, 3, 4]))
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
    si = d(act_scales)
    rng = np.random.default_rng(d(st.integers(0, 2**16)))
    ws = rng.uniform(0.002, 0.02, cout).tolist()
    so = _out_scale(si, max(ws), kh * kw, d(st.floats(0.25, 4)))
    bias = d(st.sampled_from(["int64", "int64", "none"]))  # TFLM reads a depthwise bias as int64
    m = ModelBuilder()
    a = m.input((1, h, w, cin), "int16", si, 0)
    wt = m.tensor((1, kh, kw, cout), "int8", ws, 0, data=rng.integers(-127, 128, (1, kh, kw, cout)), axis=3)
    ins = [a, wt] + ([] if bias == "none" else [_bias(m, rng, cout, [si * s for s in ws], bias)])
    o = m.tensor((1, oh, ow, cout), "int16", so, 0)
    opt = options(
        "DepthwiseConv2DOptions",
        padding=pad,
        strideH=sh,
        strideW=sw,
        depthMultiplier=mult,
        dilationHFactor=dh,
        dilationWFactor=dw,
        fusedActivationFunction=ACT[d(st.sampled_from(list(ACT)))],
    )
    m.op("DEPTHWISE_CONV_2D", ins, [o], opt)
    m.output(o)
    conv_lab.exact(m.build(), inputs=3, expect=_expect(conv_lab, "DEPTHWISE_CONV_2D"))


@fixed(30)
@given(data=st.data())
def test_fully_connected_s16(conv_lab: Lab, data) -> None:
    d = data.draw
    batch, n, units = d(st.integers(1, 3)), d(st.integers(1, 40)), d(st.integers(1, 20))
    si = d(act_scales)
    rng = np.random.default_rng(d(st.integers(0, 2**16)))
    per_channel = d(st.booleans())
    ws = rng.uniform(0.002, 0.02, units).tolist() if per_channel else [float(rng.uniform(0.002, 0.02))]
    so = _out_scale(si, max(ws), n, d(st.floats(0.25, 4)))
    bias = d(st.sampled_from(["int64", "int64", "int32", "none"]))
    m = ModelBuilder()
    a = m.input((batch, n), "int16", si, 0)
    wt = m.tensor((units, n), "int8", ws, 0, data=rng.integers(-127, 128, (units, n)))
    ins = [a, wt]
    if bias != "none":
        ins.append(_bias(m, rng, units, [si * s for s in (ws * units if len(ws) == 1 else ws)], bias))
    o = m.tensor((batch, units), "int16", so, 0)
    opt = options("FullyConnectedOptions", fusedActivationFunction=ACT[d(st.sampled_from(list(ACT)))])
    m.op("FULLY_CONNECTED", ins, [o], opt)
    m.output(o)
    conv_lab.exact(m.build(), inputs=3, expect=_expect(conv_lab, "FULLY_CONNECTED"))


@pytest.mark.parametrize("bias", ["int64", "int32"])
def test_long_accumulations_s16(conv_lab: Lab, bias: str) -> None:
    """1,500 taps of extreme values: the int32 runs of the int64 path must not overflow, the int32
    path must wrap exactly as TFLM's int32 sums do."""
    rng = np.random.default_rng(7)
    n, units = 1500, 4
    m = ModelBuilder()
    a = m.input((1, n), "int16", 1e-4, 0)
    w = np.where(rng.random((units, n)) < 0.5, -127, 127)
    w[0] = 127  # row 0: every product has the input's sign
    wt = m.tensor((units, n), "int8", 0.01, 0, data=w)
    bs = m.tensor((units,), bias, 1e-6, 0, data=rng.integers(-1000, 1000, units))
    o = m.tensor((1, units), "int16", 0.5, 0)
    m.op("FULLY_CONNECTED", [a, wt, bs], [o], options("FullyConnectedOptions"))
    m.output(o)
    conv_lab.exact(m.build(), inputs=4, expect=_expect(conv_lab, "FULLY_CONNECTED"))


# ---- ADD, SUB, MUL -----------------------------------------------------------------------------------


@st.composite
def broadcast_pairs(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    rank = draw(st.integers(1, 4))
    out = tuple(draw(st.lists(st.integers(1, 5), min_size=rank, max_size=rank)))
    a = tuple(d if draw(st.integers(0, 3)) else 1 for d in out)
    b = tuple(d if draw(st.integers(0, 3)) else 1 for d in out)
    b = b[draw(st.integers(0, rank - 1)) :] if draw(st.booleans()) else b
    full = tuple(max(x, y) for x, y in zip(a, (1,) * (rank - len(b)) + b, strict=True))
    return a, b, full


@fixed(40)
@given(
    kind=st.sampled_from(["ADD", "SUB", "MUL"]),
    shapes=broadcast_pairs(),
    s1=act_scales,
    s2=act_scales,
    so=act_scales,
    act=st.sampled_from(list(ACT)),
    const=st.sampled_from([None, None, None, 0, 1]),
)
def test_add_sub_mul_s16(lab: Lab, kind, shapes, s1, s2, so, act, const) -> None:
    sa, sb, full = shapes
    if kind == "MUL":
        so = max(so, s1 * s2 * 2048)
    m = ModelBuilder()
    rng = np.random.default_rng(int(s1 * 1e9) % 1000)
    if const == 0:
        a = m.tensor(sa, "int16", s1, 0, data=rng.integers(-32768, 32768, sa))
        b = m.input(sb, "int16", s2, 0)
    elif const == 1:
        a = m.input(sa, "int16", s1, 0)
        b = m.tensor(sb, "int16", s2, 0, data=rng.integers(-32768, 32768, sb))
    else:
        a = m.input(sa, "int16", s1, 0)
        b = m.input(sb, "int16", s2, 0)
    o = m.tensor(full, "int16", so, 0)
    m.op(kind, [a, b], [o], options(f"{kind.title()}Options", fusedActivationFunction=ACT[act]))
    m.output(o)
    lab.exact(m.build(), inputs=4, expect=f"tf_{kind.lower()}_s16")


@fixed(15)
@given(kind=st.sampled_from(["ADD", "SUB"]), z1=st.integers(-300, 300), z2=st.integers(-300, 300))
def test_add_sub_s16_zero_points(lab: Lab, kind, z1, z2) -> None:
    """TFLM's int16 ADD/SUB take any zero point (its MUL insists on 0)."""
    m = ModelBuilder()
    a = m.input((2, 7), "int16", 0.0011, z1)
    b = m.input((2, 7), "int16", 0.0004, z2)
    o = m.tensor((2, 7), "int16", 0.002, z1 - z2)
    m.op(kind, [a, b], [o], options(f"{kind.title()}Options"))
    m.output(o)
    lab.exact(m.build(), inputs=4, expect=f"tf_{kind.lower()}_s16")


# ---- pools, MEAN, PAD, CONCATENATION ----------------------------------------------------------------


@fixed(25)
@given(data=st.data(), kind=st.sampled_from(["AVERAGE_POOL_2D", "MAX_POOL_2D"]))
def test_pool2d_s16(lab: Lab, data, kind) -> None:
    d = data.draw
    h, w, c = d(st.integers(1, 10)), d(st.integers(1, 10)), d(st.integers(1, 5))
    fh, fw = d(st.integers(1, 4)), d(st.integers(1, 4))
    sh, sw = d(st.integers(1, 3)), d(st.integers(1, 3))
    pad = d(st.sampled_from([SAME, VALID]))
    oh, ow = _out_size(pad, h, fh, sh), _out_size(pad, w, fw, sw)
    if oh < 1 or ow < 1:
        pad, oh, ow = SAME, _out_size(SAME, h, fh, sh), _out_size(SAME, w, fw, sw)
    s, z = d(act_scales), d(st.sampled_from([0, 0, 0, -100, 37]))
    m = ModelBuilder()
    a = m.input((1, h, w, c), "int16", s, z)
    o = m.tensor((1, oh, ow, c), "int16", s, z)
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
    lab.exact(
        m.build(), inputs=4, expect="tf_avg_pool_s16" if kind == "AVERAGE_POOL_2D" else "tf_max_pool_s16"
    )


@fixed(20)
@given(
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    c=st.integers(1, 6),
    keep=st.booleans(),
    si=act_scales,
    same_q=st.booleans(),
    so=act_scales,
    axes=st.sampled_from([[1, 2], [1], [2], [3], [-1, 1]]),
)
def test_mean_s16(lab: Lab, h, w, c, keep, si, same_q, so, axes) -> None:
    if same_q:
        so = si
    shape = (1, h, w, c)
    norm = sorted({a % 4 for a in axes})
    kept = (
        tuple(1 if i in norm else d for i, d in enumerate(shape))
        if keep
        else tuple(d for i, d in enumerate(shape) if i not in norm)
    )
    m = ModelBuilder()
    a = m.input(shape, "int16", si, 0)
    ax = m.tensor((len(axes),), "int32", data=axes)
    o = m.tensor(kept, "int16", so, 0)
    m.op("MEAN", [a, ax], [o], options("ReducerOptions", keepDims=keep))
    m.output(o)
    lab.exact(m.build(), inputs=4, expect="tf_mean_s16")


@fixed(20)
@given(shape=small_shapes, data=st.data(), s=act_scales, v2=st.booleans())
def test_pad_s16(lab: Lab, shape, data, s, v2) -> None:
    pads = [[data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))] for _ in shape]
    out = tuple(d + p[0] + p[1] for d, p in zip(shape, pads, strict=True))
    m = ModelBuilder()
    a = m.input(shape, "int16", s, 0)
    p = m.tensor((len(shape), 2), "int32", data=pads)
    o = m.tensor(out, "int16", s, 0)
    if v2:
        cv = m.tensor((), "int16", s, 0, data=[data.draw(st.integers(-32768, 32767))])
        m.op("PADV2", [a, p, cv], [o], options("PadV2Options"))
    else:
        m.op("PAD", [a, p], [o], options("PadOptions"))
    m.output(o)
    lab.exact(m.build(), inputs=2, expect="tf_pad_s16")


@fixed(20)
@given(shape=small_shapes, data=st.data(), s=act_scales)
def test_concatenation_s16(lab: Lab, shape, data, s) -> None:
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    parts = []
    for _ in range(data.draw(st.integers(2, 4))):
        sh = list(shape)
        sh[axis] = data.draw(st.integers(1, 4))
        parts.append(tuple(sh))
    out = list(shape)
    out[axis] = sum(p[axis] for p in parts)
    m = ModelBuilder()
    ins = [m.input(p, "int16", s, 0) for p in parts]
    o = m.tensor(tuple(out), "int16", s, 0)
    m.op("CONCATENATION", ins, [o], options("ConcatenationOptions", axis=axis))
    m.output(o)
    out_ = lab.exact(m.build(), inputs=2)
    assert out_.functions == ("tf_concat_s8",)  # the byte copy, with 2-byte chunks


# ---- SOFTMAX, LOGISTIC, TANH ------------------------------------------------------------------------


@fixed(30)
@given(
    shape=small_shapes,
    si=st.one_of(act_scales, st.sampled_from([1 / 32768, 1e-5, 0.01, 0.05])),
    beta=st.sampled_from([1.0, 1.0, 0.5, 2.0, 0.1]),
)
def test_softmax_s16(lab: Lab, shape, si, beta) -> None:
    m = ModelBuilder()
    a = m.input(shape, "int16", si, 0)
    o = m.tensor(shape, "int16", 1 / 32768, 0)
    m.op("SOFTMAX", [a], [o], options("SoftmaxOptions", beta=beta))
    m.output(o)
    lab.exact(m.build(), inputs=4, expect="tf_softmax_s16")


def test_softmax_s16_every_table_segment(lab: Lab) -> None:
    """Rows of two: each row's difference walks the whole exp table (and its sum the reciprocal
    table), so a wrong table entry shows."""
    n = 4096
    m = ModelBuilder()
    a = m.input((n, 2), "int16", 10.0 / 65535 * 4, 0)  # diff 16384 units = the table's [-10, 0]
    o = m.tensor((n, 2), "int16", 1 / 32768, 0)
    m.op("SOFTMAX", [a], [o], options("SoftmaxOptions", beta=1.0))
    m.output(o)
    x = np.zeros((n, 2), np.int16)
    x[:, 0] = -np.arange(n) * 4  # 0 .. -16380
    x[:, 1] = 0
    lab.count += 1
    from opmodels import run_both

    out = run_both(m.build(), [[x], [x[::-1].copy()]], lab.kernels, lab.root, f"sm{lab.count}")
    assert not out.mismatches(), out.mismatches()[:3]


sigmoid_in_scales = st.one_of(
    st.sampled_from([2.0**-12, 2.0**-11, 2.0**-10, 2.0**-15, 3.0517578e-05, 1.2413e-4]),
    st.floats(1e-6, 1e-2),
)


@fixed(30)
@given(kind=st.sampled_from(["LOGISTIC", "TANH"]), si=sigmoid_in_scales, shape=small_shapes)
def test_logistic_tanh_s16(lab: Lab, kind, si, shape) -> None:
    m = ModelBuilder()
    a = m.input(shape, "int16", si, 0)
    o = m.tensor(shape, "int16", 2.0**-15, 0)
    m.op(kind, [a], [o])
    m.output(o)
    lab.exact(m.build(), inputs=4, expect=f"tf_{kind.lower()}_s16")


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("si", [2.0**-12, 2.0**-11, 1.2413e-4, 7.7e-6])
def test_logistic_tanh_s16_every_input(lab: Lab, kind: str, si: float) -> None:
    """All 65,536 int16 inputs at once: every table segment and both signs, byte for byte."""
    m = ModelBuilder()
    a = m.input((256, 256), "int16", si, 0)
    o = m.tensor((256, 256), "int16", 2.0**-15, 0)
    m.op(kind, [a], [o])
    m.output(o)
    x = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16).reshape(256, 256)
    lab.count += 1
    from opmodels import run_both

    out = run_both(m.build(), [[x]], lab.kernels, lab.root, f"sig{lab.count}")
    assert not out.mismatches(), out.mismatches()[:3]


# ---- QUANTIZE, DEQUANTIZE ------------------------------------------------------------------------------


@fixed(25)
@given(
    shape=small_shapes,
    si=act_scales,
    mid=st.sampled_from(["int8", "int16", "int32"]),
    sm=st.floats(1e-6, 0.5),
    zm=st.integers(-128, 127),
    so=act_scales,
)
def test_requantize_chain_s16(lab: Lab, shape, si, mid, sm, zm, so) -> None:
    """int16 -> QUANTIZE -> {int8, int16, int32} -> QUANTIZE -> int16, every layer compared."""
    if mid == "int16":
        zm = 0
    if mid == "int32":
        sm = sm / 1000
    m = ModelBuilder()
    a = m.input(shape, "int16", si, 0)
    b = m.tensor(shape, mid, sm, zm)
    c = m.tensor(shape, "int16", so, 0)
    m.op("QUANTIZE", [a], [b])
    m.op("QUANTIZE", [b], [c])
    m.output(c)
    lab.exact(m.build(), inputs=4, layers=True, expect="tf_requantize_s16")


@fixed(15)
@given(shape=small_shapes, si=st.floats(0.002, 0.5), zi=st.integers(-128, 127), s32=st.floats(1e-6, 1e-3))
def test_int8_through_int32(lab: Lab, shape, si, zi, s32) -> None:
    m = ModelBuilder()
    a = m.input(shape, "int8", si, zi)
    b = m.tensor(shape, "int32", s32, 0)
    c = m.tensor(shape, "int8", si * 1.5, -zi // 2)
    m.op("QUANTIZE", [a], [b])
    m.op("QUANTIZE", [b], [c])
    m.output(c)
    out = lab.exact(m.build(), inputs=3, layers=True)
    assert out.functions == ("tf_requantize_s8_s32", "tf_requantize_s32_s8")


@fixed(15)
@given(shape=small_shapes, si=act_scales, so=st.one_of(act_scales, st.sampled_from([2.0**-10, 2.0**-15])))
def test_dequantize_quantize_s16(lab: Lab, shape, si, so) -> None:
    """int16 -> DEQUANTIZE -> float32 -> QUANTIZE -> int16: the float edge kernels on int16."""
    m = ModelBuilder()
    a = m.input(shape, "int16", si, 0)
    f = m.tensor(shape, "float32")
    c = m.tensor(shape, "int16", so, 0)
    m.op("DEQUANTIZE", [a], [f])
    m.op("QUANTIZE", [f], [c])
    m.output(c)
    out = lab.exact(m.build(), inputs=4, layers=True)
    assert out.functions == ("tf_dequantize_s16_f32", "tf_quantize_f32_s16")


# ---- data movement: STRIDED_SLICE, TRANSPOSE, RESHAPE, SQUEEZE, EXPAND_DIMS ----------------------------


@fixed(15)
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple), data=st.data())
def test_slice_transpose_reshape_s16(lab: Lab, shape, data) -> None:
    rank = len(shape)
    begin = [data.draw(st.integers(0, d - 1)) for d in shape]
    strides = [data.draw(st.sampled_from([1, 1, 2])) for _ in shape]
    out_shape = tuple(len(range(b, d, s)) for b, d, s in zip(begin, shape, strides, strict=True))
    perm = data.draw(st.permutations(range(rank)))
    t_shape = tuple(out_shape[i] for i in perm)
    m = ModelBuilder()
    a = m.input(shape, "int16", 1e-3, 0)
    bg = m.tensor((rank,), "int32", data=begin)
    en = m.tensor((rank,), "int32", data=list(shape))
    stv = m.tensor((rank,), "int32", data=strides)
    s16 = m.tensor(out_shape, "int16", 1e-3, 0)
    m.op("STRIDED_SLICE", [a, bg, en, stv], [s16], options("StridedSliceOptions"))
    pm = m.tensor((rank,), "int32", data=list(perm))
    t16 = m.tensor(t_shape, "int16", 1e-3, 0)
    m.op("TRANSPOSE", [s16, pm], [t16])
    n = int(np.prod(t_shape))
    shp = m.tensor((2,), "int32", data=[1, n])
    r16 = m.tensor((1, n), "int16", 1e-3, 0)
    m.op("RESHAPE", [t16, shp], [r16], options("ReshapeOptions", newShape=[1, n]))
    e16 = m.tensor((1, 1, n), "int16", 1e-3, 0)
    ax = m.tensor((1,), "int32", data=[1])
    m.op("EXPAND_DIMS", [r16, ax], [e16])
    q16 = m.tensor((1, n), "int16", 1e-3, 0)
    m.op("SQUEEZE", [e16], [q16], options("SqueezeOptions", squeezeDims=[1]))
    m.output(q16)
    out = lab.exact(m.build(), inputs=2, layers=True)
    assert out.functions[:2] == ("tf_strided_slice", "tf_transpose"), out.functions


@pytest.mark.parametrize("kind", ["RESHAPE", "SQUEEZE", "EXPAND_DIMS"])
def test_reshape_like_copy_s16(lab: Lab, kind: str) -> None:
    """Graph input straight to graph output: the copy kernel moves 2-byte elements."""
    m = ModelBuilder()
    a = m.input((1, 3, 1, 4), "int16", 0.001, 0)
    if kind == "RESHAPE":
        shp = m.tensor((2,), "int32", data=[3, 4])
        b = m.tensor((3, 4), "int16", 0.001, 0)
        m.op("RESHAPE", [a, shp], [b], options("ReshapeOptions", newShape=[3, 4]))
    elif kind == "SQUEEZE":
        b = m.tensor((3, 4), "int16", 0.001, 0)
        m.op("SQUEEZE", [a], [b], options("SqueezeOptions", squeezeDims=[0, 2]))
    else:
        ax = m.tensor((1,), "int32", data=[0])
        b = m.tensor((1, 1, 3, 1, 4), "int16", 0.001, 0)
        m.op("EXPAND_DIMS", [a, ax], [b])
    m.output(b)
    lab.exact(m.build(), expect="tf_copy")


# ---- every 16x8 kernel under AddressSanitizer / UBSan -------------------------------------------------


def _chain_model() -> bytes:
    """One model through the 16x8 kernels the converter tests do not reach: int32 biases,
    per-tensor weights, QUANTIZE through int32, PADV2, broadcasting with constants, SUB."""
    rng = np.random.default_rng(3)
    m = ModelBuilder()
    x = m.input((1, 6, 6, 4), "int16", 2e-4, 0)
    w1 = m.tensor((5, 3, 3, 4), "int8", 0.01, 0, data=rng.integers(-127, 128, (5, 3, 3, 4)))
    b1 = m.tensor((5,), "int32", 2e-6, 0, data=rng.integers(-5000, 5000, 5))
    c1 = m.tensor((1, 6, 6, 5), "int16", 4e-4, 0)
    m.op("CONV_2D", [x, w1, b1], [c1], options("Conv2DOptions", padding=SAME, strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1, fusedActivationFunction=1))  # fmt: skip
    w2 = m.tensor((1, 3, 3, 10), "int8", [0.02] * 10, 0, data=rng.integers(-127, 128, (1, 3, 3, 10)), axis=3)
    c2 = m.tensor((1, 3, 3, 10), "int16", 5e-4, 0)
    m.op("DEPTHWISE_CONV_2D", [c1, w2], [c2], options("DepthwiseConv2DOptions", padding=SAME, strideH=2, strideW=2, depthMultiplier=2, dilationHFactor=1, dilationWFactor=1))  # fmt: skip
    q32 = m.tensor((1, 3, 3, 10), "int32", 1e-6, 0)
    m.op("QUANTIZE", [c2], [q32])
    q16 = m.tensor((1, 3, 3, 10), "int16", 6e-4, 0)
    m.op("QUANTIZE", [q32], [q16])
    pv = m.tensor((4, 2), "int32", data=[[0, 0], [1, 0], [0, 1], [0, 0]])
    cv = m.tensor((), "int16", 6e-4, 0, data=[-7])
    p16 = m.tensor((1, 4, 4, 10), "int16", 6e-4, 0)
    m.op("PADV2", [q16, pv, cv], [p16], options("PadV2Options"))
    a16 = m.tensor((1, 2, 2, 10), "int16", 6e-4, 0)
    m.op("AVERAGE_POOL_2D", [p16], [a16], options("Pool2DOptions", padding=VALID, strideH=2, strideW=2, filterHeight=2, filterWidth=2))  # fmt: skip
    shp = m.tensor((2,), "int32", data=[1, 40])
    r16 = m.tensor((1, 40), "int16", 6e-4, 0)
    m.op("RESHAPE", [a16, shp], [r16], options("ReshapeOptions", newShape=[1, 40]))
    w3 = m.tensor((8, 40), "int8", 0.01, 0, data=rng.integers(-127, 128, (8, 40)))
    b3 = m.tensor((8,), "int32", 6e-6, 0, data=rng.integers(-5000, 5000, 8))
    f16 = m.tensor((1, 8), "int16", 2e-3, 0)
    m.op("FULLY_CONNECTED", [r16, w3, b3], [f16], options("FullyConnectedOptions"))
    k = m.tensor((8,), "int16", 1e-3, 0, data=rng.integers(-2000, 2000, 8))
    s16 = m.tensor((1, 8), "int16", 2e-3, 0)
    m.op("SUB", [f16, k], [s16], options("SubOptions"))
    t16 = m.tensor((1, 8), "int16", 2.0**-15, 0)
    m.op("TANH", [s16], [t16])
    y16 = m.tensor((1, 8), "int16", 2.0**-15, 0)
    m.op("LOGISTIC", [s16], [y16])
    mm = m.tensor((1, 8), "int16", 2.0**-14, 0)
    m.op("MUL", [t16, y16], [mm], options("MulOptions"))
    mx = m.tensor((1, 8), "int16", 1 / 32768, 0)
    m.op("SOFTMAX", [mm], [mx], options("SoftmaxOptions", beta=1.0))
    m.output(mx)
    return m.build()


def test_int16_chain_is_sanitizer_clean(tmp_path) -> None:
    from tinyforge import api

    path = tmp_path / "chain16.tflite"
    path.write_bytes(_chain_model())
    rep = api.test_host(path, inputs=4, seed=3, workdir=tmp_path / "w", sanitize=True)
    assert rep.bit_exact, rep.first_mismatch
    assert api.inspect(path)["unsupported"] == []


def test_dsp_branches_s16(conv_lab: Lab) -> None:
    """Every branch of the DSP 16x8 kernels in one model (tests/toolchain/_int16_models.py), on
    both the portable and the DSP path; tests/emulator runs it on the Cortex-M4 and M55."""
    from _int16_models import dsp_gauntlet16

    out = conv_lab.exact(dsp_gauntlet16(), inputs=4)
    if conv_lab.target is not None:
        assert all(f.startswith("tf_dsp_") for f in out.functions if "copy" not in f), out.functions
