"""16x8 packers of the ops that move or reduce int16 values without weights: AVERAGE_POOL_2D,
MAX_POOL_2D (firmware/kernels/tf_pool_s16.c), MEAN (tf_mean_s16.c), PAD/PADV2 (tf_pad_s16.c) and
CONCATENATION (the int8 byte copy, tf_concat.c, with chunks of 2-byte elements).

Each mirrors its int8 packer (pooling.py, mean.py, pad.py, concatenation.py): the same params,
computed the same way, with the int16 range for clamps. STRIDED_SLICE, TRANSPOSE and the reshape
copies (layout.py) already take any element size.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.portable import concatenation as concat8
from tinyforge.kernels.ops.portable import mean as mean8
from tinyforge.kernels.ops.portable import pad as pad8
from tinyforge.kernels.ops.portable import pooling as pool8
from tinyforge.kernels.ops.portable.s16_conv import int16_activation_reason
from tinyforge.kernels.registry import KernelCall, ParamValue, Target, TensorArg, kernel


def _io(op: Op) -> tuple[TensorArg, TensorArg]:
    return TensorArg(op.inputs[0], False, "int16_t"), TensorArg(op.outputs[0], True, "int16_t")


def _as_s16(call: KernelCall, op: Op, function: str) -> KernelCall:
    """The int8 packer's call retargeted at the int16 kernel taking the same params struct."""
    return KernelCall(
        function=function,
        params_type=function + "_params_t",
        params=call.params,
        args=_io(op),
        scratch_bytes=call.scratch_bytes,
        macs=call.macs,
        in_place=call.in_place,
        comment="int16 " + call.comment,
    )


# ---- AVERAGE_POOL_2D, MAX_POOL_2D --------------------------------------------------------------------


def _accepts_pool(graph: Graph, op: Op) -> str | None:
    x, y = pk.op_tensor(graph, op, 0), pk.output(graph, op)
    reason = pk.first_reason(
        int16_activation_reason(x, "input", symmetric=False),
        int16_activation_reason(y, "output", symmetric=False),
        pk.activation_reason(op),
    )
    if reason:
        return reason
    assert x is not None
    reason = pk.nhwc_window_reason(op, x, y) or pk.output_size_reason(op, x, y, pool8._window(op))
    if reason:
        return reason
    if x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        return "batch and channels of input and output differ"
    return None


def _pool(graph: Graph, op: Op, function: str) -> KernelCall:
    y = pk.output(graph, op)
    call = pool8.pool_call(graph, op, function)
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y), "int16"
    )
    params = tuple(
        (k, act_min if k == "act_min" else act_max if k == "act_max" else v) for k, v in call.params
    )
    return KernelCall(
        function=function,
        params_type=function + "_params_t",
        params=params,
        args=_io(op),
        comment="int16 " + call.comment,
    )


@kernel("AVERAGE_POOL_2D", name="avg_pool_s16", accepts=_accepts_pool)
def avg_pool_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _pool(graph, op, "tf_avg_pool_s16")


@kernel("MAX_POOL_2D", name="max_pool_s16", accepts=_accepts_pool)
def max_pool_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _pool(graph, op, "tf_max_pool_s16")


# ---- MEAN ------------------------------------------------------------------------------------------


def _accepts_mean(graph: Graph, op: Op) -> str | None:
    x, y = pk.op_tensor(graph, op, 0), pk.output(graph, op)
    reason = pk.first_reason(
        int16_activation_reason(x, "input", symmetric=False),
        int16_activation_reason(y, "output", symmetric=False),
    )
    if reason:
        return reason
    assert x is not None
    axis_t = pk.op_tensor(graph, op, 1)
    if axis_t is None or not axis_t.is_constant or axis_t.dtype not in ("int32", "int64"):
        return "the axis input must be a constant int32 tensor"
    axes = mean8._axes(graph, op)
    if axes is None:
        return "an axis lies outside the input's dimensions"
    if len(axes) > mean8.TFLM_MAX_AXES:
        return f"reducing {len(axes)} axes; TFLM's MEAN reduces at most {mean8.TFLM_MAX_AXES}"
    if len(x.shape) > mean8.TFLM_MAX_RANK:
        return f"input has rank {len(x.shape)}; TFLM's MEAN takes at most {mean8.TFLM_MAX_RANK}"
    kept = [d for i, d in enumerate(x.shape) if i not in axes]
    if int(np.prod(kept, dtype=np.int64)) != y.num_elements:
        return f"output {pk.shape_str(y.shape)} does not match the reduction of {pk.shape_str(x.shape)}"
    return None


@kernel("MEAN", name="mean_s16", accepts=_accepts_mean)
def mean_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _as_s16(mean8.mean_s8(graph, op, target), op, "tf_mean_s16")


# ---- PAD, PADV2 ------------------------------------------------------------------------------------


def _accepts_pad(graph: Graph, op: Op) -> str | None:
    x, y = pk.op_tensor(graph, op, 0), pk.output(graph, op)
    reason = pk.first_reason(
        int16_activation_reason(x, "input", symmetric=False),
        int16_activation_reason(y, "output", symmetric=False),
    )
    if reason:
        return reason
    assert x is not None
    pads = pad8._paddings(graph, op)
    if pads is None:
        return "paddings must be a constant int32 tensor"
    if len(pads) != len(x.shape) or len(x.shape) > pad8.MAX_DIMS:
        return f"paddings for {len(pads)} dimensions do not fit a rank-{len(x.shape)} input"
    if any(a < 0 or b < 0 for a, b in pads):
        return "negative paddings are not supported"
    if tuple(d + a + b for d, (a, b) in zip(x.shape, pads, strict=True)) != tuple(y.shape):
        return "output shape does not match input plus paddings"
    if op.kind == "PADV2":
        c = pk.op_tensor(graph, op, 2)
        if c is not None and (not c.is_constant or c.dtype != "int16"):
            return "constant_values must be a constant int16 scalar"
    return None


@kernel("PAD", name="pad_s16", accepts=_accepts_pad)
def pad_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _as_s16(pad8._pad(graph, op), op, "tf_pad_s16")


@kernel("PADV2", name="padv2_s16", accepts=_accepts_pad)
def padv2_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _as_s16(pad8._pad(graph, op), op, "tf_pad_s16")


# ---- CONCATENATION -----------------------------------------------------------------------------------


def _accepts_concat(graph: Graph, op: Op) -> str | None:
    y = pk.output(graph, op)
    reason = int16_activation_reason(y, "output", symmetric=False)
    if reason:
        return reason
    if op.options.get("activation", "NONE") != "NONE":
        return "a fused activation on CONCATENATION is not supported (TFLM rejects it)"
    ins = [pk.op_tensor(graph, op, i) for i in range(len(op.inputs))]
    if not ins or len(ins) > concat8.MAX_INPUTS:
        return f"{len(ins)} inputs; the kernel concatenates 1 to {concat8.MAX_INPUTS}"
    axis = concat8._axis(graph, op)
    if not 0 <= axis < len(y.shape):
        return f"axis {op.options.get('axis')} lies outside the output's dimensions"
    total = 0
    for i, t in enumerate(ins):
        reason = int16_activation_reason(t, f"input {i + 1}", symmetric=False)
        if reason:
            return reason
        assert t is not None
        if t.is_constant:
            return f"input {i + 1} is constant; constant operands of CONCATENATION are not supported"
        if len(t.shape) != len(y.shape) or any(
            d != e for k, (d, e) in enumerate(zip(t.shape, y.shape, strict=True)) if k != axis
        ):
            return f"input {i + 1} {pk.shape_str(t.shape)} does not fit output {pk.shape_str(y.shape)}"
        total += t.shape[axis]
    if total != y.shape[axis]:
        return "the inputs' sizes along the axis do not add up to the output's"
    return None


def _in_bytes(key: str, value: ParamValue) -> ParamValue:
    if key == "out_chunk" and isinstance(value, int):
        return value * 2
    if key == "in_chunk" and isinstance(value, tuple):
        return tuple(c * 2 for c in value)
    return value


@kernel("CONCATENATION", name="concat_s16", accepts=_accepts_concat)
def concat_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    """The int8 kernel copies bytes: its chunk sizes become 2 bytes per element."""
    call = concat8.concat_s8(graph, op, target)
    params = tuple((k, _in_bytes(k, v)) for k, v in call.params)
    return KernelCall(
        function=call.function,
        params_type=call.params_type,
        params=params,
        args=call.args,
        comment="int16 (byte copy) " + call.comment,
    )
