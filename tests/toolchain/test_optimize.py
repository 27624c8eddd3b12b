"""`--optimize size|balanced|speed` on `tinyforge build`/`test`/`bench`: what each mode puts in
flash, recorded in report.json and the embedded manifest and shown in the memory report; an explicit
`speed` on a board without room for int16 weights is a fit error that names the option."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _fw_models import dense

from tinyforge import api
from tinyforge.cli import main
from tinyforge.errors import BuildError, UsageError
from tinyforge.toolchain.manifest import read_manifest


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dense(tmp_path_factory.mktemp("m") / "dense.tflite", 64, 16)


@pytest.mark.parametrize(
    ("optimize", "mode", "ratio"),
    [
        ("size", "int8", (0.98, 1.02)),
        ("balanced", "int8", (0.98, 1.02)),
        ("speed", "int16 expanded", (1.8, 2.3)),
    ],
)
def test_build_records_the_mode(
    optimize: str,
    mode: str,
    ratio: tuple[float, float],
    model: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out_dir = tmp_path / "o"
    code, out, err = run_cli(
        ["build", str(model), "--board", "mps2-an386", "--optimize", optimize, "-o", str(out_dir)], capsys
    )
    assert code == 0, err
    report = json.loads((out_dir / "report.json").read_text())
    assert report["optimize"] == optimize
    w = report["weights"]
    assert w["mode"] == mode and w["image_bytes"] == report["sizes"]["weights"]
    assert w["model_bytes"] == 64 * 16 + 16 * 4  # int8 weights and int32 biases, per-tensor scale
    assert ratio[0] <= w["ratio"] <= ratio[1]
    # the memory report says what the weights cost
    assert re.search(
        rf"weights [\d.,]+ [KB ]*\({re.escape(mode)}, {w['ratio']:.2f}x of the model's\)", out
    ), out
    assert f"(--optimize {optimize})" in out
    manifest = read_manifest(out_dir / "firmware.elf")
    assert manifest["optimize"] == optimize and manifest["weights"].startswith(mode)


def test_default_is_balanced(model: Path, tmp_path: Path) -> None:
    res = api.build(model, "mps2-an386", tmp_path / "o", inputs=1)
    assert res.report["optimize"] == "balanced" and res.report["weights"]["mode"] == "int8"


def test_speed_without_room_is_a_fit_error_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = dense(tmp_path / "big.tflite", 1024, 300)  # 300 KB of int8 weights, 600 KB as int16
    with pytest.raises(BuildError) as exc:
        api.build(big, "nucleo-f446re", tmp_path / "speed", inputs=1, optimize="speed")
    assert exc.value.message.startswith("model does not fit with --optimize speed: weights ")
    assert "(int16 expanded)" in exc.value.message and "flash 512 KB on nucleo-f446re" in exc.value.message
    assert exc.value.hint and "--optimize balanced or size keeps the weights int8" in exc.value.hint
    assert "which fits" in exc.value.hint
    assert not (tmp_path / "speed").exists()
    code, _, err = run_cli(
        ["build", str(big), "--board", "nucleo-f446re", "--optimize", "speed", "-o", str(tmp_path / "c")],
        capsys,
    )
    assert code == 2 and "error: model does not fit with --optimize speed" in err
    # the default keeps the weights int8: it fits
    res = api.build(big, "nucleo-f446re", tmp_path / "default", inputs=1)
    assert res.report["weights"]["mode"] == "int8" and res.report["weights"]["ratio"] <= 1.02


def test_unknown_mode(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError) as exc:
        api.compile(model, "mps2-an386", optimize="fast")
    assert exc.value.message == "--optimize fast: unknown mode"
    code, _, err = run_cli(["build", str(model), "--optimize", "fast", "-o", str(tmp_path / "o")], capsys)
    assert code == 2 and "'fast' is not one of 'size', 'balanced', 'speed'" in err


def test_a_build_directory_keeps_its_mode(model: Path, tmp_path: Path) -> None:
    api.build(model, "mps2-an386", tmp_path / "o", inputs=1, optimize="size")
    with pytest.raises(UsageError) as exc:
        api.test_emulator(tmp_path / "o", optimize="speed")
    assert exc.value.message == f"{tmp_path / 'o'} was built with --optimize size, not speed"


def test_api_and_registry_agree_on_the_modes() -> None:
    from tinyforge.kernels.registry import DEFAULT_OPTIMIZE, OPTIMIZE_MODES

    assert api.OPTIMIZE_MODES == OPTIMIZE_MODES and DEFAULT_OPTIMIZE == "balanced"
