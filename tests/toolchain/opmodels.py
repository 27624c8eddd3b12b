"""Test helper: build tiny `.tflite` flatbuffers directly (no TensorFlow), one or a few ops each.

Writing the flatbuffer through the schema's object API takes milliseconds, so the property tests
can sweep scales, zero points, shapes and options that the TF converter would never produce (and
not wait for it). Tensors are declared with `ModelBuilder.tensor(...)`, ops with `.op(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np

_TYPES = {"float32": 0, "int32": 2, "uint8": 3, "int64": 4, "int16": 7, "int8": 9}
_NP = {
    "float32": np.float32,
    "int32": np.int32,
    "uint8": np.uint8,
    "int64": np.int64,
    "int16": np.int16,
    "int8": np.int8,
}


def schema() -> Any:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    return s


@dataclass
class ModelBuilder:
    tensors: list[Any] = field(default_factory=list)
    buffers: list[Any] = field(default_factory=list)
    ops: list[Any] = field(default_factory=list)
    opcodes: dict[int, int] = field(default_factory=dict)
    opcode_list: list[Any] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = schema()
        self.buffers.append(s.BufferT())  # buffer 0: the empty sentinel

    def tensor(
        self,
        shape: tuple[int, ...] | list[int],
        dtype: str = "int8",
        scale: float | list[float] | None = None,
        zero_point: int = 0,
        data: np.ndarray | list[int] | None = None,
        name: str | None = None,
        axis: int = 0,
        variable: bool = False,
    ) -> int:
        s = schema()
        t = s.TensorT()
        t.isVariable = bool(variable)
        t.shape = list(int(d) for d in shape)
        t.type = _TYPES[dtype]
        t.name = name or f"t{len(self.tensors)}"
        if scale is not None:
            q = s.QuantizationParametersT()
            scales = list(scale) if isinstance(scale, (list, tuple, np.ndarray)) else [scale]
            q.scale = [float(np.float32(v)) for v in scales]
            q.zeroPoint = [int(zero_point)] * len(scales)
            q.quantizedDimension = int(axis)
            t.quantization = q
        if data is not None:
            arr = np.ascontiguousarray(np.asarray(data, dtype=_NP[dtype]).reshape(shape))
            b = s.BufferT()
            b.data = list(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        self.tensors.append(t)
        return len(self.tensors) - 1

    def input(self, *args: Any, **kw: Any) -> int:
        i = self.tensor(*args, **kw)
        self.inputs.append(i)
        return i

    def op(
        self,
        kind: str,
        inputs: list[int],
        outputs: list[int],
        options: Any = None,
        options_type: str | None = None,
    ) -> None:
        s = schema()
        code = getattr(s.BuiltinOperator, kind)
        if code not in self.opcodes:
            oc = s.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = 1
            self.opcodes[code] = len(self.opcode_list)
            self.opcode_list.append(oc)
        o = s.OperatorT()
        o.opcodeIndex = self.opcodes[code]
        o.inputs = list(inputs)
        o.outputs = list(outputs)
        if options is not None:
            o.builtinOptionsType = getattr(s.BuiltinOptions, options_type or type(options).__name__[:-1])
            o.builtinOptions = options
        self.ops.append(o)

    def output(self, index: int) -> None:
        self.outputs.append(index)

    def build(self) -> bytes:
        s = schema()
        sg = s.SubGraphT()
        sg.tensors = self.tensors
        sg.operators = self.ops
        sg.inputs = self.inputs
        sg.outputs = self.outputs
        sg.name = "main"
        m = s.ModelT()
        m.version = 3
        m.operatorCodes = self.opcode_list
        m.subgraphs = [sg]
        m.buffers = self.buffers
        m.description = "tinyforge test model"
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def options(name: str, **fields: Any) -> Any:
    """An options object of the schema, e.g. options("LeakyReluOptions", alpha=0.2)."""
    obj = getattr(schema(), name + "T")()
    for k, v in fields.items():
        if not hasattr(obj, k):
            raise AttributeError(f"{name} has no field {k}")
        setattr(obj, k, v)
    return obj


# ---- running a model both ways -----------------------------------------------------------------


class KernelObjects:
    """The kernel library compiled once (host gcc, the runner's flags) and linked into every test
    model, so a model build only compiles its own generated C."""

    def __init__(self, directory: Path, features: frozenset[str] = frozenset()) -> None:
        from tinyforge import proc
        from tinyforge.codegen.cgen import kernel_sources
        from tinyforge.resources import firmware_dir
        from tinyforge.run.host import HOST_CFLAGS

        directory.mkdir(parents=True, exist_ok=True)
        self.objects: list[Path] = []
        include = ["-I", str(firmware_dir() / "kernels")]  # sources in subfolders include tf_common.h
        for src in kernel_sources(features):
            obj = directory / (src.stem + ".o")
            proc.run_tool(
                ["gcc", "-O2", *HOST_CFLAGS, *include, "-c", str(src), "-o", str(obj)], what="host gcc"
            )
            self.objects.append(obj)


@dataclass(frozen=True)
class Outcome:
    ours: list[tuple[bytes, ...]]
    reference: list[tuple[bytes, ...]]
    functions: tuple[str, ...]  # the kernels our compiler chose, in layer order
    aliases: int = 0  # tensors that share another's memory (reshape aliases, in-place layers)

    def mismatches(self) -> list[str]:
        bad = []
        for k, (a, b) in enumerate(zip(self.ours, self.reference, strict=True)):
            for j, (x, y) in enumerate(zip(a, b, strict=True)):
                if x != y:
                    xa, ya = np.frombuffer(x, np.int8), np.frombuffer(y, np.int8)
                    n = int(np.count_nonzero(xa != ya)) if xa.size == ya.size else -1
                    first = int(np.argmax(xa != ya)) if n > 0 else 0
                    bad.append(
                        f"inference {k} output {j}: {n} of {ya.size} bytes differ; "
                        f"first at {first}: ours {xa[first] if n > 0 else '?'} tflm {ya[first] if n > 0 else '?'}"
                    )
        return bad


def random_inputs(data: bytes, count: int, seed: int) -> list[list[np.ndarray]]:
    from tinyforge.model.tflite import parse_tflite

    g = parse_tflite(data).graph
    rng = np.random.default_rng(seed)
    sets = []
    for k in range(count):
        arrs = []
        for i in g.inputs:
            shape = g.tensor(i).shape
            n = int(np.prod(shape))
            if g.tensor(i).dtype == "int16":
                # first the extremes and an even spread, then alternately the full range and the
                # small values that real activations mostly hold
                if k == 0:
                    v = np.linspace(-32768, 32767, n).round() if n > 1 else np.array([-32768.0])
                    arr = v.astype(np.int16).reshape(shape)
                else:
                    hi = 32768 if k % 2 else 2048
                    arr = rng.integers(-hi, hi, size=shape, dtype=np.int32).astype(np.int16)
            elif k == 0:  # every int8 value once (repeated), so each code path sees all inputs
                arr = (np.arange(n) % 256 - 128).astype(np.int8).reshape(shape)
            else:
                arr = rng.integers(-128, 128, size=shape, dtype=np.int16).astype(np.int8)
            arrs.append(arr)
        sets.append(arrs)
    return sets


def run_both(
    data: bytes,
    inputs: list[list[np.ndarray]],
    kernels: KernelObjects,
    workdir: Path,
    name: str = "m",
    *,
    layers: bool = False,
    target: Any = None,
) -> Outcome:
    """Compile `data` with tinyforge for the host, run every input set, and run TFLM on the same.

    With `layers`, every layer's output for the first input set is compared as well (a debug
    build prints them), so intermediate int16/float tensors are checked too."""
    from dataclasses import replace

    from tinyforge.compiler import compile_model
    from tinyforge.kernels.registry import Target
    from tinyforge.model.reference import run_reference
    from tinyforge.model.tflite import parse_tflite
    from tinyforge.run.host import build_host, run_host

    loaded = parse_tflite(data, f"<{name}>")
    compiled = compile_model(loaded, target or Target(), name=name)
    project = replace(compiled.project, kernel_sources=tuple(kernels.objects))
    compiled = replace(compiled, project=project)
    work = workdir / name
    records = [b"".join(np.ascontiguousarray(a).tobytes() for a in rec) for rec in inputs]
    run = run_host(build_host(compiled, work, opt="-O1"), records)
    ours = [r.outputs for r in run.results]
    ref = [r.outputs for r in run_reference(data, inputs)]
    if layers:
        wanted = [lay.op.outputs[0] for lay in compiled.layers]
        dbg = run_host(build_host(compiled, work, opt="-O1", debug_layers=True), records[:1])
        ref_t = run_reference(data, inputs[:1], intermediates=wanted)[0].tensors or {}
        ours.append(tuple(dbg.layers.get(pos, b"") for pos in range(len(wanted))))
        ref.append(tuple(ref_t.get(t, b"<missing>") for t in wanted))
    return Outcome(
        ours, ref, tuple(lay.call.function for lay in compiled.layers), len(compiled.graph.aliases)
    )


class Lab:
    """One compiled kernel library plus a work folder; `exact(model)` is the whole check."""

    def __init__(self, root: Path, target: Any = None) -> None:
        """`target` (a registry Target): kernel selection as for that board, e.g. the DSP kernels
        (built for the host through tf_acle.h's portable equivalents)."""
        self.root = root
        self.target = target
        self.kernels = KernelObjects(root / "kernels", target.features if target is not None else frozenset())
        self.count = 0

    def run(self, data: bytes, inputs: int = 3, seed: int = 0, layers: bool = False) -> Outcome:
        self.count += 1
        return run_both(
            data,
            random_inputs(data, inputs, seed),
            self.kernels,
            self.root,
            f"m{self.count}",
            layers=layers,
            target=self.target,
        )

    def exact(
        self, data: bytes, inputs: int = 3, seed: int = 0, layers: bool = False, expect: str | None = None
    ) -> Outcome:
        """Assert ours == TFLM byte for byte; `expect` names a kernel function that must be used."""
        out = self.run(data, inputs, seed, layers)
        bad = out.mismatches()
        assert not bad, f"{out.functions}: " + "; ".join(bad[:3])
        if expect is not None:
            assert any(f.startswith(expect) for f in out.functions), out.functions
        return out


def run_ours(
    data: bytes, inputs: list[list[np.ndarray]], kernels: KernelObjects, workdir: Path, name: str
) -> list[tuple[bytes, ...]]:
    """Only tinyforge's side (for shapes the reference interpreter does not take)."""
    from dataclasses import replace

    from tinyforge.compiler import compile_model
    from tinyforge.kernels.registry import Target
    from tinyforge.model.tflite import parse_tflite
    from tinyforge.run.host import build_host, run_host

    compiled = compile_model(parse_tflite(data, f"<{name}>"), Target(), name=name)
    compiled = replace(compiled, project=replace(compiled.project, kernel_sources=tuple(kernels.objects)))
    records = [b"".join(np.ascontiguousarray(a).tobytes() for a in rec) for rec in inputs]
    return [r.outputs for r in run_host(build_host(compiled, workdir / name, opt="-O1"), records).results]
