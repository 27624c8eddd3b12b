"""No orphaned emulators (issue 17): `tinyforge emulate`, `tinyforge test` on a QEMU board and
`tinyforge flash --follow` against the emulated bench are signalled mid-run with SIGTERM, SIGHUP
and SIGKILL. Within 5 s nothing they started may be alive (checked by PID + start time and by
command line), the exit status is 128 + signal, the port is free again, and the same command on
the same port works."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _flashbench import BOARD, build_hello
from _proctree import Proc, Tracker, free_port, listening, port_free, wait_until, with_cmdline

from tinyforge import api

pytestmark = pytest.mark.emulator

SIGNALS = [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGKILL, -signal.SIGKILL)]
IDS = ["SIGTERM", "SIGHUP", "SIGKILL"]
GONE_WITHIN = 5.0  # seconds (issue 17)
# ResNet-8, 100 inputs: ~1.3 G instructions, seconds of QEMU time, so the signal lands mid-run
SLOW_MODEL = "pretrainedResnet_quant.tflite"
SLOW_INPUTS = 100
APP_TAIL_MS = 3000  # the flashed application runs this long after TF BEGIN


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tinyforge", *args]


@pytest.fixture()
def tracker() -> Iterator[Tracker]:
    t = Tracker()
    yield t
    t.cleanup()  # also when the test failed: SIGKILL whatever it started that is still alive


@pytest.fixture(scope="module")
def bootloader() -> Path:
    return api.build_bootloader(BOARD)


def assert_nothing_left(tracker: Tracker, kids: list[Proc], marker: str) -> None:
    left = tracker.still_alive(kids, GONE_WITHIN)
    assert left == [], f"still running after {GONE_WITHIN:g} s: {left}"
    by_cmdline = with_cmdline(marker)
    assert by_cmdline == [], f"processes with {marker!r} in their command line: {by_cmdline}"


def sync(port: int) -> bool:
    """The bench bootloader answers the AN3155 sync byte on 127.0.0.1:`port`."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.settimeout(5)
        s.sendall(b"\x7f")
        return s.recv(1) == b"\x79"


def read_until(stream: object, token: bytes, timeout: float) -> bytes:
    buf = b""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    fd = stream.fileno()  # type: ignore[attr-defined]
    while token not in buf and time.monotonic() < deadline:
        if sel.select(0.1):
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
    sel.close()
    return buf


# ---- tinyforge emulate ----------------------------------------------------------------------


def start_emulate(tracker: Tracker, port: int) -> tuple[subprocess.Popen[bytes], list[Proc], str]:
    """`tinyforge emulate` on `port`; (its process, its children, the UART socket path that only
    its QEMU has on its command line: tinyforge serves the TCP port, QEMU a unix socket)."""
    p = tracker.start(
        cli("emulate", BOARD, "--bootloader", "--serial", f"tcp:{port}"), stderr=subprocess.PIPE
    )
    banner = read_until(p.stderr, b"Ctrl-C stops it.", 60)  # up and waiting for the board
    assert b"Ctrl-C stops it." in banner, banner.decode()
    assert listening(port)
    kids = tracker.snapshot(p)
    qemu = [k for k in kids if "qemu-system-arm" in k.cmdline]
    uart = re.search(r"-serial unix:(\S+/uart\.sock),", qemu[0].cmdline) if len(qemu) == 1 else None
    assert uart is not None, kids
    return p, kids, uart.group(1)


@pytest.mark.parametrize(("sig", "code"), SIGNALS, ids=IDS)
def test_emulate_leaves_no_qemu_behind(tracker: Tracker, bootloader: Path, sig: int, code: int) -> None:
    port = free_port()
    p, kids, uart = start_emulate(tracker, port)
    assert sync(port)
    p.send_signal(sig)
    assert p.wait(GONE_WITHIN) == code
    assert_nothing_left(tracker, kids, uart)
    assert port_free(port)
    if sig != signal.SIGKILL:
        assert p.stderr is not None
        assert p.stderr.read().decode().strip() == f"terminated by {signal.Signals(sig).name}"

    # the same command on the same port works, and Ctrl-C still ends it with status 0
    again, kids, uart = start_emulate(tracker, port)
    assert sync(port)
    again.send_signal(signal.SIGINT)
    assert again.wait(GONE_WITHIN) == 0
    assert again.stderr is not None and again.stderr.read().decode().strip() == "stopped"
    assert_nothing_left(tracker, kids, uart)
    assert port_free(port)


# ---- tinyforge test on a QEMU board ---------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), SIGNALS, ids=IDS)
def test_test_on_qemu_leaves_no_qemu_behind(tracker: Tracker, tmp_path: Path, sig: int, code: int) -> None:
    from conftest import shared_model

    model = shared_model(SLOW_MODEL)
    argv = cli("test", str(model), "--board", BOARD, "--inputs", str(SLOW_INPUTS), "--json")
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # a SIGKILLed run leaves its temp dir
    p = tracker.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert wait_until(
        lambda: any("qemu-system-arm" in k.cmdline for k in tracker.snapshot(p)) or p.poll() is not None,
        300,
    )
    kids = tracker.snapshot(p)  # QEMU runs the model now (-serial stdio: no port)
    firmware = [k for k in kids if "qemu-system-arm" in k.cmdline]
    assert len(firmware) == 1, f"no QEMU under `tinyforge test`: {kids}"
    marker = firmware[0].cmdline.rsplit(" ", 1)[1]  # -kernel <this run's temp dir>/firmware.elf
    assert marker.startswith(str(tmp_path))
    p.send_signal(sig)
    assert p.wait(GONE_WITHIN) == code
    assert_nothing_left(tracker, kids, marker)

    # the same command again runs to the end
    res = subprocess.run(argv, capture_output=True, timeout=600, env=env)
    assert res.returncode == 0, res.stderr.decode()
    report = json.loads(res.stdout)
    assert report["bit_exact"] is True and report["inputs"] == SLOW_INPUTS


# ---- tinyforge flash --follow against the emulated bench ------------------------------------


@pytest.fixture(scope="module")
def long_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hello(tmp_path_factory.mktemp("long") / "build", tail_ms=APP_TAIL_MS)


@pytest.mark.parametrize(("sig", "code"), SIGNALS, ids=IDS)
def test_flash_follow_lets_go_of_the_bench(
    tracker: Tracker, bootloader: Path, long_app: Path, sig: int, code: int
) -> None:
    port = free_port()
    url = f"socket://127.0.0.1:{port}"
    argv = cli("flash", str(long_app), "--port", url, "--follow", "--follow-timeout", "60")
    with api.emulate(BOARD, bootloader=True, serial=f"tcp:{port}") as bench:
        p = tracker.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = read_until(p.stdout, b"TF BEGIN", 120)
        assert b"TF BEGIN board=mps2-an386 model=flash-hello" in out, p.stderr.read().decode()  # type: ignore[union-attr]
        kids = tracker.snapshot(p)  # flashing over a socket starts no process: expect none
        p.send_signal(sig)
        assert p.wait(GONE_WITHIN) == code
        assert_nothing_left(tracker, kids, url)
        # the connection was let go: the board serves a new client the application's next lines
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.settimeout(5)
            got = b""
            while b"\n" not in got:
                chunk = s.recv(4096)
                assert chunk, "the bench closed the new connection"
                got += chunk
            assert got.startswith(b"TF ") or b"\nTF " in got
            # the board runs while a client is attached (emulate holds it otherwise): the
            # application ends, QEMU with it (semihosting exit), and the bench closes the client
            s.settimeout(60)
            while s.recv(4096):
                pass
        bench.wait(30)
    assert port_free(port)

    # the same command on the same port (a new bench there) works
    with api.emulate(BOARD, bootloader=True, serial=f"tcp:{port}"):
        res = subprocess.run(argv, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr.decode()
    lines = res.stdout.decode().splitlines()
    assert lines[0].startswith("TF BEGIN") and lines[-1] == "TF DONE status=pass count=0"
    assert sum(line == "TF LOG still running" for line in lines) >= 10  # streamed while it ran
