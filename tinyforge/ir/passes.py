"""Named Graph -> Graph passes. Each is a plain function; `PIPELINE` is their order, and
`run_passes(graph, dump=...)` can print the graph after each one (`--dump-ir`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from tinyforge.errors import ModelError
from tinyforge.ir.graph import Graph, Op

# Ops whose output is the input's bytes reinterpreted with another shape.
RESHAPE_LIKE = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
# Float/other types allowed at the graph edges only, around QUANTIZE/DEQUANTIZE.
EDGE_OPS = frozenset({"QUANTIZE", "DEQUANTIZE"})


@dataclass(frozen=True)
class Pass:
    name: str
    doc: str
    fn: Callable[[Graph], Graph]


def check_quantized(graph: Graph) -> Graph:
    """Reject float/hybrid models: every non-edge op must have int8 activations."""
    for op in graph.ops:
        outs = graph.op_outputs(op)
        ins = [t for t in graph.op_inputs(op) if t is not None]
        if op.kind in EDGE_OPS:
            continue
        float_act = [t for t in ins + outs if t.dtype == "float32" and not t.is_constant]
        int8_weights = [t for t in ins if t.is_constant and t.dtype == "int8"]
        if float_act and int8_weights:
            raise ModelError(
                f"layer {op.index} ({op.kind}, {op.name}) is hybrid: float activations with int8 weights; "
                "TFLM cannot run hybrid (dynamic-range) models",
                hint="convert the float source with `tinyforge convert` for full-integer int8",
            )
        if float_act:
            raise ModelError(
                f"layer {op.index} ({op.kind}, {op.name}) computes in float32; tinyforge compiles int8 models",
                hint="quantize it first: `tinyforge convert MODEL --calib DATA`",
            )
    return graph


def static_reshape(graph: Graph) -> Graph:
    """RESHAPE keeps only its data operand: every tensor shape is static here, so its output shape
    is known, and the ops that computed its shape operand at run time (a Flatten exported with a
    dynamic batch: SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE) are left unused for drop-dead-ops."""
    ops = tuple(
        op.with_(inputs=op.inputs[:1]) if op.kind == "RESHAPE" and len(op.inputs) > 1 else op
        for op in graph.ops
    )
    return graph.with_(ops=ops)


def alias_reshapes(graph: Graph) -> Graph:
    """RESHAPE/SQUEEZE/EXPAND_DIMS become aliases (no copy) where both sides live in the arena.

    A reshape from a graph input straight to a graph output keeps its copy (two distinct buffers).
    """
    aliases = dict(graph.aliases)
    kept: list[Op] = []
    io = set(graph.inputs) | set(graph.outputs)
    for op in graph.ops:
        if op.kind in RESHAPE_LIKE and op.inputs and op.inputs[0] >= 0:
            src, dst = op.inputs[0], op.outputs[0]
            src_t, dst_t = graph.tensor(src), graph.tensor(dst)
            same_bytes = src_t.nbytes == dst_t.nbytes and src_t.dtype == dst_t.dtype
            if (
                same_bytes
                and not src_t.is_constant
                and not src_t.is_variable  # state is written by its op on every invocation
                and not (src in io and dst in io)
                and dst not in graph.inputs
            ):
                aliases[dst] = src
                continue
        kept.append(op)
    return graph.with_(ops=tuple(kept), aliases=MappingProxyType(aliases))


def drop_dead_ops(graph: Graph) -> Graph:
    """Remove ops whose outputs nothing reads and that are not graph outputs."""
    needed = set(graph.outputs)
    live: list[Op] = []
    for op in reversed(graph.ops):
        outs = set(op.outputs)
        storage_needed = any(graph.storage(o) in {graph.storage(n) for n in needed} for o in outs)
        if outs & needed or storage_needed:
            live.append(op)
            needed.update(i for i in op.inputs if i >= 0)
            needed.update(graph.storage(i) for i in op.inputs if i >= 0)
    live.reverse()
    return graph.with_(ops=tuple(live))


PIPELINE: tuple[Pass, ...] = (
    Pass("static-reshape", "RESHAPE drops its run-time shape operand", static_reshape),
    Pass("drop-dead-ops", "remove ops whose results are never used", drop_dead_ops),
    Pass("check-quantized", "reject float and hybrid layers", check_quantized),
    Pass("alias-reshapes", "reshape-like ops share their input's memory", alias_reshapes),
    Pass("drop-dead-ops", "remove ops whose results are never used", drop_dead_ops),
)


def dump_graph(graph: Graph) -> str:
    lines = [f"graph {graph.name}: inputs {list(graph.inputs)} outputs {list(graph.outputs)}"]
    for op in graph.ops:
        ins = ", ".join(
            "-" if i < 0 else f"%{i}{'(c)' if graph.tensor(i).is_constant else ''}" for i in op.inputs
        )
        outs = ", ".join(f"%{o}" for o in op.outputs)
        shape = "x".join(str(d) for d in graph.tensor(op.outputs[0]).shape)
        lines.append(f"  [{op.index:3d}] {outs} = {op.kind}({ins})  {shape}  # {op.name}")
    for dst, src in sorted(graph.aliases.items()):
        lines.append(f"  alias %{dst} -> %{src}")
    return "\n".join(lines)


def run_passes(graph: Graph, dump: Callable[[str, str], None] | None = None) -> Graph:
    for p in PIPELINE:
        graph = p.fn(graph)
        if dump is not None:
            dump(p.name, dump_graph(graph))
    return graph
