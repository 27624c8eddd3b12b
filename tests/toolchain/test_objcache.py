"""The library object cache: a hit only while the source, flags and every header are unchanged."""

from __future__ import annotations

from tinyforge import proc
from tinyforge.toolchain.objcache import compile_cached


def test_hits_and_invalidation(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYFORGE_CACHE", str(tmp_path / "cache"))
    src, hdr = tmp_path / "k.c", tmp_path / "k.h"
    hdr.write_text("#define K 1\n")
    src.write_text('#include "k.h"\nint k(void) { return K; }\n')
    calls = []

    def run(argv):
        calls.append(argv)
        proc.run_tool(argv, cwd=tmp_path)

    def compile_(flags=("-O2",)):
        argv = ["gcc", *flags, "-c", "k.c", "-o", "k.o"]
        return compile_cached(argv, tmp_path / "k.c", tmp_path / "k.o", run, tmp_path)

    assert compile_() is False and len(calls) == 1
    first = (tmp_path / "k.o").read_bytes()
    (tmp_path / "k.o").unlink()
    assert compile_() is True and (tmp_path / "k.o").read_bytes() == first and len(calls) == 1
    hdr.write_text("#define K 2\n")  # a header changed: must recompile
    assert compile_() is False and len(calls) == 2
    assert compile_(("-O1",)) is False  # other flags: another entry
    src.write_text('#include "k.h"\nint k(void) { return K + 1; }\n')
    assert compile_() is False


def test_other_build_directory_checks_its_own_headers(tmp_path, monkeypatch):
    """Two build directories, same command line, different header: no stale object."""
    monkeypatch.setenv("TINYFORGE_CACHE", str(tmp_path / "cache"))
    results = []
    for k, value in ((1, "1"), (2, "2")):
        d = tmp_path / f"build{k}"
        d.mkdir()
        (d / "k.h").write_text(f"#define K {value}\n")
        (d / "k.c").write_text('#include "k.h"\nint k(void) { return K; }\n')
        argv = ["gcc", "-O2", "-c", "k.c", "-o", "k.o"]
        hit = compile_cached(argv, d / "k.c", d / "k.o", lambda a, d=d: proc.run_tool(a, cwd=d), d)
        results.append(hit)
    assert results == [False, False]
    assert (tmp_path / "build1" / "k.o").read_bytes() != (tmp_path / "build2" / "k.o").read_bytes()
