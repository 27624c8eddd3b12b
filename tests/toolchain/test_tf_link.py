"""The board side of the host link (firmware/bsp/tf_link.c), built with the host gcc under
-fsanitize=address,undefined and checked against the Python side (tinyforge/serial/frames.py):
frames in any chunking, text between them, CRC errors, too-long headers, the 0x7F sync; and the
serving harness builds warning-free for each console driver."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from tinyforge import api, proc
from tinyforge.resources import firmware_dir
from tinyforge.serial import frames

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-g"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tf_link") / "link_echo"
    bsp = firmware_dir() / "bsp"
    src = firmware_dir() / "tests" / "tf_link" / "link_echo.c"
    proc.run_tool(["gcc", *STRICT, *SANITIZE, f"-I{bsp}", "-o", out, src, bsp / "tf_link.c"])
    return out


def run_echo(exe: Path, segments: list[int], data: bytes) -> tuple[int, list[frames.Frame | frames.BadFrame]]:
    p = proc.start_tool([exe, *map(str, segments)], stdin=proc.PIPE, stdout=proc.PIPE, stderr=proc.PIPE)
    try:
        out, err = p.communicate(data, timeout=60)
    finally:
        proc.stop(p, grace=0)
    assert b"runtime error" not in err and b"AddressSanitizer" not in err, err.decode()
    return p.returncode, frames.FrameReader().feed(out)


def test_frames_cross_both_codecs_through_the_segments(echo: Path) -> None:
    rec = bytes(range(256)) * 2 + b"tail"  # 516 bytes: index word + two "input tensors"
    data = (
        b"noise TF LOG x\n"
        + frames.infer(9, rec)
        + frames.encode(frames.HELLO)
        + b"\n"
        + frames.encode(frames.END)
    )
    code, got = run_echo(echo, [4, 500, 16], data)
    assert code == 0
    assert got == [
        frames.Frame(frames.RESULT, struct.pack("<I", 9) + rec),
        frames.Frame(frames.INFO, b""),
        frames.Frame(frames.BYE, b""),
    ]


def test_crc_errors_long_headers_and_the_sync_byte(echo: Path) -> None:
    bad = bytearray(frames.infer(1, b"abcd"))
    bad[-1] ^= 0x01
    sent_crc = struct.unpack("<I", bytes(bad[-4:]))[0]
    too_long = frames.MAGIC + struct.pack("<BI", frames.INFER, 9) + b"x" * 9 + b"\0" * 4
    code, got = run_echo(echo, [4, 4], bytes(bad) + too_long + b"\x7f" + frames.infer(2, b"wxyz"))
    assert code == 0
    errors = [
        frames.parse_error(f.payload) for f in got if isinstance(f, frames.Frame) and f.kind == frames.ERROR
    ]
    assert errors[0] == (1, sent_crc) and errors[1] == (2, 9) and errors[2] == (0x7F, 0)
    assert got[-1] == frames.Frame(frames.RESULT, struct.pack("<I", 2) + b"wxyz")


def test_the_crc_is_zlibs(echo: Path) -> None:
    payload = bytes((i * 131 + 7) & 0xFF for i in range(1000))
    code, got = run_echo(echo, [1000], frames.encode(0x05, payload))
    assert code == 0 and got == [frames.Frame(0x85, payload)]
    raw = frames.encode(0x85, payload)
    assert struct.unpack("<I", raw[-4:])[0] == zlib.crc32(raw[2:-4])


def test_a_frame_cut_short_leaves_the_receiver_busy(echo: Path) -> None:
    code, got = run_echo(echo, [4, 4], frames.infer(1, b"abcd")[:-3])
    assert code == 3 and got == []


@pytest.mark.parametrize("board", ["mps2-an386", "netduinoplus2", "nucleo-l4r5zi", "mps3-an547"])
def test_the_serving_harness_builds_warning_free(board: str, tmp_path: Path) -> None:
    from conftest import shared_model

    res = api.build(shared_model("ad01_int8.tflite"), board, tmp_path / "o", inputs=0, serve=True)
    assert res.report["serve"] is True and res.report["inputs"] == 0 and res.sizes["inputs"] == 0
    main_c = (tmp_path / "o" / "src" / "main.c").read_text()
    assert "serve();" in main_c and "lib/bsp/tf_link.c" in res.report["files"]
