"""PAD and PADV2 packers for the portable int8 kernel (firmware/kernels/tf_pad.c). As TFLM, PAD
fills with the output zero point and PADV2 with its constant_values scalar; values are copied,
not requantized."""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.registry import KernelCall, Target, kernel

MAX_DIMS = 6  # TF_PAD_MAX_DIMS


def _paddings(graph: Graph, op: Op) -> list[tuple[int, int]] | None:
    t = pk.op_tensor(graph, op, 1)
    if t is None or not t.is_constant or t.dtype not in ("int32", "int64"):
        return None
    arr = np.asarray(t.array()).reshape(-1, 2)
    return [(int(a), int(b)) for a, b in arr.tolist()]


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = pk.int8_io_reason(graph, op)
    if reason:
        return reason
    x, y = pk.io(graph, op)
    pads = _paddings(graph, op)
    if pads is None:
        return "paddings must be a constant int32 tensor"
    if len(pads) != len(x.shape) or len(x.shape) > MAX_DIMS:
        return f"paddings for {len(pads)} dimensions do not fit a rank-{len(x.shape)} input"
    if any(a < 0 or b < 0 for a, b in pads):
        return "negative paddings are not supported"
    if tuple(d + a + b for d, (a, b) in zip(x.shape, pads, strict=True)) != tuple(y.shape):
        return "output shape does not match input plus paddings"
    if op.kind == "PADV2":
        c = pk.op_tensor(graph, op, 2)
        if c is not None and (not c.is_constant or c.dtype != "int8"):
            return "constant_values must be a constant int8 scalar"
    return None


def _pad(graph: Graph, op: Op) -> KernelCall:
    x, y = pk.io(graph, op)
    pads = _paddings(graph, op)
    assert pads is not None
    value = pk.zero_point(y)
    c = pk.op_tensor(graph, op, 2) if op.kind == "PADV2" else None
    if c is not None:
        value = int(np.asarray(c.array()).reshape(-1)[0])
    params = (
        ("ndims", len(x.shape)),
        ("in_shape", pk.fill_to(x.shape, MAX_DIMS)),
        ("out_shape", pk.fill_to(y.shape, MAX_DIMS)),
        ("pad_before", pk.fill_to([a for a, _ in pads], MAX_DIMS)),
        ("out_size", y.num_elements),
        ("pad_value", value),
    )
    spec = ",".join(f"{a}/{b}" for a, b in pads)
    return pk.io_call(op, "tf_pad_s8", params, f"{pk.shape_str(x.shape)} pad {spec} value {value}")


@kernel("PAD", name="pad_s8", accepts=_accepts)
def pad_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _pad(graph, op)


@kernel("PADV2", name="padv2_s8", accepts=_accepts)
def padv2_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _pad(graph, op)
