"""SVDF packer for the integer kernels (firmware/kernels/tf_svdf.c).

TFLite Micro's PrepareSvdf (int8 input): two multipliers whose scale products are taken in
float32 and only then widened to double,

    effective_scale_1 = input * weights_feature / state     (feature dot product -> state)
    effective_scale_2 = state * weights_time / output       (time dot products -> output)

and the bias scale must equal state * weights_time (within 1e-5). The state and the time weights
share a type: int16 (tf_svdf_s8, TFLM's EvalInt16SvdfReference, as its keyword models use) or
int8 (tf_svdf_s8_state8). The fused activation is not applied by TFLM's integer kernel, nor here.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel

INPUT, WEIGHTS_FEATURE, WEIGHTS_TIME, BIAS, STATE = 0, 1, 2, 3, 4


def _tensors(graph: Graph, op: Op) -> tuple[Tensor | None, ...]:
    return tuple(pk.op_tensor(graph, op, i) for i in range(5))


def accepts(graph: Graph, op: Op) -> str | None:
    if len(op.inputs) != 5 or len(op.outputs) != 1:
        return f"expects 5 inputs (with the bias) and 1 output (got {len(op.inputs)}, {len(op.outputs)})"
    x, wf, wt, bias, state = _tensors(graph, op)
    y = pk.output(graph, op)
    if reason := pk.first_reason(
        pk.int8_activation_reason(x, "input"), pk.int8_activation_reason(y, "output")
    ):
        return reason
    assert x is not None
    if x.is_constant:
        return "the input is constant"
    if wf is None or not wf.is_constant or wf.dtype != "int8":
        return "feature weights must be constant int8"
    if wt is None or not wt.is_constant or wt.dtype not in ("int8", "int16"):
        return "time weights must be constant int8 or int16"
    if state is None or not state.is_variable:
        return "the activation state must be a variable tensor"
    if state.dtype != wt.dtype:
        return f"the state is {state.dtype} but the time weights are {wt.dtype}; TFLM needs one type for both"
    if bias is None:
        return "TFLM's integer SVDF needs a bias"
    if not bias.is_constant or bias.dtype != "int32":
        return "bias must be a constant int32 tensor"
    for t in (wf, wt, bias, state):
        if t.quant is None or not t.quant.scale:
            return f"tensor {t.name!r} has no quantization parameters"
        if t.quant.per_channel:
            return f"tensor {t.name!r} is quantized per channel; SVDF takes per-tensor scales"
    rank = int(op.options.get("rank", 0))
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2 or len(y.shape) != 2:
        return "input, weights and output must be 2-D"
    batches, in_size = x.shape
    filters, memory = wt.shape
    if rank <= 0 or filters % rank:
        return f"rank {rank} does not divide the {filters} filters"
    if wf.shape != (filters, in_size):
        return f"feature weights are {pk.shape_str(wf.shape)}, expected {filters}x{in_size}"
    units = filters // rank
    if y.shape != (batches, units) or bias.shape != (units,):
        return f"output/bias do not match {batches} x {units} units"
    if state.shape != (batches, memory * filters):
        return f"state is {pk.shape_str(state.shape)}, expected {batches}x{memory * filters}"
    product = float(np.float32(np.float32(pk.scale(state)) * np.float32(pk.scale(wt))))
    if not abs(pk.scale(bias) - product) < 1e-5:
        return "bias scale differs from state scale x time weights scale (TFLM rejects it)"
    return None


def effective_scale(a: float, b: float, c: float) -> float:
    """float32 (a * b / c), widened to double, as TFLM's PrepareSvdf."""
    return float(np.float32(np.float32(np.float32(a) * np.float32(b)) / np.float32(c)))


@kernel("SVDF", name="svdf", accepts=accepts)
def svdf(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, wf, wt, bias, state = _tensors(graph, op)
    assert x is not None and wf is not None and wt is not None and bias is not None and state is not None
    y = pk.output(graph, op)
    rank = int(op.options["rank"])
    batches, in_size = x.shape
    filters, memory = wt.shape
    units = filters // rank
    m1, s1 = quant.quantize_multiplier(effective_scale(pk.scale(x), pk.scale(wf), pk.scale(state)))
    m2, s2 = quant.quantize_multiplier(effective_scale(pk.scale(state), pk.scale(wt), pk.scale(y)))
    s16 = state.dtype == "int16"
    wt_ctype = "int16_t" if s16 else "int8_t"
    params = (
        ("batches", batches),
        ("input_size", in_size),
        ("filters", filters),
        ("units", units),
        ("rank", rank),
        ("memory", memory),
        ("input_offset", -pk.zero_point(x)),
        ("state_zero_point", pk.zero_point(state)),
        ("output_zero_point", pk.zero_point(y)),
        ("feature_mult", m1),
        ("feature_shift", s1),
        ("output_mult", m2),
        ("output_shift", s2),
        ("weights_feature", pk.const_array(op, "svdf_wf", wf.array(), "int8_t")),
        ("weights_time", pk.const_array(op, "svdf_wt", wt.array(), wt_ctype)),
        ("bias", pk.const_array(op, "svdf_bias", bias.array(), "int32_t")),
    )
    function = "tf_svdf_s8" if s16 else "tf_svdf_s8_state8"
    return KernelCall(
        function=function,
        params_type="tf_svdf_params_t",
        params=params,
        args=(
            TensorArg(x.index, False),
            TensorArg(y.index, True),
            TensorArg(state.index, True, wt_ctype),
        ),
        macs=batches * filters * (in_size + memory),
        comment=f"{batches}x{in_size} -> {units} units, rank {rank}, memory {memory}, {state.dtype} state",
    )
