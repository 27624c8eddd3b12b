"""The subprocess seam owns every child: nothing else in tinyforge starts processes; a child and
what it started end together (process groups); children die with a SIGKILLed parent (Linux
PR_SET_PDEATHSIG), also those started from threads; a supervised command turns SIGTERM, SIGHUP and
SIGINT into an orderly exit (128 + signal) that stops its children."""

from __future__ import annotations

import ast
import json
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from _proctree import Tracker, alive, descendants, wait_until

from tinyforge import proc
from tinyforge.errors import ToolError

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "tinyforge"

# modules that start processes, and functions that do (module, name)
BANNED_MODULES = {"subprocess", "multiprocessing", "pty", "asyncio.subprocess"}
BANNED_CALLS = {
    ("os", n)
    for n in (
        "system popen fork forkpty posix_spawn posix_spawnp spawnl spawnle spawnlp spawnlpe spawnv "
        "spawnve spawnvp spawnvpe execl execle execlp execlpe execv execve execvp execvpe"
    ).split()
} | {
    ("asyncio", "create_subprocess_exec"),
    ("asyncio", "create_subprocess_shell"),
    ("concurrent.futures", "ProcessPoolExecutor"),
}


def process_starters(source: str) -> list[str]:
    """`line: what` for every way `source` could start a process itself."""
    found: list[str] = []
    tree = ast.parse(source)
    aliases: dict[str, str] = {}  # local name -> module it names
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                if a.name in BANNED_MODULES or a.name.split(".")[0] in {"subprocess", "multiprocessing"}:
                    found.append(f"{node.lineno}: import {a.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                if node.module in BANNED_MODULES or f"{node.module}.{a.name}" in BANNED_MODULES:
                    found.append(f"{node.lineno}: from {node.module} import {a.name}")
                elif (node.module, a.name) in BANNED_CALLS:
                    found.append(f"{node.lineno}: from {node.module} import {a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts = []
            cur: ast.expr = node
            while isinstance(cur, ast.Attribute):
                parts.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name):
                dotted = ".".join([aliases.get(cur.id, cur.id), *reversed(parts)])
                module, _, name = dotted.rpartition(".")
                if (module, name) in BANNED_CALLS:
                    found.append(f"{node.lineno}: {dotted}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            found.append(f"{node.lineno}: __import__(...)")
    return found


def test_the_checker_sees_every_way_to_start_a_process() -> None:
    src = textwrap.dedent(
        """
        import subprocess
        import os as o
        from subprocess import Popen
        import multiprocessing.pool
        import asyncio
        from concurrent.futures import ProcessPoolExecutor
        from os import posix_spawn
        o.system("x")
        o.execvp("x", ["x"])
        asyncio.create_subprocess_exec("x")
        import pty
        """
    )
    lines = sorted(int(hit.split(":")[0]) for hit in process_starters(src))
    assert lines == [2, 4, 5, 7, 8, 9, 10, 11, 12]  # all but `import os as o` and `import asyncio`
    assert process_starters("import os\nos.path.join('a')\nos.openpty()\nimport threading\n") == []


def test_only_the_seam_starts_processes() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "proc.py":
            continue
        for hit in process_starters(path.read_text()):
            offenders.append(f"{path.relative_to(REPO)}:{hit}")
    assert offenders == [], "start processes through tinyforge/proc.py:\n" + "\n".join(offenders)


def test_stop_ends_the_child_and_what_it_started(tmp_path: Path) -> None:
    p = proc.start_tool(["sh", "-c", "sleep 300 & echo $!; wait"], stdout=proc.PIPE)
    try:
        assert p.stdout is not None
        grandchild = int(p.stdout.readline())
        import os

        assert os.getpgid(p.pid) == p.pid and os.getpgid(grandchild) == p.pid  # its own group
        assert p in proc.live()
        kids = descendants(p.pid)
        assert [k.pid for k in kids] == [grandchild]
        assert proc.stop(p) == -signal.SIGTERM
        assert wait_until(lambda: not alive(kids[0]), 5)  # SIGKILLed with the group: dying
        assert p not in proc.live()
    finally:
        proc.stop(p, grace=0)
        p.stdout.close()  # type: ignore[union-attr]


def test_a_timeout_stops_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    with pytest.raises(ToolError, match=r"sh did not finish within 0\.5 s"):
        # the grandchild holds the output pipe: only stopping the group ends the wait
        proc.run_tool(["sh", "-c", f"sleep 300 & echo $! > {pidfile}; wait"], timeout=0.5)
    pid = int(pidfile.read_text())
    assert wait_until(lambda: not Path(f"/proc/{pid}").exists() or "Z" in _state(pid), 5)
    assert proc.live() == ()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return "gone"


def test_run_tool_gives_no_terminal_input() -> None:
    # children run in their own process group: reading a terminal would stop them (SIGTTIN)
    res = proc.run_tool(["sh", "-c", "cat; echo done"])
    assert res.stdout == "done\n"
    assert proc.run_tool(["cat"], input_bytes=b"abc").stdout == "abc"


def test_a_child_started_by_a_thread_outlives_the_thread() -> None:
    box: list[proc.Process] = []
    t = threading.Thread(target=lambda: box.append(proc.start_tool(["sleep", "300"])))
    t.start()
    t.join()
    p = box[0]
    try:
        # PR_SET_PDEATHSIG follows the forking thread: had the ended thread forked it, it was dead
        assert not wait_until(lambda: p.poll() is not None, 0.5)
    finally:
        assert proc.stop(p) == -signal.SIGTERM


PARENT = """
import sys, threading, time
from tinyforge import proc
main = proc.start_tool(["sleep", "301"])
box = []
t = threading.Thread(target=lambda: box.append(proc.start_tool(["sleep", "302"])))
t.start(); t.join()
threading.Thread(target=lambda: proc.run_tool(["sleep", "303"]), daemon=True).start()
print("ready", flush=True)
time.sleep(300)
"""


def test_children_die_with_a_sigkilled_parent() -> None:
    tracker = Tracker()
    try:
        p = tracker.start([sys.executable, "-c", PARENT], stdout=subprocess.PIPE)
        assert p.stdout is not None and p.stdout.readline() == b"ready\n"
        assert wait_until(lambda: len(descendants(p.pid)) == 3, 10)
        kids = tracker.snapshot(p)
        assert sorted(k.cmdline.split()[-1] for k in kids) == ["301", "302", "303"]
        p.send_signal(signal.SIGKILL)
        assert p.wait(5) == -signal.SIGKILL
        assert tracker.still_alive(kids, 5) == []  # no one was left to stop them: the kernel did
    finally:
        tracker.cleanup()


SUPERVISED = """
import sys
from tinyforge import proc
try:
    with proc.supervise():
        bg = proc.start_tool(["sh", "-c", "sleep 304 & wait"])
        proc.run_tool(["sh", "-c", "sleep 305 & wait"])
except proc.Terminated as exc:
    print(proc.live(), flush=True)
    sys.exit(exc.exit_code)
except KeyboardInterrupt:
    print(proc.live(), flush=True)
    sys.exit(130)
"""


@pytest.mark.parametrize(
    ("sig", "code"),
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)],
    ids=["SIGTERM", "SIGHUP", "SIGINT"],
)
def test_a_supervised_command_stops_its_children_on_a_signal(sig: int, code: int) -> None:
    tracker = Tracker()
    try:
        p = tracker.start([sys.executable, "-c", SUPERVISED], stdout=subprocess.PIPE)
        assert wait_until(lambda: len(descendants(p.pid)) == 4, 20)  # two sh, two sleep
        kids = tracker.snapshot(p)
        p.send_signal(sig)
        out, _ = p.communicate(timeout=10)
        assert p.returncode == code
        assert out == b"()\n"  # nothing left in the registry at exit
        assert tracker.still_alive(kids, 5) == []
    finally:
        tracker.cleanup()


def test_the_cli_stops_only_the_children_of_its_own_command(capsys: pytest.CaptureFixture[str]) -> None:
    """`main()` called in-process (as tests do, next to an emulator they started) ends what the
    command started and nothing else, and restores the signal handlers."""
    from tinyforge.cli import main

    before = signal.getsignal(signal.SIGTERM)
    p = proc.start_tool(["sleep", "300"])
    try:
        with pytest.raises(SystemExit) as exc:
            main(["boards", "--json"])
            raise SystemExit(0)
        assert exc.value.code in (0, None)
        assert json.loads(capsys.readouterr().out)
        assert p.poll() is None
        assert signal.getsignal(signal.SIGTERM) == before
    finally:
        proc.stop(p, grace=0)


def test_no_new_children_once_stopping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proc, "_stopping", signal.SIGTERM)
    with pytest.raises(ToolError, match=r"not starting sleep: tinyforge is stopping \(SIGTERM\)"):
        proc.start_tool(["sleep", "1"])
