"""The library object cache: a hit only while the source, flags and every header are unchanged."""

from __future__ import annotations

import pytest

from tinyforge import proc
from tinyforge.toolchain.objcache import compile_cached

pytestmark = pytest.mark.toolchain


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
