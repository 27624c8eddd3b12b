"""A board given as a path to a .toml through the whole host and build pipeline (issue 14): the
api resolves it once and every stage below takes the profile, so a board that is not built in
works wherever a name does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _fw_models import dense

from tinyforge.cli import main
from tinyforge.resources import boards_dir


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def board_copy(tmp_path: Path, builtin: str, name: str) -> Path:
    """A user's board file: a built-in board under another name (families from boards/families)."""
    path = tmp_path / "boards" / f"{name}.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        (boards_dir() / f"{builtin}.toml").read_text().replace(f'name = "{builtin}"', f'name = "{name}"')
    )
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dense(tmp_path_factory.mktemp("m") / "dense.tflite", 32, 8)


def test_test_on_a_host_board_file(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = board_copy(tmp_path, "host", "my-host")
    code, out, err = run_cli(capsys, "test", str(model), "--board", str(board), "--inputs", "3", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["board"] == "my-host" and rep["bit_exact"] and rep["inputs"] == 3


def test_build_for_a_board_file(model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = board_copy(tmp_path, "mps2-an386", "my-m4")
    out_dir = tmp_path / "out"
    code, out, err = run_cli(capsys, "build", str(model), "--board", str(board), "-o", str(out_dir), "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["board"] == "my-m4" and (out_dir / "firmware.elf").is_file()
    assert json.loads((out_dir / "report.json").read_text())["board"] == "my-m4"
