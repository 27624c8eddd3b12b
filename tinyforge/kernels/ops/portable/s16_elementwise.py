"""16x8 ADD, SUB and MUL packers (firmware/kernels/tf_elementwise_s16.c): int16 tensors,
broadcasting as the int8 kernels (elementwise.broadcast_layout).

ADD/SUB take TFLM's CalculateOpDataAdd/Sub multipliers with the 15-bit left shift of int16 (TFLM
micro always takes this general path: the `pot_scale_int16` option, true by the schema's default,
is ignored as it does); MUL needs zero points of 0, as TFLM's int16 MUL does, and takes
QuantizeMultiplier(s1 * s2 / s_out).
"""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.portable.elementwise import MAX_DIMS, broadcast_layout
from tinyforge.kernels.ops.portable.s16_conv import int16_activation_reason
from tinyforge.kernels.registry import KernelCall, ParamValue, Target, TensorArg, kernel

LEFT_SHIFT_S16 = 15  # TFLM's left_shift for int16 ADD/SUB (20 for int8)


def _accepts(graph: Graph, op: Op) -> str | None:
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    symmetric = op.kind == "MUL"  # TFLM's int16 MUL checks zero points of 0; ADD/SUB take any
    reason = pk.first_reason(
        int16_activation_reason(a, "input 1", symmetric),
        int16_activation_reason(b, "input 2", symmetric),
        int16_activation_reason(y, "output", symmetric),
        pk.activation_reason(op),
    )
    if reason:
        return reason
    assert a is not None and b is not None
    if a.is_constant and b.is_constant:
        return "both inputs are constant (fold them before compiling)"
    if broadcast_layout(a.shape, b.shape, y.shape) is None:
        return (
            f"shapes {pk.shape_str(a.shape)} and {pk.shape_str(b.shape)} do not broadcast to "
            f"{pk.shape_str(y.shape)} in {MAX_DIMS} dimensions"
        )
    if op.kind in ("ADD", "SUB"):
        try:
            quant.add_params(pk.scale(a), pk.scale(b), pk.scale(y), LEFT_SHIFT_S16)
        except ValueError as exc:
            return f"scales cannot be rescaled ({exc})"
    return None


def _operands(op: Op, a: Tensor, b: Tensor) -> tuple[tuple[TensorArg, TensorArg], ParamValue, ParamValue]:
    """Pointer arguments and const1/const2 fields (0 = NULL): a constant operand's pointer
    argument repeats the other input so that every argument is an arena address."""
    const1: ParamValue = pk.const_array(op, "const1", a.array(), "int16_t") if a.is_constant else 0
    const2: ParamValue = pk.const_array(op, "const2", b.array(), "int16_t") if b.is_constant else 0
    t1 = op.inputs[1] if a.is_constant else op.inputs[0]
    t2 = op.inputs[0] if b.is_constant else op.inputs[1]
    return (TensorArg(t1, False, "int16_t"), TensorArg(t2, False, "int16_t")), const1, const2


def _common(graph: Graph, op: Op) -> tuple[Tensor, Tensor, Tensor, tuple[tuple[str, ParamValue], ...], int]:  # noqa: E501
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    layout = broadcast_layout(a.shape, b.shape, y.shape)
    assert layout is not None
    ndims, shape, st1, st2 = layout
    fields: tuple[tuple[str, ParamValue], ...] = (
        ("size", y.num_elements),
        ("ndims", ndims),
        ("out_shape", shape),
        ("in1_strides", st1),
        ("in2_strides", st2),
        ("input1_offset", -pk.zero_point(a)),
        ("input2_offset", -pk.zero_point(b)),
        ("output_offset", pk.zero_point(y)),
    )
    return a, b, y, fields, ndims


Fields = tuple[tuple[str, ParamValue], ...]


def _call(
    op: Op, fn: str, a: Tensor, b: Tensor, y: Tensor, params: Fields, ndims: int, macs: int
) -> KernelCall:
    args, const1, const2 = _operands(op, a, b)
    in_place: tuple[tuple[int, int], ...] = ()
    if ndims == 0:
        in_place = tuple(
            (op.outputs[0], t.index) for t in (a, b) if not t.is_constant and t.nbytes == y.nbytes
        )
    text = (
        pk.shape_str(y.shape)
        if ndims == 0
        else f"{pk.shape_str(a.shape)} {op.kind.lower()} {pk.shape_str(b.shape)} -> {pk.shape_str(y.shape)}"
    )
    const = " (const)" if a.is_constant or b.is_constant else ""
    return KernelCall(
        function=fn,
        params_type=fn + "_params_t",
        params=(*params, ("const1", const1), ("const2", const2)),
        args=(*args, TensorArg(op.outputs[0], True, "int16_t")),
        macs=macs,
        in_place=in_place,
        comment="int16 " + text + const + pk.act_suffix(op),
    )


def _add_sub(graph: Graph, op: Op, fn: str) -> KernelCall:
    a, b, y, fields, ndims = _common(graph, op)
    qp = quant.add_params(pk.scale(a), pk.scale(b), pk.scale(y), LEFT_SHIFT_S16)
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y), "int16"
    )
    params = (
        *fields,
        ("left_shift", qp.left_shift),
        ("input1_mult", qp.input1_mult),
        ("input1_shift", qp.input1_shift),
        ("input2_mult", qp.input2_mult),
        ("input2_shift", qp.input2_shift),
        ("output_mult", qp.output_mult),
        ("output_shift", qp.output_shift),
        ("act_min", act_min),
        ("act_max", act_max),
    )
    return _call(op, fn, a, b, y, params, ndims, 0)


@kernel("ADD", name="add_s16", accepts=_accepts)
def add_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op, "tf_add_s16")


@kernel("SUB", name="sub_s16", accepts=_accepts)
def sub_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op, "tf_sub_s16")


@kernel("MUL", name="mul_s16", accepts=_accepts)
def mul_s16(graph: Graph, op: Op, target: Target) -> KernelCall:
    a, b, y, fields, ndims = _common(graph, op)
    mult, shift = quant.mul_multiplier(pk.scale(a), pk.scale(b), pk.scale(y))
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y), "int16"
    )
    params = (
        *fields,
        ("output_mult", mult),
        ("output_shift", shift),
        ("act_min", act_min),
        ("act_max", act_max),
    )
    return _call(op, "tf_mul_s16", a, b, y, params, ndims, y.num_elements)
