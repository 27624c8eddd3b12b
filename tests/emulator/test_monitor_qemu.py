"""`tinyforge monitor` against firmware running in QEMU (mps2-an386), its UART on a TCP socket:
CI exit codes, statistics from known ticks, fault decoding with the ELF, a 1 MiB burst with
nothing lost, reconnection across an emulator restart, interactive keystrokes.

The test firmware is firmware/tests/monitor_demo/monitor_demo.c, one build per -DDEMO_MODE.

QEMU runs with `-serial tcp:...,server=on,wait=on`: QEMU's socket chardev drops whatever the UART
sends while no client is connected, so the machine starts only once the monitor (started with
--wait, which retries until the port listens) has connected. Nothing is lost, and the restarted
emulator in the reconnection test likewise waits for the monitor to come back.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tinyforge import api, proc
from tinyforge.boards import load_board
from tinyforge.cli import main
from tinyforge.errors import ToolError
from tinyforge.resources import firmware_dir

BOARD = "mps2-an386"
DEMO_SOURCE = firmware_dir() / "tests" / "monitor_demo" / "monitor_demo.c"
MODES = {"ci": 1, "fault": 2, "burst": 3, "counter": 4, "echo": 5}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Build (once per mode) the demo firmware; returns its ELF."""
    from tinyforge.toolchain.gcc import build_program

    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        try:
            proc.find_tool(tool)
        except ToolError as exc:
            pytest.fail(f"the monitor's emulator tests need {tool}: {exc.render()}")
    root = tmp_path_factory.mktemp("monitor_demo")
    built: dict[str, Path] = {}

    def get(mode: str) -> Path:
        if mode not in built:
            img = build_program(
                load_board(BOARD),
                [DEMO_SOURCE],
                root / mode,
                defines=[f"DEMO_MODE={MODES[mode]}"],
                name=f"monitor_demo_{mode}",
            )
            built[mode] = img.elf
        return built[mode]

    return get


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def start_qemu(elf: Path, port: int) -> subprocess.Popen[bytes]:
    board = load_board(BOARD)
    argv = [
        "qemu-system-arm",
        "-M",
        str(board.emulator.qemu_machine),
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        f"tcp:127.0.0.1:{port},server=on,wait=on",
        "-semihosting-config",
        "enable=on,target=native",
        "-kernel",
        str(elf),
    ]
    return proc.start_tool(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def qemu(demo: Callable[[str], Path]) -> Iterator[Callable[[str], str]]:
    """qemu(mode) -> the socket:// URL of a QEMU running that demo; all stopped at the end."""
    procs: list[subprocess.Popen[bytes]] = []

    def run(mode: str) -> str:
        port = free_port()
        procs.append(start_qemu(demo(mode), port))
        return f"socket://127.0.0.1:{port}"

    yield run
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["monitor", "--wait", *args])
        raise SystemExit(0)
    cap = capsys.readouterr()
    return int(exc.value.code or 0), cap.out, cap.err


def test_expect_pass_exit_0(qemu, capsys):
    url = qemu("ci")
    code, out, _ = run_cli(
        capsys,
        "--port",
        url,
        "--expect",
        "^TF BEGIN",
        "--expect",
        "ALL TESTS PASSED",
        "--fail",
        "FAULT",
        "--timeout",
        "30",
    )
    assert code == 0, out
    assert "monitor_demo ci on mps2-an386" in out
    assert out.rstrip().splitlines()[-1] == "PASS; seen '^TF BEGIN' (line 5), 'ALL TESTS PASSED' (line 108)"


def test_fail_pattern_exit_1(qemu, capsys):
    url = qemu("ci")
    code, out, _ = run_cli(
        capsys, "--port", url, "--expect", "ALL TESTS PASSED", "--fail", "SKIPPED", "--timeout", "30"
    )
    assert code == 1
    assert (
        "FAIL: line 4 matched --fail 'SKIPPED': 'selftest sensor SKIPPED (no sensor on this board)'; "
        "not seen 'ALL TESTS PASSED'" in out
    )


def test_timeout_exit_1(qemu, capsys):
    url = qemu("ci")  # prints everything, then QEMU exits: the monitor waits for it to come back
    t0 = time.monotonic()
    code, out, _ = run_cli(
        capsys, "--port", url, "--expect", "ALL TESTS", "--expect", "never printed", "--timeout", "4"
    )
    assert code == 1
    assert 4 <= time.monotonic() - t0 < 15
    assert "TIMEOUT after 4 s; seen 'ALL TESTS' (line 108); not seen 'never printed'" in out
    assert "lost (read failed: socket disconnected); waiting for it to come back" in out


def test_statistics_from_device_ticks(qemu, capsys):
    """The firmware reports ticks 1000..100000 (shuffled): nearest-rank p50/p95/p99 are exact, and
    the board's 25 MHz timer turns them into microseconds."""
    url = qemu("ci")
    code, out, _ = run_cli(
        capsys,
        "--port",
        url,
        "--json",
        "--board",
        BOARD,
        "--expect",
        "TF DONE status=pass",
        "--timeout",
        "30",
    )
    assert code == 0
    objs = [json.loads(line) for line in out.splitlines()]
    results = [o for o in objs if o["type"] == "result"]
    assert len(results) == 100
    assert sorted(r["ticks"] for r in results) == list(range(1000, 100_001, 1000))
    assert results[1] == {**results[1], "index": 1, "ticks": 38_000, "us": 1520.0, "outputs": ["25"]}
    summary = objs[-1]
    assert summary["type"] == "summary" and summary["inferences"] == 100 and summary["errors"] == 0
    lat = summary["latency"]
    assert (lat["min"], lat["p50"], lat["p95"], lat["p99"], lat["max"]) == (
        1000,
        50_000,
        95_000,
        99_000,
        100_000,
    )
    assert (lat["p50_us"], lat["p95_us"], lat["p99_us"]) == (2000.0, 3800.0, 3960.0)


def test_statistics_table_in_text_mode(qemu, capsys):
    url = qemu("ci")
    code, out, _ = run_cli(
        capsys, "--port", url, "--expect", "TF DONE", "--timeout", "30"
    )  # no board: raw ticks
    assert code == 0
    table = out[out.index("--- monitor summary") :]
    assert re.search(r"inferences\s+100\n", table)
    assert re.search(r"latency p50\s+50,000 ticks\n", table)
    assert re.search(r"latency p99\s+99,000 ticks\n", table)


def test_fault_decoded_with_elf(qemu, demo, capsys):
    url = qemu("fault")
    elf = demo("fault")
    fault_line = next(
        i for i, text in enumerate(DEMO_SOURCE.read_text().splitlines(), 1) if "FAULT-HERE" in text
    )
    code, out, _ = run_cli(capsys, "--port", url, "--elf", str(elf), "--fail", "^TF FAULT", "--timeout", "30")
    assert code == 1
    shown = re.search(r"^--- fault: (.*)$", out, re.M)
    assert shown is not None, out
    assert shown.group(1).startswith(
        "UsageFault in demo_fault_here ("
    ) and "UNDEFINSTR: undefined instruction" in shown.group(1)
    assert f"monitor_demo.c:{fault_line})" in shown.group(1)
    assert "FAIL: line 5 matched --fail '^TF FAULT'" in out  # line 4: the fault handler's leading newline

    url = qemu("fault")
    code, out, _ = run_cli(
        capsys, "--port", url, "--elf", str(elf), "--json", "--expect", "^TF FAULT", "--timeout", "30"
    )
    assert code == 0
    fault = next(json.loads(line) for line in out.splitlines() if '"type":"fault"' in line)
    decoded = fault["decoded"]
    assert decoded["kind"] == "UsageFault" and decoded["function"] == "demo_fault_here"
    assert decoded["source"].endswith(f"monitor_demo.c:{fault_line}")
    assert decoded["caller"].split()[1] == "run"  # lr: the call in run()


def burst_expected() -> bytes:
    """Exactly what DEMO_BURST sends (see monitor_demo.c)."""
    parts = [b"monitor_demo burst on mps2-an386\n", b"TF LOG burst begin lines=16384 bytes=1048576\n"]
    for i in range(16384):
        parts.append(b"%08x " % i + bytes(65 + (i + k) % 26 for k in range(54)) + b"\n")
    parts.append(b"TF LOG burst end\n")
    parts.append(b"long " + bytes(48 + k % 10 for k in range(100_000)) + b" END\n")
    parts.append(b"noise " + bytes(k for k in range(256) if k != 10) + b" END\n")
    parts.append(b"TF DONE status=pass count=0\n")
    return b"".join(parts)


def test_one_megabyte_burst_nothing_lost(qemu, tmp_path):
    url = qemu("burst")
    log = tmp_path / "burst.log"
    expected = burst_expected()
    t0 = time.monotonic()
    with open(tmp_path / "screen.txt", "w") as screen:
        rep = api.monitor(url, wait=True, expect=["^TF DONE"], timeout=120, log=log, out=screen)
    elapsed = time.monotonic() - t0
    assert rep.exit_code == 0, rep.verdict.summary
    assert rep.counts["bytes"] == len(expected)
    lines = log.read_text(encoding="utf-8").splitlines()
    device = [ln for ln in lines if not ln.startswith("--- ")]
    from tinyforge.monitor.stream import escape_text

    assert device == [escape_text(seg) for seg in expected.split(b"\n")[:-1]]
    counters = [ln for ln in device if re.fullmatch(r"[0-9a-f]{8} [A-Z]{54}", ln)]
    assert [int(c[:8], 16) for c in counters] == list(range(16384))
    assert len(max(device, key=len)) == len("long ") + 100_000 + len(" END")
    assert (tmp_path / "screen.txt").read_text().count("\n") >= 16384
    print(f"1 MiB burst through QEMU and the monitor: {elapsed:.1f} s")


def test_reconnects_when_qemu_restarts(demo, tmp_path):
    """Kill QEMU mid-stream and start it again on the same port: the monitor says the port is
    lost, reconnects, and the log holds both runs."""
    elf = demo("counter")
    port = free_port()
    url = f"socket://127.0.0.1:{port}"
    log = tmp_path / "reconnect.log"
    first = start_qemu(elf, port)
    second: subprocess.Popen[bytes] | None = None
    result: dict[str, object] = {}

    def monitor() -> None:
        with open(tmp_path / "screen.txt", "w") as screen:
            result["report"] = api.monitor(
                url,
                wait=True,
                log=log,
                expect=["^line 20$", "^TF BEGIN", "^line 20$"],  # the 2nd BEGIN only comes after the restart
                timeout=60,
                out=screen,
            )

    thread = threading.Thread(target=monitor)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and "line 30\n" in log.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "line 30\n" in log.read_text(), "the first QEMU never got going"
        first.kill()
        first.wait(timeout=10)
        time.sleep(0.5)
        second = start_qemu(elf, port)
        thread.join(timeout=60)
        assert not thread.is_alive()
    finally:
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        thread.join(timeout=5)
    rep = result["report"]
    assert rep.exit_code == 0, rep.verdict.summary  # type: ignore[attr-defined]
    assert rep.counts["reconnects"] == 1 and rep.counts["runs"] == 2  # type: ignore[attr-defined]
    text = log.read_text()
    lost = text.index(f"--- port {url} lost")
    back = text.index(f"--- port {url} back after")
    run1, run2 = text[:lost], text[back:]
    assert lost < back
    numbers1 = [int(n) for n in re.findall(r"^line (\d+)$", run1, re.M)]
    numbers2 = [int(n) for n in re.findall(r"^line (\d+)$", run2, re.M)]
    assert numbers1 == list(range(len(numbers1))) and len(numbers1) > 30  # run 1, complete up to the kill
    assert numbers2[:21] == list(range(21))  # run 2 from its first line (QEMU waited for us)
    assert run2.count("monitor_demo counter on mps2-an386") == 1


def test_interactive_keys_reach_the_firmware(qemu):
    """stdin is a pseudo-terminal: typed keys go to the UART (the firmware echoes them upper-cased),
    Ctrl-] quits."""
    url = qemu("echo")
    master, slave = pty.openpty()
    mon = subprocess.Popen(
        [sys.executable, "-m", "tinyforge", "monitor", "--wait", "--port", url, "--timeout", "60"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    out = b""

    def read_until(token: bytes, seconds: float = 30) -> None:
        nonlocal out
        deadline = time.monotonic() + seconds
        while token not in out and time.monotonic() < deadline:
            if select.select([mon.stdout], [], [], 0.1)[0]:
                chunk = os.read(mon.stdout.fileno(), 4096)  # type: ignore[union-attr]
                if not chunk:
                    break
                out += chunk

    try:
        read_until(b"TF LOG echo ready")
        os.write(master, b"hello tinyforge\r")
        read_until(b"HELLO TINYFORGE")
        os.write(master, b"\x1d")
        rest, err = mon.communicate(timeout=15)
    finally:
        if mon.poll() is None:
            mon.kill()
        os.close(master)
    out += rest
    assert b"HELLO TINYFORGE\n" in out
    assert mon.returncode == 0, err.decode()
