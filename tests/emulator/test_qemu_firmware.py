"""Firmware in QEMU: every emulated board runs a model bit-exact; ticks measure instructions; the
BSP's UART input, MVE, semihosting exit and fault handler work; `tinyforge test` reports a
missing QEMU, a hang, a crash and wrong outputs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from _models import dense

from tinyforge import api, proc
from tinyforge.boards import list_boards, load_board
from tinyforge.cli import main
from tinyforge.run.qemu import FaultError, instructions, qemu_argv, run_qemu
from tinyforge.toolchain.gcc import build_program

DATA = Path(__file__).resolve().parents[1] / "data"
QEMU_BOARDS = [b.name for b in list_boards() if b.is_emulated]
SHARED_KWS = Path(__file__).resolve().parents[1] / "data/mlperf-tiny/kws_ref_model.tflite"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([*args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


@pytest.fixture(scope="module")
def dense_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dense(tmp_path_factory.mktemp("m") / "dense.tflite", 96, 24)


def test_all_six_qemu_boards_are_listed() -> None:
    assert sorted(QEMU_BOARDS) == sorted(
        ["mps2-an385", "mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547", "netduinoplus2"]
    )


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_model_runs_bit_exact_on_every_qemu_board(board: str, dense_model: Path, tmp_path: Path) -> None:
    rep = api.test_emulator(dense_model, board, inputs=3, workdir=tmp_path / "b", timeout=30)
    assert rep.bit_exact and rep.inputs == 3 and rep.mismatched_bytes == 0
    d = rep.to_dict()
    assert d["instructions_per_inference"] > 96 * 24 // 16  # at most 16 MACs per instruction (Helium VMLADAV)
    assert d["flash_bytes"] > 96 * 24 and d["ram_bytes"] >= load_board(board).stack_bytes
    assert 0 < d["stack_used"] < load_board(board).stack_bytes


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_ticks_measure_instructions(board: str, tmp_path: Path) -> None:
    """A loop of exactly 2 * 500000 + 1 instructions, timed with bsp_ticks(): under -icount
    shift=0, ticks * 1e9 / timer_hz gives the count back to within one tick (the board's timer.hz
    is the SysTick clock QEMU really uses)."""
    b = load_board(board)
    img = build_program(b, [DATA / "firmware/icount_loop.c"], tmp_path)
    run = run_qemu(b, img.elf, timeout=30)
    assert int(run.log_value("tick_hz") or 0) == b.timer.hz
    loop, empty = int(run.log_value("loop_ticks") or 0), int(run.log_value("empty_ticks") or 0)
    measured = instructions(loop - empty, b.timer.hz)
    one_tick = 1e9 / b.timer.hz
    assert abs(measured - (2 * 500_000 + 1)) <= 2 * one_tick, (measured, one_tick)


def test_tick_counter_counts_systick_overflows(tmp_path: Path) -> None:
    """120 M instructions at 168 MHz is 20.16 M ticks: more than the 24-bit SysTick holds."""
    b = load_board("netduinoplus2")
    img = build_program(b, [DATA / "firmware/icount_loop.c"], tmp_path, defines=["LOOPS=60000000u"])
    run = run_qemu(b, img.elf, timeout=60)
    loop, empty = int(run.log_value("loop_ticks") or 0), int(run.log_value("empty_ticks") or 0)
    assert loop > 1 << 24
    assert abs(instructions(loop - empty, b.timer.hz) - 120_000_001) <= 12


def test_helium_runs_on_the_m55(tmp_path: Path) -> None:
    b = load_board("mps3-an547")
    img = build_program(b, [DATA / "firmware/mve_check.c"], tmp_path)
    run = run_qemu(b, img.elf, timeout=30)
    assert run.log_value("mve_sum") == "900"  # (101 + ... + 108) + 8 * 8


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_stack_overflow_faults_instead_of_corrupting(board: str, tmp_path: Path) -> None:
    """ARMv8-M: MSPLIM (UsageFault STKOF); ARMv7-M: a no-access MPU region under the stack."""
    b = load_board(board)
    img = build_program(b, [DATA / "firmware/stack_overflow.c"], tmp_path)
    with pytest.raises(FaultError) as exc:
        run_qemu(b, img.elf, timeout=30)
    rep = exc.value.report
    assert rep.stack_overflow and rep.pc == 0 or rep.kind == "UsageFault"
    expected = "STKOF" if b.cpu in ("cortex-m33", "cortex-m55") else "DACCVIOL"
    assert any(c.startswith(expected) for c in rep.causes), rep.causes
    assert exc.value.message.endswith("the stack overflowed: raise stack_bytes in the board profile")


@pytest.mark.parametrize("board", ["mps2-an386", "netduinoplus2"])
def test_uart_input_and_semihosting_exit(board: str, tmp_path: Path) -> None:
    b = load_board(board)
    img = build_program(b, [DATA / "firmware/echo.c"], tmp_path)
    # a UART drops what arrives before the firmware enables it: wait for "ready", then type
    p = proc.start_tool(qemu_argv(b, img.elf), stdin=subprocess.PIPE)
    try:
        assert p.stdout is not None and p.stdin is not None
        assert p.stdout.readline().decode().strip() == "TF LOG ready"
        p.stdin.write(b"ping\nhello tinyforge\nquit\n")
        p.stdin.flush()
        out, _err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    lines = out.decode().splitlines()
    assert lines == ["TF LOG echo=ping", "TF LOG echo=hello tinyforge", "TF DONE status=pass count=0"]
    assert p.returncode == 0


def test_exit_status_reaches_the_host(tmp_path: Path) -> None:
    src = tmp_path / "seven.c"
    src.write_text(
        '#include "bsp.h"\nint main(void)\n{\n    bsp_init();\n    bsp_puts("bye\\n");\n    return 7;\n}\n'
    )
    b = load_board("mps2-an505")
    img = build_program(b, [src], tmp_path / "o")
    p = subprocess.run(qemu_argv(b, img.elf), capture_output=True, timeout=30, check=False)
    assert p.stdout.decode().strip() == "bye" and p.returncode == 7


@pytest.fixture
def build_dir(dense_model: Path, tmp_path: Path) -> Path:
    d = tmp_path / "build"
    api.build(dense_model, "mps2-an386", d, inputs=2, app_offset=0)  # no loader: QEMU runs it directly
    return d


def _swap_model_and_make(d: Path, fake: str) -> None:
    shutil.copy(DATA / "fake_model" / fake, d / "lib/model/model.c")
    res = subprocess.run(
        ["make", "-s", "-C", str(d), "firmware.elf"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr


def test_hard_fault_is_decoded(build_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _swap_model_and_make(build_dir, "fault_model.c")
    line = next(
        i + 1
        for i, text in enumerate((DATA / "fake_model/fault_model.c").read_text().splitlines())
        if "FAULT_HERE" in text
    )
    code, _out, err = run_cli(["test", str(build_dir)], capsys)
    assert code == 2
    assert re.search(
        rf"error: firmware crashed on mps2-an386 \(QEMU\): BusFault in model_invoke \(\S*model\.c:{line}\): "
        r"PRECISERR: precise bus error on a data access \(address 0xf0000000\)",
        err,
    ), err
    with pytest.raises(FaultError) as exc:
        run_qemu(load_board("mps2-an386"), build_dir / "firmware.elf", timeout=30)
    rep = exc.value.report
    assert (
        rep.function == "model_invoke" and rep.source is not None and rep.source.endswith(f"model.c:{line}")
    )
    loc = rep.lr_location  # called from the harness (its run over the built-in records)
    assert (
        loc is not None and loc.function in ("main", "run_records") and str(loc.file).endswith("src/main.c")
    )
    assert rep.sp != 0 and rep.fault_address == 0xF0000000


def test_hang_is_stopped_at_the_timeout(build_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _swap_model_and_make(build_dir, "hang_model.c")
    code, _out, err = run_cli(["test", str(build_dir), "--timeout", "2"], capsys)
    assert code == 2
    assert (
        "error: firmware on mps2-an386 (QEMU) did not finish within 2 s; last output: 'TF BEGIN board=mps2-an386"
        in err
    )
    assert "--timeout" in err


def test_wrong_outputs_are_a_mismatch(
    build_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = build_dir / "lib/model/weights.bin"
    w.write_bytes(bytes(b ^ 0x55 for b in w.read_bytes()))
    res = subprocess.run(
        ["make", "-s", "-C", str(build_dir), "firmware.elf"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    junit = tmp_path / "junit.xml"
    code, out, _err = run_cli(["test", str(build_dir), "--json", "--junit", str(junit)], capsys)
    assert code == 1
    rep = json.loads(out)
    assert rep["bit_exact"] is False and rep["mismatched_bytes"] > 0 and rep["inputs"] == 2
    assert rep["board"] == "mps2-an386" and rep["instructions_per_inference"] > 0
    xml = junit.read_text()
    assert "<failure" in xml and f"{rep['mismatched_bytes']} output bytes differ" in xml


def test_missing_qemu_is_a_clear_error(
    build_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("TINYFORGE_QEMU_SYSTEM_ARM", raising=False)
    code, _out, err = run_cli(["test", str(build_dir)], capsys)
    assert code == 2
    assert err.strip() == (
        "error: qemu-system-arm not found on PATH (hint: install it with: sudo apt-get install qemu-system-arm)"
    )


def test_test_command_refuses_a_real_board(dense_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(["test", str(dense_model), "--board", "nucleo-f446re"], capsys)
    assert code == 2 and "board nucleo-f446re is not emulated" in err


def test_renode_missing_is_a_clear_error(
    dense_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _out, err = run_cli(
        ["test", str(dense_model), "--board", "mps2-an386", "--emulator", "renode"], capsys
    )
    assert code == 2 and "renode-test not found on PATH" in err and "--emulator qemu" in err


def test_qemu_command_line_is_recorded(dense_model: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, ...]] = []
    proc.add_observer(seen.append)
    try:
        api.test_emulator(dense_model, "mps3-an547", inputs=1, workdir=tmp_path / "b")
    finally:
        proc.remove_observer(seen.append)
    (qemu,) = [a for a in seen if Path(a[0]).name == "qemu-system-arm"]
    joined = " ".join(qemu)
    assert "-M mps3-an547" in joined and "-icount shift=0" in joined and "-nographic" in joined
    assert "-semihosting-config enable=on,target=native" in joined and qemu[-2:] == (
        "-kernel",
        str(tmp_path / "b/firmware.elf"),
    )
    gcc = [a for a in seen if Path(a[0]).name == "arm-none-eabi-gcc"]
    assert gcc and all("-mcpu=cortex-m55+nomve.fp" in a for a in gcc)


def test_kws_on_the_default_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not SHARED_KWS.is_file():
        pytest.fail(f"{SHARED_KWS} is missing: it belongs in tests/data/mlperf-tiny")
    code, out, err = run_cli(
        ["test", str(SHARED_KWS), "--board", "mps2-an386", "--inputs", "2", "--json"], capsys
    )
    assert code == 0, err
    rep = json.loads(out)
    assert rep["bit_exact"] is True and rep["inputs"] == 2
    assert 1_000_000 < rep["instructions_per_inference"] < 200_000_000  # 2.7 M MACs
    assert rep["flash_bytes"] > 20_000 and rep["ram_bytes"] > rep["arena_bytes"]


def test_pytest_plugin_fixture(tinyforge_run, dense_model: Path) -> None:  # noqa: ANN001
    run = tinyforge_run(dense_model, "mps2-an386", inputs=2)
    assert run.bit_exact and len(run.outputs) == 2 and run.outputs[0][0].shape == (1, 24)
    assert run.instructions_per_inference and run.flash_bytes and run.ram_bytes and run.timer_hz == 25_000_000
    host = tinyforge_run(dense_model, "host", inputs=2)
    assert host.bit_exact and [o[0].tobytes() for o in host.outputs] == [o[0].tobytes() for o in run.outputs]


def test_per_layer_profiling_adds_up(dense_model: Path, tmp_path: Path) -> None:
    res = api.build(dense_model, "mps2-an500", tmp_path / "p", inputs=1, profile_layers=True)
    run = run_qemu(load_board("mps2-an500"), res.elf, timeout=30)
    layers = [int(t.split("ticks=")[1]) for t in run.logs if t.startswith("layer n=")]
    assert len(layers) == res.compiled.stats.layers >= 1
    total = run.results[0].ticks
    assert 0 < sum(layers) <= total and total - sum(layers) < 10  # only the hooks themselves are left
