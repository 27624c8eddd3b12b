"""`tinyforge bench`: instructions, MACs per instruction, flash and RAM of a model on a board.

Method (the same as `tinyforge test` and the anchor figures): the firmware runs one inference on
the anchors' input pattern x[i] = (i*37+11) % 256 - 128 in `qemu-system-arm -icount shift=0`, where
the virtual clock advances 1 ns per instruction, so instructions = SysTick ticks * 1e9 / timer Hz.
With `layers`, a second build times every layer (MODEL_LAYER_HOOK -> TF LOG layer n=.. ticks=..);
the plain build gives the total, so the profiling hooks never count in it.

Flash is split by the linker map (which input section came from which object): weights (the
`.tf_weights` section), harness (main.c, the baked-in inputs, manifest, BSP: what a test firmware
adds around the model) and kernels+runtime (everything else: kernels, model.c, libc/libgcc).
RAM: the arena (activations and, inside it, the kernels' scratch), the stack high-water mark
(the stack is painted at reset) and the rest of .data/.bss.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.compiler import CompiledModel

# flash output sections of templates/linker.ld.j2 whose input sections the map attributes
_FLASH_SECTIONS = (".isr_vector", ".text", ".rodata", ".ARM.extab", ".ARM.exidx", ".tf_manifest", ".data")
_HARNESS = re.compile(r"(^|/)(src/[^/]+|lib/bsp/[^/]+)\.o$")
_ONE_LINE = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_NAME_ONLY = re.compile(r"^ (\S+)$")
_CONTINUED = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_OUTPUT_SECTION = re.compile(r"^(\.\S+)")


@dataclass(frozen=True)
class FlashSplit:
    weights: int  # .tf_weights: weights, biases, multipliers, tables
    kernels_runtime: int  # kernels, model.c (layer parameters, glue), libc/libgcc
    harness: int  # main.c, inputs, manifest, BSP (startup, UART, timer, fault handler)
    total: int


@dataclass(frozen=True)
class RamSplit:
    arena: int  # activations, scratch included
    scratch: int  # the largest kernel scratch buffer (inside the arena)
    stack_used: int  # high-water mark of the painted stack
    stack_size: int
    other: int  # .data + .bss outside the arena (output buffers, BSP state)
    total: int  # arena + stack_used + other


@dataclass(frozen=True)
class LayerBench:
    n: int
    op_index: int
    op: str
    kernel: str  # the C function
    comment: str
    macs: int
    instructions: int
    macs_per_instruction: float | None


@dataclass(frozen=True)
class BenchReport:
    board: str
    cpu: str
    features: tuple[str, ...]
    model: str
    optimize: str  # --optimize: size | balanced | speed
    macs: int
    instructions: int
    macs_per_instruction: float
    bit_exact: bool
    weights_mode: str  # "int8" or "int16 expanded"
    weights_model_bytes: (
        int  # the model's constant data (ir/metrics.py model_weight_bytes), beside flash.weights
    )
    flash: FlashSplit
    ram: RamSplit
    layers: tuple[LayerBench, ...]
    emulator_seconds: float
    method: str = (
        "qemu-system-arm -icount shift=0, input x[i]=(i*37+11)%256-128, instructions = ticks*1e9/timer_hz"
    )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = list(self.features)
        d["layers"] = [asdict(layer) for layer in self.layers]
        return d


def _per_instruction(macs: int, instructions: int) -> float | None:
    return round(macs / instructions, 3) if instructions > 0 else None


def flash_split(map_file: Path, sizes: dict[str, int]) -> FlashSplit:
    """Attribute the flash bytes of a tinyforge firmware to weights / kernels+runtime / harness."""
    harness = int(sizes.get("inputs", 0))
    section: str | None = None
    pending: str | None = None
    in_memory_map = False
    for raw in map_file.read_text(errors="replace").splitlines():
        if not in_memory_map:
            in_memory_map = raw.startswith("Linker script and memory map")
            continue
        out = _OUTPUT_SECTION.match(raw)
        if out:
            section, pending = out.group(1), None
            continue
        if section not in _FLASH_SECTIONS:
            continue
        one = _ONE_LINE.match(raw)
        if one:
            name, size, obj = one.group(1), int(one.group(3), 16), one.group(4)
        else:
            named = _NAME_ONLY.match(raw)
            if named:
                pending = named.group(1)
                continue
            cont = _CONTINUED.match(raw)
            if not (cont and pending):
                continue
            name, size, obj = pending, int(cont.group(2), 16), cont.group(3)
        pending = None
        if name.startswith("*") or not size:
            continue
        if _HARNESS.search(obj.strip()):
            harness += size
    weights = int(sizes.get("weights", 0))
    total = int(sizes.get("flash_bytes", 0))
    return FlashSplit(
        weights=weights, kernels_runtime=total - weights - harness, harness=harness, total=total
    )


def bench_model(
    model: Any,
    board: BoardProfile,
    *,
    optimize: str = "balanced",
    layers: bool = False,
    workdir: Path | None = None,
    timeout: float = 120.0,
) -> BenchReport:
    import tempfile

    from tinyforge.boards import list_boards
    from tinyforge.codegen.inputs import pattern_inputs
    from tinyforge.compiler import compile_for, target_for
    from tinyforge.errors import UsageError
    from tinyforge.model.convert import load_int8_model
    from tinyforge.model.tflite import LoadedModel
    from tinyforge.run.qemu import instructions, run_qemu
    from tinyforge.run.verify import compare
    from tinyforge.toolchain.build import build_firmware

    b = board
    if not b.is_emulated:
        raise UsageError(
            f"board {b.name} is not emulated: `tinyforge bench` counts instructions in QEMU",
            hint="emulated boards: " + ", ".join(x.name for x in list_boards() if x.is_emulated),
        )
    target_for(b, optimize)  # a bad --optimize fails before any conversion
    loaded = model if isinstance(model, LoadedModel) else load_int8_model(model)
    compiled = compile_for(loaded, b, optimize=optimize)
    data = pattern_inputs(compiled.inputs)
    records = data.records()
    with tempfile.TemporaryDirectory(prefix="tinyforge-bench-") as tmp:
        root = Path(workdir) if workdir is not None else Path(tmp)
        res = build_firmware(compiled, b, root / "total", records, force=True)
        run = run_qemu(b, res.elf, timeout=timeout)
        seconds = run.seconds
        if not run.results:
            raise UsageError(f"{b.name}: the firmware printed no TF RESULT line")
        cmp = compare(compiled, data, [r.outputs for r in run.results])
        total = instructions(run.results[0].ticks, b.timer.hz)
        layer_rows: tuple[LayerBench, ...] = ()
        if layers:
            prof = build_firmware(compiled, b, root / "layers", records, force=True, profile_layers=True)
            prun = run_qemu(b, prof.elf, timeout=timeout)
            seconds += prun.seconds
            layer_rows = _layer_rows(compiled, prun.logs, b.timer.hz)
        flash = flash_split(res.directory / "firmware.map", res.sizes)
    s = compiled.stats
    stack_used = int(run.log_value("stack_used") or 0)
    stack_size = int(run.log_value("stack_size") or b.stack_bytes)
    other = int(res.sizes.get("data", 0)) + int(res.sizes.get("bss", 0))
    ram = RamSplit(
        arena=s.arena_bytes,
        scratch=s.scratch_bytes,
        stack_used=stack_used,
        stack_size=stack_size,
        other=other,
        total=s.arena_bytes + stack_used + other,
    )
    return BenchReport(
        board=b.name,
        cpu=b.cpu,
        features=tuple(sorted(b.features)),
        model=str(loaded.path),
        optimize=optimize,
        macs=s.macs,
        instructions=total,
        macs_per_instruction=_per_instruction(s.macs, total) or 0.0,
        bit_exact=cmp.bit_exact,
        weights_mode=s.weights_mode,
        weights_model_bytes=s.weights_model_bytes,
        flash=flash,
        ram=ram,
        layers=layer_rows,
        emulator_seconds=round(seconds, 3),
    )


def _layer_rows(compiled: CompiledModel, logs: tuple[str, ...], timer_hz: int) -> tuple[LayerBench, ...]:
    from tinyforge.ir.metrics import op_macs
    from tinyforge.run.qemu import instructions

    ticks: dict[int, int] = {}
    for text in logs:
        if text.startswith("layer ") and "ticks=" in text:
            kv = dict(part.split("=", 1) for part in text.split()[1:] if "=" in part)
            ticks.setdefault(int(kv["n"]), int(kv["ticks"]))  # the first inference
    rows = []
    for n, lay in enumerate(compiled.layers):
        instr = instructions(ticks.get(n, 0), timer_hz)
        macs = op_macs(compiled.graph, lay.op)
        rows.append(
            LayerBench(
                n=n,
                op_index=lay.op.index,
                op=lay.op.kind,
                kernel=lay.call.function,
                comment=lay.call.comment,
                macs=macs,
                instructions=instr,
                macs_per_instruction=_per_instruction(macs, instr) if macs else None,
            )
        )
    return tuple(rows)
