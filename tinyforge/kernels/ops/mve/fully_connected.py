"""FULLY_CONNECTED packer for the Helium kernel (firmware/kernels/mve/tf_mve_fully_connected.c),
chosen over the DSP and portable ones on boards with the `mve` feature. Weights stay int8 (packed
for the matrix core, tinyforge/kernels/ops/mve/pack.py); the input offset goes into the bias. Weights with
a non-zero zero point keep the other kernels."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.mve import pack
from tinyforge.kernels.ops.portable import fully_connected as ref
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel

PRIORITY = 20  # above the DSP kernels (10): the M55 has both features


def _accepts(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts(graph, op)
    if reason:
        return reason
    w = pk.op_tensor(graph, op, 1)
    assert w is not None and w.quant is not None
    if any(int(z) != 0 for z in w.quant.zero_point):
        return "weights have a non-zero zero point"
    if w.shape[1] == 0:
        return "empty dot products"
    return None


@kernel(
    "FULLY_CONNECTED", name="mve_fully_connected_s8", features={"mve"}, priority=PRIORITY, accepts=_accepts
)
def mve_fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w, b = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1), pk.op_tensor(graph, op, 2)
    y = pk.output(graph, op)
    assert x is not None and w is not None and w.quant is not None
    out_depth, accum_depth = w.shape
    batches = y.num_elements // out_depth
    if w.quant.per_channel:
        pairs = quant.conv_multipliers(pk.scale(x), list(w.quant.scale), pk.scale(y))
    else:
        pairs = [quant.fc_multiplier(pk.scale(x), float(w.quant.scale[0]), pk.scale(y))]
    gemm = pack.pack_gemm(w.array(), b.array() if b is not None else None, -pk.zero_point(x), pairs)
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    params = (
        ("batches", batches),
        ("accum_depth", accum_depth),
        ("out_depth", out_depth),
        ("output_offset", pk.zero_point(y)),
        ("act_min", act_min),
        ("act_max", act_max),
        ("left_shifts", gemm.left_shifts),
        ("weights", pk.const_array(op, "weights", gemm.weights.reshape(-1), "int8_t")),
        ("qparams", pk.const_array(op, "qparams", gemm.qparams.reshape(-1), "int32_t")),
    )
    rows = f"{batches}x" if batches > 1 else ""
    per_channel = " per-channel" if w.quant.per_channel else ""
    return KernelCall(
        function="tf_mve_fully_connected_s8",
        params_type="tf_mve_fully_connected_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True)),
        macs=batches * out_depth * accum_depth,
        comment=f"{rows}{accum_depth}->{out_depth}{pk.act_suffix(op)}{per_channel} mve",
    )
