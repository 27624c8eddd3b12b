"""AVERAGE_POOL_2D and MAX_POOL_2D packers for the portable int8 kernels (firmware/kernels/
tf_pool.c). Like TFLM, the kernels copy the input's quantization: no requantization, only the
fused-activation clamp computed from the output's scale and zero point."""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.registry import KernelCall, Target, kernel


def _window(op: Op) -> tuple[int, int]:
    return int(op.options.get("filter_height", 1)), int(op.options.get("filter_width", 1))


def accepts(graph: Graph, op: Op) -> str | None:
    """Why the reference kernels cannot run this pool, or None (the DSP and Helium average pools
    accept at most this)."""
    reason = pk.int8_io_reason(graph, op, fused_activation=True)
    if reason:
        return reason
    x, y = pk.io(graph, op)
    reason = pk.nhwc_window_reason(op, x, y) or pk.output_size_reason(op, x, y, _window(op))
    if reason:
        return reason
    if x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        return "batch and channels of input and output differ"
    return None


def pool_call(graph: Graph, op: Op, function: str, note: str = "") -> KernelCall:
    """The pool kernels' call (the DSP and Helium average pools take the same parameters); `note`
    ends the comment."""
    x, y = pk.io(graph, op)
    k_h, k_w = _window(op)
    s_h, s_w = int(op.options.get("stride_h", 1)), int(op.options.get("stride_w", 1))
    pad = pk.window_padding(op, x.shape, (k_h, k_w))
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
        *pk.clamp_fields(pk.activation_range(op, y)),
    )
    stride = "" if (s_h, s_w) == (k_h, k_w) else f" s{s_h}" if s_h == s_w else f" s{s_h}x{s_w}"
    shape = pk.shape_str(x.shape[1:])
    comment = f"{k_h}x{k_w}{stride} {op.options['padding']} {shape}{pk.act_suffix(op)}{note}"
    return pk.io_call(op, function, params, comment)


@kernel("AVERAGE_POOL_2D", name="avg_pool_s8", accepts=accepts)
def avg_pool_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return pool_call(graph, op, "tf_avg_pool_s8")


@kernel("MAX_POOL_2D", name="max_pool_s8", accepts=accepts)
def max_pool_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    return pool_call(graph, op, "tf_max_pool_s8")
