"""Faster portable kernels (firmware/kernels/fast/tf_fast_conv.c) for cores without DSP/Helium:
CONV_2D (groups 1), FULLY_CONNECTED (as a 1x1 convolution over the batch rows) and
DEPTHWISE_CONV_2D (depth multiplier 1); filters of at most 64 taps (k_h * k_w). Plain C99, so they also serve the host.

The input offset goes into the bias here (bias + in_off * sum(w), checked to fit int32), so the
inner loops are pure int8 x int8 MACs; convolution weights are interleaved by 4 output channels in
the order the inner loop reads them. int32 sums are exact, so the reassociation is bit-exact;
requantization stays tf_multiply_by_quantized_multiplier. Anything else keeps the reference kernel.
"""

from __future__ import annotations

import numpy as np

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.ops.portable import conv as ref
from tinyforge.kernels.ops.portable import fully_connected as ref_fc
from tinyforge.kernels.registry import ConstArray, KernelCall, Target, TensorArg, kernel

PRIORITY = 5
MAX_TAPS = 64  # TF_FAST_MAX_TAPS in fast/tf_fast_conv.c
_I32 = (-(2**31), 2**31 - 1)


def _folded_bias(bias: np.ndarray | None, w2: np.ndarray, in_off: int) -> np.ndarray | None:
    """bias + in_off * sum(w) per output channel (w2: [channel][taps]); None if it overflows int32
    or a channel's partial sum of products could."""
    out = (
        np.zeros(w2.shape[0], dtype=np.int64) if bias is None else bias.astype(np.int64)
    ) + in_off * w2.sum(axis=1)
    if w2.shape[1] * 128 * 128 > _I32[1] or out.min(initial=0) < _I32[0] or out.max(initial=0) > _I32[1]:
        return None
    return out


def _conv_w2(graph: Graph, op: Op) -> np.ndarray:
    w = pk.op_tensor(graph, op, 1)
    assert w is not None
    return w.array().astype(np.int64).reshape(w.shape[0], -1)


def _bias_arr(graph: Graph, op: Op) -> np.ndarray | None:
    b = pk.op_tensor(graph, op, 2)
    return b.array() if b is not None else None


def _accepts_conv(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_conv(graph, op)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    if w.shape[3] != x.shape[3]:
        return "grouped convolution"
    if w.shape[1] * w.shape[2] > MAX_TAPS:
        return f"more than {MAX_TAPS} filter taps"
    if _folded_bias(_bias_arr(graph, op), _conv_w2(graph, op), -pk.zero_point(x)) is None:
        return "the folded bias does not fit int32"
    return None


def _interleave4(w2: np.ndarray) -> np.ndarray:
    """[channel][taps] -> [channel/4][taps][4], zero channels padding the last group."""
    oc, taps = w2.shape
    oc4 = -(-oc // 4) * 4
    pad = np.zeros((oc4, taps), dtype=np.int64)
    pad[:oc] = w2
    return pad.reshape(oc4 // 4, 4, taps).transpose(0, 2, 1).reshape(-1)


def _matmul_call(
    op: Op,
    geometry: tuple[tuple[str, int], ...],
    direct: bool,
    weights: ConstArray,
    bias: ConstArray,
    mult_shift: list[tuple[int, int]],
    out_c: int,
    out_zp: int,
    in_zp: int,
    act: tuple[int, int],
    macs: int,
    comment: str,
) -> KernelCall:
    if len(mult_shift) == 1:
        mult_shift = mult_shift * out_c
    params = (
        *geometry,
        ("direct", int(direct)),
        ("pad_value", in_zp),
        ("output_offset", out_zp),
        ("act_min", act[0]),
        ("act_max", act[1]),
        ("weights", weights),
        ("bias", bias),
        ("out_mult", pk.const_array(op, "out_mult", [m for m, _ in mult_shift], "int32_t")),
        ("out_shift", pk.const_array(op, "out_shift", [s for _, s in mult_shift], "int32_t")),
    )
    return KernelCall(
        function="tf_fast_conv_s8",
        params_type="tf_fast_conv_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True)),
        macs=macs,
        comment=comment + " fast",
    )


@kernel("CONV_2D", name="fast_conv_s8", priority=PRIORITY, accepts=_accepts_conv)
def fast_conv_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    out_c, k_h, k_w, in_c = w.shape
    w2 = _conv_w2(graph, op)
    folded = _folded_bias(_bias_arr(graph, op), w2, -pk.zero_point(x))
    assert folded is not None
    pad = ref._padding(op, x, k_h, k_w)
    s_h, s_w = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    pairs, _ = ref._multipliers(x, w, y)
    direct = (k_h, k_w, s_h, s_w, pad.pad_h, pad.pad_w) == (1, 1, 1, 1, 0, 0)
    geometry = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", in_c),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("out_c", out_c),
        ("k_h", k_h),
        ("k_w", k_w),
        ("stride_h", s_h),
        ("stride_w", s_w),
        ("dil_h", int(op.options.get("dilation_h_factor", 1))),
        ("dil_w", int(op.options.get("dilation_w_factor", 1))),
        ("pad_h", pad.pad_h),
        ("pad_w", pad.pad_w),
    )
    act = quant.activation_range(op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y))
    return _matmul_call(
        op,
        geometry,
        direct,
        pk.const_array(op, "weights4", _interleave4(w2), "int8_t"),
        pk.const_array(op, "bias_folded", folded, "int32_t"),
        pairs,
        out_c,
        pk.zero_point(y),
        pk.zero_point(x),
        act,
        y.shape[0] * y.shape[1] * y.shape[2] * out_c * w2.shape[1],
        ref._describe(op, k_h, k_w, in_c, out_c),
    )


def _accepts_fc(graph: Graph, op: Op) -> str | None:
    reason = ref_fc._accepts(graph, op)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None and w.quant is not None
    if any(int(z) != 0 for z in w.quant.zero_point):
        return "weights have a non-zero zero point"
    w2 = w.array().astype(np.int64)
    if _folded_bias(_bias_arr(graph, op), w2, -pk.zero_point(x)) is None:
        return "the folded bias does not fit int32"
    return None


@kernel("FULLY_CONNECTED", name="fast_fully_connected_s8", priority=PRIORITY, accepts=_accepts_fc)
def fast_fully_connected_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    y = pk.output(graph, op)
    assert x is not None and w is not None and w.quant is not None
    out_depth, accum_depth = w.shape
    rows = y.num_elements // out_depth
    w2 = w.array().astype(np.int64)
    folded = _folded_bias(_bias_arr(graph, op), w2, -pk.zero_point(x))
    assert folded is not None
    if w.quant.per_channel:
        pairs = quant.conv_multipliers(pk.scale(x), list(w.quant.scale), pk.scale(y))
    else:
        pairs = [quant.fc_multiplier(pk.scale(x), float(w.quant.scale[0]), pk.scale(y))]
    geometry = (
        ("batches", 1),
        ("in_h", 1),
        ("in_w", rows),
        ("in_c", accum_depth),
        ("out_h", 1),
        ("out_w", rows),
        ("out_c", out_depth),
        ("k_h", 1),
        ("k_w", 1),
        ("stride_h", 1),
        ("stride_w", 1),
        ("dil_h", 1),
        ("dil_w", 1),
        ("pad_h", 0),
        ("pad_w", 0),
    )
    act = quant.activation_range(op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y))
    prefix = f"{rows}x" if rows > 1 else ""
    return _matmul_call(
        op,
        geometry,
        True,
        pk.const_array(op, "weights4", _interleave4(w2), "int8_t"),
        pk.const_array(op, "bias_folded", folded, "int32_t"),
        pairs,
        out_depth,
        pk.zero_point(y),
        pk.zero_point(x),
        act,
        rows * out_depth * accum_depth,
        f"{prefix}{accum_depth}->{out_depth}{pk.act_suffix(op)}",
    )


def _dw_w2(graph: Graph, op: Op) -> np.ndarray:
    w = pk.op_tensor(graph, op, 1)
    assert w is not None
    _, k_h, k_w, out_c = w.shape
    return w.array().astype(np.int64).reshape(k_h * k_w, out_c).T  # [channel][tap]


def _accepts_dw(graph: Graph, op: Op) -> str | None:
    reason = ref._accepts_depthwise(graph, op)
    if reason:
        return reason
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    assert x is not None and w is not None
    if w.shape[3] != x.shape[3]:
        return "depth multiplier above 1"
    if w.shape[1] * w.shape[2] > MAX_TAPS:
        return f"more than {MAX_TAPS} filter taps"
    if _folded_bias(_bias_arr(graph, op), _dw_w2(graph, op), -pk.zero_point(x)) is None:
        return "the folded bias does not fit int32"
    return None


@kernel("DEPTHWISE_CONV_2D", name="fast_depthwise_s8", priority=PRIORITY, accepts=_accepts_dw)
def fast_depthwise_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    x, w = pk.op_tensor(graph, op, 0), pk.op_tensor(graph, op, 1)
    y = pk.output(graph, op)
    assert x is not None and w is not None
    _, k_h, k_w, ch = w.shape
    folded = _folded_bias(_bias_arr(graph, op), _dw_w2(graph, op), -pk.zero_point(x))
    assert folded is not None
    pairs, _ = ref._multipliers(x, w, y)
    if len(pairs) == 1:
        pairs = pairs * ch
    pad = ref._padding(op, x, k_h, k_w)
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    params = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("in_c", ch),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("k_h", k_h),
        ("k_w", k_w),
        *pk.window_params(op, pad.pad_h, pad.pad_w),
        ("pad_value", pk.zero_point(x)),
        ("output_offset", pk.zero_point(y)),
        ("act_min", act_min),
        ("act_max", act_max),
        ("weights", pk.const_array(op, "weights", w.array(), "int8_t")),
        ("bias", pk.const_array(op, "bias_folded", folded, "int32_t")),
        ("out_mult", pk.const_array(op, "out_mult", [m for m, _ in pairs], "int32_t")),
        ("out_shift", pk.const_array(op, "out_shift", [s for _, s in pairs], "int32_t")),
    )
    return KernelCall(
        function="tf_fast_dw_s8",
        params_type="tf_fast_dw_s8_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True)),
        macs=y.shape[0] * y.shape[1] * y.shape[2] * ch * k_h * k_w,
        comment="dw " + ref._describe(op, k_h, k_w, ch, ch) + " fast",
    )
