"""A `tinyforge export` library built by CMake: every build system's glue lists the sources the
CMake library compiles (CMake's own compile_commands.json, Zephyr's CMakeLists.txt evaluated by
cmake, PlatformIO's srcFilter expanded by PlatformIO, Arduino's src/ rule), and a user's host
program outside the folder builds it with gcc under ASan/UBSan and matches tflite_micro byte for
byte through both model.h paths. The cross build running in QEMU: tests/emulator/test_library_qemu.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from _library_app import build_app, parse_run, write_app
from _library_manifests import (
    arduino_sources,
    cmake_configure,
    cmake_sources,
    platformio_sources,
    zephyr_cmake,
    zephyr_sources,
)
from conftest import shared_model

from tinyforge import api, proc
from tinyforge.model.reference import run_reference

CASES = {"kws-an386": ("kws_ref_model.tflite", "mps2-an386"), "ad-an547": ("ad01_int8.tflite", "mps3-an547")}


@pytest.fixture(scope="module")
def cmake() -> str:
    return proc.find_tool("cmake")  # a clear error when it is missing (`make setup` installs it)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_build_system_compiles_the_cmake_sources(case: str, tmp_path: Path, cmake: str) -> None:
    model, board = CASES[case]
    lib = api.export(shared_model(model), board, tmp_path / "lib").directory
    listed = cmake_sources(cmake_configure(lib, tmp_path / "cfg"), lib)
    assert "src/model.c" in listed and "src/weights.S" in listed
    assert zephyr_sources(lib, tmp_path / "z") == listed
    assert platformio_sources(lib) == listed
    assert arduino_sources(lib) == listed
    # Zephyr: the CONFIG_ symbol gates everything; on, the include root is src/ and weights.S
    # depends on weights.bin (.incbin)
    assert zephyr_cmake(lib, tmp_path / "z-off", enabled=False) == {
        "libs": [],
        "sources": [],
        "includes": [],
        "props": [],
    }
    on = zephyr_cmake(lib, tmp_path / "z-on", enabled=True)
    assert on["libs"] == ["tinyforge_model"]
    assert [Path(i).resolve() for i in on["includes"]] == [(lib / "src").resolve()]
    assert on["props"][1:3] == ["PROPERTIES", "OBJECT_DEPENDS"] and on["props"][3].endswith("src/weights.bin")


@pytest.mark.parametrize("model", ["kws_ref_model.tflite", "ad01_int8.tflite"])
def test_host_program_with_the_library_is_bit_exact(model: str, tmp_path: Path, cmake: str) -> None:
    """Exported for the M4 (DSP kernels), built natively: the kernels' portable fallbacks, no core
    flags (not cross-compiling), sanitizers on the library and the program."""
    res = api.export(shared_model(model), "mps2-an386", tmp_path / "lib")
    compiled = res.compiled
    inputs = api.make_inputs(compiled, 4, seed=3)
    app = write_app(
        tmp_path / "app", res.directory, inputs.records(), sum(o.nbytes for o in compiled.outputs), None
    )
    exe = build_app(app, tmp_path / "build", c_flags="-fsanitize=address,undefined -fno-sanitize-recover=all")
    run = proc.run_tool([str(exe)], timeout=120, what="the user's program")
    copied, in_place = parse_run(run.stdout, len(inputs))
    reference = [b"".join(r.outputs) for r in run_reference(compiled.source.data, inputs.arrays)]
    assert copied == reference
    assert in_place == reference
    assert not run.stderr.strip(), run.stderr  # no sanitizer report


def test_readme_example_builds_and_runs(tmp_path: Path, cmake: str) -> None:
    """The README's main.c and CMake lines, as printed, against an export (host build)."""
    import re

    from conftest import REPO

    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### `tinyforge export`") :]
    main_c = re.search(r"```c\n(.*?)```", section, re.S)
    cmake_lines = re.search(r"```cmake\n(.*?)```", section, re.S)
    assert main_c and cmake_lines
    lib = api.export(shared_model("ad01_int8.tflite"), "mps2-an386", tmp_path / "third_party" / "kws")
    (tmp_path / "main.c").write_text(main_c.group(1))
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.13)\nproject(app C)\nadd_executable(app main.c)\n"
        "target_compile_options(app PRIVATE -Wall -Wextra -Werror)\n" + cmake_lines.group(1)
    )
    assert lib.directory == (tmp_path / "third_party" / "kws").resolve()
    proc.run_tool(["cmake", "-S", str(tmp_path), "-B", str(tmp_path / "build")], timeout=300)
    proc.run_tool(["cmake", "--build", str(tmp_path / "build")], timeout=600)
    run = proc.run_tool([str(tmp_path / "build" / "app")], check=False, timeout=60)
    inputs = (np.zeros(lib.compiled.inputs[0].shape, np.int8),)
    expected = run_reference(lib.compiled.source.data, [inputs])[0].outputs[0]
    assert run.returncode == expected[0]  # main() returns output[0]: zeros in, the reference's first byte out
