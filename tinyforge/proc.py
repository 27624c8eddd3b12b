"""The one seam through which tinyforge runs external programs, and the owner of every child.

Every gcc, objcopy, qemu, stm32flash or addr2line call goes through `run_tool` (blocking) or
`start_tool` (background process), so tests can record or assert the exact command lines and a
missing tool always becomes the same clear error. No other module imports `subprocess`
(tests/unit/test_proc.py checks it).

Every child ends with tinyforge, whatever ends tinyforge:
- each child is the leader of its own process group (`setpgid(0, 0)`), so stopping it reaches
  whatever it started too: `stop()` sends SIGTERM to the group, waits, then SIGKILLs the group;
- a registry holds the live children; `supervise()` (entered once by the CLI) turns SIGTERM, SIGHUP
  and SIGINT into exceptions (`Terminated`, `KeyboardInterrupt`) so the command unwinds, and stops
  every child started inside it on the way out, normal or not; `atexit` does the same for scripts;
- on Linux each child asks the kernel (`prctl(PR_SET_PDEATHSIG, SIGKILL)`, set before exec) to be
  killed when its parent dies, which also covers a SIGKILL of tinyforge. The kernel ties that to
  the *thread* that forked the child, so background children of other threads are forked by one
  long-lived spawner thread (`_Spawner`), and blocking ones by the thread that waits for them.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeAlias

from tinyforge.errors import ToolError

# What callers pass for a child's streams, and what they catch (so they need not import subprocess).
PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT
TimeoutExpired = subprocess.TimeoutExpired
Process: TypeAlias = "subprocess.Popen[bytes]"

# Where each tool comes from on Debian/Ubuntu, for the error hint.
APT_PACKAGES: dict[str, str] = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "arm-none-eabi-objcopy": "binutils-arm-none-eabi",
    "arm-none-eabi-size": "binutils-arm-none-eabi",
    "arm-none-eabi-addr2line": "binutils-arm-none-eabi",
    "arm-none-eabi-nm": "binutils-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
    "stm32flash": "stm32flash",
    "gcc": "gcc",
}

STOP_GRACE = 3.0  # seconds a child gets between SIGTERM and SIGKILL
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PDEATHSIG = signal.SIGKILL  # nobody is left to wait for a graceful exit once the parent is gone
HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class Terminated(BaseException):
    """tinyforge received SIGTERM or SIGHUP: unwind like KeyboardInterrupt (a BaseException, so
    `except Exception` does not swallow it); the CLI exits with 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@dataclass(frozen=True)
class ToolResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


# Tests may install a recorder here: it sees every argv before it runs.
_observers: list[Callable[[tuple[str, ...]], None]] = []


def add_observer(fn: Callable[[tuple[str, ...]], None]) -> None:
    _observers.append(fn)


def remove_observer(fn: Callable[[tuple[str, ...]], None]) -> None:
    _observers.remove(fn)


def find_tool(name: str) -> str:
    """Absolute path of `name`, or a ToolError that says how to install it."""
    env_override = os.environ.get("TINYFORGE_" + name.upper().replace("-", "_"))
    if env_override:
        return env_override
    path = shutil.which(name)
    if path is None:
        pkg = APT_PACKAGES.get(name, name)
        raise ToolError(
            f"{name} not found on PATH",
            hint=f"install it with: sudo apt-get install {pkg}",
        )
    return path


def _resolve(argv: Sequence[str | os.PathLike[str]]) -> tuple[str, ...]:
    args = tuple(str(a) for a in argv)
    if not args:
        raise ValueError("empty command line")
    exe = args[0] if os.sep in args[0] else find_tool(args[0])
    args = (exe, *args[1:])
    for fn in _observers:
        fn(args)
    return args


def run_tool(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
    check: bool = True,
    input_bytes: bytes | None = None,
    what: str | None = None,
) -> ToolResult:
    """Run a tool to completion and capture its output (stdin: `input_bytes`, else nothing).

    With `check`, a non-zero exit becomes a ToolError that quotes the first lines of stderr.
    A timeout, an exception or a signal stops the tool's whole process group.
    """
    args = _resolve(argv)
    # forked by this thread, which waits for it: the parent-death signal follows this thread
    p = _spawn(args, cwd, PIPE if input_bytes is not None else DEVNULL, PIPE, PIPE, here=True)
    with p:
        try:
            out, err = p.communicate(input_bytes, timeout=timeout)
        except TimeoutExpired as exc:
            stop(p, grace=0)
            raise ToolError(
                f"{what or Path(args[0]).name} did not finish within {timeout:g} s",
                hint="the program may hang; rerun with a larger --timeout",
            ) from exc
        finally:
            if p.returncode is None:  # interrupted: Ctrl-C, a signal, an error in this thread
                stop(p, grace=0)
            _forget(p)
    result = ToolResult(args, p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    if check and p.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        first = "; ".join(detail[:3]) if detail else "no output"
        raise ToolError(
            f"{what or Path(args[0]).name} failed with exit code {p.returncode}: {first}",
            hint="run again with TINYFORGE_VERBOSE=1 to see the full command and output",
        )
    return result


def start_tool(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    stdin: int | None = DEVNULL,
    stdout: int | None = PIPE,
    stderr: int | None = PIPE,
) -> Process:
    """Start a long-running tool (an emulator, a server) in the background, in its own process
    group, registered until it is reaped. End it with `stop(p)`; whatever is left when tinyforge
    ends is stopped then."""
    return _spawn(_resolve(argv), cwd, stdin, stdout, stderr, here=False)


def start_detached(
    argv: Sequence[str | os.PathLike[str]],
    *,
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> int:
    """Start a program meant to outlive tinyforge (the emulated lab's supervisor, `lab up`): the
    leader of its own session and process group, no parent-death signal, not in the registry (so
    neither `supervise()` nor `atexit` stops it), stdin from /dev/null, stdout and stderr appended
    to `log`. Returns its pid, which is also its process group id: end it with `stop_group`."""
    args = _resolve(argv)
    if _stopping is not None:
        raise ToolError(f"not starting {Path(args[0]).name}: tinyforge is stopping")
    with open(log, "ab") as out:
        p = subprocess.Popen(
            args, cwd=cwd, env=env, stdin=DEVNULL, stdout=out, stderr=STDOUT, start_new_session=True
        )
    # reaped in the background, so a detached child that ends does not linger as a zombie (whose
    # group would still look alive) while this process runs on
    threading.Thread(target=p.wait, name=f"reap-{p.pid}", daemon=True).start()
    return p.pid


def group_alive(pgid: int) -> bool:
    """Whether any process of process group `pgid` is still there."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_group(pgid: int, grace: float = STOP_GRACE) -> bool:
    """End a detached process group (`start_detached`): SIGTERM, up to `grace` s, then SIGKILL.
    Returns whether something was there to stop."""
    if not group_alive(pgid):
        return False
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_alive(pgid):
            return True
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 5.0
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


# ---- the registry of live children -----------------------------------------------------------

_live: dict[int, Process] = {}  # pid -> child not yet known to be reaped
_atexit_installed = False
_stopping: int | None = None  # the signal tinyforge is stopping on: no new children from now on
_terminated = False  # Terminated was raised already (only once)
_spawning = 0  # > 0 while the main thread is between fork and registration: signals wait
_deferred: int | None = None


def live() -> tuple[Process, ...]:
    """The children started through this module and not yet reaped."""
    return tuple(p for p in list(_live.values()) if p.returncode is None)


def _register(p: Process) -> None:
    global _atexit_installed
    for pid, other in list(_live.items()):
        if other.returncode is not None:
            _live.pop(pid, None)
    _live[p.pid] = p
    if not _atexit_installed:
        _atexit_installed = True
        atexit.register(stop_all)


def _forget(p: Process) -> None:
    if _live.get(p.pid) is p:
        _live.pop(p.pid, None)


def _signal_group(p: Process, sig: int) -> None:
    """Send `sig` to p's process group, or to p alone if it left it. Only while p is unreaped:
    until then its pid (and so its group id) cannot be reused."""
    if p.returncode is not None:
        return
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            pass
    except PermissionError:
        pass


def _exited(p: Process, timeout: float) -> bool:
    """Wait up to `timeout` s for p to exit *without reaping it*, so its group stays addressable."""
    deadline = time.monotonic() + timeout
    while True:
        if p.returncode is not None:
            return True
        if not hasattr(os, "waitid"):  # not Linux: wait by reaping (stragglers are not reached)
            try:
                p.wait(timeout)
                return True
            except TimeoutExpired:
                return False
        try:
            if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:  # reaped meanwhile (by Popen in another thread)
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def stop(p: Process, grace: float = STOP_GRACE) -> int | None:
    """End a child and everything in its process group: SIGTERM, up to `grace` s to exit, then
    SIGKILL (at once with grace=0). Returns its exit status (negative: the signal)."""
    try:
        if p.returncode is None:
            if grace > 0:
                _signal_group(p, signal.SIGTERM)
                _exited(p, grace)
            _signal_group(p, signal.SIGKILL)  # the leader if it is still there, and any straggler
        try:
            return p.wait(timeout=10)
        except TimeoutExpired:  # stuck in the kernel (D state); nothing more we can do
            return None
    finally:
        _forget(p)


def stop_all(grace: float = STOP_GRACE, *, only: Callable[[Process], bool] | None = None) -> None:
    """Stop every registered child (or those `only` selects), all at once: one grace period."""
    procs = [p for p in live() if only is None or only(p)]
    for p in procs:
        _signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        _exited(p, max(0.0, deadline - time.monotonic()))
        stop(p, grace=0)


# ---- spawning ---------------------------------------------------------------------------------


@functools.cache
def _prctl() -> Any:
    """libc's prctl, loaded in the parent (the child only calls it); None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    fn.restype = ctypes.c_int
    return fn


def _child_setup(parent: int, prctl: Any) -> Callable[[], None]:
    """Runs in the child between fork and exec: as little as possible, nothing that imports or
    locks (the parent may have other threads)."""

    def setup() -> None:
        os.setpgid(0, 0)
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, PDEATHSIG, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the line above: nobody to tell us
                os._exit(1)

    return setup


def _spawn(
    args: tuple[str, ...],
    cwd: Path | None,
    stdin: int | None,
    stdout: int | None,
    stderr: int | None,
    *,
    here: bool,
) -> Process:
    if _stopping is not None:
        raise ToolError(
            f"not starting {Path(args[0]).name}: tinyforge is stopping ({signal.Signals(_stopping).name})"
        )

    def fork() -> Process:
        p = subprocess.Popen(
            args,
            cwd=cwd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            preexec_fn=_child_setup(os.getpid(), _prctl()),
        )
        _register(p)
        if _stopping is not None:  # a signal came while we forked (from another thread)
            stop(p, grace=0)
            raise ToolError(f"not starting {Path(args[0]).name}: tinyforge is stopping")
        return p

    if threading.current_thread() is threading.main_thread():
        global _spawning
        _spawning += 1  # a signal now would leave the new child unregistered: it waits until after
        try:
            p = fork()
        except BaseException:
            _spawning -= 1
            _raise_deferred()
            raise
        _spawning -= 1
        _raise_deferred()
        return p
    if here:
        return fork()
    return _Spawner.get().call(fork)


class _Spawner:
    """Forks background children for threads other than the main thread. The kernel sends the
    parent-death signal when the forking *thread* ends; a worker thread may end long before the
    emulator it started should, this thread lives as long as the process."""

    _instance: _Spawner | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[tuple[Callable[[], Process], list[Any], threading.Event]] = (
            queue.SimpleQueue()
        )
        threading.Thread(target=self._serve, name="tinyforge-spawner", daemon=True).start()

    @classmethod
    def get(cls) -> _Spawner:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _serve(self) -> None:
        while True:
            fn, box, done = self._requests.get()
            try:
                box.append(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                box.append(exc)
            done.set()

    def call(self, fn: Callable[[], Process]) -> Process:
        box: list[Any] = []
        done = threading.Event()
        self._requests.put((fn, box, done))
        done.wait()
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]


# ---- signals ----------------------------------------------------------------------------------


def _interrupt(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _raise_deferred() -> None:
    global _deferred
    if _deferred is not None and _spawning == 0:
        signum, _deferred = _deferred, None
        raise _interrupt(signum)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGTERM/SIGHUP/SIGINT in a supervised command: tell every child to stop at once, start no
    new ones, and unwind the main thread (Terminated / KeyboardInterrupt) so `finally` blocks run.
    Only the first SIGTERM/SIGHUP raises; a repeat must not break the clean-up it interrupts."""
    global _stopping, _deferred, _terminated
    if _stopping is None:
        _stopping = signum
    for p in live():
        _signal_group(p, signal.SIGTERM)
    if signum != signal.SIGINT:
        if _terminated:
            return
        _terminated = True
    if _spawning:
        _deferred = signum
        return
    raise _interrupt(signum)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """While the supervisor stops the children: a signal must not cut that short."""
    global _stopping
    if _stopping is None:
        _stopping = signum


@contextmanager
def supervise() -> Iterator[None]:
    """Run a command that owns its children (the CLI enters this once, around the command).

    Inside: SIGTERM and SIGHUP raise `Terminated` in the main thread, SIGINT raises
    KeyboardInterrupt, each after sending SIGTERM to every child. On the way out, normal or not,
    every child started inside is stopped (SIGTERM to its group, then SIGKILL) and the previous
    signal handlers are restored. A signal the caller ignores (`nohup`) stays ignored. Off the
    main thread it only does the stopping."""
    global _stopping, _deferred, _terminated
    before = live()
    main = threading.current_thread() is threading.main_thread()
    previous: dict[int, Any] = {}
    if main:
        for sig in HANDLED_SIGNALS:
            if signal.getsignal(sig) != signal.SIG_IGN:  # `nohup`, `cmd &` in a script: stay deaf
                previous[sig] = signal.signal(sig, _on_signal)
    try:
        yield
    finally:
        for signum in previous:
            signal.signal(signum, _ignore)
        try:
            stop_all(only=lambda p: all(p is not q for q in before))
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            _stopping = _deferred = None
            _terminated = False


def _pool_worker_setup(parent: int) -> None:
    """A pool worker dies with the process that started it (its own children die with it in turn,
    by their PDEATHSIG), and leaves SIGINT to the parent, which stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    prctl = _prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, PDEATHSIG, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)


@contextmanager
def worker_pool(jobs: int) -> Iterator[Any]:
    """A pool of `jobs` Python worker processes (a `concurrent.futures.Executor`; `spawn`, so no
    worker inherits this process's threads or locks) for running tinyforge API calls side by
    side. Every worker dies with this process; on the way out of the block, normal or not, pending
    work is cancelled and every worker still alive is stopped (SIGTERM, then SIGKILL)."""
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        max_workers=jobs, mp_context=ctx, initializer=_pool_worker_setup, initargs=(os.getpid(),)
    )
    ok = False
    try:
        yield pool
        ok = True
    finally:
        workers = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=ok, cancel_futures=True)
        for w in workers:
            if w.is_alive():
                w.terminate()
        for w in workers:
            w.join(STOP_GRACE)
            if w.is_alive():
                w.kill()
                w.join()
