"""ADD, SUB and MUL packers for the portable int8 kernels (firmware/kernels/tf_elementwise.c).

Broadcasting follows numpy/TFLite rules; the packer turns it into an output shape and one element
stride per input and dimension (0 where an input is broadcast), after dropping size-1 output
dimensions. A constant operand travels in the params struct (const1/const2); its pointer argument
then repeats the other input so that every argument is a valid arena address.
"""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, ParamValue, Target, TensorArg, kernel

MAX_DIMS = 6  # TF_BCAST_MAX_DIMS in tf_elementwise.h


def broadcast_layout(
    s1: tuple[int, ...], s2: tuple[int, ...], out: tuple[int, ...]
) -> tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None:
    """(ndims, out_shape, in1_strides, in2_strides), each padded to MAX_DIMS; ndims 0 = same shapes.

    None if the shapes do not broadcast to `out` within MAX_DIMS dimensions.
    """
    pad = (0,) * MAX_DIMS
    if tuple(s1) == tuple(s2) == tuple(out):
        return 0, pad, pad, pad
    rank = max(len(s1), len(s2), len(out))
    p1 = (1,) * (rank - len(s1)) + tuple(s1)
    p2 = (1,) * (rank - len(s2)) + tuple(s2)
    po = (1,) * (rank - len(out)) + tuple(out)
    c1, c2 = pk.contiguous_strides(p1), pk.contiguous_strides(p2)
    shape: list[int] = []
    st1: list[int] = []
    st2: list[int] = []
    for d in range(rank):
        for p in (p1, p2):
            if p[d] not in (1, po[d]):
                return None
        if po[d] == 1:
            continue
        shape.append(po[d])
        st1.append(c1[d] if p1[d] == po[d] else 0)
        st2.append(c2[d] if p2[d] == po[d] else 0)
    if len(shape) > MAX_DIMS:
        return None
    if not shape:  # every dimension is 1: one element
        shape, st1, st2 = [1], [0], [0]
    n = len(shape)
    fill = (0,) * (MAX_DIMS - n)
    return n, tuple(shape) + fill, tuple(st1) + fill, tuple(st2) + fill


def _accepts(graph: Graph, op: Op) -> str | None:
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    reason = pk.first_reason(
        pk.int8_activation_reason(a, "input 1"),
        pk.int8_activation_reason(b, "input 2"),
        pk.int8_activation_reason(y, "output"),
        pk.activation_reason(op),
    )
    if reason:
        return reason
    assert a is not None and b is not None
    if a.is_constant and b.is_constant:
        return "both inputs are constant (fold them before compiling)"
    if broadcast_layout(a.shape, b.shape, y.shape) is None:
        return f"shapes {pk.shape_str(a.shape)} and {pk.shape_str(b.shape)} do not broadcast to {pk.shape_str(y.shape)} in {MAX_DIMS} dimensions"
    if op.kind in ("ADD", "SUB"):
        try:
            (quant.add_params if op.kind == "ADD" else quant.sub_params)(
                pk.scale(a), pk.scale(b), pk.scale(y)
            )
        except ValueError as exc:
            return f"scales cannot be rescaled ({exc})"
    return None


def _operands(op: Op, a: Tensor, b: Tensor) -> tuple[tuple[TensorArg, TensorArg], ParamValue, ParamValue]:
    """Pointer arguments and const1/const2 fields (0 = NULL) for the two inputs."""
    const1: ParamValue = pk.const_array(op, "const1", a.array(), "int8_t") if a.is_constant else 0
    const2: ParamValue = pk.const_array(op, "const2", b.array(), "int8_t") if b.is_constant else 0
    t1 = op.inputs[1] if a.is_constant else op.inputs[0]
    t2 = op.inputs[0] if b.is_constant else op.inputs[1]
    return (TensorArg(t1, writable=False), TensorArg(t2, writable=False)), const1, const2


def _in_place(op: Op, a: Tensor, b: Tensor, y: Tensor, ndims: int) -> tuple[tuple[int, int], ...]:
    if ndims != 0:
        return ()
    return tuple((op.outputs[0], t.index) for t in (a, b) if not t.is_constant and t.nbytes == y.nbytes)


def _comment(op: Op, a: Tensor, b: Tensor, y: Tensor, ndims: int) -> str:
    if ndims == 0:
        text = pk.shape_str(y.shape)
    else:
        text = f"{pk.shape_str(a.shape)} {op.kind.lower()} {pk.shape_str(b.shape)} -> {pk.shape_str(y.shape)}"
    const = " (const)" if a.is_constant or b.is_constant else ""
    return text + const + pk.act_suffix(op)


def _add_sub(graph: Graph, op: Op, fn: str) -> KernelCall:
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    layout = broadcast_layout(a.shape, b.shape, y.shape)
    assert layout is not None
    ndims, shape, st1, st2 = layout
    qp = (quant.add_params if op.kind == "ADD" else quant.sub_params)(pk.scale(a), pk.scale(b), pk.scale(y))
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    args, const1, const2 = _operands(op, a, b)
    params: tuple[tuple[str, ParamValue], ...] = (
        ("size", y.num_elements),
        ("ndims", ndims),
        ("out_shape", shape),
        ("in1_strides", st1),
        ("in2_strides", st2),
        ("input1_offset", -pk.zero_point(a)),
        ("input2_offset", -pk.zero_point(b)),
        ("output_offset", pk.zero_point(y)),
        ("left_shift", qp.left_shift),
        ("input1_mult", qp.input1_mult),
        ("input1_shift", qp.input1_shift),
        ("input2_mult", qp.input2_mult),
        ("input2_shift", qp.input2_shift),
        ("output_mult", qp.output_mult),
        ("output_shift", qp.output_shift),
        ("act_min", act_min),
        ("act_max", act_max),
        ("const1", const1),
        ("const2", const2),
    )
    return KernelCall(
        function=fn,
        params_type=fn + "_params_t",
        params=params,
        args=(*args, TensorArg(op.outputs[0], writable=True)),
        in_place=_in_place(op, a, b, y, ndims),
        comment=_comment(op, a, b, y, ndims),
    )


@kernel("ADD", name="add_s8", accepts=_accepts)
def add_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op, "tf_add_s8")


@kernel("SUB", name="sub_s8", accepts=_accepts)
def sub_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op, "tf_sub_s8")


@kernel("MUL", name="mul_s8", accepts=_accepts)
def mul_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    layout = broadcast_layout(a.shape, b.shape, y.shape)
    assert layout is not None
    ndims, shape, st1, st2 = layout
    mult, shift = quant.mul_multiplier(pk.scale(a), pk.scale(b), pk.scale(y))
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    args, const1, const2 = _operands(op, a, b)
    params: tuple[tuple[str, ParamValue], ...] = (
        ("size", y.num_elements),
        ("ndims", ndims),
        ("out_shape", shape),
        ("in1_strides", st1),
        ("in2_strides", st2),
        ("input1_offset", -pk.zero_point(a)),
        ("input2_offset", -pk.zero_point(b)),
        ("output_offset", pk.zero_point(y)),
        ("output_mult", mult),
        ("output_shift", shift),
        ("act_min", act_min),
        ("act_max", act_max),
        ("const1", const1),
        ("const2", const2),
    )
    return KernelCall(
        function="tf_mul_s8",
        params_type="tf_mul_s8_params_t",
        params=params,
        args=(*args, TensorArg(op.outputs[0], writable=True)),
        macs=y.num_elements,
        in_place=_in_place(op, a, b, y, ndims),
        comment=_comment(op, a, b, y, ndims),
    )
