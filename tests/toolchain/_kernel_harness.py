"""Run single kernel calls (KernelCall) natively, without the compiler driver.

`run_cases` writes a small C driver that builds each call's params struct at run time (pointers
to constant arrays and tensors are heap blocks of their exact size, so AddressSanitizer sees any
out-of-bounds access), compiles it with the portable kernels through tinyforge.proc, runs it once
for all cases, and returns every case's output bytes.

Also: reference intermediate tensors from the tflite_micro interpreter, and tiny int8 TFLite
models built with TensorFlow for parameter sweeps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinyforge import proc
from tinyforge.ir.graph import Graph, Op
from tinyforge.kernels.registry import (
    ConstArray,
    KernelCall,
    ParamValue,
    ScratchArg,
    Target,
    TensorArg,
    entries,
    select,
)
from tinyforge.resources import firmware_dir

# The kernel library of this task (part A): compiled on their own so the harness does not depend
# on other kernel files being in a buildable state.
KERNEL_SOURCES = (
    "fast/tf_fast_conv.c",
    "tf_conv.c",
    "tf_depthwise.c",
    "tf_fully_connected.c",
    "tf_pool.c",
    "tf_softmax.c",
    "tf_elementwise.c",
    "tf_mean.c",
    "tf_pad.c",
    "tf_concat.c",
    "tf_lstm.c",
    "tf_svdf.c",
)
KERNEL_HEADERS = tuple(s[:-2] + ".h" for s in KERNEL_SOURCES)
# the ops the per-layer harness drives, and those whose kernels may write over their input
PART_A_OPS = frozenset(
    {
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "FULLY_CONNECTED",
        "AVERAGE_POOL_2D",
        "MAX_POOL_2D",
        "SOFTMAX",
        "ADD",
        "SUB",
        "MUL",
        "MEAN",
        "PAD",
        "PADV2",
        "CONCATENATION",
    }
)
IN_PLACE_OPS = frozenset({"SOFTMAX", "ADD", "SUB", "MUL"})
REFERENCE_ARENA_BYTES = 16 << 20
SANITIZE_FLAGS = ("-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer")


@dataclass
class Case:
    """One kernel call: `inputs` and `output_sizes` are keyed by the TensorArg tensor index."""

    call: KernelCall
    inputs: dict[int, bytes]
    output_sizes: dict[int, int]
    in_place: bool = False  # run with each output sharing the buffer of the input it may overwrite
    label: str = ""
    regions: dict[int, int] = field(default_factory=dict)  # tensor index -> region number (filled in)


def _c_value(v: ParamValue, const_regions: dict[int, int]) -> str:
    if isinstance(v, ConstArray):
        return f"(const {v.ctype} *)(void *)R[{const_regions[id(v)]}]"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int | np.integer):
        iv = int(v)
        return "(-2147483647 - 1)" if iv == -(2**31) else str(iv)
    if isinstance(v, float | np.floating):
        return f"{float(np.float32(v))!r}f"
    if isinstance(v, tuple):
        return "{" + ", ".join(_c_value(x, const_regions) for x in v) + "}"
    raise TypeError(f"cannot emit {v!r}")


def _build_driver(
    cases: Sequence[Case],
) -> tuple[str, bytes, list[tuple[int, int]], list[list[tuple[int, int]]]]:
    """C source, data blob, region (offset, size) table, and per case the (tensor, region) outputs."""
    blob = bytearray()
    regions: list[tuple[int, int]] = []

    def add_region(data: bytes) -> int:
        regions.append((len(blob), len(data)))
        blob.extend(data)
        return len(regions) - 1

    funcs: list[str] = []
    outputs: list[list[tuple[int, int]]] = []
    for n, case in enumerate(cases):
        const_regions: dict[int, int] = {}
        for arr in case.call.consts():
            const_regions[id(arr)] = add_region(arr.data)
        tensor_region: dict[int, int] = {}
        for t, data in case.inputs.items():
            tensor_region[t] = add_region(data)
        aliases = dict(case.call.in_place) if case.in_place else {}
        outs = []
        for t, size in case.output_sizes.items():
            if t in aliases and aliases[t] in tensor_region:
                tensor_region[t] = tensor_region[aliases[t]]
            else:
                tensor_region[t] = add_region(b"\x5a" * size)  # canary: unwritten bytes show
            outs.append((t, tensor_region[t]))
        outputs.append(outs)
        fields = ",\n        ".join(f".{k} = {_c_value(v, const_regions)}" for k, v in case.call.params)
        args = []
        for a in case.call.args:
            if isinstance(a, TensorArg):
                qual = "" if a.writable else "const "
                args.append(f"({qual}{a.ctype} *)(void *)R[{tensor_region[a.tensor]}]")
            elif isinstance(a, ScratchArg):
                args.append(f"(void *)R[{add_region(bytes(max(case.call.scratch_bytes, 1)))}]")
        call_args = ", ".join(["&p"] + args) if case.call.params_type else ", ".join(args)
        decl = (
            f"    const {case.call.params_type} p = {{\n        {fields}\n    }};\n"
            if case.call.params_type
            else ""
        )
        funcs.append(f"static void case_{n}(void)\n{{\n{decl}    {case.call.function}({call_args});\n}}\n")
    includes = "\n".join(f'#include "{h}"' for h in KERNEL_HEADERS)
    table = ", ".join(f"{{{o}u, {s}u}}" for o, s in regions) or "{0u, 0u}"
    out_ids = [r for outs in outputs for _, r in outs]
    out_list = ", ".join(map(str, out_ids)) or "0"
    case_funcs = "".join(funcs)
    case_calls = "".join(f"    case_{n}();\n" for n in range(len(cases)))
    src = f"""/* generated by tests/toolchain/_kernel_harness.py */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
{includes}

#define NREG {max(len(regions), 1)}
static uint8_t *R[NREG];
static const uint32_t REG[NREG][2] = {{ {table} }};
static const int OUTS[] = {{ {out_list} }};

{case_funcs}
int main(int argc, char **argv)
{{
    FILE *f;
    long n;
    uint8_t *blob;
    size_t i;
    if (argc != 3) {{
        return 2;
    }}
    f = fopen(argv[1], "rb");
    if (!f) {{
        return 3;
    }}
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    blob = (uint8_t *)malloc((size_t)n + 1);
    if (fread(blob, 1, (size_t)n, f) != (size_t)n) {{
        return 4;
    }}
    fclose(f);
    for (i = 0; i < NREG; ++i) {{
        R[i] = (uint8_t *)malloc(REG[i][1] ? REG[i][1] : 1);
        memcpy(R[i], blob + REG[i][0], REG[i][1]);
    }}
{case_calls}
    f = fopen(argv[2], "wb");
    for (i = 0; i < sizeof OUTS / sizeof OUTS[0] && {len(out_ids)}; ++i) {{
        fwrite(R[OUTS[i]], 1, REG[OUTS[i]][1], f);
    }}
    fclose(f);
    for (i = 0; i < NREG; ++i) {{
        free(R[i]);
    }}
    free(blob);
    return 0;
}}
"""
    return src, bytes(blob), regions, outputs


def build_kernel_objects(workdir: Path, sanitize: bool) -> list[Path]:
    """Compile the kernel library once per flavour; objects are cached in `workdir`."""
    kdir = firmware_dir() / "kernels"
    objs = []
    flavour = "asan" if sanitize else "plain"
    for src in KERNEL_SOURCES:
        path = kdir / src
        digest = hashlib.sha256(path.read_bytes() + (kdir / "tf_common.h").read_bytes()).hexdigest()[:12]
        obj = workdir / f"{Path(src).stem}.{flavour}.{digest}.o"
        if not obj.exists():
            flags = ["-std=c99", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-I", str(kdir)]
            if sanitize:
                flags += list(SANITIZE_FLAGS)
            proc.run_tool(["gcc", *flags, "-c", str(path), "-o", str(obj)], what=f"gcc {src}")
        objs.append(obj)
    return objs


def run_cases(
    cases: Sequence[Case], workdir: Path, *, sanitize: bool = False, tag: str = "run"
) -> list[dict[int, bytes]]:
    """Compile and run `cases`; returns, per case, output tensor index -> bytes."""
    workdir.mkdir(parents=True, exist_ok=True)
    src, blob, regions, outputs = _build_driver(cases)
    objs = build_kernel_objects(workdir, sanitize)
    c_file = workdir / f"{tag}.c"
    c_file.write_text(src)
    exe = workdir / f"{tag}{'_asan' if sanitize else ''}"
    flags = [
        "-std=c99",
        "-O1",
        "-g",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-Wno-unused-function",
        "-I",
        str(firmware_dir() / "kernels"),
    ]
    if sanitize:
        flags += list(SANITIZE_FLAGS)
    proc.run_tool(
        ["gcc", *flags, str(c_file), *map(str, objs), "-o", str(exe)], what="gcc kernel test driver"
    )
    data_file = workdir / f"{tag}.in.bin"
    out_file = workdir / f"{tag}.out.bin"
    data_file.write_bytes(blob)
    proc.run_tool([str(exe), str(data_file), str(out_file)], timeout=300, what="kernel test driver")
    raw = out_file.read_bytes()
    results: list[dict[int, bytes]] = []
    pos = 0
    for outs in outputs:
        res = {}
        for t, r in outs:
            size = regions[r][1]
            res[t] = raw[pos : pos + size]
            pos += size
        results.append(res)
    assert pos == len(raw), "driver output size mismatch"
    return results


# ---- building cases from graphs ---------------------------------------------------------------


def case_for_op(
    graph: Graph, op: Op, tensors: dict[int, bytes], *, in_place: bool = False, kernel: str | None = None
) -> Case:
    """A Case for `op` with input bytes taken from `tensors` (tensor index -> bytes); `kernel`
    names a registry entry to use instead of the one select() picks (e.g. a reference kernel)."""
    if kernel is None:
        call = select(graph, op, Target())
    else:
        call = next(e for e in entries(op.kind) if e.name == kernel).packer(graph, op, Target())
    inputs: dict[int, bytes] = {}
    outs: dict[int, int] = {}
    for a in call.args:
        if isinstance(a, TensorArg):
            if a.writable:
                outs[a.tensor] = graph.tensor(a.tensor).nbytes
            else:
                inputs[a.tensor] = tensors[a.tensor]
    return Case(call, inputs, outs, in_place=in_place, label=f"[{op.index}] {op.kind} {op.name}")


def reference_tensors(
    model_data: bytes, inputs: Sequence[np.ndarray], indices: Sequence[int]
) -> dict[int, bytes]:
    """Every tensor in `indices` after one reference (tflite_micro) run, intermediates included."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(
        model_data,
        arena_size=REFERENCE_ARENA_BYTES,
        intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors,
    )
    for i, arr in enumerate(inputs):
        interp.set_input(arr, i)
    interp.invoke()
    out: dict[int, bytes] = {}
    for t in indices:
        value = interp.GetTensor(t, 0)
        if isinstance(value, dict) and "tensor_data" in value:
            out[t] = np.ascontiguousarray(value["tensor_data"]).tobytes()
    return out


def random_inputs(graph: Graph, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for i in graph.inputs:
        t = graph.tensor(i)
        out.append(rng.integers(-128, 128, size=t.shape, dtype=np.int8))
    return out


def mismatch_report(label: str, got: bytes, want: bytes) -> str:
    g = np.frombuffer(got, dtype=np.int8).astype(np.int32)
    w = np.frombuffer(want, dtype=np.int8).astype(np.int32)
    if g.size != w.size:
        return f"{label}: {g.size} bytes, expected {w.size}"
    bad = np.nonzero(g != w)[0]
    return f"{label}: {bad.size}/{g.size} bytes differ, first at {bad[0]} (got {g[bad[0]]}, want {w[bad[0]]}), max |diff| {np.abs(g - w).max()}"


ModelFactory = Callable[[], bytes]


def check_layers(
    model: bytes,
    graph: Graph,
    input_sets: Sequence[Sequence[np.ndarray]],
    workdir: Path,
    tag: str,
    *,
    sanitize: bool,
) -> dict[str, int]:
    """Run every PART_A op of `graph` on its own (and once more in place where its kernel may
    write over its input) on the reference's intermediate tensors for each input set, and assert
    that every output is byte-identical to the reference's. Returns the runs per kernel function."""
    ops = [op for op in graph.ops if op.kind in PART_A_OPS]
    assert ops, "the model has none of the kernel library's ops"
    all_tensors = list(range(len(graph.tensors)))
    cases: list[Case] = []
    expected: list[dict[int, bytes]] = []
    for inputs in input_sets:
        tensors = reference_tensors(model, list(inputs), all_tensors)
        for op in ops:
            want = {o: tensors[o] for o in op.outputs}
            cases.append(case_for_op(graph, op, tensors))
            expected.append(want)
            if op.kind in IN_PLACE_OPS and cases[-1].call.in_place:
                cases.append(case_for_op(graph, op, tensors, in_place=True))
                expected.append(want)
    results = run_cases(cases, workdir, sanitize=sanitize, tag=tag)
    failures = [
        mismatch_report(
            case.label + (" (in place)" if case.in_place else "") + f" {case.call.comment}", got[t], data
        )
        for case, got, want in zip(cases, results, expected, strict=True)
        for t, data in want.items()
        if got[t] != data
    ]
    assert not failures, (
        f"{len(failures)} of {len(cases)} kernel runs differ from the reference:\n" + "\n".join(failures)
    )
    checked: dict[str, int] = {}
    for case in cases:
        checked[case.call.function] = checked.get(case.call.function, 0) + 1
    return checked
