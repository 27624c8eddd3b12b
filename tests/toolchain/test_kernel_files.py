"""The kernel closure (tinyforge/codegen/kernel_files.py) against the linker's view: every kernel
object compiled for a board with every feature (mps3-an547: DSP and Helium), and for each kernel
function the closure's objects must define every tf_* symbol they use, and must not bring an
object that nothing in the closure calls."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tinyforge import api, proc
from tinyforge.codegen.cgen import kernel_sources
from tinyforge.codegen.kernel_files import kernel_files, kernel_functions, kernels_root
from tinyforge.toolchain.flags import compile_flags

NM = "arm-none-eabi-nm"


@pytest.fixture(scope="module")
def symbols(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[set[str], set[str]]]:
    """kernel source (relative) -> (defined tf_* symbols, undefined tf_* symbols)."""
    board = api.board("mps3-an547")
    out = tmp_path_factory.mktemp("kobj")
    root = kernels_root()
    table = {}
    for src in kernel_sources(board.features):
        rel = src.relative_to(root).as_posix()
        obj = out / (rel.replace("/", "_") + ".o")
        proc.run_tool(
            ["arm-none-eabi-gcc", *compile_flags(board), f"-I{root}", "-c", str(src), "-o", str(obj)],
            timeout=300,
            what=f"compiling {rel}",
        )
        defined, undefined = set(), set()
        for line in proc.run_tool([NM, str(obj)], what="nm").stdout.splitlines():
            parts = line.split()
            name = parts[-1]
            if not name.startswith("tf_"):
                continue
            if parts[-2] == "U":
                undefined.add(name)
            elif parts[-2] in ("T", "D", "R", "B"):
                defined.add(name)
        table[rel] = (defined, undefined)
    return table


def test_closure_of_every_kernel_function_links(symbols: dict[str, tuple[set[str], set[str]]]) -> None:
    features = api.board("mps3-an547").features
    functions = kernel_functions(features)
    assert len(functions) >= 20  # the index saw the kernel entry points
    for fn, src in sorted(functions.items()):
        files = kernel_files([fn], features)
        assert src in files.sources, fn
        defined = set().union(*(symbols[s][0] for s in files.sources))
        needed = set().union(*(symbols[s][1] for s in files.sources))
        assert fn in defined, f"{fn} is not defined by {src}"
        assert needed <= defined, f"{fn}: {sorted(needed - defined)} undefined with {files.sources}"
        # nothing extra: every source is the function's own or defines a symbol another one uses
        for s in files.sources:
            assert s == src or symbols[s][0] & needed, f"{fn}: {s} is not needed"


def test_each_closure_compiles_from_its_own_files(tmp_path: Path) -> None:
    """An export ships only a closure's files: copied alone into a folder, every source of it
    compiles (gcc -fsyntax-only) with that folder as the only include path."""
    board = api.board("mps3-an547")
    for n, fn in enumerate(sorted(kernel_functions(board.features))):
        files = kernel_files([fn], board.features)
        d = tmp_path / f"k{n}"
        for rel in (*files.sources, *files.headers):
            (d / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(kernels_root() / rel, d / rel)
        for rel in files.sources:
            proc.run_tool(
                ["arm-none-eabi-gcc", *compile_flags(board), f"-I{d}", "-fsyntax-only", str(d / rel)],
                timeout=300,
                what=f"compiling {rel} of {fn}'s closure",
            )
    files = kernel_files(["tf_mve_conv2d_s8"], board.features)
    assert "mve/tf_mve_gemm.c" in files.sources and files.entry_headers == ("mve/tf_mve_conv.h",)
