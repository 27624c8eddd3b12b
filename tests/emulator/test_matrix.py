"""`tinyforge test MODEL... --board B1,B2 --jobs N`: the model x board matrix in worker processes,
and the object cache under two builds of the same kernels at once."""

from __future__ import annotations

import json
import multiprocessing
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tinyforge.cli import main

pytestmark = pytest.mark.emulator

MLPERF = Path(__file__).resolve().parents[1] / "data" / "mlperf-tiny"
KWS = MLPERF / "kws_ref_model.tflite"
AD = MLPERF / "ad01_int8.tflite"
BOARDS = ("mps2-an386", "mps3-an547")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_matrix_two_models_two_boards_two_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, junit = tmp_path / "out", tmp_path / "report.xml"
    code, stdout, err = run_cli(
        capsys,
        *[
            "test",
            str(KWS),
            str(AD),
            "--board",
            ",".join(BOARDS),
            "--jobs",
            "2",
            "--inputs",
            "2",
            "--out",
            str(out),
            "--junit",
            str(junit),
        ],
    )
    assert code == 0, stdout + err
    # the table: a header, a rule, one row per pair (model-major), the count
    lines = stdout.strip().splitlines()
    assert lines[0].split() == ["model", "board", "bit-exact", "instructions", "flash", "B", "RAM", "B"]
    rows = [ln.split() for ln in lines[2:6]]
    assert [(row[0], row[1]) for row in rows] == [(m.name, b) for m in (KWS, AD) for b in BOARDS]
    assert all(row[2] == "yes" for row in rows)
    assert lines[6] == "4/4 pairs bit-exact"
    # JUnit: one case per pair, each with its figures
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "0", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [f"{m.name} on {b}" for m in (KWS, AD) for b in BOARDS]
    for case, row in zip(cases, rows, strict=True):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert int(props["instructions_per_inference"]) == int(row[3].replace(",", "")) > 0
        assert int(props["flash_bytes"]) == int(row[4].replace(",", "")) > 0
        assert case.find("failure") is None
    # each pair built in its own folder under --out
    for m in ("kws_ref_model", "ad01_int8"):
        for b in BOARDS:
            report = json.loads((out / f"{m}-{b}" / "report.json").read_text())
            assert report["board"] == b
            assert (out / f"{m}-{b}" / "firmware.elf").is_file()


def test_matrix_error_pair_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A pair that cannot run is an <error> case and a non-zero exit; the other pair still runs."""
    junit = tmp_path / "r.xml"
    code, stdout, err = run_cli(
        capsys,
        *["test", str(AD), "--board", "host,nucleo-f446re", "--inputs", "2"],
        *["--out", str(tmp_path / "out"), "--junit", str(junit)],
    )
    assert code == 1, stdout + err
    assert "1/2 pairs bit-exact" in stdout
    assert "error: ad01_int8.tflite on nucleo-f446re: board nucleo-f446re is not emulated" in stdout
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "1")
    host, nucleo = suite.findall("testcase")
    assert host.find("error") is None and host.find("failure") is None
    assert nucleo.find("error") is not None


def test_matrix_bad_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "test", str(AD), "--board", "host,no-such-board", "--jobs", "2")
    assert code != 0 and err.startswith("error: ") and "no-such-board" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "test", str(AD), str(KWS), "--board", "host", "--jobs", "0")
    assert code != 0 and err.startswith("error: --jobs 0: must be at least 1")


def _build_and_test(cache: str, workdir: str, barrier: Any, results: Any) -> None:
    import os

    os.environ["TINYFORGE_CACHE"] = cache
    from tinyforge import api

    barrier.wait(timeout=120)  # both start building at once
    rep = api.test_emulator(str(KWS), "mps2-an386", inputs=2, workdir=workdir)
    results.put((workdir, rep.bit_exact, rep.extra["instructions_per_inference"], rep.extra["flash_bytes"]))


def test_two_processes_build_the_same_kernels_into_one_fresh_cache(tmp_path: Path) -> None:
    """Two jobs building the same model for the same board at once, sharing a fresh object
    cache: both succeed bit-exact with the same figures, and the cache holds only whole entries."""
    cache = tmp_path / "cache"
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_build_and_test, args=(str(cache), str(tmp_path / f"w{i}"), barrier, results))
        for i in range(2)
    ]
    for p in procs:
        p.start()
    try:
        got = [results.get(timeout=600) for _ in procs]
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
                p.join()
    assert [p.exitcode for p in procs] == [0, 0]
    assert sorted(g[0] for g in got) == [str(tmp_path / "w0"), str(tmp_path / "w1")]
    assert all(g[1] for g in got)  # bit-exact
    assert got[0][2:] == got[1][2:]  # same instructions and flash
    entries = list((cache / "objects-v2").iterdir())
    assert entries, "the builds published nothing to the cache"
    for e in entries:  # no half-written entry, no leftover temporary folder
        assert len(e.name) == 64, e.name
        assert {f.name for f in e.iterdir()} == {"obj.o", "deps.json"}


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize("model", [AD], ids=["ad01"])
def test_plugin_matrix(tinyforge_run, model: Path, board: str) -> None:  # noqa: ANN001
    """The pytest plugin parametrised over models x boards (runs side by side under `pytest -n 2`)."""
    run = tinyforge_run(model, board, inputs=2)
    assert run.board == board and run.bit_exact
    assert run.instructions_per_inference and run.instructions_per_inference > 0
