"""`tinyforge export` (issue 14, item 2): the model as a library folder for the user's own firmware.
What is in it (the generated model, only the kernels it calls, no BSP), the Zephyr, PlatformIO and
Arduino glue checked with their parsers and listing the same sources as the CMake library, and the
folder rules (never over a user's files). Building and running it: tests/toolchain/
test_library_build.py (host, and every build system's list against CMake's) and
tests/emulator/test_library_qemu.py (arm-none-eabi-gcc + QEMU)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _library_manifests import (
    arduino_problems,
    arduino_sources,
    parse_library_properties,
    platformio_manifest,
    platformio_sources,
    zephyr_module,
)
from conftest import shared_model

from tinyforge import api
from tinyforge.cli import main
from tinyforge.codegen.cgen import kernel_sources
from tinyforge.codegen.kernel_files import kernels_root
from tinyforge.errors import BuildError
from tinyforge.toolchain.library import LIB_NAME, MANIFEST, MODEL_FILES

# (model, board): a DSP board and a Helium board, so both kernel families are exported
CASES = {"kws-an386": ("kws_ref_model.tflite", "mps2-an386"), "ad-an547": ("ad01_int8.tflite", "mps3-an547")}


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module", params=sorted(CASES))
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> api.ExportResult:
    model, board = CASES[request.param]
    return api.export(shared_model(model), board, tmp_path_factory.mktemp("lib") / f"{request.param}-lib")


def files_in(d: Path) -> set[str]:
    return {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()}


def test_only_the_model_and_the_kernels_it_calls(exported: api.ExportResult) -> None:
    d = exported.directory
    rep = exported.report
    used = exported.compiled.project.kernels_used
    src = {f.removeprefix("src/") for f in files_in(d) if f.startswith("src/")}
    assert src == set(MODEL_FILES) | set(used.sources) | set(used.headers)
    # only what the layers call: fewer sources than the board's whole kernel library
    board_kernels = {
        p.relative_to(kernels_root()).as_posix() for p in kernel_sources(exported.compiled.target.features)
    }
    assert set(rep["kernels"]) == set(used.sources) and set(used.sources) < board_kernels
    functions = {lay.call.function for lay in exported.compiled.layers}
    model_c = (d / "src/model.c").read_text()
    assert functions <= set(re.findall(r"\b(tf_\w+)\(", model_c))
    # every kernel file copied verbatim
    for rel in (*used.sources, *used.headers):
        assert (d / "src" / rel).read_bytes() == (kernels_root() / rel).read_bytes()
    # the user's firmware owns start-up, linker script, drivers and main()
    names = {Path(f).name for f in files_in(d)}
    assert not names & {"main.c", "startup.c", "linker.ld", "bsp.h", "bsp.c", "fault.c", "Makefile"}
    assert rep["sources"] == json.loads((d / MANIFEST).read_text())["sources"]
    assert set(rep["files"]) == files_in(d) - {".tinyforge-files"}


def test_model_h_carries_the_api_shapes_quantization_and_arena(exported: api.ExportResult) -> None:
    h = (exported.directory / "src/model.h").read_text()
    c = exported.compiled
    for name in ("model_init", "model_invoke", "model_run", "model_input", "model_output"):
        assert re.search(rf"\b{name}\(", h), name
    assert f"#define MODEL_ARENA_BYTES {c.stats.arena_bytes}\n" in h
    spec = c.inputs[0]
    assert f"#define MODEL_INPUT0_SHAPE {{ {', '.join(map(str, spec.shape))} }}" in h
    assert f"#define MODEL_INPUT0_ZERO_POINT {spec.zero_point}\n" in h
    assert f"#define MODEL_OUTPUT0_BYTES {c.outputs[0].nbytes}\n" in h


def test_platformio_library_json(exported: api.ExportResult) -> None:
    d = exported.directory
    manifest = platformio_manifest(d)  # PlatformIO's parser + schema, and it picks library.json
    assert manifest["name"] == LIB_NAME and manifest["headers"] == ["model.h"]
    build = manifest["build"]
    assert build["includeDir"] == "src"
    board = api.board(exported.board)
    from tinyforge.toolchain.flags import cpu_flags

    assert build["flags"][: len(cpu_flags(board))] == list(cpu_flags(board))
    assert platformio_sources(d) == sorted(exported.report["sources"])


def test_arduino_library_properties(exported: api.ExportResult) -> None:
    d = exported.directory
    assert arduino_problems(d) == []
    assert arduino_sources(d) == sorted(exported.report["sources"])
    props = parse_library_properties((d / "library.properties").read_text())
    assert props["includes"] == "model.h" and props["category"] == "Data Processing"


def test_zephyr_module(exported: api.ExportResult) -> None:
    mod = zephyr_module(exported.directory)  # module.yml by the schema, Kconfig by kconfiglib
    assert mod["meta"]["name"] == LIB_NAME
    sym = mod["symbols"]["TINYFORGE_MODEL"]
    assert sym["type"] == "bool" and exported.compiled.name in sym["prompt"] and sym["help"]


def test_the_checkers_catch_broken_manifests(tmp_path: Path, exported: api.ExportResult) -> None:
    """The parsers above are not rubber stamps: broken copies of the files fail them."""
    import shutil

    import jsonschema

    d = tmp_path / "broken"
    shutil.copytree(exported.directory, d)
    props = (d / "library.properties").read_text()
    (d / "library.properties").write_text(
        props.replace("category=Data Processing", "category=Machine Learning").replace("url=", "#url=")
    )
    problems = arduino_problems(d)
    assert "missing url" in problems and any("category" in p for p in problems)
    with pytest.raises(ValueError, match="given twice"):
        parse_library_properties("name=a\nname=b\n")
    (d / "zephyr/module.yml").write_text("name: tinyforge_model\nbuild:\n  cmake: zephyr\n  kconfg: x\n")
    with pytest.raises(jsonschema.ValidationError):
        zephyr_module(d)


def test_refuses_a_folder_with_files_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "vendor"
    d.mkdir()
    (d / "CMakeLists.txt").write_text("# the user's own\n")
    model = str(shared_model("ad01_int8.tflite"))
    code, out, err = run_cli(capsys, "export", model, "-o", str(d))
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: ") and "refusing to overwrite" in err and "--force" in err
    assert (d / "CMakeLists.txt").read_text() == "# the user's own\n"
    code, out, err = run_cli(capsys, "export", model, "-o", str(d), "--force")
    assert code == 0, err
    assert (d / "CMakeLists.txt").read_text().startswith("# tinyforge_model")
    with pytest.raises(BuildError, match="is not a directory"):
        api.export(model, "mps2-an386", d / "CMakeLists.txt")


def test_exporting_again_replaces_its_own_files(tmp_path: Path) -> None:
    """A second export into the same folder needs no --force and drops the kernels the new model
    does not call."""
    d = tmp_path / "lib"
    kws = api.export(shared_model("kws_ref_model.tflite"), "mps2-an386", d)
    (d / "src/extra_user_file.c").write_text("int x;\n")  # the user's: kept
    assert (d / "src/dsp/tf_dsp_conv.c").is_file()
    with pytest.raises(BuildError, match="extra_user_file.c"):
        api.export(shared_model("ad01_int8.tflite"), "mps2-an386", d)
    (d / "src/extra_user_file.c").unlink()
    ad = api.export(shared_model("ad01_int8.tflite"), "mps2-an386", d)
    assert not (d / "src/dsp/tf_dsp_conv.c").exists()  # KWS only
    assert ad.report["kernels"] == ["dsp/tf_dsp_fully_connected.c"] and len(kws.report["kernels"]) == 5
    assert files_in(d) - {".tinyforge-files"} == set(ad.report["files"])


def test_cli_json_and_the_host_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = str(shared_model("ad01_int8.tflite"))
    url = "https://example.com/my-product"
    h = tmp_path / "h"
    code, out, err = run_cli(capsys, "export", model, "--board", "host", "-o", str(h), "--url", url, "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["board"] == "host" and rep["cpu_flags"] == [] and rep["kernels"] == ["fast/tf_fast_conv.c"]
    assert not (h / "cmake").exists()  # no cross toolchain file for the host
    assert parse_library_properties((h / "library.properties").read_text())["url"] == url
    assert platformio_manifest(h)["homepage"] == url
    code, out, err = run_cli(capsys, "export", model, "--board", "nope", "-o", str(tmp_path / "x"))
    assert code == 2 and err.startswith("error: ") and not (tmp_path / "x").exists()


def test_text_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys, "export", str(shared_model("kws_ref_model.tflite")), "-o", str(tmp_path / "k")
    )
    assert code == 0, err
    assert "input 0: int8 1x49x10x1 (490 B)" in out and "kernels: 5 sources" in out
    assert f"add_subdirectory({tmp_path / 'k'} tinyforge_model)" in out
