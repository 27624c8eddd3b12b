"""Which files of the kernel library (firmware/kernels/) a set of kernel calls needs.

    kernel_files(["tf_conv2d_s8", "tf_conv2d_s8_params_t", ...], features) -> KernelFiles

Each name (a kernel function or a params type) is declared in one header of the kernel folders
the board's features allow (`tf_conv2d_s8` in tf_conv.h); a function declared by a prototype is
defined in the `.c` beside its header. From there the closure follows the code: the headers
every needed file includes (`#include "..."`), and the source of every kernel function a needed
source calls. A header included only for its types brings no source (dsp/tf_dsp_pool.h includes
tf_pool.h for its params struct, not tf_pool.c). C99 with -Werror has no implicit declarations,
so a call always goes through a header this closure sees; tests/toolchain/test_kernel_files.py
checks the result against the symbols of every compiled kernel object.

Paths are relative to firmware/kernels (`tf_conv.c`, `dsp/tf_dsp_conv.h`): as the generated
model.c includes them, and as a library export lays them out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tinyforge.resources import firmware_dir

# firmware/kernels/ subfolders every board compiles (plain C99), besides the portable reference
# kernels in firmware/kernels/ itself; a feature's folder (dsp/, mve/) joins when the board has it
PORTABLE_KERNEL_DIRS = ("fast",)

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
# a prototype (`void tf_x(...);`), an inline definition (`TF_INLINE int tf_x(...) {`), a typedef
_DECLARATION = re.compile(r"^[A-Za-z_][\w \t\*]*?\b(tf_\w+)\s*\(([^;{]*)\)\s*([;{])", re.M)
_TYPEDEF = re.compile(r"\b(tf_\w+_t)\s*;")
_CALL = re.compile(r"\b(tf_\w+)\s*\(")


@dataclass(frozen=True)
class KernelFiles:
    sources: tuple[str, ...]  # .c files, relative to firmware/kernels, sorted
    headers: tuple[str, ...]  # every header those sources and the callers need, sorted
    entry_headers: tuple[str, ...]  # the headers declaring the requested functions (model.c's includes)

    def paths(self) -> tuple[Path, ...]:
        root = kernels_root()
        return tuple(root / s for s in self.sources)


def kernels_root() -> Path:
    return firmware_dir() / "kernels"


def kernel_dirs(features: frozenset[str]) -> tuple[Path, ...]:
    root = kernels_root()
    return (root, *(root / d for d in PORTABLE_KERNEL_DIRS), *(root / f for f in sorted(features)))


def _text(path: Path) -> str:
    return _COMMENT.sub(" ", path.read_text())


@dataclass(frozen=True)
class _Index:
    declared: dict[str, str]  # function or type name -> header declaring it
    defined: dict[str, str]  # function with a prototype -> the .c beside its header


@cache
def _index(dirs: tuple[Path, ...]) -> _Index:
    root = kernels_root()
    declared: dict[str, str] = {}
    defined: dict[str, str] = {}
    for d in dirs:
        for h in sorted(d.glob("*.h")):
            rel = h.relative_to(root).as_posix()
            text = _text(h)
            src = rel[:-2] + ".c"
            for name, _args, end in _DECLARATION.findall(text):
                declared.setdefault(name, rel)
                if end == ";" and (root / src).is_file():
                    defined.setdefault(name, src)
            for name in _TYPEDEF.findall(text):
                declared.setdefault(name, rel)
    return _Index(declared, defined)


def _resolve(include: str, from_file: str) -> str | None:
    """An `#include "x.h"` the way gcc finds it with -I firmware/kernels: beside the including
    file first, then from the kernel root. None: not a kernel file (a generated header)."""
    root = kernels_root()
    here = Path(from_file).parent
    for cand in (here / include, Path(include)):
        if (root / cand).is_file():
            return cand.as_posix()
    return None


def kernel_files(names: Iterable[str], features: frozenset[str] = frozenset()) -> KernelFiles:
    """The sources and headers `names` (kernel functions and params types) need, with everything
    those include and call, among the kernel folders `features` allow. KeyError names an unknown
    one (a packer returned a name no header declares: a bug)."""
    index = _index(kernel_dirs(frozenset(features)))
    root = kernels_root()
    entry: list[str] = []
    todo: list[str] = []
    for name in dict.fromkeys(names):
        if name not in index.declared:
            raise KeyError(f"kernel symbol {name!r} is declared in no header of {root}")
        entry.append(index.declared[name])
        todo.append(index.declared[name])
        if name in index.defined:
            todo.append(index.defined[name])
    done: set[str] = set()
    while todo:
        rel = todo.pop()
        if rel in done:
            continue
        done.add(rel)
        text = _text(root / rel)
        for inc in _INCLUDE.findall(text):
            found = _resolve(inc, rel)
            if found is not None:
                todo.append(found)
        if rel.endswith(".c"):
            todo.extend(index.defined[f] for f in _CALL.findall(text) if f in index.defined)
    sources = tuple(sorted(r for r in done if r.endswith(".c")))
    headers = tuple(sorted(r for r in done if not r.endswith(".c")))
    return KernelFiles(sources, headers, tuple(dict.fromkeys(entry)))


def kernel_functions(features: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every kernel function with a prototype -> the source defining it (relative), among the
    folders `features` allow."""
    return dict(_index(kernel_dirs(frozenset(features))).defined)
