"""ADD and SUB packers for the Helium kernel (firmware/kernels/mve/tf_mve_add.c), chosen over the
portable ones on boards with the `mve` feature, for two non-constant inputs of the output's shape
(the residual additions of ResNet-style models). Each input's rescaled value depends on its byte
only, so it is tabulated here (tinyforge/kernels/quant.py rescale_table); SUB negates the second
table."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.mve import mve_kernel
from tinyforge.kernels.ops.portable import elementwise as ref
from tinyforge.kernels.registry import KernelCall, Target


def _add_sub(graph: Graph, op: Op) -> KernelCall:
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    qp = ref.add_sub_params(op, a, b, y)
    t1 = quant.rescale_table(-pk.zero_point(a), qp.left_shift, qp.input1_mult, qp.input1_shift)
    t2 = quant.rescale_table(
        -pk.zero_point(b), qp.left_shift, qp.input2_mult, qp.input2_shift, negate=op.kind == "SUB"
    )
    params = (
        ("size", y.num_elements),
        ("output_offset", pk.zero_point(y)),
        ("output_mult", qp.output_mult),
        ("output_shift", qp.output_shift),
        *pk.clamp_fields(pk.activation_range(op, y)),
        ("table1", pk.const_array(op, "table1", t1, "int32_t")),
        ("table2", pk.const_array(op, "table2", t2, "int32_t")),
    )
    comment = f"{pk.shape_str(y.shape)}{' sub' if op.kind == 'SUB' else ''}{pk.act_suffix(op)} mve"
    return ref.same_shape_call(graph, op, "tf_mve_add_s8", params, comment)


@mve_kernel("ADD", "mve_add_s8", ref.same_shape_reason)
def mve_add_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op)


@mve_kernel("SUB", "mve_sub_s8", ref.same_shape_reason)
def mve_sub_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op)
