"""The scriptable surface of tinyforge. Every CLI command is one call here; scripts and tests use
these functions directly. Heavy modules are imported inside the functions, so importing
`tinyforge.api` stays cheap (and never imports TensorFlow).

Each section below belongs to one stage; add functions to your stage's section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tinyforge.compiler import CompiledModel
    from tinyforge.kernels.registry import Target
    from tinyforge.model.tflite import LoadedModel

# ==== boards ==================================================================

# ==== inspect =================================================================


def inspect(model: str | Path, board: str = "host") -> dict[str, Any]:
    """Everything worth knowing about a `.tflite` before compiling it, as a JSON-friendly dict."""
    import hashlib

    from tinyforge.errors import TinyforgeError
    from tinyforge.ir.passes import check_quantized
    from tinyforge.ir.stats import largest_live_pair, op_macs, weight_bytes
    from tinyforge.kernels.registry import unsupported_reason
    from tinyforge.model.tflite import read_tflite

    loaded = read_tflite(model)
    g = loaded.graph

    def tdesc(i: int) -> dict[str, Any]:
        t = g.tensor(i)
        return {
            "name": t.name,
            "dtype": t.dtype,
            "shape": list(t.shape),
            "quant": t.quant.describe() if t.quant else "-",
            "scale": list(t.quant.scale) if t.quant else [],
            "zero_point": list(t.quant.zero_point) if t.quant else [],
        }

    layers = []
    unsupported = []
    for op in g.ops:
        reason = unsupported_reason(g, op)
        if reason is not None:
            unsupported.append({"index": op.index, "op": op.kind, "name": op.name, "reason": reason})
        consts = [g.tensor(i) for i in op.inputs if i >= 0 and g.tensor(i).is_constant]
        params = ", ".join(f"{k}={v}" for k, v in op.options.items() if v not in (None, "", ()))
        layers.append(
            {
                "index": op.index,
                "op": op.kind,
                "name": op.name,
                "output_shape": "x".join(str(d) for d in g.tensor(op.outputs[0]).shape),
                "params": params,
                "macs": op_macs(g, op),
                "weight_bytes": sum(len(t.data or b"") for t in consts),
                "supported": reason is None,
            }
        )
    peak = largest_live_pair(g)
    report: dict[str, Any] = {
        "model": str(model),
        "size_bytes": len(loaded.data),
        "sha256": hashlib.sha256(loaded.data).hexdigest(),
        "subgraphs": loaded.info.num_subgraphs,
        "inputs": [tdesc(i) for i in g.inputs],
        "outputs": [tdesc(i) for i in g.outputs],
        "layers": layers,
        "macs": sum(lay["macs"] for lay in layers),
        "weight_bytes": weight_bytes(g),
        "largest_live_pair": asdict(peak) if peak else None,
        "unsupported": unsupported,
        "memory": None,
    }
    try:
        check_quantized(g)
        if not unsupported:
            c = compile(loaded, board)
            report["memory"] = {
                "arena_bytes": c.stats.arena_bytes,
                "scratch_bytes": c.stats.scratch_bytes,
                "ram_bytes": c.stats.ram_bytes,
                "liveness_bound": c.stats.liveness_bound,
            }
    except TinyforgeError as exc:
        report["problem"] = exc.message
    return report


def inspect_firmware(elf: str | Path) -> dict[str, Any]:
    """The build manifest embedded in a tinyforge firmware.elf."""
    from tinyforge.toolchain.manifest import read_manifest

    return dict(read_manifest(Path(elf)))

# ==== convert =================================================================

# ==== compile / host test =====================================================


def load_int8_model(model: str | Path, **convert_options: Any) -> LoadedModel:
    """Read an int8 `.tflite`; anything else (Keras, SavedModel, float .tflite) is converted first."""
    from tinyforge.model.tflite import read_tflite

    path = Path(model)
    if path.suffix.lower() == ".tflite" and path.is_file():
        loaded = read_tflite(path)
        if not _needs_conversion(loaded):
            return loaded
    if not path.exists():
        from tinyforge.errors import ModelError

        raise ModelError(f"{path}: no such file", hint="check the path")
    from tinyforge.model.load import ensure_int8_tflite

    int8_path, _result = ensure_int8_tflite(path, **convert_options)
    return read_tflite(int8_path)


def _needs_conversion(loaded: LoadedModel) -> bool:
    """True when some layer still computes in float (a float or hybrid .tflite)."""
    from tinyforge.errors import ModelError
    from tinyforge.ir.passes import check_quantized

    try:
        check_quantized(loaded.graph)
    except ModelError:
        return True
    return False


def target_for(board: str) -> Target:
    from tinyforge.boards import load_board
    from tinyforge.kernels.registry import Target

    b = load_board(board)
    return Target(cpu=b.cpu, features=frozenset(b.features))


def compile(
    model: str | Path | LoadedModel,
    board: str = "host",
    *,
    dump_ir: Callable[[str, str], None] | None = None,
) -> CompiledModel:
    """Compile a model for a board: passes, kernel selection, memory plan, generated C."""
    from tinyforge.compiler import compile_model

    loaded = model if not isinstance(model, str | Path) else load_int8_model(model)
    return compile_model(loaded, target_for(board), dump=dump_ir)


@dataclass(frozen=True)
class TestReport:
    board: str
    model: str
    inputs: int
    mismatched_bytes: int
    bit_exact: bool
    arena_bytes: int
    scratch_bytes: int
    liveness_bound: int
    macs: int
    first_mismatch: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(d.pop("extra"))
        d["ram_bytes"] = d.get("ram_bytes", self.arena_bytes + self.scratch_bytes)
        return d


def make_inputs(compiled: CompiledModel, count: int = 20, seed: int = 0, input_file: str | Path | None = None):  # noqa: ANN201
    from tinyforge.verify import load_inputs, random_inputs

    if input_file is not None:
        return load_inputs(Path(input_file), compiled.inputs)
    return random_inputs(compiled.inputs, count, seed)


def test_host(
    model: str | Path | LoadedModel,
    *,
    inputs: int = 20,
    seed: int = 0,
    input_file: str | Path | None = None,
    workdir: str | Path | None = None,
    sanitize: bool = False,
    dump_ir: Callable[[str, str], None] | None = None,
) -> TestReport:
    """Compile for the host, run N inputs natively, compare every byte with the TFLM reference."""
    import tempfile

    from tinyforge.runners.host import build_host, run_host
    from tinyforge.verify import compare, first_mismatching_layer

    compiled = compile(model, "host", dump_ir=dump_ir)
    data = make_inputs(compiled, inputs, seed, input_file)
    with tempfile.TemporaryDirectory(prefix="tinyforge-host-") as tmp:
        work = Path(workdir) if workdir else Path(tmp)
        build = build_host(compiled, work, sanitize=sanitize)
        run = run_host(build, data.records())
        cmp = compare(compiled, data, [r.outputs for r in run.results])
        first = None
        if not cmp.bit_exact and cmp.mismatched_inferences:
            k = cmp.mismatched_inferences[0]
            dbg = build_host(compiled, work, sanitize=sanitize, debug_layers=True)
            layers = run_host(dbg, [data.records()[k]]).layers
            lm = first_mismatching_layer(compiled, data.arrays[k], layers)
            first = asdict(lm) if lm else None
    s = compiled.stats
    return TestReport(
        board="host",
        model=str(compiled.source.path),
        inputs=cmp.inputs,
        mismatched_bytes=cmp.mismatched_bytes,
        bit_exact=cmp.bit_exact,
        arena_bytes=s.arena_bytes,
        scratch_bytes=s.scratch_bytes,
        liveness_bound=s.liveness_bound,
        macs=s.macs,
        first_mismatch=first,
    )

# ==== build / emulator test ===================================================

# ==== emulate / flash =========================================================

# ==== monitor =================================================================

# ==== bench ===================================================================
