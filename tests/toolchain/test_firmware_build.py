"""`tinyforge build`: real arm-none-eabi-gcc builds, the build directory, its Makefile, manifest,
memory report, refusals, PlatformIO and Renode files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _fw_models import dense, logistic, max_pool

from tinyforge import api, proc
from tinyforge.cli import main
from tinyforge.errors import BuildError
from tinyforge.toolchain.firmware import section_sizes, symbol_address
from tinyforge.toolchain.manifest import read_manifest


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("models")
    return {"logistic": logistic(d / "logistic.tflite"), "dense": dense(d / "dense.tflite", 64, 16)}


@pytest.fixture(scope="module")
def built(models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> api.BuildResult:
    return api.build(models["dense"], "mps2-an386", tmp_path_factory.mktemp("b") / "dense", inputs=3)


def test_build_directory_layout(built: api.BuildResult) -> None:
    d = built.directory
    for rel in (
        "model.tflite", "Makefile", "linker.ld", "report.json", "firmware.elf", "firmware.bin", "firmware.hex",
        "src/main.c", "src/inputs.S", "src/inputs.bin", "src/bsp_config.h", "src/manifest.c",
        "lib/model/model.c", "lib/model/model.h", "lib/model/weights.bin", "lib/bsp/bsp.h", "lib/bsp/uart_cmsdk.c",
        "lib/kernels/tf_common.h",
    ):  # fmt: skip
        assert (d / rel).is_file(), rel
    assert not (d / "lib/bsp/uart_stm32.c").exists()  # only the board's own console driver
    assert (d / "src/inputs.bin").stat().st_size == 3 * 64
    report = json.loads((d / "report.json").read_text())
    assert report["board"] == "mps2-an386" and report["inputs"] == 3
    assert report["sizes"]["weights"] >= 64 * 16 and report["flash_bytes"] == built.sizes["flash_bytes"]


def test_sizes_and_regions_come_from_the_elf(built: api.BuildResult) -> None:
    sizes = section_sizes(built.elf)
    assert sizes.stack == 8192 and sizes.text > 1000 and sizes.inputs == 3 * 64
    assert sizes.arena >= built.compiled.stats.arena_bytes
    flash, ram = built.regions[0], built.regions[1]
    # laid out for the board's default flash method: after the bench bootloader's 64 KiB
    assert built.report["layout"] == {
        "method": "stm32-uart",
        "loader": "tinyforge",
        "app_offset": 0x10000,
        "address": "0x00010000",
        "chosen_by": "board default",
    }
    assert (flash["name"], flash["origin"], flash["size"]) == ("FLASH", 0x10000, 4 * 1024 * 1024 - 0x10000)
    assert flash["used"] == sizes.flash_bytes and ram["used"] == sizes.ram_bytes
    # the vector table is first in the application's flash; the stack ends at the top of .stack
    assert symbol_address(built.elf, "bsp_vectors") == 0x10000
    top, bottom = symbol_address(built.elf, "__tf_stack_top"), symbol_address(built.elf, "__tf_stack_bottom")
    assert top is not None and bottom is not None and top - bottom == 8192 and top % 8 == 0


def test_manifest_round_trip(built: api.BuildResult, capsys: pytest.CaptureFixture[str]) -> None:
    m = read_manifest(built.elf)
    assert m["board"] == "mps2-an386" and m["tinyforge"] and m["build_time"].endswith("Z")
    assert m["model_sha256"] == built.report["model_sha256"] and len(m["model_sha256"]) == 64
    code, out, _ = run_cli(["inspect", str(built.elf), "--json"], capsys)
    assert code == 0 and json.loads(out)["model_sha256"] == m["model_sha256"]


def test_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="no such file"):
        read_manifest(tmp_path / "nope.elf")
    (tmp_path / "junk.elf").write_bytes(b"not an elf")
    with pytest.raises(BuildError, match="not an ELF file"):
        read_manifest(tmp_path / "junk.elf")


@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])  # the M55 build passes kernel variants
def test_generated_makefile_rebuilds_the_same_binary(
    built: api.BuildResult, models: dict[str, Path], board: str, tmp_path: Path
) -> None:
    if board != built.board:
        built = api.build(models["dense"], board, tmp_path / "b", inputs=3)
        assert "TF_MVE_GEMM_VARIANTS" in (built.directory / "Makefile").read_text()
    copy = tmp_path / "copy"
    shutil.copytree(built.directory, copy)
    for junk in ("build", "firmware.elf", "firmware.bin", "firmware.hex"):
        p = copy / junk
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    res = subprocess.run(
        ["make", "-s", "-C", str(copy), "firmware.bin"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    assert (copy / "firmware.bin").read_bytes() == built.bin.read_bytes()  # type: ignore[union-attr]


def test_rebuild_into_own_directory_and_refuse_foreign_files(
    models: dict[str, Path], built: api.BuildResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "out"
    api.build(models["logistic"], "mps2-an385", d, inputs=1)
    api.build(models["logistic"], "mps2-an385", d, inputs=1)  # our own files: fine
    (d / "notes.txt").write_text("mine")
    code, _out, err = run_cli(
        ["build", str(models["logistic"]), "--board", "mps2-an385", "-o", str(d)], capsys
    )
    assert code == 2
    assert f"error: {d} holds files tinyforge did not write (notes.txt); refusing to overwrite them" in err
    assert "--force" in err
    code, _out, _err = run_cli(
        ["build", str(models["logistic"]), "--board", "mps2-an385", "-o", str(d), "--force"], capsys
    )
    assert code == 0 and (d / "notes.txt").read_text() == "mine"


def test_stale_files_of_an_earlier_build_are_removed(models: dict[str, Path], tmp_path: Path) -> None:
    d = tmp_path / "out"
    api.build(models["logistic"], "nucleo-l4r5zi", d, inputs=1)
    assert (d / "lib/bsp/board_nucleo_l4r5zi.c").is_file()
    api.build(models["logistic"], "mps2-an386", d, inputs=1)
    assert not (d / "lib/bsp/board_nucleo_l4r5zi.c").exists() and (d / "lib/bsp/uart_cmsdk.c").is_file()


def test_bad_input_errors(
    models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    m = str(models["logistic"])
    code, _, err = run_cli(["build", m, "--board", "host", "-o", str(tmp_path / "h")], capsys)
    assert code == 2 and "the host board runs models natively, it has no firmware to build" in err
    code, _, err = run_cli(["build", m, "--app-offset", "0x100", "-o", str(tmp_path / "a")], capsys)
    assert (
        code == 2
        and "--app-offset 0x100 is not a multiple of 0x200 (the vector table alignment on mps2-an386)" in err
    )
    code, _, err = run_cli(["build", m, "--board", "nucleo-f999", "-o", str(tmp_path / "b")], capsys)
    assert code == 2 and "unknown board 'nucleo-f999'" in err
    code, _, err = run_cli(["build", str(tmp_path / "missing.tflite")], capsys)
    assert code == 2 and "no such file" in err


def test_model_too_big_fails_before_compiling(tmp_path: Path) -> None:
    big = dense(tmp_path / "big.tflite", 1024, 640)  # 640 KB of weights
    seen: list[tuple[str, ...]] = []
    proc.add_observer(seen.append)
    try:
        with pytest.raises(BuildError) as exc:
            api.build(big, "nucleo-f446re", tmp_path / "out", inputs=1)
    finally:
        proc.remove_observer(seen.append)
    assert re.match(
        r"model does not fit: weights [\d,]+ KB > flash 512 KB on nucleo-f446re, [\d,]+ KB too much$",
        exc.value.message,
    )
    assert not seen and not (tmp_path / "out").exists()  # no gcc ran, nothing was written


def test_arena_too_big_for_ram(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = logistic(tmp_path / "wide.tflite", (1, 200, 200, 4))  # arena 156 KB (in place) + 156 KB outputs
    code, _, err = run_cli(
        ["build", str(m), "--board", "nucleo-f446re", "--inputs", "1", "-o", str(tmp_path / "o")], capsys
    )
    assert code == 2
    assert re.search(
        r"model does not fit: arena 156 KB \+ scratch \d+ B \+ output buffers 156 KB \+ stack 8.0 KB > RAM 128 KB "
        r"on nucleo-f446re, \d+ KB too much",
        err,
    )


def test_big_arena_goes_to_another_ram_region(tmp_path: Path) -> None:
    m = max_pool(tmp_path / "mid.tflite", (1, 200, 200, 4))  # arena 160 + 40 KB > sram1 192 KB
    res = api.build(m, "nucleo-l4r5zi", tmp_path / "o", inputs=1)
    assert res.report["arena_region"] == "SRAM3"
    arena = symbol_address(res.elf, "__tf_arena_start")
    assert arena is not None and 0x20040000 <= arena < 0x200A0000
    assert {r["name"]: r["used"] for r in res.regions}["SRAM3"] >= 200_000


@pytest.mark.parametrize("board", ["nucleo-f446re", "nucleo-l4r5zi"])
def test_real_boards_build_with_memory_report(
    board: str, models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["build", str(models["dense"]), "--board", board, "-o", str(tmp_path / "o"), "-v"], capsys
    )
    assert code == 0, err
    report = json.loads((tmp_path / "o/report.json").read_text())
    flash = report["regions"][0]
    assert flash["origin"] == 0x08000000
    assert flash["size"] == {"nucleo-f446re": 512 * 1024, "nucleo-l4r5zi": 2 * 1024 * 1024}[board]
    assert "Flash: [" in out and f"(used {flash['used']:,} bytes from {flash['size']:,} bytes)" in out
    assert "FULLY_CONNECTED" in out  # the --verbose per-layer table
    assert symbol_address(tmp_path / "o/firmware.elf", "bsp_board_init") is not None
    assert read_manifest(tmp_path / "o/firmware.elf")["board"] == board


def test_app_offset_links_after_a_bootloader(models: dict[str, Path], tmp_path: Path) -> None:
    res = api.build(models["logistic"], "nucleo-f446re", tmp_path / "o", inputs=1, app_offset=0x4000)
    assert symbol_address(res.elf, "bsp_vectors") == 0x08004000
    assert res.regions[0]["origin"] == 0x08004000 and res.regions[0]["size"] == 512 * 1024 - 0x4000


def test_opt_size_uses_os(models: dict[str, Path], tmp_path: Path) -> None:
    seen: list[tuple[str, ...]] = []
    proc.add_observer(seen.append)
    try:
        res = api.build(models["dense"], "mps2-an386", tmp_path / "z", inputs=1, opt="size")
    finally:
        proc.remove_observer(seen.append)
    compiles = [argv for argv in seen if "-c" in argv]
    assert compiles and all("-Os" in argv and "-O2" not in argv for argv in compiles)
    assert "-Os" in (tmp_path / "z/Makefile").read_text() and res.report["opt"] == "size"


def test_platformio_ini_parses_with_platformio(models: dict[str, Path], tmp_path: Path) -> None:
    from platformio.project.config import ProjectConfig

    res = api.build(models["dense"], "nucleo-f446re", tmp_path / "o", inputs=1, platformio=True)
    cfg = ProjectConfig(str(res.directory / "platformio.ini"))
    cfg.validate()
    assert cfg.envs() == ["nucleo_f446re"]
    env = "env:nucleo_f446re"
    assert cfg.get(env, "platform") == "ststm32" and cfg.get(env, "board") == "nucleo_f446re"
    flags = cfg.get(env, "build_flags")
    assert "-mcpu=cortex-m4" in flags and "-mfloat-abi=hard" in flags and "-Ilib/model" in flags
    assert cfg.get(env, "board_build.ldscript") == "linker.ld" and cfg.get(env, "lib_deps") == [
        "model",
        "kernels",
        "bsp",
    ]
    with pytest.raises(BuildError, match="PlatformIO has no board for mps2-an386"):
        api.build(models["dense"], "mps2-an386", tmp_path / "m", inputs=1, platformio=True)


@pytest.mark.parametrize("board", ["mps2-an505", "nucleo-f446re", "nucleo-l4r5zi"])
def test_renode_robot_parses_with_robotframework(board: str, models: dict[str, Path], tmp_path: Path) -> None:
    from robot.api import TestSuiteBuilder, get_model

    res = api.build(models["dense"], board, tmp_path / "o", inputs=2, renode=True)
    robot = res.directory / "renode/firmware.robot"
    model = get_model(str(robot))
    sections = {type(s).__name__ for s in model.sections}
    assert {"SettingSection", "VariableSection", "KeywordSection", "TestCaseSection"} <= sections
    suite = TestSuiteBuilder().build(str(robot))
    (case,) = suite.tests
    steps = [(k.name, tuple(k.args)) for k in case.body]
    assert steps[0][0] == "Create Machine" and steps[1][0] == "Create Terminal Tester"
    waits = [args for name, args in steps if name == "Wait For Line On Uart"]
    assert waits[0][0].startswith(f"TF BEGIN board={board} model=") and waits[-1] == (
        "TF DONE status=pass count=2",
    )
    # the expected RESULT lines are the TFLM reference outputs
    from tinyforge.codegen.inputs import InputSet
    from tinyforge.run.verify import reference_outputs

    recs = (res.directory / "src/inputs.bin").read_bytes()
    import numpy as np

    data = InputSet(
        tuple((np.frombuffer(recs[i * 64 : (i + 1) * 64], np.int8).reshape(1, 64),) for i in range(2))
    )
    ref = reference_outputs(res.compiled, data)
    assert waits[1] == (f"^TF RESULT idx=0 ticks=\\\\d+ out0={ref[0][0].hex()}$", "treatAsRegex=true")
    resc = (res.directory / "renode/firmware.resc").read_text()
    assert "machine LoadPlatformDescription $platform" in resc and "sysbus LoadELF $elf" in resc
    if board != "nucleo-f446re":  # Renode ships no platform for these: we generate one
        repl = next((res.directory / "renode").glob("*.repl")).read_text()
        from tinyforge.boards import load_board

        assert f"@ sysbus 0x{load_board(board).console.base:08X}" in repl
        assert "CPU.CortexM @ sysbus" in repl and "systickFrequency:" in repl


@pytest.mark.slow
def test_float_keras_model_is_converted_into_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = Path(__file__).resolve().parents[1] / "data/mlperf-tiny/ad01.h5"
    if not src.is_file():
        pytest.fail(f"{src} is missing: it belongs in tests/data/mlperf-tiny")
    before = sorted(p.name for p in src.parent.iterdir())
    code, out, err = run_cli(
        ["build", str(src), "-o", str(tmp_path / "o"), "--inputs", "1", "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["board"] == "mps2-an386"
    from tinyforge.ir.passes import check_quantized
    from tinyforge.model.tflite import read_tflite

    check_quantized(read_tflite(tmp_path / "o/model.tflite").graph)  # the int8 model is in the build
    assert sorted(p.name for p in src.parent.iterdir()) == before  # nothing written beside the source
