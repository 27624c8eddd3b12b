"""AVERAGE_POOL_2D and MAX_POOL_2D packers for the portable int8 kernels (firmware/kernels/
tf_pool.c). Like TFLM, the kernels copy the input's quantization: no requantization, only the
fused-activation clamp computed from the output's scale and zero point."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel


def _accepts(graph: Graph, op: Op) -> str | None:
    x, y = pk.op_tensor(graph, op, 0), pk.output(graph, op)
    reason = pk.first_reason(
        pk.int8_activation_reason(x, "input"),
        pk.int8_activation_reason(y, "output"),
        pk.activation_reason(op),
    )
    if reason:
        return reason
    assert x is not None
    if len(x.shape) != 4 or len(y.shape) != 4:
        return "input and output must be 4-D (NHWC)"
    if op.options.get("padding") not in ("SAME", "VALID"):
        return f"padding {op.options.get('padding')} is not supported"
    pad = _padding(op, x.shape)
    if (pad.out_h, pad.out_w) != (y.shape[1], y.shape[2]):
        return f"output size {y.shape[1]}x{y.shape[2]} does not match the padding ({pad.out_h}x{pad.out_w})"
    if x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        return "batch and channels of input and output differ"
    return None


def _padding(op: Op, shape: tuple[int, ...]) -> quant.Padding2D:
    return quant.padding_2d(
        op.options["padding"],
        shape[1],
        shape[2],
        int(op.options.get("filter_height", 1)),
        int(op.options.get("filter_width", 1)),
        int(op.options.get("stride_h", 1)),
        int(op.options.get("stride_w", 1)),
    )


def _pool(graph: Graph, op: Op, fn: str) -> KernelCall:
    x, y = pk.op_tensor(graph, op, 0), pk.output(graph, op)
    assert x is not None
    pad = _padding(op, x.shape)
    k_h, k_w = int(op.options.get("filter_height", 1)), int(op.options.get("filter_width", 1))
    s_h, s_w = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    act_min, act_max = quant.activation_range(
        op.options.get("activation", "NONE"), pk.scale(y), pk.zero_point(y)
    )
    params = (
        ("batches", x.shape[0]),
        ("in_h", x.shape[1]),
        ("in_w", x.shape[2]),
        ("channels", x.shape[3]),
        ("out_h", y.shape[1]),
        ("out_w", y.shape[2]),
        ("k_h", k_h),
        ("k_w", k_w),
        ("stride_h", s_h),
        ("stride_w", s_w),
        ("pad_h", pad.pad_h),
        ("pad_w", pad.pad_w),
        ("act_min", act_min),
        ("act_max", act_max),
    )
    stride = "" if (s_h, s_w) == (k_h, k_w) else f" s{s_h}" if s_h == s_w else f" s{s_h}x{s_w}"
    comment = f"{k_h}x{k_w}{stride} {op.options['padding']} {x.shape[1]}x{x.shape[2]}x{x.shape[3]}{pk.act_suffix(op)}"
    return KernelCall(
        function=fn,
        params_type=fn + "_params_t",
        params=params,
        args=(TensorArg(op.inputs[0], writable=False), TensorArg(op.outputs[0], writable=True)),
        comment=comment,
    )


@kernel("AVERAGE_POOL_2D", name="avg_pool_s8", accepts=_accepts)
def avg_pool_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _pool(graph, op, "tf_avg_pool_s8")


@kernel("MAX_POOL_2D", name="max_pool_s8", accepts=_accepts)
def max_pool_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return _pool(graph, op, "tf_max_pool_s8")
