"""Generated sources: readable, warning-free, and the TFLM-style model array is byte-exact."""

from __future__ import annotations

import re

import pytest

from tinyforge import api, proc


@pytest.fixture(scope="module")
def kws(shared_models):
    return api.compile(shared_models["kws"], "host")


def test_model_data_array_is_the_tflite(kws, tmp_path):
    kws.project.write(tmp_path)
    proc.run_tool(
        ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-c", "model_data.c", "-o", "md.o"], cwd=tmp_path
    )
    text = (tmp_path / "model_data.c").read_text()
    assert "alignas(16) const unsigned char g_model_data[]" in text
    body = text[text.index("{") + 1 : text.index("};")]
    values = bytes(int(v, 16) for v in re.findall(r"0x([0-9a-f]{2})", body))
    assert values == kws.source.data
    assert f"g_model_data_len = {len(kws.source.data)};" in text


def test_model_c_is_readable_and_compiles_for_arm(kws, tmp_path):
    kws.project.write(tmp_path)
    model_c = (tmp_path / "model.c").read_text()
    for lay in kws.layers:  # every layer is named in a comment
        assert f"[{lay.op.index}] {lay.op.kind}" in model_c
    assert "MODEL_ARENA_BYTES" in (tmp_path / "model.h").read_text()
    flags = [
        "-mcpu=cortex-m4",
        "-mthumb",
        "-std=c99",
        "-O2",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-I",
        str(tmp_path),
    ]
    for inc in kws.project.include_dirs:
        flags += ["-I", str(inc)]
    proc.run_tool(["arm-none-eabi-gcc", *flags, "-c", "model.c", "-o", "model.o"], cwd=tmp_path)
    proc.run_tool(
        ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-c", "weights.S", "-o", "w.o"], cwd=tmp_path
    )
    nm = proc.run_tool(["arm-none-eabi-nm", "-S", "w.o"], cwd=tmp_path).stdout
    weights = (tmp_path / "weights.bin").read_bytes()
    assert len(weights) == kws.stats.weight_bytes
    for line in nm.splitlines():  # every weight symbol is 16-byte aligned inside weights.bin
        parts = line.split()
        addr, name = parts[0], parts[-1]
        if name.startswith("w_"):
            assert int(addr, 16) % 16 == 0, name


def test_same_model_same_sources(shared_models):
    a = api.compile(shared_models["ad"], "host").project.files
    b = api.compile(shared_models["ad"], "host").project.files
    assert a == b
