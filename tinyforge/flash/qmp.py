"""A minimal client of QEMU's machine protocol (QMP, JSON lines over a unix socket): enough for the
emulated bench to start a machine held (`-S`), let it run (`cont`) and hold it again (`stop`).
The socket is QEMU's own child end; nothing here starts a process."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

from tinyforge.errors import RunError


class Qmp:
    """One QMP session. `command()` is thread-safe; asynchronous events are kept in `events`."""

    def __init__(self, sock: socket.socket, timeout: float = 10.0) -> None:
        self.sock = sock
        self.sock.settimeout(timeout)
        self._file = sock.makefile("rwb", buffering=0)
        self._lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        greeting = self._read()
        if "QMP" not in greeting:
            raise RunError(f"QEMU's QMP socket did not greet (got {greeting!r})")
        self.command("qmp_capabilities")

    @classmethod
    def connect(cls, path: str, timeout: float = 10.0) -> Qmp:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return cls(s, timeout)
        except BaseException:
            s.close()
            raise

    def _read(self) -> dict[str, Any]:
        line = self._file.readline()
        if not line:
            raise OSError("QEMU closed its QMP socket")
        value = json.loads(line)
        return value if isinstance(value, dict) else {}

    def command(self, name: str, **arguments: Any) -> Any:
        """Run a command; its `return` value, RunError for an `error` reply, OSError when QEMU is
        gone."""
        msg: dict[str, Any] = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        with self._lock:
            self._file.write(json.dumps(msg).encode() + b"\n")
            while True:
                reply = self._read()
                if "event" in reply:
                    self.events.append(reply)
                    continue
                if "error" in reply:
                    err = reply["error"]
                    raise RunError(f"QEMU refused {name}: {err.get('desc', err)}")
                return reply.get("return")

    def try_command(self, name: str) -> bool:
        """`command` for a machine that may have ended already: False instead of an error."""
        try:
            self.command(name)
            return True
        except (OSError, RunError, ValueError):
            return False

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            self.sock.close()


def wait_for_unix_socket(path: str, alive: Any, timeout: float) -> socket.socket:
    """A connection to the unix socket QEMU is about to create at `path`; `alive()` False (QEMU
    exited) or the timeout end the wait with OSError / TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
        if not alive():
            raise OSError("QEMU exited")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout:g} s")
        time.sleep(0.02)
