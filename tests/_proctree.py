"""Processes as Linux's /proc shows them, for the process clean-up tests: the descendants of a
command, whether they are gone (by PID and start time, so a reused PID is not mistaken for one of
them, and by command line), TCP ports, and a tracker that kills whatever a failed test left."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # clock ticks after boot: with the pid, names one process for good
    cmdline: str


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process, None if it does not exist."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rpartition(")")[2].split()  # after "pid (comm)", comm may hold spaces
    return fields[0], int(fields[1]), int(fields[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def descendants(root: int) -> list[Proc]:
    """Every living process below `root` (children, grandchildren, ...)."""
    parent: dict[int, int] = {}
    for pid in _all_pids():
        st = _stat(pid)
        if st is not None and st[0] != "Z":
            parent[pid] = st[1]
    found: list[Proc] = []
    frontier = {root}
    while frontier:
        kids = {pid for pid, pp in parent.items() if pp in frontier}
        frontier = set()
        for pid in kids:
            st = _stat(pid)
            if st is not None:
                found.append(Proc(pid, st[2], _cmdline(pid)))
                frontier.add(pid)
    return found


def alive(p: Proc) -> bool:
    """The very process `p` (same pid and start time) still runs (a zombie does not count)."""
    st = _stat(p.pid)
    return st is not None and st[0] != "Z" and st[2] == p.start


def with_cmdline(text: str) -> list[Proc]:
    """Living processes (not this one) whose command line contains `text`."""
    out = []
    for pid in _all_pids():
        if pid == os.getpid():
            continue
        st = _stat(pid)
        if st is not None and st[0] != "Z" and text in _cmdline(pid):
            out.append(Proc(pid, st[2], _cmdline(pid)))
    return out


def wait_until(cond: Callable[[], object], timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(step)


def listening(port: int) -> bool:
    """Something listens on 127.0.0.1:`port` (read from /proc/net/tcp: no connection is made)."""
    want = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[1] == want and parts[3] == "0A":  # TCP_LISTEN
            return True
    return False


def port_free(port: int) -> bool:
    """A server could bind 127.0.0.1:`port` now (as QEMU does, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen(1)
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _default_signals() -> None:
    # a test run under `nohup` or in a script's background job would hand its ignored SIGHUP /
    # SIGINT down to the command under test, which must then stay deaf to them
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)


class Tracker:
    """Starts commands under test and remembers every process seen below them; `cleanup()` (a
    finalizer) SIGKILLs whatever of them is still alive, so a failing test leaves nothing."""

    def __init__(self) -> None:
        self.popens: list[subprocess.Popen[bytes]] = []
        self.seen: set[Proc] = set()

    def start(self, argv: list[str], **kw: object) -> subprocess.Popen[bytes]:
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, preexec_fn=_default_signals, **kw)  # type: ignore[call-overload]
        self.popens.append(p)
        st = _stat(p.pid)
        if st is not None:
            self.seen.add(Proc(p.pid, st[2], _cmdline(p.pid)))
        return p

    def snapshot(self, p: subprocess.Popen[bytes]) -> list[Proc]:
        kids = descendants(p.pid)
        self.seen.update(kids)
        return kids

    def still_alive(self, procs: Iterable[Proc], timeout: float) -> list[Proc]:
        """Those of `procs` still alive after up to `timeout` s."""
        procs = list(procs)
        wait_until(lambda: not any(alive(q) for q in procs), timeout)
        return [q for q in procs if alive(q)]

    def cleanup(self) -> None:
        for p in self.popens:
            if p.poll() is None:
                self.seen.update(descendants(p.pid))
        for q in self.seen:
            if alive(q):
                try:
                    os.kill(q.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.popens:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    stream.close()
