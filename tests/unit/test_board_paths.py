"""A board given as a path to a .toml is resolved once (by the api) and works in every command the
same as a built-in name (issue 14: `test` and `bench` said "unknown board" for a path). The
commands here stop before any toolchain: what they print proves the path was resolved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tinyforge import api
from tinyforge.cli import main
from tinyforge.resources import boards_dir

CUSTOM = Path(__file__).resolve().parents[1] / "data" / "boards" / "valid_custom.toml"  # STM32F4, real only


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def my_m4(tmp_path: Path) -> Path:
    """A user's copy of the default board under another name, on the built-in `mps2` family."""
    text = (boards_dir() / "mps2-an386.toml").read_text().replace('name = "mps2-an386"', 'name = "my-m4"')
    path = tmp_path / "my-m4.toml"
    path.write_text(text)
    return path


def test_api_resolves_a_path_a_name_and_a_profile_alike(tmp_path: Path) -> None:
    path = my_m4(tmp_path)
    by_path = api.board(path)
    assert by_path.name == "my-m4" and by_path.is_emulated
    assert api.board(str(path)) == by_path and api.board(by_path) is by_path
    assert api.target_for(path) == api.target_for("mps2-an386")


def test_boards_show_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "boards", "show", str(CUSTOM), "--json")
    assert code == 0 and json.loads(out)["name"] == "valid_custom"


@pytest.mark.parametrize("command", ["test", "bench"])
def test_test_and_bench_resolve_a_board_path(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = tmp_path / "m.tflite"
    shutil.copy(Path(__file__).resolve().parents[1] / "data" / "mlperf-tiny" / "ad01_int8.tflite", model)
    code, _out, err = run_cli(capsys, command, str(model), "--board", str(CUSTOM))
    # the board was loaded from the file (not looked up as a name), then refused for what it is
    assert code == 2 and "board valid_custom is not emulated" in err and "unknown board" not in err


def test_flash_resolves_a_board_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    image = tmp_path / "app.bin"
    image.write_bytes(b"\x00" * 64)
    code, _out, err = run_cli(capsys, "flash", str(image), "--board", str(CUSTOM), "--method", "uf2")
    assert code == 2 and "board valid_custom has no uf2 flash method" in err


def test_monitor_resolves_a_board_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (boards_dir() / "nucleo-f446re.toml").read_text()
    board = tmp_path / "my-nucleo.toml"
    board.write_text(text.replace('name = "nucleo-f446re"', 'name = "my-nucleo"'))
    code, _out, err = run_cli(capsys, "monitor", "--port", "auto", "--board", str(board), "--timeout", "1")
    # `auto` looked for the USB id the board file declares (no such device here)
    assert code == 2 and "unknown board" not in err and "0483:374b" in err
