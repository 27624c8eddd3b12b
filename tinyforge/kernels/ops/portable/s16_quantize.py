"""QUANTIZE to and from int32 (firmware/kernels/tf_requantize_s32.c): int8/int16 -> int32 and
int32 -> int8/int16, as TFLite Micro's PrepareQuantizeReference and Requantize compute them
(QuantizeMultiplier(in_scale / out_scale) in double). The other QUANTIZE pairs are quantize.py's.
"""

from __future__ import annotations

from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels import packing as pk
from tinyforge.kernels.ops.portable import quantize as q8
from tinyforge.kernels.quant import quantize_multiplier
from tinyforge.kernels.registry import KernelCall, Target, TensorArg, kernel

_SHORT = {"int8": "s8", "int16": "s16", "int32": "s32"}
_CTYPE = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t"}
PAIRS = {("int8", "int32"), ("int16", "int32"), ("int32", "int8"), ("int32", "int16")}


def check_quantize_s32(graph: Graph, op: Op) -> str | None:
    return q8._check(graph, op, PAIRS)


@kernel("QUANTIZE", name="requantize_s32", accepts=check_quantize_s32)
def pack_requantize_s32(graph: Graph, op: Op, target: Target) -> KernelCall:
    src, dst = pk.io(graph, op)
    si, zi = pk.scale_zp_f32(src)
    so, zo = pk.scale_zp_f32(dst)
    mult, shift = quantize_multiplier(si / so)
    function = f"tf_requantize_{_SHORT[src.dtype]}_{_SHORT[dst.dtype]}"
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
        args=(TensorArg(src.index, False, _CTYPE[src.dtype]), TensorArg(dst.index, True, _CTYPE[dst.dtype])),
        in_place=((dst.index, src.index),) if dst.nbytes <= src.nbytes else (),
        comment=f"{src.dtype} scale={si:.6g} zp={zi} -> {dst.dtype} scale={so:.6g} zp={zo}",
    )
