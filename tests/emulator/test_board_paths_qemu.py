"""`tinyforge test` and `tinyforge bench` on a board given as a path to a .toml (issue 14: both
said "unknown board"): a user's copy of the default board runs in QEMU like the built-in one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _models import dense

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


@pytest.fixture(scope="module")
def my_m4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default board's file under another name, outside tinyforge's boards/."""
    path = tmp_path_factory.mktemp("boards") / "my-m4.toml"
    path.write_text(
        (boards_dir() / "mps2-an386.toml").read_text().replace('name = "mps2-an386"', 'name = "my-m4"')
    )
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dense(tmp_path_factory.mktemp("m") / "dense.tflite", 48, 12)


def test_test_on_a_board_file(model: Path, my_m4: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "test", str(model), "--board", str(my_m4), "--inputs", "2", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["board"] == "my-m4" and rep["bit_exact"] and rep["instructions_per_inference"] > 0


def test_bench_on_a_board_file(model: Path, my_m4: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "bench", str(model), "--board", str(my_m4), "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["board"] == "my-m4" and rep["bit_exact"] and rep["macs"] == 48 * 12


def test_test_of_a_build_for_a_board_file(
    model: Path, my_m4: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "b"
    assert run_cli(capsys, "build", str(model), "--board", str(my_m4), "-o", str(out_dir))[0] == 0
    code, out, err = run_cli(capsys, "test", str(out_dir), "--board", str(my_m4), "--json")
    assert code == 0, err
    assert json.loads(out)["board"] == "my-m4"


def test_build_dir_remembers_its_board_file(
    model: Path, my_m4: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A build from a board file records the file (report.json `board_file`), so `test DIR` needs
    no --board; a built-in board is recorded by name only."""
    out_dir = tmp_path / "b"
    assert run_cli(capsys, "build", str(model), "--board", str(my_m4), "-o", str(out_dir))[0] == 0
    assert json.loads((out_dir / "report.json").read_text())["board_file"] == str(my_m4.resolve())
    code, out, err = run_cli(capsys, "test", str(out_dir), "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["board"] == "my-m4" and rep["bit_exact"]
    builtin = tmp_path / "c"
    assert run_cli(capsys, "build", str(model), "-o", str(builtin))[0] == 0
    assert "board_file" not in json.loads((builtin / "report.json").read_text())
