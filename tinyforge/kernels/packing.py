"""Small helpers shared by the kernel packers (tinyforge/kernels/ops/*): tensor checks that give
one-line reasons for `accepts`, quantization lookups, and the naming of constant arrays."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels.registry import ConstArray

SHORT_ACT = {"NONE": "", "RELU": "relu", "RELU6": "relu6", "RELU_N1_TO_1": "relu1"}


def op_tensor(graph: Graph, op: Op, position: int) -> Tensor | None:
    """The op's input at `position`, or None when absent or omitted (-1)."""
    if position >= len(op.inputs) or op.inputs[position] < 0:
        return None
    return graph.tensor(op.inputs[position])


def output(graph: Graph, op: Op, position: int = 0) -> Tensor:
    return graph.tensor(op.outputs[position])


def scale(t: Tensor) -> float:
    return float(t.quant.scale[0]) if t.quant and t.quant.scale else 1.0


def zero_point(t: Tensor) -> int:
    return int(t.quant.zero_point[0]) if t.quant and t.quant.zero_point else 0


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


def const_array(op: Op, what: str, values: np.ndarray | Iterable[int], ctype: str) -> ConstArray:
    """A constant array named after the layer, e.g. `l3_weights` (codegen makes names unique)."""
    return ConstArray.of(f"l{op.index}_{what}", values, ctype)


def shape_str(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape) or "scalar"


def act_suffix(op: Op) -> str:
    s = SHORT_ACT.get(op.options.get("activation", "NONE"), "")
    return f" {s}" if s else ""


def contiguous_strides(shape: Sequence[int]) -> list[int]:
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    return strides


def window_params(op: Op, pad_h: int, pad_w: int) -> tuple[tuple[str, int], ...]:
    """The sliding-window fields every convolution-like params struct has: strides, dilations
    and the top/left padding."""
    o = op.options
    return (
        ("stride_h", int(o.get("stride_h", 1))),
        ("stride_w", int(o.get("stride_w", 1))),
        ("dil_h", int(o.get("dilation_h_factor", 1))),
        ("dil_w", int(o.get("dilation_w_factor", 1))),
        ("pad_h", pad_h),
        ("pad_w", pad_w),
    )
