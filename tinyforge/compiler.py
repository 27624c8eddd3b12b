"""The compiler driver: LoadedModel -> passes -> kernel selection -> memory plan -> C.

compile_model(loaded, target) -> CompiledModel(graph, layers, plan, project, stats)
target_for(board) -> Target (what kernel selection needs to know about a BoardProfile)
compile_for(model file or LoadedModel, board) -> CompiledModel (converting to int8 when needed)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from tinyforge.boards import BoardProfile
from tinyforge.codegen.cgen import GeneratedProject, IOSpec, Layer, generate
from tinyforge.errors import ModelError
from tinyforge.ir.graph import Graph
from tinyforge.ir.metrics import op_macs
from tinyforge.ir.passes import dump_graph, run_passes
from tinyforge.kernels.registry import Target, select
from tinyforge.model.tflite import LoadedModel
from tinyforge.plan.arena import MemoryPlan, lifetimes, liveness_bound, plan_memory


@dataclass(frozen=True)
class ModelStats:
    macs: int
    weight_bytes: int  # constant data the kernels read from flash (weights.bin)
    arena_bytes: int  # activations
    scratch_bytes: int
    liveness_bound: int
    layers: int

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.scratch_bytes


@dataclass(frozen=True)
class CompiledModel:
    name: str
    source: LoadedModel
    graph: Graph  # after passes
    layers: tuple[Layer, ...]
    plan: MemoryPlan
    inputs: tuple[IOSpec, ...]
    outputs: tuple[IOSpec, ...]
    project: GeneratedProject
    stats: ModelStats
    target: Target


# Model input/output types the firmware harness and `test` speak (element bytes, as given).
IO_DTYPES = ("int8", "int16", "float32")


def _edge_quant(graph: Graph, index: int, is_input: bool) -> tuple[float, int]:
    """The quantization a float32 model input/output is converted with on the device: that of
    the QUANTIZE reading the input, or of the DEQUANTIZE writing the output (1.0, 0 if none)."""
    for op in graph.ops:
        if is_input and op.kind == "QUANTIZE" and op.inputs[:1] == (index,):
            q = graph.tensor(op.outputs[0]).quant
        elif not is_input and op.kind == "DEQUANTIZE" and op.outputs[:1] == (index,):
            q = graph.tensor(op.inputs[0]).quant
        else:
            continue
        if q is not None and q.scale:
            return float(q.scale[0]), int(q.zero_point[0] if q.zero_point else 0)
    return 1.0, 0


def io_specs(graph: Graph, indices: tuple[int, ...], *, inputs: bool = True) -> tuple[IOSpec, ...]:
    """The model's inputs (or outputs) as the harness sees them. For a float32 tensor, `scale` and
    `zero_point` are those of the QUANTIZE/DEQUANTIZE at that edge (the int8 grid inside)."""
    out = []
    for i in indices:
        t = graph.tensor(i)
        if t.dtype not in IO_DTYPES:
            raise ModelError(
                f"model {'input' if inputs else 'output'} {t.name!r} is {t.dtype}; tinyforge firmware "
                f"takes {', '.join(IO_DTYPES)} inputs and outputs",
                hint="convert with int8 I/O (the default of `tinyforge convert`) or --io float",
            )
        q = t.quant
        if t.dtype == "float32":
            scale, zero_point = _edge_quant(graph, i, inputs)
        else:
            scale = q.scale[0] if q and q.scale else 1.0
            zero_point = q.zero_point[0] if q and q.zero_point else 0
        out.append(
            IOSpec(
                name=t.name,
                tensor=i,
                shape=t.shape,
                dtype=t.dtype,
                scale=scale,
                zero_point=zero_point,
                nbytes=t.nbytes,
            )
        )
    return tuple(out)


def apply_in_place(graph: Graph, layers: tuple[Layer, ...]) -> Graph:
    """Let a layer write its output over an input the kernel declares safe to overwrite
    (elementwise ops, activations, softmax, depthwise by channel planes, direct 1x1 convolutions),
    when nothing reads that input afterwards. Each candidate is kept only if the planned arena does
    not grow (sharing a large input's buffer with a smaller output can lengthen its life).

    As in TFLite Micro, an input buffer may be reused once the input has been read: code that
    writes inputs in place (`model_input()`) writes them again before every `model_run()`."""
    scratch = {pos: lay.call.scratch_bytes for pos, lay in enumerate(layers)}
    aliases = dict(graph.aliases)
    best = plan_memory(graph, scratch).arena_bytes
    for pos, lay in enumerate(layers):
        for out, src in lay.call.in_place:
            g = graph.with_(aliases=MappingProxyType(aliases))
            s_src, s_out = g.storage(src), g.storage(out)
            t_src, t_out = graph.tensor(src), graph.tensor(out)
            last_read = max(
                (p for p, op in enumerate(graph.ops) for t in op.inputs if t >= 0 and g.storage(t) == s_src),
                default=-1,
            )
            if (
                s_src == s_out
                or t_src.is_constant
                or t_src.is_variable
                or last_read != pos
                or t_out.nbytes > t_src.nbytes
                or any(g.storage(a) == s_out for a in aliases if a != out)
            ):
                continue
            trial = {**aliases, out: s_src}
            arena = plan_memory(graph.with_(aliases=MappingProxyType(trial)), scratch).arena_bytes
            if arena <= best:
                aliases, best = trial, arena
    return graph.with_(aliases=MappingProxyType(aliases))


def target_for(board: BoardProfile) -> Target:
    """The kernel-selection target of a board: its CPU and features (dsp, mve, ...)."""
    return Target(cpu=board.cpu, features=frozenset(board.features), flash_bytes=board.flash.size)


def compile_for(
    model: str | Path | LoadedModel,
    board: BoardProfile,
    *,
    dump: Callable[[str, str], None] | None = None,
    calib: str | Path | None = None,
    workdir: str | Path | None = None,
) -> CompiledModel:
    """Compile a model file or a LoadedModel for a board. A model that is not an int8 .tflite is
    converted first (calibrated on `calib`), into `workdir` or a temporary folder, never beside
    the user's file; `compiled.source.conversion` says so."""
    from tinyforge.model.convert import load_int8_model

    if isinstance(model, str | Path):
        loaded = load_int8_model(model, calib=calib, workdir=workdir)
    else:
        loaded = model
    return compile_model(loaded, target_for(board), dump=dump)


def compile_model(
    loaded: LoadedModel,
    target: Target | None = None,
    *,
    name: str | None = None,
    dump: Callable[[str, str], None] | None = None,
) -> CompiledModel:
    target = target or Target()
    graph = run_passes(loaded.graph, dump=dump)
    layers = tuple(Layer(op, select(graph, op, target)) for op in graph.ops)
    bound = liveness_bound(lifetimes(graph), len(graph.ops))  # no in-place: the anchors' bound
    graph = apply_in_place(graph, layers)
    if dump is not None:
        dump("in-place", dump_graph(graph))
    plan = plan_memory(graph, {pos: lay.call.scratch_bytes for pos, lay in enumerate(layers)})
    ins, outs = io_specs(graph, graph.inputs), io_specs(graph, graph.outputs, inputs=False)
    model_name = name or Path(loaded.path).stem
    project = generate(graph, layers, plan, ins, outs, loaded.data, model_name, target.features)
    weight_bytes = len(project.files["weights.bin"])
    stats = ModelStats(
        macs=sum(op_macs(graph, lay.op) for lay in layers),
        weight_bytes=weight_bytes,
        arena_bytes=plan.arena_bytes,
        scratch_bytes=max((lay.call.scratch_bytes for lay in layers), default=0),  # inside the arena
        liveness_bound=bound,
        layers=len(layers),
    )
    return CompiledModel(model_name, loaded, graph, layers, plan, ins, outs, project, stats, target)
