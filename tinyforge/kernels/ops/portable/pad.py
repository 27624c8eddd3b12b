"""PAD and PADV2 packers for the portable int8 kernel (firmware/kernels/tf_pad.c). As TFLM, PAD
fills with the output zero point and PADV2 with its constant_values scalar; values are copied,
not requantized."""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel

MAX_DIMS = 6  # TF_PAD_MAX_DIMS


def _paddings(graph: Graph, op: Op) -> list[tuple[int, int]] | None:
    t = pk.op_tensor(graph, op, 1)
    if t is None or not t.is_constant or t.dtype not in ("int32", "int64"):
        return None
    arr = np.asarray(t.array()).reshape(-1, 2)
    return [(int(a), int(b)) for a, b in arr.tolist()]


def _accepts(graph: Graph, op: Op) -> str | None:
    x, y = pk.op_tensor(graph, op, 0), pk.output(graph, op)
    reason = pk.first_reason(pk.int8_activation_reason(x, "input"), pk.int8_activation_reason(y, "output"))
    if reason:
        return reason
    assert x is not None
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
    x, y = pk.op_tensor(graph, op, 0), pk.output(graph, op)
    assert x is not None
    pads = _paddings(graph, op)
    assert pads is not None
    value = pk.zero_point(y)
    c = pk.op_tensor(graph, op, 2) if op.kind == "PADV2" else None
    if c is not None:
        value = int(np.asarray(c.array()).reshape(-1)[0])
    fill = lambda v: tuple(v) + (0,) * (MAX_DIMS - len(v))  # noqa: E731
    params = (
        ("ndims", len(x.shape)),
        ("in_shape", fill(x.shape)),
        ("out_shape", fill(y.shape)),
        ("pad_before", fill([a for a, _ in pads])),
        ("out_size", y.num_elements),
        ("pad_value", value),
    )
    spec = ",".join(f"{a}/{b}" for a, b in pads)
    return KernelCall(
        function="tf_pad_s8",
        params_type="tf_pad_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True)),
        comment=f"{pk.shape_str(x.shape)} pad {spec} value {value}",
    )


@kernel("PAD", name="pad_s8", accepts=_accepts)
def pad_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _pad(graph, op)


@kernel("PADV2", name="padv2_s8", accepts=_accepts)
def padv2_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _pad(graph, op)
