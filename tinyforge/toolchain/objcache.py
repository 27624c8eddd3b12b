"""A cache of compiled library objects (kernels, BSP), so a build compiles only what the model
generated. An entry is keyed by the compile command line and the source's bytes, and holds the
object plus the hashes of every header gcc reported (-MMD); it is used only while they all match.

Location: $TINYFORGE_CACHE/objects (default ~/.cache/tinyforge/objects). Safe to delete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from tinyforge.resources import cache_dir


def cache_root() -> Path:
    return cache_dir() / "objects-v2"  # bump when the entry format changes


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _key(argv: Sequence[str], src: Path, obj: Path, cwd: Path) -> str | None:
    content = _digest(src if src.is_absolute() else cwd / src)
    if content is None:
        return None
    h = hashlib.sha256()
    skip = {str(obj), str(src)}
    for a in argv:
        if a not in skip:
            h.update(a.encode() + b"\0")
    h.update(content.encode())
    return h.hexdigest()


def _resolve(name: str, cwd: Path) -> Path:
    return cwd / name[2:] if name.startswith("./") else Path(name)


def _deps(dep_file: Path) -> list[Path]:
    text = dep_file.read_text().replace("\\\n", " ")
    _target, _, rest = text.partition(":")
    return [Path(p) for p in rest.split() if p]


def compile_cached(
    argv: Sequence[str], src: Path, obj: Path, run: Callable[[Sequence[str]], None], cwd: Path
) -> bool:
    """Compile `src` to `obj` with `argv` (which must contain `-c src -o obj`), reusing a cached
    object when nothing it depends on changed. Returns True on a cache hit."""
    root = cache_root()
    key = _key(argv, src, obj, cwd)
    if key is None:
        run(argv)
        return False
    entry = root / key
    meta = entry / "deps.json"
    if meta.is_file():
        try:
            deps = json.loads(meta.read_text())
            if all(_digest(_resolve(p, cwd)) == d for p, d in deps.items()):
                shutil.copyfile(entry / "obj.o", obj if obj.is_absolute() else cwd / obj)
                return True
        except (OSError, ValueError):
            pass
    obj = obj if obj.is_absolute() else cwd / obj
    dep_file = obj.with_suffix(obj.suffix + ".d")
    run([*argv, "-MMD", "-MF", str(dep_file)])
    try:
        deps = {}
        for p in _deps(dep_file):
            full = (p if p.is_absolute() else cwd / p).resolve()
            try:  # headers inside the build directory are checked in *that* build's directory
                name = "./" + full.relative_to(cwd.resolve()).as_posix()
            except ValueError:
                name = str(full)
            deps[name] = _digest(full)
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=root))
        shutil.copyfile(obj, tmp / "obj.o")
        (tmp / "deps.json").write_text(json.dumps(deps))
        try:
            os.replace(tmp, entry)  # atomic publish; a concurrent writer may have won
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError:
        pass  # a cache we cannot write is only slower
    return False
