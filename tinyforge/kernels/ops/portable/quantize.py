"""Packers for QUANTIZE and DEQUANTIZE (firmware/kernels/tf_quantize.c), as TFLite Micro's
PrepareQuantizeReference / DequantizePrepare compute them:

    integer -> integer  requantize with QuantizeMultiplier(in_scale / out_scale) (double)
    float32 -> integer  round(x / scale) + zero point, the division in float32
    integer -> float32  scale * (x - zero point) in float32
"""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op, Tensor
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.portable.activations import LUT_MIN_ELEMENTS
from tinyforge.kernels.quant import quantize_multiplier
from tinyforge.kernels.registry import Arg, KernelCall, ScratchArg, Target, TensorArg, kernel

_SHORT = {"int8": "s8", "uint8": "u8", "int16": "s16", "float32": "f32"}
_CTYPE = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t", "float32": "float"}
_REQUANTIZE = {
    ("int8", "int8"),
    ("int8", "uint8"),
    ("uint8", "int8"),
    ("int8", "int16"),
    ("int16", "int8"),
    ("int16", "int16"),
}
_QUANTIZE = {("float32", "int8"), ("float32", "int16")}
_DEQUANTIZE = {("int8", "float32"), ("int16", "float32")}


def _per_tensor(t: Tensor) -> str | None:
    if t.quant is None or not t.quant.scale:
        return f"tensor {t.name!r} has no quantization parameters"
    if t.quant.per_channel:
        return f"tensor {t.name!r} is quantized per channel (TFLM supports per-tensor only)"
    return None


def _check(graph: Graph, op: Op, pairs: set[tuple[str, str]]) -> str | None:
    if not op.inputs or op.inputs[0] < 0 or len(op.outputs) != 1:
        return "expects one input and one output"
    src, dst = pk.io(graph, op)
    if src.is_constant:
        return pk.CONSTANT_INPUT
    if (src.dtype, dst.dtype) not in pairs:
        supported = ", ".join(f"{a}->{b}" for a, b in sorted(pairs))
        return f"{src.dtype} -> {dst.dtype} is not supported (supported: {supported})"
    if src.num_elements != dst.num_elements:
        return f"input has {src.num_elements} elements, output {dst.num_elements}"
    for t in (src, dst):
        if t.dtype != "float32":
            why = _per_tensor(t)
            if why is not None:
                return why
    return None


def check_quantize(graph: Graph, op: Op) -> str | None:
    return _check(graph, op, _REQUANTIZE | _QUANTIZE)


def check_dequantize(graph: Graph, op: Op) -> str | None:
    return _check(graph, op, _DEQUANTIZE)


def _args(src: Tensor, dst: Tensor) -> tuple[TensorArg, TensorArg]:
    return TensorArg(src.index, False, _CTYPE[src.dtype]), TensorArg(dst.index, True, _CTYPE[dst.dtype])


def _in_place(src: Tensor, dst: Tensor) -> tuple[tuple[int, int], ...]:
    return ((dst.index, src.index),) if src.nbytes == dst.nbytes else ()


@kernel("QUANTIZE", accepts=check_quantize)
def pack_quantize(graph: Graph, op: Op, target: Target) -> KernelCall:
    src, dst = pk.io(graph, op)
    so, zo = pk.scale_zp_f32(dst)
    name = f"{_SHORT[src.dtype]}_{_SHORT[dst.dtype]}"
    if src.dtype == "float32":
        return KernelCall(
            function=f"tf_quantize_{name}",
            params_type="tf_quantize_params_t",
            params=(("scale", so), ("zero_point", zo), ("size", src.num_elements)),
            args=_args(src, dst),
            comment=f"float32 -> {dst.dtype} scale={so:.6g} zp={zo}",
        )
    si, zi = pk.scale_zp_f32(src)
    mult, shift = quantize_multiplier(si / so)
    function, scratch = f"tf_requantize_{name}", 0
    args: tuple[Arg, ...] = _args(src, dst)
    if name == "s8_s8" and src.num_elements >= LUT_MIN_ELEMENTS:
        function, args, scratch = function + "_lut", (*args, ScratchArg()), 256
    return KernelCall(
        function=function,
        params_type="tf_requantize_params_t",
        params=(
            ("in_zp", zi),
            ("out_zp", zo),
            ("multiplier", mult),
            ("shift", shift),
            ("size", src.num_elements),
        ),
        args=args,
        scratch_bytes=scratch,
        in_place=_in_place(src, dst),
        comment=f"{src.dtype} scale={si:.6g} zp={zi} -> {dst.dtype} scale={so:.6g} zp={zo}",
    )


@kernel("DEQUANTIZE", accepts=check_dequantize)
def pack_dequantize(graph: Graph, op: Op, target: Target) -> KernelCall:
    src, dst = pk.io(graph, op)
    si, zi = pk.scale_zp_f32(src)
    return KernelCall(
        function=f"tf_dequantize_{_SHORT[src.dtype]}_f32",
        params_type="tf_dequantize_params_t",
        params=(("scale", si), ("zero_point", zi), ("size", src.num_elements)),
        args=_args(src, dst),
        comment=f"{src.dtype} scale={si:.6g} zp={zi} -> float32",
    )
