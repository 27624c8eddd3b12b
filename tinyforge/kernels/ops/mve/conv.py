"""CONV_2D and DEPTHWISE_CONV_2D packers for the Helium kernels (firmware/kernels/mve/
tf_mve_conv.c, tf_mve_depthwise.c), chosen over the DSP and portable ones on boards with the `mve`
feature (Cortex-M55). The input offset goes into the bias and the weights are laid out in the
order the kernels read them (tinyforge/kernels/ops/mve/pack.py); the requantization is TFLM's."""

from __future__ import annotations

from dataclasses import replace

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.mve import mve_kernel, pack
from tinyforge.kernels.ops.portable import conv as ref
from tinyforge.kernels.registry import KernelCall, Target


def _conv_reason(graph: Graph, op: Op) -> str | None:
    return pk.conv_layer(graph, op).single_group_reason()


def _depthwise_reason(graph: Graph, op: Op) -> str | None:
    c = pk.conv_layer(graph, op)
    if c.kernel != (3, 3):
        return "not 3x3 (tf_mve_dw_plane_s8 takes the other shapes)"
    return c.single_group_reason() or pack.depthwise_reason(c.w.array(), c.kernel[0] * c.kernel[1])


def _plane_reason(graph: Graph, op: Op) -> str | None:
    c = pk.conv_layer(graph, op)
    return pack.plane_reason(c.kernel, c.dilation)


@mve_kernel("CONV_2D", "mve_conv_s8", pk.narrowed(ref.accepts_conv, _conv_reason))
def mve_conv_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    (k_h, k_w), in_c = c.kernel, c.in_c
    # 1x1 filters without padding read the input pixels themselves, at any stride
    im2col = 0 if (*c.kernel, c.pad.pad_h, c.pad.pad_w) == (1, 1, 0, 0) else pack.im2col_rows(c.taps)
    scratch = im2col * pack.CHUNK * -(-c.taps // pack.CHUNK)
    # without dilation along x, runs of an output row's pixels read a column buffer (taps in
    # (kx, ky, channel) order), within the scratch the im2col rows would take or COLUMN_BYTES;
    # one input channel scatters its rows into the columns (byte offsets up to 15 * k_h)
    columns = 0
    if im2col and c.dilation[1] == 1 and c.stride[1] <= k_w and (in_c > 1 or k_h <= 17):
        budget = max(scratch, pack.COLUMN_BYTES)
        columns = pack.column_pixels(c.y.shape[2], c.stride[1], k_w, k_h * in_c, budget)
        scratch = ((columns - 1) * c.stride[1] + k_w) * k_h * in_c
    w = c.weights_by_channel()
    if columns:
        w = w.reshape(-1, k_h, k_w, in_c).transpose(0, 2, 1, 3).reshape(w.shape[0], -1)
    gemm = pack.pack_gemm(w, c.bias(), -pk.zero_point(c.x), c.pairs)
    params = (
        *c.fields(),
        ("input_zp", pk.zero_point(c.x)),
        *pack.requant_fields(pk.zero_point(c.y), c.act, gemm),
        ("im2col", im2col),
        ("columns", columns),
        *pack.weight_fields(op, gemm),
    )
    call = c.call("tf_mve_conv2d_s8", params, c.describe() + " mve", scratch_bytes=scratch)
    return replace(call, variants=(pack.gemm_variant(gemm), pack.conv_variant(im2col, columns, k_h, in_c)))


@mve_kernel("DEPTHWISE_CONV_2D", "mve_depthwise_s8", pk.narrowed(ref.accepts_depthwise, _depthwise_reason))
def mve_depthwise_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    dw = pack.pack_depthwise(c.weights_by_channel(), c.bias(), -pk.zero_point(c.x), c.pairs)
    params = (
        *c.fields(out_c=False),
        ("input_zp", pk.zero_point(c.x)),
        *pack.requant_fields(pk.zero_point(c.y), c.act, dw),
        *pack.weight_fields(op, dw),
    )
    call = c.call(
        "tf_mve_depthwise_conv2d_s8",
        params,
        c.describe() + " mve",
        scratch_bytes=pack.depthwise_scratch(c.out_c, c.kernel, c.y.shape[2], c.stride[1], c.dilation[1]),
        in_place=((op.outputs[0], op.inputs[0]),)
        if pack.depthwise_in_place(
            c.in_c,
            c.kernel,
            c.x.shape,
            (c.y.shape[1], c.y.shape[2]),
            c.stride,
            c.dilation,
            (c.pad.pad_h, c.pad.pad_w),
        )
        else (),
    )
    return replace(call, variants=(pack.dw_variant(dw, c.in_c, c.kernel, c.dilation[1]),))


# below the 3x3 kernel above (whose direct paths read the input in place), above the DSP kernels
@mve_kernel("DEPTHWISE_CONV_2D", "mve_depthwise_plane_s8", pk.narrowed(ref.accepts_depthwise, _plane_reason))
def mve_depthwise_plane_s8(graph: Graph, op: Op, target: Target) -> KernelCall:
    c = pk.conv_layer(graph, op)
    pp = pack.pack_plane(
        c.weights_by_channel(),
        c.bias(),
        -pk.zero_point(c.x),
        c.pairs,
        (c.y.shape[1], c.y.shape[2]),
        c.kernel,
        c.stride,
        c.dilation,
    )
    params = (
        *c.fields(depth_mult=True),
        ("transpose", int(pp.transpose)),
        ("plane_h", pp.plane_h),
        ("plane_w", pp.plane_w),
        ("chunks", pp.chunks),
        ("lanes", pp.lanes),
        ("input_zp", pk.zero_point(c.x)),
        *pack.requant_fields(pk.zero_point(c.y), c.act, pp)[:3],
        *pack.weight_fields(op, pp),
    )
    dil_rows = c.dilation[0] if pp.transpose else c.dilation[1]
    call = c.call(
        "tf_mve_dw_plane_s8",
        params,
        c.describe() + " mve" + (" T" if pp.transpose else "") + (" lanes" if pp.lanes else ""),
        scratch_bytes=pp.scratch_bytes(dil_rows),
        # one input channel's plane is gathered before any output of its channels is written, and
        # with depth multiplier 1 outputs land only on their own channel's positions: in place is safe
        in_place=((op.outputs[0], op.inputs[0]),) if c.depth_mult == 1 else (),
    )
    return replace(call, variants=(pack.plane_variant(pp),))
