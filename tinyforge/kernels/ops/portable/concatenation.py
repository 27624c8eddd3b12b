"""CONCATENATION packer for the portable int8 kernel (firmware/kernels/tf_concat.c): a copy
along any axis, as TFLM does for int8 (inputs are not requantized). The C function takes
TF_CONCAT_MAX_INPUTS input pointers; unused ones repeat the first input."""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel

MAX_INPUTS = 10  # TF_CONCAT_MAX_INPUTS (TFLM's kMaxInputNum)


def _axis(graph: Graph, op: Op) -> int:
    rank = len(pk.output(graph, op).shape)
    a = int(op.options.get("axis", 0))
    return a + rank if a < 0 else a


def _accepts(graph: Graph, op: Op) -> str | None:
    y = pk.output(graph, op)
    reason = pk.int8_activation_reason(y, "output")
    if reason:
        return reason
    if op.options.get("activation", "NONE") != "NONE":
        return "a fused activation on CONCATENATION is not supported (TFLM rejects it)"
    ins = [pk.op_tensor(graph, op, i) for i in range(len(op.inputs))]
    if not ins or len(ins) > MAX_INPUTS:
        return f"{len(ins)} inputs; the kernel concatenates 1 to {MAX_INPUTS}"
    axis = _axis(graph, op)
    if not 0 <= axis < len(y.shape):
        return f"axis {op.options.get('axis')} lies outside the output's dimensions"
    total = 0
    for i, t in enumerate(ins):
        reason = pk.int8_activation_reason(t, f"input {i + 1}")
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


@kernel("CONCATENATION", name="concat_s8", accepts=_accepts)
def concat_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    y = pk.output(graph, op)
    axis = _axis(graph, op)
    ins = [graph.tensor(i) for i in op.inputs]
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    inner = int(np.prod(y.shape[axis + 1 :], dtype=np.int64))
    chunks = [t.shape[axis] * inner for t in ins]
    tensors = list(op.inputs) + [op.inputs[0]] * (MAX_INPUTS - len(op.inputs))
    params = (
        ("num_inputs", len(ins)),
        ("outer", outer),
        ("out_chunk", y.shape[axis] * inner),
        ("in_chunk", tuple(chunks) + (0,) * (MAX_INPUTS - len(chunks))),
    )
    sizes = "+".join(str(t.shape[axis]) for t in ins)
    return KernelCall(
        function="tf_concat_s8",
        params_type="tf_concat_s8_params_t",
        params=params,
        args=(*(TensorArg(t, writable=False) for t in tensors), TensorArg(op.outputs[0], writable=True)),
        comment=f"axis {axis}: {sizes} -> {pk.shape_str(y.shape)}",
    )
