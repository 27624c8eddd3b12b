"""Tiny int8 .tflite models for the DSP-extension kernels' edge cases (several inputs, one output per
layer), built with the Helium tests' Gauntlet (tests/emulator/_mve_models.py) and opmodels.

Besides those models (which cover channel counts, tails, strides, dilation, padding, per-tensor
weights and left shifts), these add what the DSP kernels special-case: KWS-like narrow planes
(odd widths, the flattened stride-1 depthwise pass), stride-2 depthwise with odd outputs, the
general depthwise loop, a depth multiplier, input channels 1 and 3 (the byte-row im2col), odd
output channel counts, dead channels (zero weights, huge bias), activations with a zero point
that needs the negative rounding correction, FC rows not a multiple of 8, ADD/SUB tables and
average pools (global, clipped SAME windows).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mve_models import ACT, SAME, VALID, Gauntlet, out_size  # noqa: E402
from opmodels import options  # noqa: E402


def _depthwise_multiplier(g: Gauntlet, x: str, mult: int, act: str = "RELU") -> None:
    t, (_, h, w, c), si, _ = g.inputs[x]
    cout = c * mult
    ws = g.rng.uniform(0.002, 0.02, cout).tolist()
    wt = g.m.tensor((1, 3, 3, cout), "int8", ws, 0, data=g.rng.integers(-127, 128, (1, 3, 3, cout)), axis=3)
    b = g.m.tensor((cout,), "int32", [si * s for s in ws], 0, data=g.rng.integers(-3000, 3000, cout))
    y = g.m.tensor((1, h, w, cout), "int8", si * max(ws) * 3 * 48, -128)
    opt = options(
        "DepthwiseConv2DOptions",
        padding=SAME,
        strideH=1,
        strideW=1,
        depthMultiplier=mult,
        dilationHFactor=1,
        dilationWFactor=1,
        fusedActivationFunction=ACT[act],
    )
    g.m.op("DEPTHWISE_CONV_2D", [t, wt, b], [y], opt)
    g.m.output(y)


def _dead_channels(g: Gauntlet, x: str, cout: int) -> None:
    """A 1x1 conv whose odd channels are pruned the way converters leave them: weights 0, a tiny
    scale and a bias of +-2^30 (their output is a constant)."""
    t, (_, h, w, cin), si, _ = g.inputs[x]
    weights = g.rng.integers(-127, 128, (cout, 1, 1, cin))
    ws = g.rng.uniform(0.002, 0.02, cout)
    bias = g.rng.integers(-3000, 3000, cout)
    for c in range(1, cout, 2):
        weights[c] = 0
        ws[c] = 2.3e-9
        bias[c] = (1 << 30) * (1 if c % 4 == 1 else -1)
    wt = g.m.tensor((cout, 1, 1, cin), "int8", ws.tolist(), 0, data=weights)
    b = g.m.tensor((cout,), "int32", [si * s for s in ws], 0, data=bias)
    y = g.m.tensor((1, h, w, cout), "int8", si * float(ws.max()) * np.sqrt(cin) * 48, -128)
    g.m.op(
        "CONV_2D",
        [t, wt, b],
        [y],
        options("Conv2DOptions", padding=SAME, strideH=1, strideW=1, fusedActivationFunction=ACT["RELU"]),
    )
    g.m.output(y)


def _avg_pool(
    g: Gauntlet, x: str, k: tuple[int, int], stride: tuple[int, int], pad: int, act: str = "NONE"
) -> None:
    t, (_, h, w, c), si, zp = g.inputs[x]
    oh, ow = out_size(pad, h, k[0], stride[0]), out_size(pad, w, k[1], stride[1])
    y = g.m.tensor((1, oh, ow, c), "int8", si, zp)
    opt = options(
        "Pool2DOptions",
        padding=pad,
        strideH=stride[0],
        strideW=stride[1],
        filterHeight=k[0],
        filterWidth=k[1],
        fusedActivationFunction=ACT[act],
    )
    g.m.op("AVERAGE_POOL_2D", [t], [y], opt)
    g.m.output(y)


def dsp_model(path: Path) -> Path:
    g = Gauntlet(seed=11)
    g.input("kws", (1, 25, 5, 8), 0.05, -128)  # narrow plane, odd width
    g.input("odd", (1, 9, 7, 4), 0.04, 3)
    g.input("px", (1, 6, 6, 16), 0.02, -128)
    g.input("mono", (1, 13, 10, 1), 0.03, -5)  # KWS conv0: one input channel
    g.input("rgb", (1, 11, 9, 3), 0.02, -1)
    g.depthwise("kws", 3, 3, act="RELU")  # flattened stride-1 pass, 2 unused outputs per row
    g.depthwise("kws", 3, 3, stride=(2, 2), act="RELU")  # 13x3 outputs: an odd last pair
    g.depthwise("odd", 3, 3)  # zero point 3 without ReLU: the rounding correction
    g.depthwise("odd", 3, 3, stride=(2, 2), pad=VALID, act="RELU6")  # a clamp below 127
    g.depthwise("odd", 5, 3, act="RELU")  # the general loop
    g.depthwise("odd", 3, 3, dil=(2, 2), act="RELU")
    g.depthwise("px", 3, 3, stride=(2, 2), act="RELU")
    _depthwise_multiplier(g, "odd", 2)
    g.conv("mono", 8, 10, 4, stride=(2, 2), act="RELU")  # byte rows, runs of 4
    g.conv("mono", 3, 3, 3, dil=(2, 1))  # byte rows, dilated columns
    g.conv("rgb", 8, 3, 3, stride=(2, 2), act="RELU")  # VWW conv0
    g.conv("rgb", 5, 3, 3, pad=VALID)  # odd out_c, NONE
    g.conv("rgb", 20, 3, 3, act="RELU")  # `few` with int8 weights and doubled values (at the peak)
    g.conv("px", 10, 1, 1, act="RELU")  # pointwise
    g.conv("px", 7, 1, 1)
    g.conv("px", 12, 3, 3, act="RELU6", per_channel=False)
    g.conv("odd", 6, 3, 3, stride=(2, 2), act="RELU")  # in_c 4, padded taps
    g.conv("kws", 16, 1, 1, act="RELU")  # 125 pixels: a last single pixel
    _dead_channels(g, "px", 8)
    _avg_pool(g, "kws", (25, 5), (25, 5), VALID)  # KWS's global pool
    _avg_pool(g, "odd", (3, 3), (2, 2), SAME, act="RELU6")  # clipped windows, a clamp
    _avg_pool(g, "px", (2, 3), (1, 2), VALID)
    return g.write(path)


def dsp_conv_model(path: Path) -> Path:
    """Convolutions away from the arena's peak (a large input pooled last sets it), so that with int8
    weights each keeps its weights expanded to int16 in the scratch (wexpand): odd and even chunk
    pairs (the mid-loop entry), odd out_c, clamps, per-tensor weights, 1 and 3 input channels."""
    g = Gauntlet(seed=15)
    g.input("big", (1, 40, 40, 16), 0.05, -128)
    g.input("mono", (1, 13, 10, 1), 0.03, -5)
    g.input("rgb", (1, 11, 9, 3), 0.02, -1)
    g.input("px", (1, 6, 6, 16), 0.02, -128)
    g.input("odd", (1, 9, 7, 4), 0.04, 3)
    g.input("kws", (1, 25, 5, 8), 0.05, -128)
    g.conv("mono", 8, 10, 4, stride=(2, 2), act="RELU")  # 40 taps: 5 chunk pairs (odd)
    g.conv("mono", 3, 3, 3, dil=(2, 1))  # 2 chunk pairs, odd out_c
    g.conv("rgb", 8, 3, 3, stride=(2, 2), act="RELU")  # VWW conv0: 4 chunk pairs
    g.conv("rgb", 5, 3, 3, pad=VALID)  # odd out_c, NONE
    g.conv("rgb", 4, 5, 5, act="RELU6")  # 75 taps: 10 chunk pairs, a clamp
    g.conv("px", 10, 1, 1, act="RELU")  # 1 chunk pair
    g.conv("px", 12, 3, 3, act="RELU6", per_channel=False)  # 18 chunk pairs, per-tensor
    g.conv("px", 24, 3, 3, stride=(2, 2), act="RELU")
    g.conv("odd", 6, 3, 3, stride=(2, 2), act="RELU")  # in_c 4, 36 taps: 5 chunk pairs
    g.conv("odd", 9, 1, 3, stride=(1, 2), act="RELU6")  # zero point 3: the rounding correction
    g.conv("kws", 16, 1, 1, act="RELU")  # 125 pixels: a last single pixel
    g.conv("kws", 24, 3, 3, act="RELU")  # 72 taps: 9 chunk pairs
    g.input("duo", (1, 7, 8, 2), 0.03, 9)
    g.conv("mono", 4, 4, 5, act="RELU")  # `few`: rows of 5 bytes, 4 leftovers in one chunk
    g.conv("duo", 6, 2, 3, stride=(1, 2), act="RELU6")  # `few`: rows of 6 bytes, 2 x 2 leftovers
    g.conv("rgb", 7, 3, 3, stride=(2, 1))  # the straight-line 3x3x3 im2col, odd out_c
    # kernel rows of whole words over fewer than 4 channels (tf_dsp_conv_px4): 2 words a row with
    # a border on every side, 1 word a row with dilated rows and odd out_c
    g.conv("mono", 6, 3, 8, stride=(1, 2), act="RELU")
    g.conv("duo", 5, 3, 2, dil=(2, 1), act="RELU6")
    _avg_pool(g, "big", (2, 2), (2, 2), VALID)  # last: the arena's peak, all outputs live
    return g.write(path)


def dsp_conv_blocks_model(path: Path) -> Path:
    """Convolutions whose channel loop runs the assembly blocks (activation range all of int8, even
    out_c): every loop entry of the int16-weight loops (kpad / 8 = 1 .. 9 and 18 chunk pairs), both
    requantizations (ReLU with output zero point -128: SMMLAR only; NONE: the rounding correction),
    per-tensor weights, 25 pixels (a last single pixel), strides, VALID, the 1x1 im2col of both
    pixels (in_c 8 and 16)."""
    g = Gauntlet(seed=21)
    g.input("b", (1, 5, 5, 8), 0.04, -128)
    g.input("a", (1, 5, 7, 16), 0.03, 7)
    shapes = ((1, 1), (1, 3), (2, 2), (1, 5), (2, 3), (1, 7), (2, 4), (3, 3))  # kpad / 8 = 1, 3, ..., 9
    for i, (kh, kw) in enumerate(shapes):
        fast = i % 2 == 0
        g.conv(
            "b",
            2 + 2 * (i % 3),
            kh,
            kw,
            stride=(2, 1) if i % 4 == 3 else (1, 1),
            pad=VALID if i == 4 else SAME,
            act="RELU" if fast else "NONE",
            per_channel=i % 3 != 1,
            out_zp=-128 if fast else None,
        )
    g.conv("a", 6, 1, 1, act="RELU", out_zp=-128)  # 2 chunk pairs
    g.conv("a", 4, 3, 3, stride=(2, 2), pad=VALID)  # 18 chunk pairs: two iterations and more
    g.conv("a", 8, 3, 3, act="RELU", out_zp=-128, per_channel=False)
    return g.write(path)


def dsp_dense_model(path: Path) -> Path:
    g = Gauntlet(seed=12)
    g.input("r2", (2, 13), 0.05, 7)  # two rows, a 1-byte tail and padding to 16
    g.input("r1", (1, 64), 0.03, -128)
    g.dense("r2", 5)
    g.dense("r2", 6, act="RELU")
    g.dense("r1", 12)  # KWS's classifier
    g.dense("r1", 2, act="RELU")
    g.dense("r1", 9, act="RELU6")
    return g.write(path)


def dsp_add_model(path: Path) -> Path:
    g = Gauntlet(seed=13)
    g.input("a", (1, 8, 8, 16), 0.05, -128)
    g.input("b", (1, 8, 8, 16), 0.08, -9)
    g.add("a", "b", act="RELU", out_scale=0.1)  # ResNet's residual add
    g.add("a", "b", kind="SUB", out_scale=0.07)
    g.add("b", "a", out_scale=0.3)
    return g.write(path)


# The depthwise shapes real models use besides 3x3: time filters k x 1 (streaming keyword spotting,
# with strides and dilations), 1 x k, micro_speech's 10x8 stride 2 with depth multiplier 8, 5x5 and
# 7x7, 1x1 and 2x2, VALID and SAME.
DEPTHWISE_SHAPES: tuple[tuple[str, dict[str, object]], ...] = (
    ("t", {"kh": 3, "kw": 1, "act": "RELU"}),
    ("t", {"kh": 3, "kw": 1, "stride": (2, 1)}),
    ("t", {"kh": 5, "kw": 1, "stride": (2, 1), "act": "RELU"}),
    ("t", {"kh": 7, "kw": 1, "act": "RELU6"}),
    ("t", {"kh": 9, "kw": 1, "stride": (2, 1), "pad": VALID}),
    ("t", {"kh": 15, "kw": 1, "stride": (2, 1), "act": "RELU"}),
    ("t", {"kh": 4, "kw": 1, "dil": (2, 1), "act": "RELU"}),
    ("t", {"kh": 3, "kw": 1, "dil": (4, 1)}),
    ("t", {"kh": 1, "kw": 1, "act": "RELU"}),
    ("w", {"kh": 1, "kw": 5, "stride": (1, 2), "act": "RELU"}),
    ("w", {"kh": 2, "kw": 2}),
    ("w", {"kh": 5, "kw": 5, "act": "RELU"}),
    ("w", {"kh": 7, "kw": 7, "stride": (2, 2), "pad": VALID}),
    ("w", {"kh": 3, "kw": 3, "stride": (1, 2), "dil": (2, 1), "act": "RELU"}),
    ("s", {"kh": 10, "kw": 8, "stride": (2, 2), "depth_mult": 8, "act": "RELU"}),
    ("s", {"kh": 3, "kw": 3, "depth_mult": 3}),
    # the direct channel-last path (a multiple of 4 channels, depth multiplier 1): tiny maps where
    # every output is a border output, 2-D dilations and strides, each activation clamp
    ("m", {"kh": 3, "kw": 3, "act": "RELU"}),
    ("m", {"kh": 3, "kw": 3, "stride": (2, 2), "act": "RELU6"}),
    ("m", {"kh": 2, "kw": 3, "dil": (2, 1)}),
    ("w", {"kh": 3, "kw": 3, "dil": (2, 3), "act": "RELU6"}),
    ("w", {"kh": 3, "kw": 2, "stride": (2, 3), "pad": VALID}),
    ("w", {"kh": 4, "kw": 4, "stride": (3, 1), "dil": (1, 2), "act": "RELU"}),
    ("w", {"kh": 3, "kw": 3, "stride": (2, 2)}),
    ("t", {"kh": 3, "kw": 1, "act": "RELU"}),
    ("t", {"kh": 3, "kw": 1, "act": "RELU"}),
    ("t", {"kh": 6, "kw": 1, "act": "RELU6"}),
    # image planes of tiny maps: four channels gathered at once (conv.py PLANES4_SMALL_BYTES), a
    # partial last group (6 = 4 + 1 + 1 channels), depth multiplier 2, 3x3 stride 1 / 2 and others
    ("n", {"kh": 3, "kw": 3, "act": "RELU", "depth_mult": 2}),
    ("n", {"kh": 3, "kw": 3, "stride": (2, 2), "act": "RELU6"}),
    ("n", {"kh": 5, "kw": 5, "act": "RELU"}),
    ("n", {"kh": 2, "kw": 3, "stride": (1, 2)}),
    # maps taller than wide: square kernels on transposed planes (longer plane rows, KWS's 25x5),
    # each requantization mode, 4 planes at once on the tiny one
    ("k", {"kh": 3, "kw": 3, "act": "RELU"}),
    ("k", {"kh": 3, "kw": 3}),
    ("k", {"kh": 3, "kw": 3, "act": "RELU6"}),
    ("k", {"kh": 5, "kw": 5, "act": "RELU"}),
    ("k", {"kh": 3, "kw": 3, "stride": (2, 2), "act": "RELU"}),
    ("k", {"kh": 3, "kw": 3, "dil": (2, 2), "pad": VALID}),
    ("q", {"kh": 3, "kw": 3, "act": "RELU"}),
    ("q", {"kh": 3, "kw": 3, "stride": (2, 2)}),
)


def dsp_depthwise_shapes_model(path: Path, seed: int = 14) -> Path:
    g = Gauntlet(seed=seed)
    g.input("t", (1, 33, 1, 12), 0.05, -128)  # a time series: 33 steps of 12 features
    g.input("w", (1, 11, 13, 8), 0.04, 5)
    g.input("s", (1, 17, 10, 1), 0.03, -7)  # micro_speech-like spectrogram, one channel
    g.input("m", (1, 2, 3, 8), 0.05, -20)  # a tiny feature map
    g.input("n", (1, 5, 6, 6), 0.04, 9)  # a tiny map of 6 channels
    g.input("k", (1, 13, 5, 7), 0.05, -128)  # taller than wide
    g.input("q", (1, 7, 3, 6), 0.05, 3)  # tiny and taller than wide (4 + 1 + 1 planes)
    for x, kw in DEPTHWISE_SHAPES:
        g.depthwise(x, **kw)  # type: ignore[arg-type]
    return g.write(path)


def dsp_depthwise_tiny_model(path: Path, seed: int = 9) -> Path:
    """3x3 depthwise layers whose plane rows have 3 outputs (tf_dsp_depthwise.c tf_dw3t_*, VWW's
    3x3 maps): stride 1 and 2, without and with the rounding correction (output zero point -128 on
    the full range, or another one), a transposed plane (3 output rows of 2), 2 rows of 3, 4 + 1 + 1
    channels (one-channel gathers); stride 2 along rows of 3k outputs; and clamped ones and a 5x5
    map that keep the other runs."""
    g = Gauntlet(seed=seed)
    g.input("a", (1, 3, 3, 16), 0.04, -128)  # VWW's last 3x3 map
    g.input("b", (1, 6, 6, 8), 0.05, -128)  # VWW's 6x6 -> 3x3 stride 2
    g.input("c", (1, 7, 7, 6), 0.05, 11)  # VALID stride 2 -> 3x3, 4 + 1 + 1 channels
    g.input("d", (1, 3, 2, 8), 0.04, -3)  # 3 rows of 2: transposed planes
    g.input("e", (1, 2, 3, 4), 0.04, -50)  # 2 rows of 3
    g.depthwise("a", 3, 3, act="RELU", y_zp=-128)
    g.depthwise("a", 3, 3, y_zp=-128)
    g.depthwise("a", 3, 3, y_zp=7)
    g.depthwise("a", 3, 3, act="RELU6")
    g.depthwise("b", 3, 3, stride=(2, 2), act="RELU", y_zp=-128)
    g.depthwise("b", 3, 3, stride=(2, 2), y_zp=20)
    g.depthwise("c", 3, 3, stride=(2, 2), pad=VALID, y_zp=-128)
    g.depthwise("c", 3, 3, stride=(2, 2), pad=VALID, y_zp=-9)
    g.depthwise("c", 3, 3, pad=VALID, y_zp=-128)  # 5x5 output: the pair runs
    g.depthwise("d", 3, 3, act="RELU", y_zp=-128)
    g.depthwise("d", 3, 3, y_zp=4)
    g.depthwise("e", 3, 3, y_zp=-128)
    g.depthwise("e", 3, 3, stride=(2, 2), y_zp=-1)
    # stride 2 along rows of 3k outputs (tf_dw3l_*): 6 (VWW's 12x12 -> 6x6), 6 with the rounding
    # correction and 4 + 1 channels, 9 on a transposed plane
    g.input("f", (1, 12, 12, 8), 0.04, -128)
    g.input("h", (1, 9, 13, 5), 0.05, 6)
    g.input("i", (1, 18, 7, 4), 0.05, -128)
    g.depthwise("f", 3, 3, stride=(2, 2), act="RELU", y_zp=-128)
    g.depthwise("h", 3, 3, stride=(2, 2), pad=VALID, y_zp=3)
    g.depthwise("i", 3, 3, stride=(2, 2), y_zp=-128)
    return g.write(path)


def dsp_depthwise_shift_model(path: Path, seed: int = 5) -> Path:
    """Depthwise layers of the direct path's shift runs (tf_dsp_depthwise.c tf_dw4_shift_setup):
    time filters of >= 128 outputs on the full range (ReLU, output zero point -128), with a folded
    clamp (ReLU6), SSUB8 / SEL at act_min or both bounds (ReLU / ReLU6 with other zero points), strides
    1-3, dilation, 3-tap and longer rows; 2-D 3x3 kernels (1-3 valid kernel rows) that would correct
    and clamp; short time filters that keep the old runs."""
    g = Gauntlet(seed=seed)
    g.input("t", (1, 131, 1, 8), 0.05, -128)  # 131 steps of 8 features
    g.input("u", (1, 1, 140, 12), 0.04, 7)  # 1 x k filters along a row
    g.input("i", (1, 9, 10, 8), 0.04, 3)
    g.input("s", (1, 40, 1, 8), 0.05, -5)  # short: the old runs
    for kw in (
        {"kh": 3, "kw": 1, "dil": (2, 1), "act": "RELU", "y_zp": -128},
        {"kh": 5, "kw": 1, "dil": (3, 1), "act": "RELU", "y_zp": -128},
        {"kh": 3, "kw": 1, "act": "RELU6", "y_zp": -128},
        {"kh": 7, "kw": 1, "act": "RELU"},
        {"kh": 3, "kw": 1, "dil": (2, 1), "act": "RELU"},
        {"kh": 4, "kw": 1, "act": "RELU6"},
        {"kh": 3, "kw": 1, "stride": (3, 1), "act": "RELU", "y_zp": -128},
    ):
        g.depthwise("t", **kw)  # type: ignore[arg-type]
    g.depthwise("t", 3, 1, stride=(2, 1), act="RELU")
    g.depthwise("u", 1, 3, act="RELU")
    g.depthwise("u", 1, 5, stride=(1, 2), act="RELU6", y_zp=-128)
    g.depthwise("i", 3, 3, act="RELU")
    g.depthwise("i", 3, 3, stride=(2, 2), act="RELU6")
    g.depthwise("s", 3, 1, act="RELU", y_zp=-128)
    g.depthwise("s", 6, 1, stride=(2, 1), act="RELU6", y_zp=-128)
    return g.write(path)


def random_depthwise_model(path: Path, seed: int, layers: int = 10, wide: bool = False) -> Path:
    """Depthwise layers of random shape (kernel, stride, dilation, depth multiplier, padding,
    activation) on random inputs: the property test's model. `wide`: kernels up to 15 x 15, strides
    and dilations up to 3 (also both along one axis), depth multipliers up to 8, channel counts
    that are not multiples of 4/8/16 and odd widths (the Helium plane kernel's range)."""
    g = Gauntlet(seed=seed)
    rng = np.random.default_rng(seed)
    for i in range(layers):
        top = 24 if wide else 20
        h, w = int(rng.integers(1, top)), int(rng.integers(1, top))
        chans = [1, 3, 5, 8, 12, 17, 20, 33] if wide else [1, 2, 3, 4, 5, 8, 12]
        c = int(rng.choice(chans))
        name = f"x{i}"
        g.input(name, (1, h, w, c), float(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 40)))
        kmax = 15 if wide else 9
        kh, kw = int(rng.integers(1, min(h, kmax) + 1)), int(rng.integers(1, min(w, kmax) + 1))
        smax = 4 if wide else 3
        sh, sw = int(rng.integers(1, smax)), int(rng.integers(1, smax))
        if wide:
            dh = 1 if kh == 1 else int(rng.choice([1, 1, 2, 3]))
            dw = 1 if kw == 1 else int(rng.choice([1, 1, 2, 3]))
        else:
            dh = 1 if sh > 1 or kh == 1 else int(rng.choice([1, 1, 2]))
            dw = 1 if sw > 1 or kw == 1 else int(rng.choice([1, 1, 2]))
        pad = SAME if rng.random() < 0.6 else VALID
        if pad == VALID and ((kh - 1) * dh + 1 > h or (kw - 1) * dw + 1 > w):
            pad = SAME
        g.depthwise(
            name,
            kh,
            kw,
            stride=(sh, sw),
            dil=(dh, dw),
            pad=pad,
            act=str(rng.choice(["NONE", "RELU", "RELU6"])),
            depth_mult=int(rng.choice([1, 2, 3, 5, 8] if wide else [1, 1, 2, 3])),
        )
    return g.write(path)


def _dense(g: Gauntlet, x: str, units: int, act: str, out_zp: int, per_channel: bool) -> None:
    """Gauntlet.dense with a chosen output zero point (-128: ReLU outputs, the kernels' `fast` path)
    and per-channel or per-tensor weight scales."""
    t, (_, n), si, _ = g.inputs[x]
    ws = g.rng.uniform(0.002, 0.02, units).tolist() if per_channel else float(g.rng.uniform(0.002, 0.02))
    wdata = g.rng.integers(-127, 128, (units, n))
    wt = g.m.tensor((units, n), "int8", ws, 0, data=wdata, axis=0)
    wmean = float(np.mean(ws))
    b = g.m.tensor(
        (units,), "int32", [si * w for w in ws] if per_channel else si * wmean, 0, data=g._bias(units, None)
    )
    y = g.m.tensor((g.inputs[x][1][0], units), "int8", g._out_scale(si, wmean, n, None), out_zp)
    opt = options("FullyConnectedOptions", fusedActivationFunction=ACT[act])
    g.m.op("FULLY_CONNECTED", [t, wt, b], [y], opt)
    g.m.output(y)


def random_dense_model(path: Path, seed: int, layers: int = 10) -> Path:
    """FULLY_CONNECTED layers of random shape: 1 to 3 rows, input depths with and without a tail
    (multiples of 8 too, which the lean variant needs), output depths that are and are not multiples
    of 4, ReLU / ReLU6 / none, output zero point -128 (the `fast` requantization) or another, per-tensor
    or per-channel weights: the property test's model."""
    g = Gauntlet(seed=seed)
    rng = np.random.default_rng(seed)
    for i in range(layers):
        name = f"x{i}"
        rows = int(rng.choice([1, 1, 2, 3]))
        n = int(rng.choice([3, 8, 13, 16, 24, 40, 64, 77, 128, 136]))
        g.input(name, (rows, n), float(rng.uniform(0.01, 0.1)), int(rng.integers(-128, 40)))
        units = int(rng.choice([1, 3, 4, 5, 8, 11, 16, 20, 31, 40]))
        act = str(rng.choice(["NONE", "RELU", "RELU", "RELU6"]))
        zp = -128 if rng.random() < 0.5 else int(rng.integers(-30, 30))
        _dense(g, name, units, act, zp, bool(rng.random() < 0.5))
    return g.write(path)


# One FULLY_CONNECTED layer, the arena's peak, so that it runs the lean variant (the int8 row
# unpacked in the loop): (input depth, units, rows, activation, output zero point, per channel).
# Input depths 8 / 16 / 24 / 136 / 40 / 32 / 64 enter the assembly's 32-input loop at each of its
# 4 steps; -128 with ReLU or NONE is the `fast` requantization.
LEAN_DENSE_CASES: tuple[tuple[int, int, int, str, int, bool], ...] = (
    (8, 5, 2, "RELU", -128, False),
    (16, 12, 1, "RELU", -128, False),
    (24, 7, 3, "NONE", -128, False),
    (136, 9, 2, "RELU", -128, False),
    (40, 6, 1, "RELU6", 5, False),
    (32, 10, 2, "NONE", 3, False),
    (64, 4, 1, "RELU", -128, True),
)


def lean_dense_model(path: Path, case: int) -> Path:
    """LEAN_DENSE_CASES[case] as a model."""
    n, units, rows, act, zp, per_channel = LEAN_DENSE_CASES[case]
    g = Gauntlet(seed=40 + case)
    g.input("x", (rows, n), 0.04, -3 + case)
    _dense(g, "x", units, act, zp, per_channel)
    return g.write(path)


__all__ = [
    "DEPTHWISE_SHAPES",
    "LEAN_DENSE_CASES",
    "dsp_add_model",
    "dsp_dense_model",
    "dsp_depthwise_shapes_model",
    "dsp_depthwise_tiny_model",
    "dsp_model",
    "lean_dense_model",
    "out_size",
    "random_dense_model",
    "random_depthwise_model",
]
