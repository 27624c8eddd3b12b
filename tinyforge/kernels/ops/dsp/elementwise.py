"""ADD and SUB packers for the DSP-extension table kernel (firmware/kernels/dsp/tf_dsp_add.c), for
two same-shaped activation inputs. Each input's rescaling is a function of its int8 value only, so
it is tabulated here (256 int32 per input, computed with TFLM's integer arithmetic), pre-doubled for
the folded output requantization (tinyforge/kernels/ops/dsp/fold.py). Broadcasts and constant operands keep
the portable kernel."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.dsp import fold
from tinyforge.kernels.ops.portable import elementwise as ref
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel

PRIORITY = 10


def input_table(offset: int, left_shift: int, mult: int, shift: int, sign: int) -> list[int]:
    """table[v & 0xff] = sign * 2 * MultiplyByQuantizedMultiplier((v + offset) << left_shift, mult, shift)."""
    table = [0] * 256
    for v in range(-128, 128):
        scaled = fold.multiply_by_quantized_multiplier(fold.wrap32((v + offset) << left_shift), mult, shift)
        table[v & 0xFF] = sign * 2 * scaled
    return table


def _plan(graph: Graph, op: Op) -> tuple[list[int], list[int], int, int, int] | str:
    """(table1, table2, mult, kq, rshift) or why the table kernel does not fit."""
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    if a.is_constant or b.is_constant:
        return "a constant operand"
    if not (tuple(a.shape) == tuple(b.shape) == tuple(y.shape)):
        return "broadcasting"
    qp = (quant.add_params if op.kind == "ADD" else quant.sub_params)(pk.scale(a), pk.scale(b), pk.scale(y))
    t1 = input_table(-pk.zero_point(a), qp.left_shift, qp.input1_mult, qp.input1_shift, 1)
    t2 = input_table(
        -pk.zero_point(b), qp.left_shift, qp.input2_mult, qp.input2_shift, 1 if op.kind == "ADD" else -1
    )
    if qp.output_shift > 0 or qp.output_mult <= 0:
        return "output multiplier outside (0, 0.5)"
    rs = -qp.output_shift
    if rs < 1:
        return "output multiplier outside (0, 0.5)"
    bound = max(abs(v) for v in t1) + max(abs(v) for v in t2)
    if bound > fold.INT32_MAX:
        return "the sum of the rescaled inputs can overflow"
    kq = (1 << (rs - 1)) + pk.zero_point(y) * (1 << rs)
    high = ((bound * qp.output_mult + (1 << 31)) >> 32) + 1
    if high + abs(kq) + 1 > fold.INT32_MAX:
        return "the rounding constant overflows"
    return t1, t2, qp.output_mult, kq, rs


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts(graph, op)
    if reason:
        return reason
    plan = _plan(graph, op)
    return plan if isinstance(plan, str) else None


def _add_sub(graph: Graph, op: Op) -> KernelCall:
    a, b, y = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.output(graph, op)
    assert a is not None and b is not None
    plan = _plan(graph, op)
    assert not isinstance(plan, str)
    t1, t2, mult, kq, rs = plan
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    params = (
        ("size", y.num_elements),
        ("mult", mult),
        ("kq", kq),
        ("rshift", rs),
        ("fast", fold.fast_requant(act_min, act_max, pk.zero_point(y))),
        ("act_min", act_min),
        ("act_max", act_max),
        ("table1", pk.const_array(op, "table1", t1, "int32_t")),
        ("table2", pk.const_array(op, "table2", t2, "int32_t")),
    )
    return KernelCall(
        function="tf_dsp_add_s8",
        params_type="tf_dsp_add_s8_params_t",
        params=params,
        args=(
            TensorArg(op.inputs[0], writable=False),
            TensorArg(op.inputs[1], writable=False),
            TensorArg(op.outputs[0], writable=True),
        ),
        in_place=ref._in_place(op, a, b, y, 0),
        comment=ref._comment(op, a, b, y, 0) + " dsp",
    )


@kernel("ADD", name="dsp_add_s8", features={"dsp"}, priority=PRIORITY, accepts=_accepts)
def dsp_add_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op)


@kernel("SUB", name="dsp_sub_s8", features={"dsp"}, priority=PRIORITY, accepts=_accepts)
def dsp_sub_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _add_sub(graph, op)
