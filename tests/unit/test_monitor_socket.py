"""`tinyforge monitor` against a real TCP server through pyserial's socket:// URL: CI exit codes,
JSON output, reconnection, --wait, and interactive keystrokes through a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tinyforge import api
from tinyforge.cli import main

Script = Callable[[socket.socket], None]


class Server:
    """A TCP 'device': each accepted connection runs the next script. `pause(s)` stops listening
    for s seconds between connections (the device resets / re-enumerates)."""

    def __init__(self, *scripts: Script, gap: float = 0.0, port: int = 0) -> None:
        self.scripts = list(scripts)
        self.gap = gap
        self.received = bytearray()
        self.sock = socket.create_server(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        for i, script in enumerate(self.scripts):
            if i and self.gap:
                self.sock.close()
                time.sleep(self.gap)
                self.sock = socket.create_server(("127.0.0.1", self.port))
            conn, _ = self.sock.accept()
            with conn:
                script(conn)
        self.sock.close()

    def recv_into(self, conn: socket.socket, until: bytes, timeout: float = 10.0) -> None:
        conn.settimeout(timeout)
        while until not in self.received:
            data = conn.recv(1024)
            if not data:
                return
            self.received += data


def send(*chunks: bytes, linger: float = 0.3) -> Script:
    def script(conn: socket.socket) -> None:
        for c in chunks:
            conn.sendall(c)
            time.sleep(0.02)
        time.sleep(linger)

    return script


def hold(seconds: float) -> Script:
    def script(conn: socket.socket) -> None:
        time.sleep(seconds)

    return script


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["monitor", *args])
        raise SystemExit(0)
    cap = capsys.readouterr()
    return int(exc.value.code or 0), cap.out, cap.err


def test_expect_in_order_exit_0(capsys):
    srv = Server(send(b"boot\n", b"selftest 1 ok\n", b"ALL PASS\n"))
    code, out, _ = run_cli(
        capsys, "--port", srv.url, "--expect", "boot", "--expect", "PASS", "--timeout", "10"
    )
    assert code == 0
    assert "selftest 1 ok" in out
    assert out.rstrip().splitlines()[-1] == "PASS; seen 'boot' (line 1), 'PASS' (line 3)"


def test_fail_pattern_exit_1(capsys):
    srv = Server(send(b"boot\n", b"test 2 FAIL: 3 != 4\n", b"PASS\n"))
    code, out, _ = run_cli(capsys, "--port", srv.url, "--expect", "PASS", "--fail", "FAIL", "--timeout", "10")
    assert code == 1
    assert "FAIL: line 2 matched --fail 'FAIL': 'test 2 FAIL: 3 != 4'; not seen 'PASS'" in out


def test_timeout_exit_1_says_what_was_seen(capsys):
    srv = Server(send(b"boot\n", linger=5))
    t0 = time.monotonic()
    code, out, _ = run_cli(
        capsys, "--port", srv.url, "--expect", "boot", "--expect", "PASS", "--timeout", "1"
    )
    assert code == 1
    assert time.monotonic() - t0 < 4
    assert "TIMEOUT after 1 s; seen 'boot' (line 1); not seen 'PASS'" in out


def test_port_closed_without_reconnect(capsys):
    srv = Server(send(b"half a line"))
    code, out, _ = run_cli(capsys, "--port", srv.url, "--expect", "PASS", "--no-reconnect", "--timeout", "10")
    assert code == 1
    assert "half a line\n" in out  # the cut line is still shown
    assert "STOPPED (port closed); not seen 'PASS'" in out


def test_bad_arguments_exit_2(capsys, tmp_path):
    srv = Server(hold(2))
    code, _, err = run_cli(capsys, "--port", srv.url, "--expect", "PASS(")
    assert code == 2
    assert err.startswith("error: --expect 'PASS(' is not a valid regular expression")
    code, _, err = run_cli(capsys, "--port", srv.url, "--elf", str(tmp_path / "nope.elf"))
    assert (code, err.strip()) == (
        2,
        f"error: --elf {tmp_path / 'nope.elf'}: no such file (hint: pass the firmware.elf the device runs)",
    )
    code, _, err = run_cli(capsys, "--port", "auto", "--board", "mps2-an386")
    assert code == 2 and "--port auto: this board has no USB VID:PID" in err
    closed = socket.create_server(("127.0.0.1", 0))
    url = f"socket://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()
    code, _, err = run_cli(capsys, "--port", url)
    assert code == 2 and "connection refused" in err
    code, _, err = run_cli(capsys, "--port", url, "--wait", "--timeout", "0.5")
    assert code == 2 and "connection refused, still after waiting 0.5 s" in err


def test_json_records_and_summary(capsys):
    srv = Server(
        send(
            b"TF BEGIN board=mps2-an386 model=abc inputs=2\n",
            b"TF RESULT idx=0 ticks=25000 out0=01\nTF RESULT idx=1 ticks=50000 out0=02\n",
            b"TF DONE status=pass count=2\n",
        )
    )
    code, out, err = run_cli(
        capsys, "--port", srv.url, "--json", "--board", "mps2-an386", "--expect", "TF DONE", "--timeout", "10"
    )
    assert code == 0
    objs = [json.loads(line) for line in out.splitlines()]
    assert [o["type"] for o in objs] == ["event", "begin", "result", "result", "done", "summary"]
    assert objs[2]["us"] == 1000.0 and objs[3]["outputs"] == ["02"]
    summary = objs[-1]
    assert summary["status"] == "pass" and summary["inferences"] == 2
    assert summary["latency"]["p50"] == 25000 and summary["latency"]["p99_us"] == 2000.0
    assert err.strip() == "PASS; seen 'TF DONE' (line 4)"


def test_reconnects_and_keeps_everything(tmp_path: Path):
    """The 'device' drops the connection in the middle of a line and is away for a second."""
    srv = Server(
        send(b"TF BEGIN board=b model=m inputs=0\n", b"part one\n", b"cut in the mid", linger=0.1),
        send(b"TF BEGIN board=b model=m inputs=0\n", b"part two\n", b"DONE\n"),
        gap=1.0,
    )
    log = tmp_path / "logs" / "run.log"
    out = open(tmp_path / "out.txt", "w+")
    rep = api.monitor(srv.url, expect=["part one", "part two", "DONE"], timeout=15, log=log, out=out)
    assert rep.exit_code == 0, rep.verdict.summary
    assert rep.counts["reconnects"] == 1 and rep.counts["runs"] == 2
    text = log.read_text()
    order = ["part one", "cut in the mid", "lost", "back after", "part two", "DONE", "--- end: PASS"]
    positions = [text.find(s) for s in order]
    assert -1 not in positions and positions == sorted(positions), text
    assert "cut in the mid\n" in text  # the cut line ends where the connection ended
    out.seek(0)
    assert "part one" in out.read()


def test_wait_for_the_port_to_appear(tmp_path: Path):
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    servers: list[Server] = []

    def later() -> None:
        time.sleep(0.8)
        servers.append(Server(send(b"READY\n"), port=port))

    threading.Thread(target=later, daemon=True).start()
    rep = api.monitor(
        f"socket://127.0.0.1:{port}", wait=True, expect=["READY"], timeout=10, out=open(os.devnull, "w")
    )
    assert rep.exit_code == 0


def test_interactive_keys_go_to_the_device_and_ctrl_bracket_quits():
    """stdin is a pseudo-terminal: raw mode, Enter sends CR LF, Ctrl-] quits with status 0."""
    srv_holder: list[Server] = []

    def echo(conn: socket.socket) -> None:
        conn.sendall(b"shell> ")
        srv_holder[0].recv_into(conn, b"\r\n")
        conn.sendall(b"\r\nyou typed: " + bytes(srv_holder[0].received).strip() + b"\r\n")
        time.sleep(5)

    srv = Server(echo)
    srv_holder.append(srv)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinyforge", "monitor", "--port", srv.url],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    try:
        out = b""
        deadline = time.monotonic() + 20
        while b"shell> " not in out and time.monotonic() < deadline:
            if select.select([proc.stdout], [], [], 0.1)[0]:
                out += os.read(proc.stdout.fileno(), 4096)
        os.write(master, b"hello\r")
        while b"you typed" not in out and time.monotonic() < deadline:
            if select.select([proc.stdout], [], [], 0.1)[0]:
                out += os.read(proc.stdout.fileno(), 4096)
        os.write(master, b"\x1d")
        rest, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    out += rest
    assert bytes(srv.received) == b"hello\r\n"
    assert b"you typed: hello" in out
    assert b"quit with Ctrl-]" in out and b"STOPPED (quit with Ctrl-])" in out
    assert proc.returncode == 0, err.decode()


def test_rfc2217_url(tmp_path: Path):
    """rfc2217:// (pyserial's own RFC 2217 server side, `PortManager`, over real TCP)."""
    import serial
    from serial import rfc2217

    sock = socket.create_server(("127.0.0.1", 0))

    def device() -> None:
        conn, _ = sock.accept()

        class Wire:
            def write(self, data: bytes) -> None:
                conn.sendall(data)

        manager = rfc2217.PortManager(serial.serial_for_url("loop://", timeout=0), Wire())
        conn.settimeout(0.05)
        t0, sent = time.monotonic(), False
        while time.monotonic() - t0 < 5:
            try:
                data = conn.recv(1024)
                if not data:
                    break
                for _ in manager.filter(data):  # answer the client's option negotiation
                    pass
            except TimeoutError:
                pass
            if not sent and time.monotonic() - t0 > 0.3:
                conn.sendall(
                    b"".join(manager.escape(b"hello over rfc2217 \xff\nTF DONE status=pass count=0\n"))
                )
                sent = True
        conn.close()

    threading.Thread(target=device, daemon=True).start()
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        rep = api.monitor(
            f"rfc2217://127.0.0.1:{sock.getsockname()[1]}", expect=["TF DONE"], timeout=10, out=f
        )
    assert rep.exit_code == 0, rep.verdict.summary
    assert "hello over rfc2217 \\xff\n" in out.read_text()


def test_session_without_file_descriptor_reads_and_writes():
    """loop:// has no fileno(): the session falls back to blocking reads; writes come back."""
    from tinyforge.monitor.session import PortSession, Received

    s = PortSession("loop://")
    s.open()
    s.start()
    try:
        assert s.write(b"ping\n")
        got = b""
        deadline = time.monotonic() + 5
        while got != b"ping\n" and time.monotonic() < deadline:
            item = s.get(0.1)
            if isinstance(item, Received):
                got += item.data
        assert got == b"ping\n"
    finally:
        s.close()
    assert not s.write(b"x")  # closed: nothing to write to
