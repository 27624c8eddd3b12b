"""Validation on the target (`tinyforge test --port`) rehearsed on emulated boards, and the bench
workflow a user runs with default flags:

- on the emulated bench (`emulate mps2-an386 --bootloader`): flash, stream the inputs over the
  console, and the JSON equals the QEMU path's (outputs, bit_exact) for KWS and AD;
- on a QEMU STM32 board (netduinoplus2 = STM32F405): the bench bootloader only exists for
  mps2-an386, so the serving firmware runs with `emulate --firmware` and `test --no-flash`;
- a corrupted byte is caught by the CRC and the input sent again; a dropped link names the input
  index and leaves the board flashable;
- `emulate --firmware` holds the CPU until a client attaches: a monitor connecting late still
  receives every byte of a short firmware;
- build -> flash -> test-on-target -> monitor end to end; result tables with labels.

Every emulator is started through tinyforge (api.emulate or the CLI, both through proc.py) and
stopped in a `finally`/context manager, also on failure.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from _flashbench import FaultProxy
from conftest import shared_model

from tinyforge import api
from tinyforge.cli import main
from tinyforge.errors import RunError
from tinyforge.serial import frames

BENCH = "mps2-an386"
STM32 = "netduinoplus2"
KWS_LABELS = ["silence", "unknown", "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def same(report: dict, reference: dict) -> None:  # type: ignore[type-arg]
    """The acceptance: validate-on-target equals the QEMU path for the same inputs."""
    assert report["bit_exact"] is True and reference["bit_exact"] is True
    assert report["outputs"] == reference["outputs"] and len(report["outputs"]) == reference["inputs"]
    for key in ("board", "model", "inputs", "mismatched_bytes", "arena_bytes", "macs"):
        assert report[key] == reference[key], key


def check_latency(report: dict) -> None:  # type: ignore[type-arg]
    lat = report["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["max"] and report["timer_hz"] > 0
    assert report["runner"] == "target" and report["failed_inferences"] == []


@pytest.mark.parametrize("name", ["kws_ref_model.tflite", "ad01_int8.tflite"])
def test_on_the_bench_the_target_json_equals_the_qemu_json(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(shared_model(name))
    reference = api.test(model, BENCH, inputs=6, seed=5).to_dict()  # QEMU, -icount
    with api.emulate(BENCH, bootloader=True) as bench:
        code, out, err = run_cli(
            capsys,
            "test",
            model,
            "--board",
            BENCH,
            "--port",
            bench.port,
            "--inputs",
            "6",
            "--seed",
            "5",
            "--json",
        )
    assert code == 0, err
    report = json.loads(out)
    same(report, reference)
    check_latency(report)
    assert report["flashed"] is True and report["flash_bytes"] > 0


@pytest.fixture(scope="module")
def stm32_serving(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Serving firmware (no inputs built in) for the STM32 board, one per model."""
    out = tmp_path_factory.mktemp("stm32")
    return {
        name: api.build(shared_model(name), STM32, out / name, inputs=0).directory
        for name in ("kws_ref_model.tflite", "ad01_int8.tflite")
    }


@pytest.mark.parametrize("name", ["kws_ref_model.tflite", "ad01_int8.tflite"])
def test_on_a_qemu_stm32_board_the_target_json_equals_the_qemu_json(
    name: str, stm32_serving: dict[str, Path]
) -> None:
    built = stm32_serving[name]
    rep = json.loads((built / "report.json").read_text())
    assert rep["layout"]["loader"] == "rom" and rep["serve"] is True
    model = str(shared_model(name))
    reference = api.test(model, STM32, inputs=6, seed=5).to_dict()
    with api.emulate(STM32, firmware=built / "firmware.elf") as board:
        report = api.test(model, STM32, port=board.port, inputs=6, seed=5, flash=False).to_dict()
    same(report, reference)
    check_latency(report)
    assert report["timer_hz"] == 168_000_000 and report["flashed"] is False


@pytest.fixture(scope="module")
def kws_serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """KWS for the bench, laid out (by default) after its bootloader, no inputs built in."""
    return api.build(
        shared_model("kws_ref_model.tflite"), BENCH, tmp_path_factory.mktemp("k") / "kws", inputs=0
    ).directory


def infer_frame_bytes(record_bytes: int) -> int:
    return len(frames.infer(0, bytes(record_bytes)))


def test_a_corrupted_byte_is_caught_by_the_crc_and_the_input_sent_again(kws_serving: Path) -> None:
    with api.emulate(BENCH, bootloader=True) as bench:
        api.flash(kws_serving, port=bench.port)
        hello = len(frames.encode(frames.HELLO))
        # a byte inside the record of input 1 (the firmware answers ERROR: bad CRC)
        at = hello + infer_frame_bytes(490) + 100
        with FaultProxy(("127.0.0.1", int(bench.port.rsplit(":", 1)[1])), corrupt_at=at) as proxy:
            report = api.test(kws_serving, port=proxy.url, inputs=3, flash=False)
        assert proxy.corrupted == 1
    assert report.bit_exact and report.inputs == 3


def test_a_dropped_link_names_the_input_and_the_board_stays_flashable(
    kws_serving: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with api.emulate(BENCH, bootloader=True) as bench:
        api.flash(kws_serving, port=bench.port)
        upstream = ("127.0.0.1", int(bench.port.rsplit(":", 1)[1]))
        drop = len(frames.encode(frames.HELLO)) + 2 * infer_frame_bytes(490) + 200  # inside input 2
        with FaultProxy(upstream, drop_after=drop) as proxy:
            code, _, err = run_cli(
                capsys, "test", str(kws_serving), "--port", proxy.url, "--inputs", "5", "--no-flash"
            )
        assert proxy.dropped
        line = next(ln for ln in err.splitlines() if ln.startswith("error: "))
        assert (
            code == 2
            and "the link dropped while waiting for the result of input 2 of 5 (2 results received)" in line
        )
        assert "stays flashable" in err
        # the board dropped the half frame: a flash (its 0x7F restarts the chip into the
        # bootloader) works again, and so does the validation
        result = api.flash(kws_serving, port=bench.port)
        assert result.verified and result.started
        assert api.test(kws_serving, port=bench.port, inputs=2, flash=False).bit_exact


@contextmanager
def emulate_cli(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`tinyforge emulate ...` as a user runs it; yields (process, its console URL). Stopped with
    Ctrl-C (SIGINT), killed if that does not end it."""
    p = subprocess.Popen(
        [sys.executable, "-m", "tinyforge", "emulate", *args, "--serial", "tcp:0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stderr is not None
        first = p.stderr.readline()
        assert "console UART on socket://127.0.0.1:" in first, first
        yield p, first.strip().rsplit(" ", 1)[1]
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@pytest.fixture(scope="module")
def kws_direct(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short firmware that runs 2 inputs and exits: KWS with no loader (--app-offset 0)."""
    return api.build(
        shared_model("kws_ref_model.tflite"),
        BENCH,
        tmp_path_factory.mktemp("d") / "kws",
        inputs=2,
        app_offset=0,
    ).directory


@pytest.mark.parametrize("hold", [True, False], ids=["hold", "no-hold"])
def test_emulate_firmware_loses_nothing_before_the_monitor_attaches(
    hold: bool, kws_direct: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = api.test(kws_direct).to_dict()["outputs"]  # the same firmware on QEMU's stdio
    args = [BENCH, "--firmware", str(kws_direct / "firmware.elf")] + ([] if hold else ["--no-hold"])
    with emulate_cli(*args) as (p, url):
        time.sleep(2.0)  # the firmware would be done by now: nobody is listening yet
        code, out, err = run_cli(
            capsys,
            "monitor",
            "--port",
            url,
            "--wait",
            "--expect",
            "TF DONE status=pass",
            "--timeout",
            "60",
            "--json",
        )
        assert code == 0, err
        assert p.wait(30) == 0  # QEMU ended with the firmware's exit; so did `emulate`
    records = [json.loads(line) for line in out.splitlines()]
    kinds = [r["type"] for r in records if r["type"] in ("begin", "result", "log", "done")]
    assert kinds == ["begin", "result", "result", "log", "done"]  # from the very first byte
    assert [r["outputs"] for r in records if r["type"] == "result"] == expected


def test_build_flash_test_monitor_with_default_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(shared_model("kws_ref_model.tflite"))
    out_dir = str(tmp_path / "kws")
    with emulate_cli(BENCH, "--bootloader") as (_, url):
        code, out, err = run_cli(capsys, "build", model, "-o", out_dir)
        assert code == 0, err
        assert "layout: for stm32-uart (tinyforge's bench bootloader), application at 0x00010000" in out
        code, _, err = run_cli(capsys, "flash", out_dir, "--port", url)
        assert code == 0 and "application started" in err, err
        code, out, err = run_cli(capsys, "test", out_dir, "--port", url, "--json")
        assert code == 0, err
        report = json.loads(out)
        assert report["bit_exact"] and report["inputs"] == 20 and report["latency_ms"]["p95"] > 0
        # the validation hands the board back running its application again: the monitor sees
        # its results from the first line, though it attaches after the run
        code, out, err = run_cli(
            capsys,
            "monitor",
            "--port",
            url,
            "--wait",
            "--expect",
            "TF BEGIN",
            "--expect",
            "TF DONE status=pass",
            "--fail",
            "TF FAULT",
            "--timeout",
            "60",
            "--board",
            BENCH,
        )
        assert code == 0, out + err
    assert out.count("TF RESULT idx=") == 4 and "inferences" in out


def test_flash_follow_and_monitor_show_results_with_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(KWS_LABELS) + "\n")
    d = tmp_path / "kws"
    code, _, err = run_cli(
        capsys,
        "build",
        str(shared_model("kws_ref_model.tflite")),
        "-o",
        str(d),
        "--labels",
        str(labels),
        "--inputs",
        "3",
    )
    assert code == 0, err
    assert (d / "labels.txt").read_text().split() == KWS_LABELS
    qemu = api.test(d).to_dict()["outputs"]
    tops = [
        KWS_LABELS[max(range(12), key=lambda k: (int(o[0][2 * k : 2 * k + 2], 16) + 128) % 256)] for o in qemu
    ]
    with api.emulate(BENCH, bootloader=True) as bench:
        code, out, err = run_cli(capsys, "flash", str(d), "--port", bench.port, "--follow")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert out.splitlines()[1].split() == ["idx", "label", "score", "latency"]
    assert [r[1] for r in rows] == tops and all(r[-1] == "ms" for r in rows)
    assert "out0=" not in out
    with api.emulate(BENCH, firmware=d / "firmware.elf") as board:
        code, out, err = run_cli(
            capsys,
            "monitor",
            "--port",
            board.port,
            "--elf",
            str(d / "firmware.elf"),
            "--board",
            BENCH,
            "--expect",
            "TF DONE",
            "--timeout",
            "60",
        )
    assert code == 0, err
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit() and "ms" in line]
    assert [r[1] for r in rows] == tops


def test_test_port_on_a_board_without_the_serving_firmware_says_so(kws_direct: Path) -> None:
    with api.emulate(BENCH, firmware=kws_direct / "firmware.elf") as board:
        with pytest.raises(RunError, match="the link dropped before the first input") as err:
            api.test(kws_direct, port=board.port, inputs=1, flash=False, timeout=5)
    assert "the last line the board printed: 'TF DONE status=pass count=2'" in err.value.message
    assert "does not serve the host link" in (err.value.hint or "")


def test_a_board_file_works_in_emulate_build_and_test_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A copy of the bench board under another name, outside boards/: every command of the
    workflow takes the path."""
    from _models import dense

    from tinyforge.resources import boards_dir

    board = tmp_path / "my-bench.toml"
    board.write_text(
        (boards_dir() / "mps2-an386.toml").read_text().replace('name = "mps2-an386"', 'name = "my-bench"')
    )
    model = dense(tmp_path / "dense.tflite", 48, 12)
    out_dir = tmp_path / "b"
    code, _, err = run_cli(capsys, "build", str(model), "--board", str(board), "-o", str(out_dir))
    assert code == 0, err
    with emulate_cli(str(board), "--bootloader") as (_, url):
        code, out, err = run_cli(
            capsys, "test", str(out_dir), "--board", str(board), "--port", url, "--inputs", "3", "--json"
        )
        assert code == 0, err
    rep = json.loads(out)
    assert rep["board"] == "my-bench" and rep["bit_exact"] and rep["flashed"] and rep["inputs"] == 3
