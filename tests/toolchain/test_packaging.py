"""The wheel carries boards, templates, firmware and examples, and works from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from tinyforge import proc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_wheel_ships_data_and_runs_elsewhere(tmp_path):
    proc.run_tool(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            REPO,
        ],
        timeout=300,
    )
    (wheel,) = tmp_path.glob("tinyforge-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / "site")
    for need in (
        "tinyforge/_data/boards/mps2-an386.toml",
        "tinyforge/_data/boards/families/mps2.toml",
        "tinyforge/_data/templates/model.c.j2",
        "tinyforge/_data/firmware/kernels/tf_common.h",
        "tinyforge/_data/firmware/bsp/bsp.h",
        "tinyforge/_data/examples/digits/digits.keras",
    ):
        assert need in names, need
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import tinyforge.resources as r, tinyforge.boards as b;"
        "print(r.data_root()); print(len(b.list_boards()));"
        "print((r.templates_dir() / 'model.c.j2').is_file())"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}  # the unpacked wheel, not the checkout
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True)
    root, count, has_template = out.stdout.split()
    assert root == str(tmp_path / "site" / "tinyforge" / "_data")
    assert count == "9" and has_template == "True"
