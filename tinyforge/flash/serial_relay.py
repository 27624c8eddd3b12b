"""The emulated board's console on a TCP port, one client at a time, without losing a byte.

QEMU's own TCP serial drops what the UART sends while no client is connected, so a monitor
attached a moment after the board started never saw its first lines. Here tinyforge holds QEMU's
end of the UART for the whole run and serves it on 127.0.0.1:PORT:

- what the board sends while no client is attached is kept (the last `keep` bytes) and handed to
  the next client first;
- with `hold`, the emulated CPU runs only while a client is attached: it starts held (QEMU `-S`)
  and `on_attach` / `on_detach` let it run / hold it again (QMP `cont` / `stop`), so the board
  waits for whoever watches it, and its timer does not advance meanwhile;
- when the board is gone (QEMU exited), the attached client gets what is left, then the end of
  the stream; a later client gets what was kept, then the end.
"""

from __future__ import annotations

import os
import select
import socket
import threading
from collections.abc import Callable

KEEP = 1 << 20  # bytes kept for the next client while none is attached


class SerialRelay:
    def __init__(
        self,
        listener: socket.socket,
        upstream: socket.socket,
        *,
        on_attach: Callable[[], object] = lambda: None,
        on_detach: Callable[[], object] = lambda: None,
        keep: int = KEEP,
    ) -> None:
        self.listener = listener
        self.upstream = upstream
        self.on_attach = on_attach
        self.on_detach = on_detach
        self.keep = keep
        self.kept = bytearray()
        self.dropped = 0  # bytes that did not fit in `keep`
        self.clients = 0  # clients served so far
        self.board_gone = False
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._delivered = threading.Event()  # the board is gone and a client got all it sent
        self._stop_r, self._stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, name="tinyforge-serial-relay", daemon=True)
        self.thread.start()

    @property
    def attached(self) -> bool:
        return self._client is not None

    def pending(self) -> int:
        """Bytes the board sent that no client has received yet."""
        with self._lock:
            return len(self.kept)

    def wait_delivered(self, timeout: float | None = None) -> bool:
        """Once the board is gone: wait until a client has received what it sent last."""
        return self._delivered.wait(timeout)

    # ---- the relay thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                fds: list[int | socket.socket] = [self._stop_r]
                if self._client is None:
                    fds.append(self.listener)
                else:
                    fds.append(self._client)
                if not self.board_gone:
                    fds.append(self.upstream)
                ready = select.select(fds, [], [])[0]
                if self._stop_r in ready:
                    return
                if self.upstream in ready:
                    self._from_board()
                if self.listener in ready and self._client is None:
                    self._accept()
                elif self._client is not None and self._client in ready:
                    self._from_client()
        finally:
            self._drop_client(notify=False)

    def _from_board(self) -> None:
        try:
            data = self.upstream.recv(65536)
        except OSError:
            data = b""
        if not data:
            self.board_gone = True
            if self._client is not None:
                self._drop_client(notify=False)  # the end of the stream tells the client
            if not self.kept:
                self._delivered.set()
            return
        if self._client is not None:
            try:
                self._client.sendall(data)
                return
            except OSError:
                self._drop_client()
        self._keep(data)

    def _keep(self, data: bytes) -> None:
        with self._lock:
            self.kept += data
            over = len(self.kept) - self.keep
            if over > 0:
                del self.kept[:over]
                self.dropped += over

    def _accept(self) -> None:
        try:
            client, _ = self.listener.accept()
        except OSError:
            return
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            kept, self.kept = bytes(self.kept), bytearray()
        try:
            if kept:
                client.sendall(kept)
        except OSError:
            self._keep(kept)
            client.close()
            return
        self.clients += 1
        if self.board_gone:
            client.close()  # what was kept, then the end: the board is gone
            self._delivered.set()
            return
        self._client = client
        self.on_attach()

    def _from_client(self) -> None:
        assert self._client is not None
        try:
            data = self._client.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop_client()
            return
        try:
            self.upstream.sendall(data)
        except OSError:
            self.board_gone = True

    def _drop_client(self, notify: bool = True) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.close()
        except OSError:
            pass
        if notify and not self.board_gone:
            self.on_detach()

    # ---- from other threads ------------------------------------------------------------------

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self.thread.join(5)
        for s in (self.listener, self.upstream):
            try:
                s.close()
            except OSError:
                pass
        for fd in (self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass


def listen(host: str, port: int) -> socket.socket:
    """The public end: a TCP listener for one client at a time (OSError when the port is taken)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(1)
        return s
    except BaseException:
        s.close()
        raise
