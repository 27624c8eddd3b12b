"""Tiny int8 .tflite models that put the Helium kernels' edge cases side by side (several inputs,
one output per layer), written with tests/toolchain/opmodels.py (no TensorFlow).

Each branch is one layer on one of the model's inputs; the shapes cover what the kernels special-
case: channel counts around 4, 8 and 16, dot products shorter than, equal to and longer than 16
bytes with and without a tail, odd pixel counts (a last single row), strides, dilation, padding,
filters other than 3x3, per-tensor weights and multipliers above 1 (left shifts).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

from opmodels import ModelBuilder, options  # noqa: E402

SAME, VALID = 0, 1
ACT = {"NONE": 0, "RELU": 1, "RELU6": 3}


def out_size(padding: int, size: int, k: int, stride: int, dil: int = 1) -> int:
    eff = (k - 1) * dil + 1
    return (size + stride - 1) // stride if padding == SAME else (size - eff + stride) // stride


@dataclass
class Gauntlet:
    """A model under construction: inputs by name, a growing list of branch outputs."""

    seed: int = 0
    m: ModelBuilder = field(default_factory=ModelBuilder)
    inputs: dict[str, tuple[int, tuple[int, ...], float, int]] = field(default_factory=dict)
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def input(self, name: str, shape: tuple[int, ...], scale: float, zero_point: int) -> None:
        self.inputs[name] = (
            self.m.input(shape, "int8", scale, zero_point, name=name),
            shape,
            scale,
            zero_point,
        )

    def _weights(self, shape: tuple[int, ...], wmax: int, nonzero: int | None) -> np.ndarray:
        """Random int8 weights in [-wmax, wmax]; with `nonzero`, only that many per output channel
        (the first axis) are not 0, which keeps the accumulators small."""
        w = self.rng.integers(-wmax, wmax + 1, shape)
        if nonzero is not None:
            flat = w.reshape(shape[0], -1)
            for row in flat:
                keep = self.rng.choice(row.size, size=min(nonzero, row.size), replace=False)
                mask = np.zeros(row.size, dtype=bool)
                mask[keep] = True
                row[~mask] = 0
                row[mask & (row == 0)] = 1
            w = flat.reshape(shape)
        return w

    def _bias(self, n: int, mult: float | None) -> np.ndarray:
        return self.rng.integers(-30, 30, n) if mult else self.rng.integers(-3000, 3000, n)

    def _out_scale(self, si: float, ws: float, k: int, mult: float | None) -> float:
        """Outputs spread over int8; or the largest channel's real multiplier is `mult` (above 1:
        left shifts, with small weights so that not every output saturates)."""
        return si * ws / mult if mult else si * ws * math.sqrt(k) * 48

    def conv(
        self,
        x: str,
        cout: int,
        kh: int,
        kw: int,
        stride: tuple[int, int] = (1, 1),
        dil: tuple[int, int] = (1, 1),
        pad: int = SAME,
        act: str = "NONE",
        per_channel: bool = True,
        mult: float | None = None,
        wmax: int = 127,
        nonzero: int | None = None,
        out_zp: int | None = None,
    ) -> None:
        t, (_, h, w, cin), si, _ = self.inputs[x]
        oh, ow = out_size(pad, h, kh, stride[0], dil[0]), out_size(pad, w, kw, stride[1], dil[1])
        ws = self.rng.uniform(0.002, 0.02, cout if per_channel else 1).tolist()
        wt = self.m.tensor(
            (cout, kh, kw, cin), "int8", ws, 0, data=self._weights((cout, kh, kw, cin), wmax, nonzero)
        )
        bias_scales = [si * s for s in (ws if per_channel else ws * cout)]
        b = self.m.tensor((cout,), "int32", bias_scales, 0, data=self._bias(cout, mult))
        so = self._out_scale(si, max(ws), kh * kw * cin, mult)
        zp = int(self.rng.integers(-20, 20))
        y = self.m.tensor((1, oh, ow, cout), "int8", so, zp if out_zp is None else out_zp)
        opt = options(
            "Conv2DOptions",
            padding=pad,
            strideH=stride[0],
            strideW=stride[1],
            dilationHFactor=dil[0],
            dilationWFactor=dil[1],
            fusedActivationFunction=ACT[act],
        )
        self.m.op("CONV_2D", [t, wt, b], [y], opt)
        self.m.output(y)

    def depthwise(
        self,
        x: str,
        kh: int,
        kw: int,
        stride: tuple[int, int] = (1, 1),
        dil: tuple[int, int] = (1, 1),
        pad: int = SAME,
        act: str = "NONE",
        per_channel: bool = True,
        mult: float | None = None,
        wmax: int = 127,
        depth_mult: int = 1,
        chain: str | None = None,
        y_zp: int | None = None,
    ) -> None:
        """A depthwise layer on input `x`; its output is a model output, or with `chain` the input of
        that name for later layers. `y_zp`: the output zero point (else random in [-20, 20))."""
        t, (_, h, w, cin), si, _ = self.inputs[x]
        c = cin * depth_mult
        oh, ow = out_size(pad, h, kh, stride[0], dil[0]), out_size(pad, w, kw, stride[1], dil[1])
        ws = self.rng.uniform(0.002, 0.02, c if per_channel else 1).tolist()
        wt = self.m.tensor(
            (1, kh, kw, c), "int8", ws, 0, data=self.rng.integers(-wmax, wmax + 1, (1, kh, kw, c)), axis=3
        )
        bias_scales = [si * s for s in (ws if per_channel else ws * c)]
        b = self.m.tensor((c,), "int32", bias_scales, 0, data=self._bias(c, mult))
        so = self._out_scale(si, max(ws), kh * kw, mult)
        zp = int(self.rng.integers(-20, 20))
        y_zp = zp if y_zp is None else y_zp
        y = self.m.tensor((1, oh, ow, c), "int8", so, y_zp)
        opt = options(
            "DepthwiseConv2DOptions",
            padding=pad,
            strideH=stride[0],
            strideW=stride[1],
            depthMultiplier=depth_mult,
            dilationHFactor=dil[0],
            dilationWFactor=dil[1],
            fusedActivationFunction=ACT[act],
        )
        self.m.op("DEPTHWISE_CONV_2D", [t, wt, b], [y], opt)
        if chain:
            self.inputs[chain] = (y, (1, oh, ow, c), so, y_zp)
        else:
            self.m.output(y)

    def dense(
        self,
        x: str,
        units: int,
        act: str = "NONE",
        mult: float | None = None,
        wmax: int = 127,
        nonzero: int | None = None,
    ) -> None:
        t, shape, si, _ = self.inputs[x]
        batches, n = shape
        ws = float(self.rng.uniform(0.002, 0.02))
        wt = self.m.tensor((units, n), "int8", ws, 0, data=self._weights((units, n), wmax, nonzero))
        b = self.m.tensor((units,), "int32", si * ws, 0, data=self._bias(units, mult))
        y = self.m.tensor(
            (batches, units), "int8", self._out_scale(si, ws, n, mult), int(self.rng.integers(-20, 20))
        )
        self.m.op(
            "FULLY_CONNECTED",
            [t, wt, b],
            [y],
            options("FullyConnectedOptions", fusedActivationFunction=ACT[act]),
        )
        self.m.output(y)

    def add(self, a: str, b: str, kind: str = "ADD", act: str = "NONE", out_scale: float = 0.05) -> None:
        ta, shape, _, _ = self.inputs[a]
        tb = self.inputs[b][0]
        y = self.m.tensor(shape, "int8", out_scale, int(self.rng.integers(-20, 20)))
        opt = options(f"{kind.capitalize()}Options", fusedActivationFunction=ACT[act])
        self.m.op(kind, [ta, tb], [y], opt)
        self.m.output(y)

    def avg_pool(
        self, x: str, kh: int, kw: int, stride: tuple[int, int], pad: int = VALID, act: str = "NONE"
    ) -> None:
        t, (_, h, w, c), si, zi = self.inputs[x]
        oh, ow = out_size(pad, h, kh, stride[0]), out_size(pad, w, kw, stride[1])
        y = self.m.tensor((1, oh, ow, c), "int8", si, zi)  # pooling keeps the input's quantization
        opt = options(
            "Pool2DOptions",
            padding=pad,
            strideH=stride[0],
            strideW=stride[1],
            filterHeight=kh,
            filterWidth=kw,
            fusedActivationFunction=ACT[act],
        )
        self.m.op("AVERAGE_POOL_2D", [t], [y], opt)
        self.m.output(y)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.m.build())
        return path


def conv_model(path: Path) -> Path:
    g = Gauntlet(seed=1)
    g.input("c3", (1, 7, 9, 3), 0.05, -7)  # 63 pixels: pairs and a last single row
    g.input("c17", (1, 6, 5, 17), 0.03, 11)
    g.input("c33", (1, 5, 3, 33), 0.02, -128)
    g.conv("c3", 5, 3, 3, act="RELU")  # k 27: one chunk + a tail; a partial block of filters
    g.conv("c3", 4, 3, 3, stride=(2, 2), pad=VALID)
    g.conv("c3", 6, 1, 1)  # k 3: only a tail, rows read in place
    g.conv("c3", 8, 5, 1, stride=(2, 1), pad=VALID, act="RELU6")
    g.conv("c3", 3, 2, 2, dil=(2, 3))  # dilation: the per-tap im2col
    g.conv("c17", 7, 1, 1)  # k 17: a chunk and a 1-byte tail
    g.conv("c17", 9, 1, 1, stride=(2, 2))  # strided rows in place
    g.conv("c17", 16, 3, 3, act="RELU")  # k 153: a loop, a tail
    g.conv("c17", 1, 2, 3, stride=(1, 2), pad=VALID)
    g.conv("c33", 13, 3, 3, per_channel=False)  # per-tensor weights
    g.conv("c33", 4, 1, 1, mult=1.3, wmax=1, nonzero=1)  # multipliers above 1: left shifts
    g.conv("c33", 2, 4, 3, stride=(2, 1))
    return g.write(path)


def conv_paths_model(path: Path) -> Path:
    """The matrix core's dot-product shapes without a tail (k = 16, 32, 48, 64, 144: the first
    chunk, an odd chunk, the loop over pairs), the general requantization (a shift of 0, a left
    shift) with a partial last block of filters, and the column buffer: 1, 3, 5, 12, 16 and 32 input
    channels (under 16: rows scattered into the columns, 16 / channels columns at a time; 1
    channel's 39-column rows in three stores), padding on every side, stride 2,
    row dilation, output rows split into runs; and the im2col rows it leaves (filters taller than
    17 on 1 channel, stride wider than the filter)."""
    g = Gauntlet(seed=6)
    g.input("c16", (1, 6, 7, 16), 0.04, 3)  # 42 pixels
    g.input("c1", (1, 12, 7, 1), 0.05, -9)
    g.input("c3", (1, 5, 9, 3), 0.03, 17)
    g.input("wide", (1, 3, 40, 32), 0.02, -100)  # 288-byte taps: a row in two runs of columns
    g.input("c1w", (1, 20, 37, 1), 0.05, 40)  # 1 channel, 39 columns: three scatter stores a row
    g.input("c5", (1, 4, 11, 5), 0.03, -60)  # 3 columns of 5 channels per scatter store
    g.input("c12", (1, 5, 6, 12), 0.03, 0)  # 1 column of 12 channels per scatter store
    g.conv("c16", 12, 1, 1)  # k 16: one chunk
    g.conv("c16", 8, 2, 1, act="RELU")  # k 32: the first and an odd chunk, column buffer
    g.conv("c16", 7, 3, 1, mult=0.7)  # k 48: a pair of chunks; a shift of 0: general, 3 filters left
    g.conv("c16", 6, 2, 2, mult=1.3, wmax=1, nonzero=2)  # k 64: odd + pairs, left shifts, 2 left
    g.conv("c16", 16, 3, 3, stride=(2, 2), act="RELU6")  # k 144 at stride 2 from columns
    g.conv("c16", 5, 3, 3, pad=VALID)
    g.conv("c1", 9, 10, 4, stride=(2, 2))  # 1 channel at stride 2 (KWS's first layer)
    g.conv("c1", 4, 3, 3, act="RELU")  # 1 channel at stride 1: columns of 3 bytes
    g.conv("c1", 8, 3, 2, dil=(2, 1))  # row dilation in the column buffer
    g.conv("c3", 8, 3, 3, stride=(2, 2))
    g.conv("c3", 5, 2, 2, stride=(3, 3))  # stride wider than the filter: im2col rows
    g.conv("c3", 4, 5, 5, mult=0.7)  # padding of 2 on every side
    g.conv("wide", 8, 3, 3)
    g.conv("wide", 4, 1, 3, stride=(1, 2), pad=VALID)
    g.conv("c1w", 6, 3, 3, act="RELU")
    g.conv("c1w", 5, 18, 2, stride=(1, 2))  # 18 rows: im2col
    g.conv("c5", 7, 3, 3, act="RELU")
    g.conv("c12", 4, 2, 2, stride=(2, 2))
    return g.write(path)


def depthwise_model(path: Path) -> Path:
    g = Gauntlet(seed=2)
    sizes = {
        1: (5, 4),
        7: (6, 7),
        8: (5, 5),
        9: (4, 6),
        16: (5, 3),
        24: (3, 5),
        32: (4, 5),
        33: (4, 4),
        64: (3, 4),
    }
    for c, (h, w) in sizes.items():
        g.input(f"c{c}", (1, h, w, c), 0.04, -128 if c % 2 else 5)
        g.depthwise(f"c{c}", 3, 3, act="RELU" if c % 2 else "NONE")  # 8/16/32/64: straight from the input
        g.depthwise(f"c{c}", 3, 3, stride=(2, 2), pad=VALID)  # others: the im2col block
    g.depthwise("c9", 3, 3, dil=(2, 2))
    g.depthwise("c16", 3, 3, per_channel=False, act="RELU6")
    g.depthwise("c32", 3, 3, dil=(2, 1), stride=(1, 1))  # row dilation on the direct path
    g.depthwise("c64", 3, 3, stride=(1, 2), mult=1.5, wmax=1)  # left shifts, direct path
    g.depthwise("c24", 3, 3, mult=1.5, wmax=1)  # left shifts, im2col path
    g.depthwise("c7", 5, 3, stride=(1, 2))  # other filter sizes: the generic path
    g.depthwise("c33", 2, 2, pad=VALID)
    g.depthwise("c8", 1, 1, mult=2.5, wmax=2)
    g.input("narrow", (1, 4, 2, 16), 0.04, 9)  # SAME, stride 2 on 2 columns: no padding left, one right
    g.depthwise("narrow", 3, 3, stride=(2, 2))
    g.input("one", (1, 1, 1, 32), 0.04, -2)  # a single pixel: every tap but the middle is padding
    g.depthwise("one", 3, 3)
    # the direct path's padded row copies: KWS-like 64 channels on 5 columns (and a row dilation of
    # 3: a copy per filter row), 2 columns, stride 2 on 5 columns (padding each side), 1 column
    g.input("kws", (1, 7, 5, 64), 0.04, 7)
    g.depthwise("kws", 3, 3, act="RELU")
    g.depthwise("kws", 3, 3, dil=(3, 1))
    g.depthwise("kws", 3, 3, chain="kws2")  # an intermediate tensor: the next layer runs in place
    g.depthwise("kws2", 3, 3, stride=(2, 2), act="RELU", chain="kws3")  # in place, stride 2
    g.depthwise("kws3", 3, 3)
    g.input("two", (1, 3, 2, 8), 0.04, -3)
    g.depthwise("two", 3, 3, act="RELU6")
    g.depthwise("two", 3, 3, mult=0.75, wmax=3)  # a channel shifted by 0: the copy with left shifts
    g.input("s2", (1, 5, 5, 32), 0.04, 11)
    g.depthwise("s2", 3, 3, stride=(2, 2))
    g.input("col", (1, 4, 1, 16), 0.04, 4)
    g.depthwise("col", 3, 3)
    return g.write(path)


# (input name, kernel, stride, dilation, padding, depth multiplier, lanes taps): every layer takes
# the plane kernel's lanes path (tf_mve_depthwise.c) but the last two
LANES_LAYERS = (
    ("t", (3, 1), (1, 1), (1, 1), SAME, 1, 3),  # a time filter: transposed plane, one row
    ("t", (3, 1), (2, 1), (1, 1), SAME, 1, 3),  # stride 2: two phases
    ("t", (5, 1), (3, 1), (1, 1), VALID, 1, 5),  # stride 3, VALID
    ("t", (4, 1), (1, 1), (2, 1), SAME, 1, 4),  # dilation
    ("t", (3, 1), (4, 1), (3, 1), SAME, 2, 3),  # stride 4 with dilation 3, depth multiplier 2
    ("t", (1, 1), (1, 1), (1, 1), VALID, 1, 1),  # one tap
    ("t", (6, 1), (2, 1), (1, 1), SAME, 1, 6),  # six taps
    ("img", (1, 3), (1, 2), (1, 1), SAME, 1, 3),  # rows of an image, stride 2 along them
    ("img", (2, 2), (2, 1), (1, 1), VALID, 3, 4),  # two kernel rows, depth multiplier 3
    ("img", (3, 2), (1, 1), (2, 2), SAME, 1, 6),  # 3x2 transposed, dilated both ways
    ("img", (2, 3), (1, 3), (1, 1), SAME, 1, 6),  # stride 3 along rows of 9 columns
    ("one", (1, 2), (1, 1), (1, 1), SAME, 2, 2),  # a single pixel: one tap reads padding
    ("tiny", (2, 1), (2, 1), (1, 1), SAME, 1, 2),  # 3 rows x 1 column, stride 2
    ("t", (7, 1), (1, 1), (1, 1), SAME, 1, 0),  # seven taps: the segment path
    ("t", (5, 1), (5, 1), (1, 1), VALID, 1, 0),  # stride 5: the segment path
)


def lanes_model(path: Path) -> Path:
    """The lanes path of tf_mve_dw_plane_s8 (LANES_LAYERS): time series and image rows, strides 1-4
    along plane rows (phases), dilation, depth multipliers, SAME/VALID, odd channel counts (13, 5),
    a single pixel and a map of 3 x 1."""
    g = Gauntlet(seed=12)
    g.input("t", (1, 23, 1, 13), 0.05, -128)  # 23 steps: a partial last group of four outputs
    g.input("img", (1, 7, 9, 5), 0.04, 3)
    g.input("one", (1, 1, 1, 3), 0.04, -2)
    g.input("tiny", (1, 3, 1, 2), 0.04, 11)
    for x, (kh, kw), stride, dil, pad, dm, _ in LANES_LAYERS:
        act = "RELU" if kh % 2 else "RELU6" if dm > 1 else "NONE"
        g.depthwise(x, kh, kw, stride=stride, dil=dil, pad=pad, act=act, depth_mult=dm)
    return g.write(path)


# (input name, kernel, stride, dilation, padding, depth multiplier, multiplier, per channel, lanes
# taps): the lanes path with channels that do not shift right. With `mult` the largest channel's
# real multiplier in_scale * w_scale / out_scale is `mult` and the others spread down to a tenth of
# it (weights scales 0.002-0.02): 1.5 gives right shifts (< 0.5), shifts of 0 ([0.5, 1)) and left
# shifts (>= 1) side by side; per tensor every channel has the same shift.
LANES_SHIFT_LAYERS = (
    ("t", (3, 1), (1, 1), (1, 1), SAME, 1, 1.5, True, 3),  # mixed: right, 0 and left in one layer
    ("t", (3, 1), (2, 1), (1, 1), SAME, 1, 1.5, True, 3),  # mixed, stride 2 (two phases)
    ("t", (5, 1), (2, 1), (1, 1), SAME, 1, 0.9, True, 5),  # shifts of 0 and right shifts, 5 taps
    ("t", (1, 1), (1, 1), (1, 1), VALID, 1, 6.0, False, 1),  # per tensor: every channel left 3
    ("t", (2, 1), (3, 1), (1, 1), SAME, 2, 0.7, False, 2),  # per tensor shift 0, stride 3, dm 2
    ("t", (4, 1), (1, 1), (2, 1), SAME, 1, 2.5, True, 4),  # dilation, shifts -1 to 2
    ("t", (6, 1), (4, 1), (1, 1), SAME, 1, 1.2, True, 6),  # six taps, stride 4
    ("img", (2, 3), (1, 3), (1, 1), SAME, 1, 1.5, True, 6),  # image rows, stride 3: all left 1
    ("img", (1, 3), (1, 2), (1, 1), VALID, 3, 0.8, True, 3),  # depth multiplier 3
    ("img", (3, 2), (1, 1), (2, 2), SAME, 1, 40.0, True, 6),  # left shifts of 4-6, transposed
    ("t", (7, 1), (1, 1), (1, 1), SAME, 1, 1.5, True, 0),  # seven taps: the segment path
)


def lanes_shift_model(path: Path) -> Path:
    """The lanes path of tf_mve_dw_plane_s8 with channels that shift left or not at all
    (LANES_SHIFT_LAYERS), mixed with right-shifting ones in a layer or alone: 1-6 taps, strides
    1-4, dilation, depth multipliers. Small weights and biases keep many outputs inside int8."""
    g = Gauntlet(seed=14)
    g.input("t", (1, 23, 1, 13), 0.05, 7)
    g.input("img", (1, 7, 9, 5), 0.04, -3)
    for x, (kh, kw), stride, dil, pad, dm, mult, per_channel, _ in LANES_SHIFT_LAYERS:
        act = "RELU6" if dm > 1 else "NONE"
        g.depthwise(
            x,
            kh,
            kw,
            stride=stride,
            dil=dil,
            pad=pad,
            act=act,
            depth_mult=dm,
            mult=mult,
            per_channel=per_channel,
            wmax=1 if mult >= 1 else 3,
        )
    return g.write(path)


def dense_model(path: Path) -> Path:
    g = Gauntlet(seed=3)
    g.input("b1", (1, 5), 0.05, 3)  # k < 16
    g.input("b3", (3, 40), 0.03, -128)  # 3 rows: a pair and a single; k 40
    g.input("b2", (2, 16), 0.02, 0)  # k exactly one chunk
    g.dense("b1", 3)
    g.dense("b1", 9, act="RELU")
    g.dense("b3", 1)
    g.dense("b3", 12, act="RELU6")
    g.dense("b2", 5, mult=1.3, wmax=1, nonzero=1)  # left shift
    g.dense("b2", 8)
    return g.write(path)


def add_model(path: Path) -> Path:
    g = Gauntlet(seed=4)
    g.input("a", (1, 3, 5, 7), 0.05, -3)  # 105 elements: a predicated last vector
    g.input("b", (1, 3, 5, 7), 0.11, 20)
    g.add("a", "b", act="RELU")
    g.add("a", "b", kind="SUB")
    g.add("b", "a", out_scale=0.2)
    g.add("a", "a", out_scale=0.01)
    return g.write(path)


def pool_model(path: Path) -> Path:
    g = Gauntlet(seed=5)
    g.input("c13", (1, 7, 6, 13), 0.05, -4)  # 8 + 5 channels
    g.input("c64", (1, 16, 16, 64), 0.02, -128)
    g.avg_pool("c13", 7, 6, (1, 1))  # one window over everything
    g.avg_pool("c13", 3, 3, (2, 2), pad=SAME, act="RELU")  # partial windows at the edges
    g.avg_pool("c13", 2, 4, (1, 2), pad=VALID)
    g.avg_pool("c64", 16, 16, (1, 1))  # 256 elements: the int16 bound
    return g.write(path)
