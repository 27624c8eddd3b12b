"""ADD and SUB packers for the Helium kernel (firmware/kernels/mve/tf_mve_add.c), chosen over the
portable ones on boards with the `mve` feature, for two non-constant inputs of the output's shape
(the residual additions of ResNet-style models). Each input's rescaled value depends on its byte
only, so it is tabulated here (tinyforge/kernels/ops/mve/pack.py rescale_table); SUB negates the second
table."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.mve import pack
from tinyforge.kernels.ops.portable import elementwise as ref
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel

PRIORITY = 20


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts(graph, op)
    if reason:
        return reason
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    if a.is_constant or b.is_constant:
        return "a constant operand"
    if tuple(a.shape) != tuple(y.shape) or tuple(b.shape) != tuple(y.shape):
        return "broadcasting"
    return None


def _add_sub(graph: Graph, op: Op) -> KernelCall:
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    qp = (quant.add_params if op.kind == "ADD" else quant.sub_params)(pk.scale(a), pk.scale(b), pk.scale(y))
    t1 = pack.rescale_table(-pk.zero_point(a), qp.left_shift, qp.input1_mult, qp.input1_shift)
    t2 = pack.rescale_table(
        -pk.zero_point(b), qp.left_shift, qp.input2_mult, qp.input2_shift, negate=op.kind == "SUB"
    )
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    params = (
        ("size", y.num_elements),
        ("output_offset", pk.zero_point(y)),
        ("output_mult", qp.output_mult),
        ("output_shift", qp.output_shift),
        ("act_min", act_min),
        ("act_max", act_max),
        ("table1", pk.const_array(op, "table1", t1, "int32_t")),
        ("table2", pk.const_array(op, "table2", t2, "int32_t")),
    )
    return KernelCall(
        function="tf_mve_add_s8",
        params_type="tf_mve_add_s8_params_t",
        params=params,
        args=(
            TensorArg(op.inputs[0], writable=False),
            TensorArg(op.inputs[1], writable=False),
            TensorArg(op.outputs[0], writable=True),
        ),
        in_place=ref._in_place(op, a, b, y, 0),
        comment=f"{pk.shape_str(y.shape)}{' sub' if op.kind == 'SUB' else ''}{pk.act_suffix(op)} mve",
    )


@kernel("ADD", name="mve_add_s8", features={"mve"}, priority=PRIORITY, accepts=_accepts)
def mve_add_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op)


@kernel("SUB", name="mve_sub_s8", features={"mve"}, priority=PRIORITY, accepts=_accepts)
def mve_sub_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op)
