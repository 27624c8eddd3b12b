"""Packers for data-movement ops: STRIDED_SLICE, TRANSPOSE, and a plain copy for RESHAPE, SQUEEZE
and EXPAND_DIMS (the compiler normally aliases those; the copy covers the cases it cannot).

All index arithmetic happens here: STRIDED_SLICE's begin/end/strides and masks resolve (the way
TFLite Micro's StridedSlicePrepare/Eval do) to a start offset plus a count and an input step per
output axis; TRANSPOSE's permutation to input steps per output axis. Adjacent axes that stay
contiguous are merged, so the C loops (firmware/kernels/tf_slice.c, tf_transpose.c) stay short.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tinyforge.ir.graph import Graph, Op, Tensor, dtype_size
from tinyforge.kernels import packing as pk
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel

SLICE_MAX_DIMS = 5  # tf_slice.h (TFLM's own STRIDED_SLICE stops at 4-D)
TRANSPOSE_MAX_DIMS = 6  # tf_transpose.h (TFLM's TRANSPOSE stops at 5-D)


def merge_axes(counts: Sequence[int], steps: Sequence[int]) -> tuple[list[int], list[int]]:
    """Drop unit axes and merge an outer axis into the next inner one when it continues it."""
    out_c: list[int] = []
    out_s: list[int] = []
    for c, s in zip(counts, steps, strict=True):
        if c == 1:
            continue
        if out_c and out_s[-1] == s * c:
            out_c[-1] *= c
            out_s[-1] = s
            continue
        out_c.append(c)
        out_s.append(s)
    return out_c, out_s


def _pad_left(values: list[int], n: int, fill: int) -> tuple[int, ...]:
    return tuple([fill] * (n - len(values)) + values)


def _const_ints(graph: Graph, index: int) -> list[int] | None:
    if index < 0:
        return None
    t = graph.tensor(index)
    if not t.is_constant or t.dtype not in ("int32", "int64"):
        return None
    return [int(v) for v in t.array().reshape(-1).tolist()]


# ---- STRIDED_SLICE ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SliceAxis:
    start: int
    stop: int
    stride: int
    shrink: bool

    @property
    def count(self) -> int:
        """Iterations of `for (i = start; stride > 0 ? i < stop : i > stop; i += stride)`."""
        if self.stride > 0:
            return max(0, _ceil_div(self.stop - self.start, self.stride))
        return max(0, _ceil_div(self.start - self.stop, -self.stride))


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else (lo if v < lo else v)


def resolve_strided_slice(
    shape: Sequence[int],
    begin: Sequence[int],
    end: Sequence[int],
    strides: Sequence[int],
    begin_mask: int,
    end_mask: int,
    shrink_mask: int,
) -> list[SliceAxis]:
    """Per-axis start/stop as TFLM's StridedSliceStartForAxis / StridedSliceEndForAxis see them.

    TFLM's micro kernel ignores ellipsis_mask, new_axis_mask and offset, so they do not appear.
    """
    axes = []
    for i, size in enumerate(shape):
        stride = strides[i]
        start = begin[i]
        if start < 0:
            start += size
        start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
        if begin_mask & (1 << i):
            start = 0 if stride > 0 else size - 1
        shrink = bool(shrink_mask & (1 << i))
        if shrink:
            stop = start if start >= size else start + 1
        else:
            stop = end[i]
            if stop < 0:
                stop += size
            stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
            if end_mask & (1 << i):
                stop = size if stride > 0 else -1
        axes.append(SliceAxis(start, stop, stride, shrink))
    return axes


def _slice_plan(graph: Graph, op: Op) -> tuple[list[SliceAxis], Tensor, Tensor] | str:
    if len(op.inputs) != 4 or len(op.outputs) != 1 or op.inputs[0] < 0:
        return "expects input, begin, end, strides and one output"
    src, dst = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if src.is_constant:
        return pk.CONSTANT_INPUT
    if src.dtype != dst.dtype or dtype_size(src.dtype) == 0:
        return f"input {src.dtype} and output {dst.dtype} must be the same fixed-size type"
    rank = len(src.shape)
    if not 1 <= rank <= SLICE_MAX_DIMS:
        return f"{rank}-D input; up to {SLICE_MAX_DIMS}-D is supported"
    begin, end, strides = (_const_ints(graph, i) for i in op.inputs[1:4])
    if begin is None or end is None or strides is None:
        return "begin, end and strides must be constant int32 tensors"
    if not len(begin) == len(end) == len(strides) == rank:
        return f"begin/end/strides have {len(begin)}/{len(end)}/{len(strides)} entries for a {rank}-D input"
    if any(s == 0 for s in strides):
        return "a stride is zero"
    o = op.options
    axes = resolve_strided_slice(
        src.shape,
        begin,
        end,
        strides,
        int(o.get("begin_mask", 0)),
        int(o.get("end_mask", 0)),
        int(o.get("shrink_axis_mask", 0)),
    )
    for i, a in enumerate(axes):
        if a.shrink and (a.stride < 0 or a.start >= src.shape[i] or a.start < 0):
            return f"axis {i} shrinks with a negative stride or an out-of-range index"
    kept = tuple(a.count for a in axes if not a.shrink)
    if kept != tuple(dst.shape):
        return (
            f"the slice gives shape {list(kept)} but the output tensor is {list(dst.shape)} "
            "(ellipsis/new-axis masks are not supported, as in TFLM)"
        )
    return axes, src, dst


def check_strided_slice(graph: Graph, op: Op) -> str | None:
    plan = _slice_plan(graph, op)
    return plan if isinstance(plan, str) else None


@kernel("STRIDED_SLICE", accepts=check_strided_slice)
def pack_strided_slice(graph: Graph, op: Op, target: Target) -> KernelCall:
    plan = _slice_plan(graph, op)
    assert not isinstance(plan, str), plan
    axes, src, dst = plan
    in_strides = pk.contiguous_strides(src.shape)
    start = sum(a.start * s for a, s in zip(axes, in_strides, strict=True)) if dst.num_elements else 0
    counts, steps = merge_axes(
        [a.count for a in axes], [a.stride * s for a, s in zip(axes, in_strides, strict=True)]
    )
    if dst.num_elements == 0:
        counts, steps = [0], [1]
    return KernelCall(
        function="tf_strided_slice",
        params_type="tf_strided_slice_params_t",
        params=(
            ("start", start),
            ("count", _pad_left(counts, SLICE_MAX_DIMS, 1)),
            ("step", _pad_left(steps, SLICE_MAX_DIMS, 0)),
            ("elem_bytes", dtype_size(src.dtype)),
        ),
        args=(TensorArg(src.index, False), TensorArg(dst.index, True)),
        comment=(
            f"{'x'.join(map(str, src.shape))} -> {'x'.join(map(str, dst.shape))}: "
            + " ".join(f"[{a.start}:{a.stop}:{a.stride}]" for a in axes)
        ),
    )


# ---- TRANSPOSE -----------------------------------------------------------------------------------


def _transpose_plan(graph: Graph, op: Op) -> tuple[list[int], Tensor, Tensor] | str:
    if len(op.inputs) != 2 or len(op.outputs) != 1 or op.inputs[0] < 0:
        return "expects input, perm and one output"
    src, dst = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if src.is_constant:
        return pk.CONSTANT_INPUT
    if src.dtype != dst.dtype or dtype_size(src.dtype) == 0:
        return f"input {src.dtype} and output {dst.dtype} must be the same fixed-size type"
    perm = _const_ints(graph, op.inputs[1])
    if perm is None:
        return "perm must be a constant int32 tensor"
    rank = len(src.shape)
    if rank > TRANSPOSE_MAX_DIMS:
        return f"{rank}-D input; up to {TRANSPOSE_MAX_DIMS}-D is supported"
    if sorted(perm) != list(range(rank)):
        return f"perm {perm} is not a permutation of the {rank} axes"
    if tuple(src.shape[p] for p in perm) != tuple(dst.shape):
        return f"perm {perm} of {list(src.shape)} does not give the output shape {list(dst.shape)}"
    return perm, src, dst


def check_transpose(graph: Graph, op: Op) -> str | None:
    plan = _transpose_plan(graph, op)
    return plan if isinstance(plan, str) else None


@kernel("TRANSPOSE", accepts=check_transpose)
def pack_transpose(graph: Graph, op: Op, target: Target) -> KernelCall:
    plan = _transpose_plan(graph, op)
    assert not isinstance(plan, str), plan
    perm, src, dst = plan
    in_strides = pk.contiguous_strides(src.shape)
    counts, steps = merge_axes([src.shape[p] for p in perm], [in_strides[p] for p in perm])
    if dst.num_elements == 0:
        counts, steps = [0], [1]
    return KernelCall(
        function="tf_transpose",
        params_type="tf_transpose_params_t",
        params=(
            ("count", _pad_left(counts, TRANSPOSE_MAX_DIMS, 1)),
            ("step", _pad_left(steps, TRANSPOSE_MAX_DIMS, 0)),
            ("elem_bytes", dtype_size(src.dtype)),
        ),
        args=(TensorArg(src.index, False), TensorArg(dst.index, True)),
        comment=f"{'x'.join(map(str, src.shape))} perm={perm} -> {'x'.join(map(str, dst.shape))}",
    )


# ---- RESHAPE, SQUEEZE, EXPAND_DIMS: a copy when not aliased ----------------------------------------


def check_copy(graph: Graph, op: Op) -> str | None:
    if not op.inputs or op.inputs[0] < 0 or len(op.outputs) != 1:
        return "expects a data input and one output"
    src, dst = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if src.is_constant:
        return pk.CONSTANT_INPUT
    if src.dtype != dst.dtype:
        return f"input {src.dtype} and output {dst.dtype} differ"
    if src.nbytes != dst.nbytes:
        return f"input has {src.nbytes} bytes, output {dst.nbytes}"
    return None


def pack_copy(graph: Graph, op: Op, target: Target) -> KernelCall:
    src, dst = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    return KernelCall(
        function="tf_copy",
        params_type="tf_copy_params_t",
        params=(("bytes", dst.nbytes),),
        args=(TensorArg(src.index, False), TensorArg(dst.index, True)),
        in_place=((dst.index, src.index),),
        comment=f"{'x'.join(map(str, src.shape))} -> {'x'.join(map(str, dst.shape))} ({dst.nbytes} bytes)",
    )


for _kind in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS"):
    kernel(_kind, name=f"copy_{_kind.lower()}", accepts=check_copy)(pack_copy)
