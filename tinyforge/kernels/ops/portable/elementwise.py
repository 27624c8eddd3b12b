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


def add_sub_params(op: Op, a: Tensor, b: Tensor, y: Tensor) -> quant.AddSubParams:
    """TFLM's rescaling of an ADD's or SUB's inputs (ValueError when the scales cannot be rescaled)."""
    return (quant.add_params if op.kind == "ADD" else quant.sub_params)(pk.scale(a), pk.scale(b), pk.scale(y))


def _inputs(graph: Graph, op: Op) -> tuple[Tensor, Tensor, Tensor]:
    a, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert a is not None and b is not None
    return a, b, pk.output(graph, op)


def accepts(graph: Graph, op: Op) -> str | None:
    """Why the reference kernels cannot run this ADD, SUB or MUL, or None."""
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
            add_sub_params(op, a, b, y)
        except ValueError as exc:
            return f"scales cannot be rescaled ({exc})"
    return None


def same_shape_reason(graph: Graph, op: Op) -> str | None:
    """Why a kernel for two same-shaped activation inputs (the DSP and Helium tables) cannot take
    this op: what the reference refuses, a constant operand, or broadcasting; else None."""
    reason = accepts(graph, op)
    if reason:
        return reason
    a, b, y = _inputs(graph, op)
    if a.is_constant or b.is_constant:
        return "a constant operand"
    if not (tuple(a.shape) == tuple(b.shape) == tuple(y.shape)):
        return "broadcasting"
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


def same_shape_call(graph: Graph, op: Op, function: str, params: pk.Fields, comment: str) -> KernelCall:
    """`function(&params, in1, in2, out)` for two same-shaped activation inputs; the output may
    overwrite an input of its size."""
    a, b, y = _inputs(graph, op)
    return KernelCall(
        function=function,
        params_type=function + "_params_t",
        params=params,
        args=(
            TensorArg(op.inputs[0], writable=False),
            TensorArg(op.inputs[1], writable=False),
            TensorArg(op.outputs[0], writable=True),
        ),
        in_place=_in_place(op, a, b, y, 0),
        comment=comment,
    )


def _broadcast_call(graph: Graph, op: Op, function: str, requant: pk.Fields, macs: int = 0) -> KernelCall:
    """The portable kernels' call: shape and strides, offsets, `requant`, clamp, constant operands."""
    a, b, y = _inputs(graph, op)
    layout = broadcast_layout(a.shape, b.shape, y.shape)
    assert layout is not None
    ndims, shape, st1, st2 = layout
    args, const1, const2 = _operands(op, a, b)
    params: pk.Fields = (
        ("size", y.num_elements),
        ("ndims", ndims),
        ("out_shape", shape),
        ("in1_strides", st1),
        ("in2_strides", st2),
        ("input1_offset", -pk.zero_point(a)),
        ("input2_offset", -pk.zero_point(b)),
        ("output_offset", pk.zero_point(y)),
        *requant,
        *pk.clamp_fields(pk.activation_range(op, y)),
        ("const1", const1),
        ("const2", const2),
    )
    return KernelCall(
        function=function,
        params_type=function + "_params_t",
        params=params,
        args=(*args, TensorArg(op.outputs[0], writable=True)),
        macs=macs,
        in_place=_in_place(op, a, b, y, ndims),
        comment=_comment(op, a, b, y, ndims),
    )


def _add_sub(graph: Graph, op: Op, function: str) -> KernelCall:
    qp = add_sub_params(op, *_inputs(graph, op))
    requant = (
        ("left_shift", qp.left_shift),
        ("input1_mult", qp.input1_mult),
        ("input1_shift", qp.input1_shift),
        ("input2_mult", qp.input2_mult),
        ("input2_shift", qp.input2_shift),
        ("output_mult", qp.output_mult),
        ("output_shift", qp.output_shift),
    )
    return _broadcast_call(graph, op, function, requant)


@kernel("ADD", name="add_s8", accepts=accepts)
def add_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op, "tf_add_s8")


@kernel("SUB", name="sub_s8", accepts=accepts)
def sub_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op, "tf_sub_s8")


@kernel("MUL", name="mul_s8", accepts=accepts)
def mul_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    a, b, y = _inputs(graph, op)
    mult, shift = quant.mul_multiplier(pk.scale(a), pk.scale(b), pk.scale(y))
    requant = (("output_mult", mult), ("output_shift", shift))
    return _broadcast_call(graph, op, "tf_mul_s8", requant, macs=y.num_elements)
