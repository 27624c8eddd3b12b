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
from tinyforge.errors import ModelError, UsageError
from tinyforge.ir.graph import Graph
from tinyforge.ir.metrics import model_weight_bytes, op_macs
from tinyforge.ir.passes import dump_graph, run_passes
from tinyforge.kernels.registry import DEFAULT_OPTIMIZE, OPTIMIZE_MODES, Target, select
from tinyforge.model.tflite import LoadedModel
from tinyforge.plan.arena import Buffer, MemoryPlan, lifetimes, liveness_bound, plan_memory, tie_groups


@dataclass(frozen=True)
class ModelStats:
    macs: int
    weight_bytes: int  # constant data the kernels read from flash (weights.bin)
    weights_model_bytes: int  # the model's own: buffers + per-channel scales (ir/metrics.py)
    weights_mode: str  # "int8" or "int16 expanded" (some layer widened its weights)
    arena_bytes: int  # activations
    scratch_bytes: int
    liveness_bound: int
    layers: int

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.scratch_bytes

    @property
    def weights_ratio(self) -> float:
        """Image weight bytes over the model's (1.00x: as compact as the .tflite)."""
        return self.weight_bytes / self.weights_model_bytes if self.weights_model_bytes else 1.0

    def weights_summary(self) -> str:
        """e.g. "int8, 1.00x of the model's" (the memory report's weights note)."""
        return f"{self.weights_mode}, {self.weights_ratio:.2f}x of the model's"


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


def _group_conflict(graph: Graph, scratch: dict[int, int]) -> bool:
    """Whether two buffers of one tie group that are live together (and not tied to each other)
    would overlap at the distances the ties fix."""
    bufs = lifetimes(graph, scratch)
    groups = tie_groups(bufs, graph.ties)
    by_group: dict[int, list[Buffer]] = {}
    for b in bufs:
        by_group.setdefault(groups[b.tensor][0], []).append(b)
    for members in by_group.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if not (a.first <= b.last and b.first <= a.last):
                    continue
                if (
                    graph.ties.get(a.tensor, (None,))[0] == b.tensor
                    or graph.ties.get(b.tensor, (None,))[0] == a.tensor
                ):
                    continue
                pa, pb = groups[a.tensor][1], groups[b.tensor][1]
                if pa < pb + b.size and pb < pa + a.size:
                    return True
    return False


def apply_in_place(graph: Graph, layers: tuple[Layer, ...]) -> Graph:
    """Let a layer write its output over an input the kernel declares safe to overwrite
    (elementwise ops, activations, softmax, depthwise by channel planes: the same buffer), or
    starting a few bytes before it (`KernelCall.overlap`: convolutions that never write over input
    they still have to read: the two buffers are tied at that distance, each keeping its own
    lifetime), when nothing reads that input afterwards. Each candidate is kept only if the planned
    arena does not grow; one that does not pay alone is tried again after the others.

    As in TFLite Micro, an input buffer may be reused once the input has been read: code that
    writes inputs in place (`model_input()`) writes them again before every `model_run()`."""
    scratch = {pos: lay.call.scratch_bytes for pos, lay in enumerate(layers)}
    aliases, ties = dict(graph.aliases), dict(graph.ties)
    best = plan_memory(graph, scratch).arena_bytes
    pending = [
        (pos, out, src, gap)
        for pos, lay in enumerate(layers)
        for out, src, gap in [(o, s, -1) for o, s in lay.call.in_place] + list(lay.call.overlap)
    ]
    while pending:
        rejected = []
        for pos, out, src, gap in pending:
            g = graph.with_(aliases=MappingProxyType(aliases), ties=MappingProxyType(ties))
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
                or any(g.storage(t) == s_src for t in graph.outputs)
                or s_out in ties
                or any(a == s_out for a, _ in ties.values())
            ):
                continue
            if gap < 0:  # the same buffer
                if t_out.nbytes > t_src.nbytes or any(g.storage(a) == s_out for a in aliases if a != out):
                    continue
                trial_g = graph.with_(
                    aliases=MappingProxyType({**aliases, out: s_src}), ties=MappingProxyType(ties)
                )
            else:
                if s_out != out:
                    continue
                trial_g = graph.with_(
                    aliases=MappingProxyType(aliases), ties=MappingProxyType({**ties, out: (s_src, -gap)})
                )
                if _group_conflict(trial_g, scratch):
                    continue
            arena = plan_memory(trial_g, scratch).arena_bytes
            if arena <= best:
                aliases, ties, best = dict(trial_g.aliases), dict(trial_g.ties), arena
            else:
                rejected.append((pos, out, src, gap))
        if len(rejected) == len(pending):
            break
        pending = rejected
    return graph.with_(aliases=MappingProxyType(aliases), ties=MappingProxyType(ties))


# `--optimize speed` lets the arena exceed the liveness bound by up to a third of it (the scratch
# of faster kernel variants, e.g. a fully-connected layer's int16 row); the other modes keep it at
# the bound whenever the kernels allow
SPEED_ARENA_SLACK = (4, 3)


def arena_limit(bound: int, optimize: str) -> int:
    """The arena above which trim_scratch swaps in leaner variants."""
    num, den = SPEED_ARENA_SLACK
    return bound * num // den if optimize == "speed" else bound


def trim_scratch(
    graph: Graph, layers: tuple[Layer, ...], optimize: str = "balanced"
) -> tuple[tuple[Layer, ...], Graph, MemoryPlan]:
    """Swap layers for their `leaner` variants (less scratch, more instructions) while that makes
    the arena smaller and it is above arena_limit (the liveness bound of the activations, or in
    `speed` a third more): RAM at the limit whenever the kernels allow it, speed everywhere else."""

    def planned(ls: tuple[Layer, ...]) -> tuple[Graph, MemoryPlan]:
        g = apply_in_place(graph, ls)
        return g, plan_memory(g, {pos: lay.call.scratch_bytes for pos, lay in enumerate(ls)})

    g, plan = planned(layers)
    bound = arena_limit(liveness_bound(lifetimes(graph), len(graph.ops)), optimize)
    while plan.arena_bytes > bound:
        best: tuple[tuple[Layer, ...], Graph, MemoryPlan] | None = None
        for pos, lay in enumerate(layers):
            if lay.call.leaner is None:
                continue
            trial = layers[:pos] + (Layer(lay.op, lay.call.leaner),) + layers[pos + 1 :]
            tg, tplan = planned(trial)
            if tplan.arena_bytes < (best[2] if best else plan).arena_bytes:
                best = (trial, tg, tplan)
        if best is None:
            # no single swap helps when several layers share the peak (e.g. the same scratch in
            # each of a chain's layers): the fewest of the largest savings that do, together
            saving = sorted(
                (
                    (lay.call.scratch_bytes - lay.call.leaner.scratch_bytes, pos)
                    for pos, lay in enumerate(layers)
                    if lay.call.leaner is not None and lay.call.leaner.scratch_bytes < lay.call.scratch_bytes
                ),
                reverse=True,
            )
            trial = layers
            for _, pos in saving:
                trial = trial[:pos] + (Layer(trial[pos].op, trial[pos].call.leaner),) + trial[pos + 1 :]
                tg, tplan = planned(trial)
                if tplan.arena_bytes < plan.arena_bytes:
                    best = (trial, tg, tplan)
                    break
        if best is None:
            break
        layers, g, plan = best
    return layers, g, plan


def check_optimize(optimize: str) -> str:
    """`--optimize` as given, or a UsageError naming the choices."""
    if optimize not in OPTIMIZE_MODES:
        raise UsageError(
            f"--optimize {optimize}: unknown mode",
            hint="size (int8 weights, smallest flash), balanced (default) or speed (int16 weights)",
        )
    return optimize


def target_for(board: BoardProfile, optimize: str = DEFAULT_OPTIMIZE) -> Target:
    """The kernel-selection target of a board: its CPU and features (dsp, mve, ...), and the
    user's `--optimize` mode."""
    return Target(cpu=board.cpu, features=frozenset(board.features), optimize=check_optimize(optimize))


def compile_for(
    model: str | Path | LoadedModel,
    board: BoardProfile,
    *,
    optimize: str = DEFAULT_OPTIMIZE,
    dump: Callable[[str, str], None] | None = None,
    calib: str | Path | None = None,
    workdir: str | Path | None = None,
) -> CompiledModel:
    """Compile a model file or a LoadedModel for a board. A model that is not an int8 .tflite is
    converted first (calibrated on `calib`), into `workdir` or a temporary folder, never beside
    the user's file; `compiled.source.conversion` says so."""
    from tinyforge.model.convert import load_int8_model

    target = target_for(board, optimize)  # a bad --optimize fails before any conversion
    if isinstance(model, str | Path):
        loaded = load_int8_model(model, calib=calib, workdir=workdir)
    else:
        loaded = model
    return compile_model(loaded, target, dump=dump)


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
    layers, graph, plan = trim_scratch(graph, layers, target.optimize)
    if dump is not None:
        dump("in-place", dump_graph(graph))
    ins, outs = io_specs(graph, graph.inputs), io_specs(graph, graph.outputs, inputs=False)
    model_name = name or Path(loaded.path).stem
    project = generate(graph, layers, plan, ins, outs, loaded.data, model_name, target.features)
    weight_bytes = len(project.files["weights.bin"])
    stats = ModelStats(
        macs=sum(op_macs(graph, lay.op) for lay in layers),
        weight_bytes=weight_bytes,
        weights_model_bytes=model_weight_bytes(loaded.graph),
        weights_mode="int16 expanded" if any(lay.call.widened for lay in layers) else "int8",
        arena_bytes=plan.arena_bytes,
        scratch_bytes=max((lay.call.scratch_bytes for lay in layers), default=0),  # inside the arena
        liveness_bound=bound,
        layers=len(layers),
    )
    return CompiledModel(model_name, loaded, graph, layers, plan, ins, outs, project, stats, target)
