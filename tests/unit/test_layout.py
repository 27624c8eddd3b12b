"""The package's shape, checked on its source: data flows one way through the layers below, no
import circle, `tinyforge.api` used only by the faces on top of it, and the board name that is the
default written once.

Imports are read with `ast` from every module of tinyforge/, including imports inside functions
(the ones that used to hide circles). Imports under `if TYPE_CHECKING:` never run, so they do not
count for circles; they do count for the layers and for who may import `api` (an annotation that
names an upper layer's type is a dependency on it all the same).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "tinyforge"

# The layers, bottom (0) to top. A module may import from its own layer or a lower one, never from
# a higher one. Each top-level module or package of tinyforge/ must be listed: adding one means
# deciding where it sits.
LAYERS: dict[str, int] = {
    # 0: what everything uses
    "tinyforge": 0,  # __init__ (the version)
    "errors": 0,
    "resources": 0,
    "proc": 0,
    # 1: board profiles, the IR, the serial line protocol
    "board_schema": 1,
    "boards": 1,
    "ir": 1,
    "serial": 1,
    # 2: model files -> Graph, kernel registry and packers, the arena planner
    "model": 2,
    "kernels": 2,
    "plan": 2,
    # 3: C generation; 4: the compiler driver (Graph -> MemoryPlan -> generated C)
    "codegen": 3,
    "compiler": 4,
    # 5: gcc, build directories, emulator command lines; signed images (MCUboot format, keys,
    #    slot layout, imgtool signing, the secure bootloader's build parts and status block)
    "toolchain": 5,
    "secureboot": 5,
    # 6: what takes a FirmwareImage somewhere: run (host, QEMU, Renode; test, verify, bench),
    #    flash (images, runners, the emulated bench), monitor (serial records and views), farm
    #    (labgrid places as serial ports, the emulated lab)
    "run": 6,
    "flash": 6,
    "monitor": 6,
    "farm": 6,  # labgrid places (the one labgrid importer) and the emulated lab
    # 7: the scriptable surface; 8: its faces (the only importers of api)
    "api": 7,
    "cli": 8,
    "demo": 8,
    "pytest_plugin": 8,
    "__main__": 8,
}
API_USERS = {name for name, layer in LAYERS.items() if layer > LAYERS["api"]}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(name: str) -> str:
    """The module a dotted name lives in (`tinyforge.flash.image.load_image` -> `tinyforge.flash.image`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported tinyforge module, line, only under TYPE_CHECKING) for every import in a file."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "tinyforge":
                    found.append((_resolve(alias.name), node.lineno, typing_only))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] == "tinyforge":
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.append((full if full in MODULES else _resolve(base), node.lineno, typing_only))
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(ast.parse(path.read_text(), str(path)), False)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _where(module: str, line: int) -> str:
    return f"{MODULES[module].relative_to(ROOT)}:{line}"


def test_the_walk_sees_function_level_imports() -> None:
    # api imports almost everything inside its functions; the walk must find those
    targets = {t for t, _, _ in GRAPH["tinyforge.api"]}
    assert {"tinyforge.run.testing", "tinyforge.flash.request", "tinyforge.toolchain.build"} <= targets


def test_every_top_level_module_has_a_layer() -> None:
    tops = {_top(m) for m in MODULES}
    assert tops - set(LAYERS) == set(), "give the new module or package a layer in LAYERS"
    assert set(LAYERS) - tops == set(), "LAYERS names something that no longer exists"


def test_no_import_goes_up_a_layer() -> None:
    bad = [
        f"{_where(m, line)}: {m} (layer {LAYERS[_top(m)]}) imports {t} (layer {LAYERS[_top(t)]})"
        for m, imports in GRAPH.items()
        for t, line, _ in imports
        if LAYERS[_top(t)] > LAYERS[_top(m)]
    ]
    assert bad == []


def test_only_the_faces_import_api() -> None:
    bad = [
        f"{_where(m, line)}: {m} imports tinyforge.api"
        for m, imports in GRAPH.items()
        for t, line, _ in imports
        if t == "tinyforge.api" and _top(m) not in API_USERS
    ]
    assert bad == []


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return found


def test_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle() -> None:
    runtime = {
        m: {t for t, _, typing_only in imports if not typing_only and t != m} for m, imports in GRAPH.items()
    }
    assert _cycles(runtime) == []


def test_the_default_board_is_named_once() -> None:
    literal = re.compile(r"""["']mps2-an386["']""")
    places = sorted(str(p.relative_to(ROOT)) for p in MODULES.values() if literal.search(p.read_text()))
    assert places == ["tinyforge/boards.py"]
    constants = sorted(
        str(p.relative_to(ROOT))
        for p in MODULES.values()
        if re.search(r"^DEFAULT\w*BOARD\s*=", p.read_text(), re.M)
    )
    assert constants == ["tinyforge/boards.py"]


def test_no_stage_loads_a_board_by_name() -> None:
    # the api resolves a board (name, .toml path or BoardProfile) once; the stages take the profile
    callers = sorted(
        _module_name(p) for p in MODULES.values() if "load_board(" in p.read_text() and p.name != "boards.py"
    )
    assert callers == ["tinyforge.api"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "tinyforge.__main__"))
def test_every_module_imports(module: str) -> None:
    import importlib

    importlib.import_module(module)
