"""What the kernel packers (tinyforge/kernels/ops/*/) share, public and in one place: tensor checks
that give one-line reasons for `accepts`, quantization lookups (scale, zero point, activation
range, requantization multipliers), the naming of constant arrays, the params fields every
convolution-like struct starts with, and the layers of CONV_2D / DEPTHWISE_CONV_2D and
FULLY_CONNECTED resolved once for the portable, fast, DSP and Helium packers alike."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import quant
from tinyforge.kernels.registry import Accepts, ConstArray, KernelCall, ParamValue, ScratchArg, TensorArg

SHORT_ACT = {"NONE": "", "RELU": "relu", "RELU6": "relu6", "RELU_N1_TO_1": "relu1"}

Fields = tuple[tuple[str, ParamValue], ...]  # params struct fields, in declaration order
# an op on constant data only is folded by the converter; its input is not in the arena
CONSTANT_INPUT = "the data input is a constant tensor (fold this op before compiling)"


# ---- tensors and their quantization ------------------------------------------------------------


def op_tensor(graph: Graph, op: Op, position: int) -> Tensor | None:
    """The op's input at `position`, or None when absent or omitted (-1)."""
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    return graph.tensor(op.inputs[position])


def output(graph: Graph, op: Op, position: int = 0) -> Tensor:
    return graph.tensor(op.outputs[position])


def io(graph: Graph, op: Op) -> tuple[Tensor, Tensor]:
    """The first input and the output of a one-in, one-out op."""
    return graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])


def scale(t: Tensor) -> float:
    return float(t.quant.scale[0]) if t.quant and t.quant.scale else 1.0


def zero_point(t: Tensor) -> int:
    return int(t.quant.zero_point[0]) if t.quant and t.quant.zero_point else 0


def scale_zp_f32(t: Tensor) -> tuple[float, int]:
    """(scale as the float32 TFLM reads, zero point) of a per-tensor quantized tensor."""
    assert t.quant is not None
    return float(np.float32(t.quant.scale[0])), int(t.quant.zero_point[0] if t.quant.zero_point else 0)


def activation_range(op: Op, y: Tensor) -> tuple[int, int]:
    """The clamp of the op's fused activation in the units of its output `y`."""
    return quant.activation_range(op.options.get("activation", "NONE"), scale(y), zero_point(y))


def multipliers(x: Tensor, w: Tensor, y: Tensor) -> tuple[tuple[int, int], ...]:
    """(multiplier, shift) per output channel for per-channel weights, else a single one: TFLM's
    PopulateConvolutionQuantizationParams, in double (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED)."""
    assert w.quant is not None
    return tuple(quant.conv_multipliers(scale(x), list(w.quant.scale), scale(y)))


# ---- accept checks -------------------------------------------------------------------------------


def int8_activation_reason(t: Tensor | None, what: str) -> str | None:
    """Why `t` is not an int8 quantized activation tensor, or None."""
    if t is None:
        return f"{what} is missing"
    if t.dtype != "int8":
        return f"{what} is {t.dtype}; this kernel takes int8"
    if t.quant is None or not t.quant.scale:
        return f"{what} has no quantization parameters"
    if t.quant.per_channel:
        return f"{what} is quantized per channel; activations must be per tensor"
    return None


def first_reason(*reasons: str | None) -> str | None:
    for r in reasons:
        if r is not None:
            return r
    return None


def activation_reason(op: Op) -> str | None:
    act = op.options.get("activation", "NONE")
    if act not in SHORT_ACT:
        return f"fused activation {act} is not supported"
    return None


def int8_weights_reason(w: Tensor | None, rank: int) -> str | None:
    """Why `w` is not a constant, quantized int8 weight tensor of rank `rank`, or None."""
    if w is None:
        return "weights are missing"
    if not w.is_constant:
        return "weights are not constant"
    if w.dtype != "int8":
        return f"weights are {w.dtype}; the portable kernel takes int8 weights"
    if w.quant is None or not w.quant.scale:
        return "weights have no quantization parameters"
    if len(w.shape) != rank:
        return f"weights have rank {len(w.shape)}, expected {rank}"
    return None


def channel_axis_reason(w: Tensor, axis: int) -> str | None:
    """Why per-channel weights do not have one scale per index of `axis`, or None."""
    assert w.quant is not None
    if w.quant.per_channel and (w.quant.axis != axis or len(w.quant.scale) != w.shape[axis]):
        return f"weights are quantized per channel along axis {w.quant.axis}; expected axis {axis}"
    return None


def weights_zero_point_reason(w: Tensor) -> str | None:
    assert w.quant is not None
    if any(int(z) != 0 for z in w.quant.zero_point):
        return "weights have a non-zero zero point"
    return None


def narrowed(base: Accepts, extra: Accepts) -> Accepts:
    """An `accepts` check for a kernel that takes part of what another takes: `base`'s reason,
    else `extra`'s (which may assume `base` passed)."""

    def accepts(graph: Graph, op: Op) -> str | None:
        return base(graph, op) or extra(graph, op)

    return accepts


def int8_io_reason(graph: Graph, op: Op, *, fused_activation: bool = False) -> str | None:
    """Why the op's first input or its output is not an int8 activation tensor (or, with
    `fused_activation`, its fused activation is not supported), or None."""
    return first_reason(
        int8_activation_reason(op_tensor(graph, op, 0), "input"),
        int8_activation_reason(output(graph, op), "output"),
        activation_reason(op) if fused_activation else None,
    )


# ---- names and text ------------------------------------------------------------------------------


def const_array(
    op: Op, what: str, values: np.ndarray | Iterable[int], ctype: str, align: int = 16
) -> ConstArray:
    """A constant array named after the layer, e.g. `l3_weights` (codegen makes names unique)."""
    return ConstArray.of(f"l{op.index}_{what}", values, ctype, align)


def shape_str(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def act_suffix(op: Op) -> str:
    s = SHORT_ACT.get(op.options.get("activation", "NONE"), "")
    return f" {s}" if s else ""


def fill_to(values: Iterable[int], n: int) -> tuple[int, ...]:
    """`values` followed by zeros up to `n`: a fixed-size C array field."""
    v = tuple(values)
    return v + (0,) * (n - len(v))


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    return strides


# ---- params fields and calls ---------------------------------------------------------------------


def multiplier_fields(op: Op, pairs: Sequence[tuple[int, int]], channels: int = 0) -> Fields:
    """`out_mult` and `out_shift` arrays; a single pair is repeated `channels` times when given."""
    if channels and len(pairs) == 1:
        pairs = list(pairs) * channels
    return (
        ("out_mult", const_array(op, "out_mult", [m for m, _ in pairs], "int32_t")),
        ("out_shift", const_array(op, "out_shift", [s for _, s in pairs], "int32_t")),
    )


def clamp_fields(act: tuple[int, int]) -> Fields:
    return (("act_min", act[0]), ("act_max", act[1]))


def conv_fields(
    in_shape: Sequence[int],
    out_shape: Sequence[int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    pad: tuple[int, int],
    *,
    out_c: bool = True,
    depth_mult: int | None = None,
    filter_in_c: int | None = None,
) -> Fields:
    """The fields every convolution-like params struct starts with, in this order: batches, in_h,
    in_w, in_c, out_h, out_w, [out_c], [depth_mult], k_h, k_w, [filter_in_c], then the sliding
    window: stride_h, stride_w, dil_h, dil_w, pad_h, pad_w (top/left padding)."""
    return (
        ("batches", in_shape[0]),
        ("in_h", in_shape[1]),
        ("in_w", in_shape[2]),
        ("in_c", in_shape[3]),
        ("out_h", out_shape[1]),
        ("out_w", out_shape[2]),
        *((("out_c", out_shape[3]),) if out_c else ()),
        *((("depth_mult", depth_mult),) if depth_mult is not None else ()),
        ("k_h", kernel[0]),
        ("k_w", kernel[1]),
        *((("filter_in_c", filter_in_c),) if filter_in_c is not None else ()),
        ("stride_h", stride[0]),
        ("stride_w", stride[1]),
        ("dil_h", dilation[0]),
        ("dil_w", dilation[1]),
        ("pad_h", pad[0]),
        ("pad_w", pad[1]),
    )


def io_call(
    op: Op,
    function: str,
    params: Fields,
    comment: str,
    *,
    macs: int = 0,
    scratch: bool = False,
    scratch_bytes: int = 0,
    in_place: tuple[tuple[int, int], ...] = (),
) -> KernelCall:
    """`function(&params, input, output[, scratch])` for the op's first input and its output, with
    params type `<function>_params_t`."""
    args: tuple[TensorArg | ScratchArg, ...] = (
        TensorArg(op.inputs[0], writable=False),
        TensorArg(op.outputs[0], writable=True),
    )
    return KernelCall(
        function=function,
        params_type=function + "_params_t",
        params=params,
        args=(*args, ScratchArg()) if scratch else args,
        scratch_bytes=scratch_bytes,
        macs=macs,
        in_place=in_place,
        comment=comment,
    )


# ---- layers with weights: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED ------------------------


@dataclass(frozen=True)
class WeightedLayer(ABC):
    """An op with int8 weights as every packer of it sees it: input, weights, optional bias and
    output, TFLM's requantization multipliers and the activation clamp."""

    op: Op
    x: Tensor
    w: Tensor
    b: Tensor | None
    y: Tensor
    pairs: tuple[tuple[int, int], ...]  # (multiplier, shift) per output channel, or one per tensor
    act: tuple[int, int]  # activation clamp in output units

    @property
    @abstractmethod
    def macs(self) -> int: ...

    def bias(self) -> np.ndarray | None:
        return self.b.array() if self.b is not None else None

    def call(
        self,
        function: str,
        params: Fields,
        comment: str,
        *,
        scratch_bytes: int | None = None,
        in_place: tuple[tuple[int, int], ...] = (),
    ) -> KernelCall:
        """`function(&params, input, output[, scratch])` for this layer, counting its MACs; the
        scratch argument goes with `scratch_bytes`."""
        return io_call(
            self.op,
            function,
            params,
            comment,
            macs=self.macs,
            scratch=scratch_bytes is not None,
            scratch_bytes=scratch_bytes or 0,
            in_place=in_place,
        )


@dataclass(frozen=True)
class ConvLayer(WeightedLayer):
    """A CONV_2D (weights OHWI) or DEPTHWISE_CONV_2D (weights 1HWC) as every conv packer sees it:
    NHWC input and output, the filter window and TFLM's padding."""

    depthwise: bool
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pad: quant.Padding2D

    @property
    def kernel(self) -> tuple[int, int]:
        return self.w.shape[1], self.w.shape[2]

    @property
    def in_c(self) -> int:
        return self.x.shape[3]

    @property
    def out_c(self) -> int:
        return self.y.shape[3]

    @property
    def filter_in_c(self) -> int:
        return 1 if self.depthwise else self.w.shape[3]

    @property
    def depth_mult(self) -> int:
        return self.out_c // self.in_c

    @property
    def taps(self) -> int:
        """Products per output value: k_h * k_w (* filter depth for CONV_2D)."""
        return self.kernel[0] * self.kernel[1] * self.filter_in_c

    @property
    def macs(self) -> int:
        return self.y.shape[0] * self.y.shape[1] * self.y.shape[2] * self.out_c * self.taps

    @property
    def per_channel(self) -> int:
        return 1 if len(self.pairs) > 1 else 0

    @property
    def direct(self) -> bool:
        """A 1x1 filter at stride 1 without padding: every output pixel reads its input pixel."""
        return (*self.kernel, *self.stride, self.pad.pad_h, self.pad.pad_w) == (1, 1, 1, 1, 0, 0)

    def single_group_reason(self) -> str | None:
        """Why this is not a CONV_2D in one group / a DEPTHWISE_CONV_2D of depth multiplier 1 (what
        the kernels that read one input channel per filter channel take), or None."""
        if self.w.shape[3] != self.in_c:
            return "depth multiplier above 1" if self.depthwise else "grouped convolution"
        return None

    def weights_by_channel(self) -> np.ndarray:
        """int64 [output channel][taps]: (ky, kx, ic) for CONV_2D, (ky, kx) for DEPTHWISE_CONV_2D."""
        arr = self.w.array().astype(np.int64)
        if self.depthwise:
            return arr.reshape(self.kernel[0] * self.kernel[1], self.out_c).T
        return arr.reshape(self.w.shape[0], -1)

    def fields(self, *, out_c: bool = True, depth_mult: bool = False, filter_in_c: bool = False) -> Fields:
        """The geometry fields of the params struct (see `conv_fields`)."""
        return conv_fields(
            self.x.shape,
            self.y.shape,
            self.kernel,
            self.stride,
            self.dilation,
            (self.pad.pad_h, self.pad.pad_w),
            out_c=out_c,
            depth_mult=self.depth_mult if depth_mult else None,
            filter_in_c=self.filter_in_c if filter_in_c else None,
        )

    def describe(self) -> str:
        """One line for the generated C, e.g. `dw 3x3 s2 SAME 64->64 relu`."""
        (sh, sw), (dh, dw) = self.stride, self.dilation
        stride = "" if (sh, sw) == (1, 1) else f" s{sh}" if sh == sw else f" s{sh}x{sw}"
        dil = "" if (dh, dw) == (1, 1) else f" d{dh}x{dw}"
        (k_h, k_w), padding = self.kernel, self.op.options["padding"]
        text = f"{k_h}x{k_w}{stride}{dil} {padding} {self.in_c}->{self.out_c}{act_suffix(self.op)}"
        if self.depthwise:
            return "dw " + text + (f" x{self.depth_mult}" if self.depth_mult > 1 else "")
        groups = self.in_c // self.filter_in_c
        return text + (f" groups={groups}" if groups > 1 else "")


def window_padding(op: Op, in_shape: Sequence[int], kernel: tuple[int, int]) -> quant.Padding2D:
    """TFLM's SAME/VALID padding and output size of a sliding window (convolution or pool)."""
    o = op.options
    return quant.padding_2d(
        o["padding"],
        in_shape[1],
        in_shape[2],
        kernel[0],
        kernel[1],
        int(o.get("stride_h", 1)),
        int(o.get("stride_w", 1)),
        int(o.get("dilation_h_factor", 1)),
        int(o.get("dilation_w_factor", 1)),
    )


def nhwc_window_reason(op: Op, x: Tensor, y: Tensor) -> str | None:
    """Why a sliding window over `x` giving `y` is not NHWC with SAME/VALID padding, or None."""
    if len(x.shape) != 4 or len(y.shape) != 4:
        return "input and output must be 4-D (NHWC)"
    if op.options.get("padding") not in ("SAME", "VALID"):
        return f"padding {op.options.get('padding')} is not supported"
    return None


def output_size_reason(op: Op, x: Tensor, y: Tensor, kernel: tuple[int, int]) -> str | None:
    """Why `y` is not the output size of the window's padding, or None."""
    pad = window_padding(op, x.shape, kernel)
    if (pad.out_h, pad.out_w) != (y.shape[1], y.shape[2]):
        return f"output size {y.shape[1]}x{y.shape[2]} does not match the padding ({pad.out_h}x{pad.out_w})"
    return None


def conv_layer(graph: Graph, op: Op) -> ConvLayer:
    """The CONV_2D or DEPTHWISE_CONV_2D `op` resolved (call after its `accepts` passed)."""
    x, w, b, y = op_tensor(graph, op, 0), op_tensor(graph, op, 1), op_tensor(graph, op, 2), output(graph, op)
    assert x is not None and w is not None
    o = op.options
    return ConvLayer(
        op=op,
        x=x,
        w=w,
        b=b,
        y=y,
        depthwise=op.kind == "DEPTHWISE_CONV_2D",
        stride=(int(o.get("stride_h", 1)), int(o.get("stride_w", 1))),
        dilation=(int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1))),
        pad=window_padding(op, x.shape, (w.shape[1], w.shape[2])),
        pairs=multipliers(x, w, y),
        act=activation_range(op, y),
    )


@dataclass(frozen=True)
class FcLayer(WeightedLayer):
    """A FULLY_CONNECTED as every FC packer sees it: `rows` rows of `accum_depth` inputs, each
    giving `out_depth` outputs."""

    @property
    def out_depth(self) -> int:
        return self.w.shape[0]

    @property
    def accum_depth(self) -> int:
        return self.w.shape[1]

    @property
    def rows(self) -> int:
        return self.y.num_elements // self.out_depth

    @property
    def per_channel(self) -> bool:
        return len(self.pairs) > 1

    @property
    def filter_offset(self) -> int:
        """TFLM's filter_offset: minus the zero point of per-tensor weights (per-channel have none)."""
        q = self.w.quant
        return -int(q.zero_point[0]) if q is not None and q.zero_point and not self.per_channel else 0

    @property
    def macs(self) -> int:
        return self.rows * self.out_depth * self.accum_depth

    def describe(self, *, per_channel: bool = False) -> str:
        """`4x64->10 relu` (rows, depths, activation); ` per-channel` added on request."""
        rows = f"{self.rows}x" if self.rows > 1 else ""
        note = " per-channel" if per_channel and self.per_channel else ""
        return f"{rows}{self.accum_depth}->{self.out_depth}{act_suffix(self.op)}{note}"


def fc_layer(graph: Graph, op: Op) -> FcLayer:
    """The FULLY_CONNECTED `op` resolved (call after its `accepts` passed)."""
    x, w, b, y = op_tensor(graph, op, 0), op_tensor(graph, op, 1), op_tensor(graph, op, 2), output(graph, op)
    assert x is not None and w is not None
    return FcLayer(op, x, w, b, y, multipliers(x, w, y), activation_range(op, y))
