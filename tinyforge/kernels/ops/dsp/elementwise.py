"""ADD and SUB packers for the DSP-extension table kernel (firmware/kernels/dsp/tf_dsp_add.c), for
two same-shaped activation inputs. Each input's rescaling is a function of its int8 value only, so
it is tabulated here (256 int32 per input, quant.rescale_table: TFLM's integer arithmetic), pre-doubled for
the folded output requantization (tinyforge/kernels/ops/dsp/fold.py). Broadcasts and constant operands keep
the portable kernel. With `--optimize size` the tables are not put in flash: the kernel computes
them into 2 KB of scratch (about 10 k instructions per call)."""

from __future__ import annotations

import dataclasses

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.dsp import dsp_kernel, fold
from tinyforge.kernels.ops.portable import elementwise as ref
from tinyforge.kernels.registry import KernelCall, ScratchArg, Target


def _plan(graph: Graph, op: Op) -> tuple[list[int], list[int], int, int, int, quant.AddSubParams] | str:
    """(table1, table2, mult, kq, rshift, params) or why the table kernel does not fit. The tables
    hold twice TFLM's rescaled inputs (quant.rescale_table), SUB's second one negated."""
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    qp = ref.add_sub_params(op, a, b, y)
    sign = 1 if op.kind == "ADD" else -1
    r1 = quant.rescale_table(-pk.zero_point(a), qp.left_shift, qp.input1_mult, qp.input1_shift)
    r2 = quant.rescale_table(-pk.zero_point(b), qp.left_shift, qp.input2_mult, qp.input2_shift)
    t1, t2 = [2 * int(v) for v in r1], [sign * 2 * int(v) for v in r2]
    if qp.output_shift > 0 or qp.output_mult <= 0:
        return "output multiplier outside (0, 0.5)"
    rs = -qp.output_shift
    if rs < 1:
        return "output multiplier outside (0, 0.5)"
    bound = max(abs(v) for v in t1) + max(abs(v) for v in t2)
    if bound > quant.INT32_MAX:
        return "the sum of the rescaled inputs can overflow"
    kq = (1 << (rs - 1)) + pk.zero_point(y) * (1 << rs)
    high = ((bound * qp.output_mult + (1 << 31)) >> 32) + 1
    if high + abs(kq) + 1 > quant.INT32_MAX:
        return "the rounding constant overflows"
    return t1, t2, qp.output_mult, kq, rs, qp


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = ref.same_shape_reason(graph, op)
    if reason:
        return reason
    plan = _plan(graph, op)
    return plan if isinstance(plan, str) else None


def _add_sub(graph: Graph, op: Op, target: Target) -> KernelCall:
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    plan = _plan(graph, op)
    assert not isinstance(plan, str)
    t1, t2, mult, kq, rs, qp = plan
    in_flash = target.tables
    params = (
        ("size", y.num_elements),
        ("mult", mult),
        ("kq", kq),
        ("rshift", rs),
        *fold.clamp_fields(pk.activation_range(op, y), pk.zero_point(y)),
        ("table1", pk.const_array(op, "table1", t1, "int32_t", align=4) if in_flash else 0),
        ("table2", pk.const_array(op, "table2", t2, "int32_t", align=4) if in_flash else 0),
        ("offset1", -pk.zero_point(a)),
        ("offset2", -pk.zero_point(b)),
        ("left_shift", qp.left_shift),
        ("mult1", qp.input1_mult),
        ("shift1", qp.input1_shift),
        ("mult2", qp.input2_mult),
        ("shift2", qp.input2_shift),
        ("sign2", 1 if op.kind == "ADD" else -1),
    )
    call = ref.same_shape_call(
        graph, op, "tf_dsp_add_s8", params, pk.shape_str(y.shape) + pk.act_suffix(op) + " dsp"
    )
    return dataclasses.replace(call, args=(*call.args, ScratchArg()), scratch_bytes=0 if in_flash else 2048)


@dsp_kernel("ADD", "dsp_add_s8", _accepts)
def dsp_add_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op, target)


@dsp_kernel("SUB", "dsp_sub_s8", _accepts)
def dsp_sub_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op, target)
