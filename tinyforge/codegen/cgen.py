"""Code generation: a compiled layer list + memory plan -> the files of a GeneratedProject.

Python computes every value; the templates (templates/model.*.j2) only print them.
Weights go to `weights.bin` and are pulled into flash by `weights.S` with `.incbin`, so gcc never
parses megabytes of C literals; `weights.h` declares them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from tinyforge.codegen.jinja import c_comment, c_ident, render, sanitize_ident
from tinyforge.codegen.kernel_files import KernelFiles, kernel_dirs, kernel_files, kernels_root
from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels.registry import (
    ConstArray,
    KernelCall,
    ParamValue,
    ScratchArg,
    TensorArg,
    variant_defines,
)
from tinyforge.plan.arena import MemoryPlan, scratch_key

WEIGHT_ALIGN = 16  # weights.bin starts 16-byte aligned; each array asks for its own alignment
IO_CTYPES = {"int8": "int8_t", "int16": "int16_t", "float32": "float"}


@dataclass(frozen=True)
class GeneratedProject:
    files: Mapping[str, bytes]  # relative path -> content
    c_sources: tuple[str, ...]  # relative paths to compile into the firmware (C and assembler)
    kernel_sources: tuple[Path, ...]  # firmware/kernels/{,fast/,<feature>/}*.c
    include_dirs: tuple[Path, ...]
    # the kernel files this model's layers call, with what they include (a library export ships
    # only these; model.c includes only their headers)
    kernels_used: KernelFiles = KernelFiles((), (), ())
    # `MACRO=bits` of the kernel variants the layers use (registry.variant_defines): the build
    # passes them to the kernel sources that read the macro
    kernel_defines: tuple[str, ...] = ()

    def write(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for rel, data in sorted(self.files.items()):
            p = directory / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            if not p.exists() or p.read_bytes() != data:
                p.write_bytes(data)
            written.append(p)
        return written


@dataclass(frozen=True)
class IOSpec:
    name: str
    tensor: int
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int
    nbytes: int


@dataclass(frozen=True)
class Layer:
    op: Op
    call: KernelCall


def kernel_sources(features: frozenset[str] = frozenset()) -> tuple[Path, ...]:
    return tuple(p for d in kernel_dirs(features) for p in sorted(d.glob("*.c")))


def kernel_headers(features: frozenset[str] = frozenset()) -> list[str]:
    root = kernels_root()
    return [p.relative_to(root).as_posix() for d in kernel_dirs(features) for p in sorted(d.glob("*.h"))]


def _c_int(v: int) -> str:
    if v == -(2**31):
        return "(-2147483647 - 1)"
    if v >= 2**31:
        return f"{v}u"
    return str(int(v))


def _c_value(v: ParamValue, symbols: Mapping[int, str]) -> str:
    if isinstance(v, ConstArray):
        return symbols[id(v)]
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int | np.integer):
        return _c_int(int(v))
    if isinstance(v, float | np.floating):
        f = float(np.float32(v))
        if f != f or f in (float("inf"), float("-inf")):
            raise ValueError(f"non-finite float parameter {v}")
        return f"{f!r}f"
    if isinstance(v, tuple):
        return "{" + ", ".join(_c_value(x, symbols) for x in v) + "}"
    raise TypeError(f"cannot emit parameter value {v!r}")


def _ctype_of(arr: ConstArray) -> str:
    return arr.ctype


def generate(
    graph: Graph,
    layers: Sequence[Layer],
    plan: MemoryPlan,
    io_in: Sequence[IOSpec],
    io_out: Sequence[IOSpec],
    model_data: bytes,
    model_name: str,
    features: frozenset[str] = frozenset(),
) -> GeneratedProject:
    # 1. constant arrays: dedupe identical contents, lay them out in weights.bin, each aligned as it asks
    blob = bytearray()
    symbols: dict[int, str] = {}
    by_content: dict[tuple[str, bytes, int], str] = {}
    weight_decls: list[dict[str, object]] = []
    used_names: set[str] = set()
    for layer in layers:
        for arr in layer.call.consts():
            key = (arr.ctype, arr.data, arr.align)
            if key in by_content:
                symbols[id(arr)] = by_content[key]
                continue
            base = "w_" + sanitize_ident(arr.name)
            name, k = base, 1
            while name in used_names:
                k += 1
                name = f"{base}_{k}"
            used_names.add(c_ident(name))
            pad = (-len(blob)) % max(arr.align, 1)
            blob.extend(b"\0" * pad)
            weight_decls.append(
                {
                    "name": name,
                    "ctype": _ctype_of(arr),
                    "count": max(arr.count, 1),
                    "offset": len(blob),
                    "bytes": len(arr.data),
                }
            )
            blob.extend(arr.data)
            symbols[id(arr)] = name
            by_content[key] = name
    # 2. layers: params initializers and call arguments
    layer_ctx = []
    scratch = max((lay.call.scratch_bytes for lay in layers), default=0)
    for n, lay in enumerate(layers):
        call = lay.call
        args = []
        for a in call.args:
            if isinstance(a, TensorArg):
                off = plan.offset_of(graph, a.tensor)
                qual = "" if a.writable else "const "
                args.append(f"({qual}{a.ctype} *)(void *)(g_arena + {off})")
            elif isinstance(a, ScratchArg):
                slot = scratch_key(n)
                off = plan.offsets.get(slot, 0)
                args.append(f"(void *)(g_arena + {off})" if slot in plan.offsets else "(void *)0")
            else:  # pragma: no cover - registry types are closed
                raise TypeError(a)
        debug_out = graph.storage(lay.op.outputs[0])
        layer_ctx.append(
            {
                "n": n,
                "op_index": lay.op.index,
                "kind": lay.op.kind,
                "name": c_comment(lay.op.name),
                "comment": c_comment(call.comment),
                "function": c_ident(call.function),
                "params_type": c_ident(call.params_type) if call.params_type else "",
                "params_name": f"L{lay.op.index}",
                "fields": [(c_ident(k), _c_value(v, symbols)) for k, v in call.params],
                "args": args,
                "out_offset": plan.offsets[debug_out],
                "out_bytes": graph.tensor(lay.op.outputs[0]).nbytes,
            }
        )

    def io_ctx(specs: Sequence[IOSpec]) -> list[dict[str, object]]:
        return [
            {
                "i": i,
                "name": c_comment(s.name),
                "shape": list(s.shape),
                "shape_str": "x".join(str(d) for d in s.shape),
                "dtype": s.dtype,
                "ctype": IO_CTYPES[s.dtype],
                "scale": f"{s.scale!r}f",
                "zero_point": s.zero_point,
                "bytes": s.nbytes,
                "offset": plan.offset_of(graph, s.tensor),
                "rank": len(s.shape),
            }
            for i, s in enumerate(specs)
        ]

    state = state_ctx(graph, plan)
    used = kernel_files(
        [n for lay in layers for n in (lay.call.function, lay.call.params_type) if n], features
    )
    sha = hashlib.sha256(model_data).hexdigest()
    ctx = {
        "model_name": c_comment(model_name),
        "model_sha256": sha,
        "arena_bytes": max(plan.arena_bytes, 16),
        "scratch_bytes": scratch,
        "weights_bytes": len(blob),
        "inputs": io_ctx(io_in),
        "outputs": io_ctx(io_out),
        "layers": layer_ctx,
        "weights": weight_decls,
        "headers": list(used.entry_headers),
        "model_data_len": len(model_data),
        "state": state,
        "state_bytes": sum(t.nbytes for t in graph.state_tensors()),
    }
    files: dict[str, bytes] = {
        "model.h": render("model.h.j2", **ctx).encode(),
        "model.c": render("model.c.j2", **ctx).encode(),
        "weights.h": render("weights.h.j2", **ctx).encode(),
        "weights.S": render("weights.S.j2", **ctx).encode(),
        "weights.bin": bytes(blob),
        "model_data.h": render("model_data.h.j2", **ctx).encode(),
        "model_data.c": _model_data_c(model_data, ctx),
    }
    return GeneratedProject(
        files=MappingProxyType(files),
        c_sources=("model.c", "weights.S"),
        kernel_sources=kernel_sources(features),
        include_dirs=(kernels_root(),),
        kernels_used=used,
        kernel_defines=variant_defines(lay.call for lay in layers),
    )


def state_ctx(graph: Graph, plan: MemoryPlan) -> list[dict[str, object]]:
    """The variable tensors `model_reset_state()` sets: arena offset, bytes, and the byte value
    TFLite Micro starts them at (the zero point for int8, 0 for other types)."""
    out: list[dict[str, object]] = []
    for t in graph.state_tensors():
        fill = 0
        if t.dtype == "int8" and t.quant is not None and t.quant.zero_point:
            fill = int(t.quant.zero_point[0])
        out.append(
            {
                "name": c_comment(t.name),
                "dtype": t.dtype,
                "shape_str": "x".join(str(d) for d in t.shape),
                "offset": plan.offset_of(graph, t.index),
                "bytes": t.nbytes,
                "fill": fill,
            }
        )
    return out


def _model_data_c(data: bytes, ctx: Mapping[str, object]) -> bytes:
    arr = np.frombuffer(data, dtype=np.uint8)
    rows = []
    for i in range(0, len(arr), 16):
        rows.append("    " + ", ".join(f"0x{b:02x}" for b in arr[i : i + 16].tolist()) + ",")
    return render("model_data.c.j2", body="\n".join(rows), **ctx).encode()
