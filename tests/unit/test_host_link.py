"""The host link of `tinyforge test --port` without a board: the frame codec (serial/frames.py),
and the session (run/target.py) against a board simulated in Python on a TCP socket (the QEMU
runs are in tests/emulator/test_target_qemu.py, the C side in tests/toolchain/test_tf_link.py)."""

from __future__ import annotations

import random
import socket
import struct
import threading
import zlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyforge.errors import RunError
from tinyforge.run.target import Expected, latency_ms, run_session
from tinyforge.serial import frames

# ---- the codec --------------------------------------------------------------------------------


def test_a_frame_is_magic_type_length_payload_crc32() -> None:
    f = frames.encode(frames.INFER, b"\x01\x02")
    assert f[:2] == b"\xa5\x5a" and f[2] == 0x02 and struct.unpack_from("<I", f, 3)[0] == 2
    assert f[7:9] == b"\x01\x02"
    assert struct.unpack_from("<I", f, 9)[0] == zlib.crc32(f[2:9])
    assert len(f) == 2 + 1 + 4 + 2 + 4


@settings(max_examples=60, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=5),
    text=st.binary(max_size=40).filter(lambda b: b"\xa5" not in b),
    seed=st.integers(0, 1000),
)
def test_frames_between_text_survive_any_chunking(payloads: list[bytes], text: bytes, seed: int) -> None:
    stream = b"".join(text + frames.encode(frames.RESULT, p) for p in payloads) + text
    rng = random.Random(seed)
    reader = frames.FrameReader()
    got: list[frames.Frame | frames.BadFrame] = []
    pos = 0
    while pos < len(stream):
        n = rng.randint(1, 64)
        got += reader.feed(stream[pos : pos + n])
        pos += n
    assert [f.payload for f in got if isinstance(f, frames.Frame)] == payloads
    assert reader.take_text() == text * (len(payloads) + 1)


def test_a_corrupted_frame_is_reported_and_the_next_one_still_found() -> None:
    bad = bytearray(frames.encode(frames.RESULT, b"abcdef"))
    bad[9] ^= 0x40
    good = frames.encode(frames.BYE)
    got = frames.FrameReader().feed(bytes(bad) + b"TF LOG x\n" + good)
    assert isinstance(got[0], frames.BadFrame) and got[0].kind == frames.RESULT
    assert got[-1] == frames.Frame(frames.BYE, b"")


def test_a_magic_with_an_absurd_length_is_text() -> None:
    r = frames.FrameReader()
    assert r.feed(b"\xa5\x5a\x82\xff\xff\xff\xffhello") == []
    assert r.take_text().endswith(b"hello")


def test_info_and_result_payloads_round_trip() -> None:
    info = frames.Info(1, 1, 490, 25_000_000, (12, 3), "aeea436800704fce", "mps2-an386")
    assert frames.parse_info(frames.encode_info(info)) == info
    res = frames.Result(7, 0, 2**40 + 5, (bytes(range(12)), b"\xff\x00\x80"))
    assert frames.parse_result(frames.encode_result(res), (12, 3)) == res
    with pytest.raises(frames.LinkProtocolError):
        frames.parse_result(frames.encode_result(res), (12, 4))
    assert "wrong size (it takes 490 bytes)" in frames.describe_error(struct.pack("<BI", 4, 494))


def test_latency_percentiles_are_nearest_rank_in_ms() -> None:
    ticks = [25_000 * k for k in range(1, 21)]  # 1..20 ms at 25 MHz
    assert latency_ms(ticks, 25_000_000) == {"p50": 10.0, "p95": 19.0, "max": 20.0, "mean": 10.5}
    assert latency_ms([], 25_000_000) is None


# ---- the session against a simulated board ----------------------------------------------------

RECORD, OUTS = 8, (4,)
INFO = frames.Info(1, 1, RECORD, 1_000_000, OUTS, "0123456789abcdef", "simboard")
EXPECT = Expected("0123456789abcdef", RECORD, OUTS)


def model(record: bytes) -> bytes:
    return bytes((sum(record) + k) & 0xFF for k in range(4))


class SimBoard:
    """A board serving the host link on 127.0.0.1: it prints a text line first, answers HELLO,
    INFER and END, and misbehaves as told: `corrupt` (indices whose first answer is garbled),
    `drop_at` (close the connection when that INFER arrives), `refuse` (answer ERROR code 4)."""

    def __init__(
        self,
        *,
        corrupt: set[int] | None = None,
        drop_at: int | None = None,
        refuse: bool = False,
        info: frames.Info = INFO,
        silent: bool = False,
    ) -> None:
        self.corrupt = set(corrupt or ())
        self.drop_at = drop_at
        self.refuse = refuse
        self.info = info
        self.silent = silent
        self.seen: list[int] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.server.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.sendall(
                b"TF BEGIN board=simboard model=0123456789abcdef inputs=0\nTF DONE status=pass count=0\n"
            )
            reader = frames.FrameReader()
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                for f in reader.feed(data):
                    assert isinstance(f, frames.Frame)
                    if self.silent:
                        continue
                    if f.kind == frames.HELLO:
                        conn.sendall(frames.encode(frames.INFO, frames.encode_info(self.info)))
                    elif f.kind == frames.INFER:
                        (i,) = struct.unpack_from("<I", f.payload)
                        self.seen.append(i)
                        if i == self.drop_at:
                            return
                        if self.refuse:
                            conn.sendall(frames.encode(frames.ERROR, struct.pack("<BI", 4, 4 + RECORD)))
                            continue
                        out = frames.encode(
                            frames.RESULT,
                            frames.encode_result(frames.Result(i, 0, 1000 + i, (model(f.payload[4:]),))),
                        )
                        if i in self.corrupt:
                            self.corrupt.discard(i)
                            out = out[:-1] + bytes([out[-1] ^ 1])
                        conn.sendall(out)
                    elif f.kind == frames.END:
                        conn.sendall(frames.encode(frames.BYE))

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


def records(n: int) -> list[bytes]:
    return [bytes((i * 7 + k) & 0xFF for k in range(RECORD)) for i in range(n)]


def session(board: SimBoard, n: int = 5, **kw: object) -> object:
    try:
        return run_session(board.url, records(n), expect=EXPECT, **kw)  # type: ignore[arg-type]
    finally:
        board.close()


def test_every_record_is_answered_in_order_and_the_text_is_kept() -> None:
    s = session(SimBoard())
    assert [r.outputs[0] for r in s.results] == [model(r) for r in records(5)]  # type: ignore[attr-defined]
    assert [r.ticks for r in s.results] == [1000, 1001, 1002, 1003, 1004]  # type: ignore[attr-defined]
    assert "TF DONE status=pass" in s.text  # type: ignore[attr-defined]


def test_a_corrupted_answer_is_asked_for_again() -> None:
    board = SimBoard(corrupt={1, 3})
    s = session(board)
    assert len(s.results) == 5  # type: ignore[attr-defined]
    assert board.seen == [0, 1, 1, 2, 3, 3, 4]


def raises(make: Callable[[], SimBoard], **kw: object) -> str:
    with pytest.raises(RunError) as err:
        session(make(), **kw)
    return err.value.message + " / " + (err.value.hint or "")


def test_a_dropped_link_names_the_input_that_was_on_its_way() -> None:
    text = raises(lambda: SimBoard(drop_at=2))
    assert "the link dropped while waiting for the result of input 2 of 5 (2 results received)" in text


def test_a_board_running_another_model_is_refused_before_any_input() -> None:
    other = frames.Info(1, 1, RECORD, 1_000_000, OUTS, "fedcba9876543210", "simboard")
    board = SimBoard(info=other)
    text = raises(lambda: board)
    assert "runs model fedcba9876543210, not 0123456789abcdef" in text and "drop --no-flash" in text
    assert board.seen == []


def test_a_refused_record_says_why() -> None:
    assert "refused input 0 of 5: the input record has the wrong size (it takes 8 bytes)" in raises(
        lambda: SimBoard(refuse=True)
    )


def test_a_board_that_does_not_serve_is_named_with_what_it_printed() -> None:
    text = raises(lambda: SimBoard(silent=True), hello_timeout=1.5)
    assert "no answer to HELLO within 1.5 s" in text and "TF DONE status=pass count=0" in text
