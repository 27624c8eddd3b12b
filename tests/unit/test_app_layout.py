"""Where `tinyforge build` puts the image: for the board's default flash method (so `flash` takes
it with no flag), checked on every board; and the console relay of the emulated bench, which
keeps what the board prints while no client is attached."""

from __future__ import annotations

import socket
import time

import pytest

from tinyforge import api
from tinyforge.errors import UsageError
from tinyforge.flash.request import choose_method
from tinyforge.flash.serial_relay import SerialRelay, listen
from tinyforge.toolchain.layout import app_layout


@pytest.mark.parametrize("board", [b for b in api.boards() if not b.is_host], ids=lambda b: b.name)
def test_every_board_lays_out_for_what_flash_will_use(board) -> None:  # noqa: ANN001
    lay = app_layout(board)
    methods = [m for m in board.flash_methods if m.kind != "none"]
    if not methods:
        assert (lay.method, lay.app_offset, lay.address) == (None, 0, board.flash.origin)
        assert lay.describe().startswith("no loader, application at")
        return
    flash_uses = choose_method(board, None)  # what `tinyforge flash` picks without --method
    assert lay.method == flash_uses.kind and lay.chosen_by == "board default"
    assert lay.app_offset == int(flash_uses.settings.get("app_offset", 0))
    assert lay.address == board.flash.origin + lay.app_offset


def test_the_bench_board_and_the_stm32_rom_loader() -> None:
    an386 = app_layout(api.board("mps2-an386"))
    assert (an386.method, an386.loader, an386.app_offset) == ("stm32-uart", "tinyforge", 0x10000)
    assert an386.describe() == (
        "stm32-uart (tinyforge's bench bootloader), application at 0x00010000 (board default)"
    )
    f446 = app_layout(api.board("nucleo-f446re"))
    assert (f446.loader, f446.app_offset, f446.address) == ("rom", 0, 0x08000000)
    assert "the chip's ROM bootloader" in f446.describe()


def test_app_offset_and_method_override_the_default() -> None:
    b = api.board("mps2-an386")
    direct = app_layout(b, app_offset=0)
    assert (direct.method, direct.app_offset, direct.chosen_by) == (None, 0, "--app-offset")
    assert app_layout(b, method="stm32-uart").chosen_by == "--method"
    with pytest.raises(UsageError, match="board mps2-an386 has no uf2 flash method"):
        app_layout(b, method="uf2")


# ---- the bench console relay ------------------------------------------------------------------


def recv_until(s: socket.socket, marker: bytes, timeout: float = 5.0) -> bytes:
    s.settimeout(timeout)
    out = b""
    deadline = time.monotonic() + timeout
    while marker not in out and time.monotonic() < deadline:
        chunk = s.recv(4096)
        if not chunk:
            break
        out += chunk
    return out


def test_the_relay_keeps_what_the_board_sends_while_nobody_listens() -> None:
    board, qemu_end = socket.socketpair()
    events: list[str] = []
    relay = SerialRelay(
        listen("127.0.0.1", 0),
        qemu_end,
        on_attach=lambda: events.append("attach"),
        on_detach=lambda: events.append("detach"),
    )
    try:
        port = relay.listener.getsockname()[1]
        board.sendall(b"TF BEGIN early\n")  # nobody attached yet
        deadline = time.monotonic() + 5
        while relay.pending() < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        with socket.create_connection(("127.0.0.1", port)) as c:
            assert recv_until(c, b"early\n") == b"TF BEGIN early\n"
            c.sendall(b"\x7f")  # and the other way
            board.settimeout(5)
            assert board.recv(1) == b"\x7f"
            board.sendall(b"live\n")
            assert recv_until(c, b"live\n") == b"live\n"
        deadline = time.monotonic() + 5
        while events != ["attach", "detach"] and time.monotonic() < deadline:
            time.sleep(0.01)
        assert events == ["attach", "detach"]
        board.sendall(b"TF DONE late\n")
        board.close()  # QEMU exited: the next client gets the rest, then the end of the stream
        with socket.create_connection(("127.0.0.1", port)) as c:
            assert recv_until(c, b"late\n") == b"TF DONE late\n"
            assert c.recv(10) == b""
    finally:
        relay.close()
