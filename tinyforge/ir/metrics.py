"""Figures about a graph that need no kernels: MACs per layer, weight bytes, activation liveness."""

from __future__ import annotations

from dataclasses import dataclass

from tinyforge.ir.graph import Graph, Op


def op_macs(graph: Graph, op: Op) -> int:
    """Multiply-accumulates of one layer (0 for layers without multiplications by weights)."""
    outs = graph.op_outputs(op)
    ins = graph.op_inputs(op)
    if not outs:
        return 0
    out = outs[0]
    if op.kind == "CONV_2D" and len(ins) > 1 and ins[1] is not None:
        _oc, kh, kw, ic = ins[1].shape
        return out.num_elements * kh * kw * ic
    if op.kind == "DEPTHWISE_CONV_2D" and len(ins) > 1 and ins[1] is not None:
        _one, kh, kw, _oc = ins[1].shape
        return out.num_elements * kh * kw
    if op.kind == "FULLY_CONNECTED" and len(ins) > 1 and ins[1] is not None:
        return out.num_elements * ins[1].shape[-1]
    if (
        op.kind == "UNIDIRECTIONAL_SEQUENCE_LSTM"
        and len(ins) > 18
        and ins[1] is not None
        and ins[5] is not None
    ):
        steps = ins[0].num_elements // max(ins[0].shape[-1], 1) if ins[0] is not None else 0
        units, in_dim = ins[1].shape[0], ins[1].shape[-1]
        return steps * 4 * units * (in_dim + units)
    if op.kind == "SVDF" and len(ins) > 2 and ins[1] is not None and ins[2] is not None:
        batches = ins[0].shape[0] if ins[0] is not None and ins[0].shape else 1
        filters, in_dim = ins[1].shape[0], ins[1].shape[-1]
        memory = ins[2].shape[-1]
        return batches * filters * (in_dim + memory)
    if op.kind == "TRANSPOSE_CONV" and len(ins) > 1 and ins[1] is not None:
        _oc, kh, kw, ic = ins[1].shape
        inp = ins[2]
        return (inp.num_elements if inp is not None else 0) * kh * kw * _oc
    return 0


def weight_bytes(graph: Graph) -> int:
    used = {i for op in graph.ops for i in op.inputs if i >= 0}
    return sum(len(graph.tensor(i).data or b"") for i in used if graph.tensor(i).is_constant)


def model_weight_bytes(graph: Graph) -> int:
    """The model's constant data as the .tflite holds it, what `--optimize size` compares the
    image's weights with: the constant buffers the layers use (int8 weights, int32 biases) plus
    the per-channel scales of per-channel quantized int8 weights (float32 each: the kernels' per-channel
    multipliers and shifts are their compiled form; the biases' scales and the int64 zero points the
    .tflite also stores are not counted)."""
    used = {i for op in graph.ops for i in op.inputs if i >= 0}
    scales = 0
    for i in used:
        t = graph.tensor(i)
        if t.is_constant and t.dtype == "int8" and t.quant is not None and t.quant.per_channel:
            scales += 4 * len(t.quant.scale)
    return weight_bytes(graph) + scales


@dataclass(frozen=True)
class PeakLayer:
    op_index: int
    kind: str
    name: str
    bytes: int  # activation bytes read + written by this layer
    tensors: tuple[str, ...]


def largest_live_pair(graph: Graph) -> PeakLayer | None:
    """The layer whose non-constant inputs plus outputs are largest: the least any arena needs
    without in-place execution."""
    best: PeakLayer | None = None
    for op in graph.ops:
        ts = [t for t in graph.op_inputs(op) if t is not None and not t.is_constant] + graph.op_outputs(op)
        seen = {}
        for t in ts:
            seen[t.index] = t
        total = sum(t.nbytes for t in seen.values())
        if best is None or total > best.bytes:
            best = PeakLayer(op.index, op.kind, op.name, total, tuple(t.name for t in seen.values()))
    return best
