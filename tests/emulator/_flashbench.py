"""Helpers for the flashing-bench tests: the test application, and a TCP proxy that sits between a
flasher and the emulated board, relaying the real protocol traffic with one injected fault
(a corrupted byte, or a connection dropped mid-transfer)."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from pathlib import Path

from tinyforge.boards import load_board
from tinyforge.toolchain.gcc import build_program

HERE = Path(__file__).resolve().parent
APP_SOURCE = HERE.parent / "data" / "firmware" / "flash_hello.c"
BOARD = "mps2-an386"
APP_OFFSET = 0x10000


def build_hello(out: Path, *, pad_bytes: int = 4096, name: str = "firmware", tail_ms: int = 0) -> Path:
    """A `tinyforge build`-like output directory holding the test application for the bootloader
    (`tail_ms`: it keeps running that long after TF BEGIN, printing a line every 100 ms)."""
    build_program(
        load_board(BOARD),
        [APP_SOURCE],
        out,
        app_offset=APP_OFFSET,
        name=name,
        defines=[f"HELLO_PAD_BYTES={pad_bytes}", f"HELLO_TAIL_MS={tail_ms}u"],
    )
    (out / "report.json").write_text(json.dumps({"board": BOARD, "app_offset": APP_OFFSET}))
    return out


def tree_digest(d: Path) -> dict[str, tuple[str, int]]:
    """Content hash and mtime of every file under d (flashing must change neither)."""
    return {
        str(p.relative_to(d)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


class FaultProxy:
    """127.0.0.1:<port> -> the bench, relaying both ways. Faults on the flasher -> board stream:
    - corrupt_at=N: flip the N-th byte (once, counted over the proxy's life);
    - corrupt_after=PATTERN: every time PATTERN passes, flip the byte `corrupt_gap` bytes after it;
    - drop_after=N: after N bytes, close both connections (once)."""

    def __init__(
        self,
        upstream: tuple[str, int],
        *,
        corrupt_at: int | None = None,
        corrupt_after: bytes | None = None,
        corrupt_gap: int = 3,
        drop_after: int | None = None,
    ) -> None:
        self.upstream = upstream
        self.corrupt_at = corrupt_at
        self.corrupt_after = corrupt_after
        self.corrupt_gap = corrupt_gap
        self.drop_after = drop_after
        self.sent = 0
        self.corrupted = 0
        self.dropped = False
        self._window = b""
        self._pending: list[int] = []  # stream offsets still to corrupt
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self.listener.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            board = socket.create_connection(self.upstream)
            for s in (client, board):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump_up, args=(client, board), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(board, client), daemon=True).start()

    def _fault(self, data: bytes) -> bytes:
        out = bytearray(data)
        for i in range(len(out)):
            pos = self.sent + i
            if self.corrupt_at is not None and pos == self.corrupt_at:
                out[i] ^= 0x5A
                self.corrupted += 1
            if pos in self._pending:
                self._pending.remove(pos)
                out[i] ^= 0x5A
                self.corrupted += 1
            if self.corrupt_after:
                self._window = (self._window + bytes([data[i]]))[-len(self.corrupt_after) :]
                if self._window == self.corrupt_after:
                    self._pending.append(pos + self.corrupt_gap)
        return bytes(out)

    def _pump_up(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(4096)
                if not data:
                    break
                if (
                    self.drop_after is not None
                    and not self.dropped
                    and self.sent + len(data) >= self.drop_after
                ):
                    keep = self.drop_after - self.sent
                    dst.sendall(self._fault(data[:keep]))
                    self.sent += keep
                    self.dropped = True
                    break
                dst.sendall(self._fault(data))
                self.sent += len(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    @staticmethod
    def _pump_down(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(4096)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass


class SilentServer:
    """A TCP port that never answers the bootloader protocol: silent (no bootloader running), or
    printing `reply` whenever it receives something (an application running instead)."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.listener.getsockname()[1]}"
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c: socket.socket) -> None:
        try:
            while c.recv(4096):
                if self.reply:
                    c.sendall(self.reply)
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()
        for c in self.conns:
            c.close()
