"""Flashing without hardware or emulator: image formats, the runner registry and its capability
checks, the UF2 encoder against the format, esptool argument building and image checks, the
stm32-uart entry sequences, progress output, and CLI messages for bad input."""

from __future__ import annotations

import hashlib
import io
import json
import struct
from pathlib import Path

import pytest

from tinyforge import api
from tinyforge.cli import main
from tinyforge.errors import BoardError, FlashError, UsageError
from tinyforge.flash import uf2
from tinyforge.flash.esptool import check_app_image, esptool_argv
from tinyforge.flash.image import (
    FlashImage,
    ImageError,
    Segment,
    check_vector_table,
    format_hex,
    load_image,
    parse_hex,
)
from tinyforge.flash.progress import LineProgress, NullProgress, make_progress
from tinyforge.flash.registry import FLASH_RUNNERS, FlashRequest, check_request, runner
from tinyforge.flash.request import read_build_image
from tinyforge.flash.stm32_uart import LineStep, parse_sequence

DATA = Path(__file__).resolve().parent.parent / "data"
UF2_BOARD = str(DATA / "boards" / "uf2-blackpill.toml")


def cortexm_app(base: int, sp: int, size: int = 1500) -> bytes:
    body = bytes((i * 13 + 5) & 0xFF for i in range(size - 8))
    return sp.to_bytes(4, "little") + (base + 0x101).to_bytes(4, "little") + body


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as e:
        main(args)
    out, err = capsys.readouterr()
    return int(e.value.code or 0), out, err


def tree_digest(d: Path) -> dict[str, str]:
    return {
        str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    }


# ---- images -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "segments",
    [
        [Segment(0x08000000, bytes(range(256)) * 3)],
        [Segment(0x0000FFF8, bytes(range(40)))],  # crosses a 64 KB boundary
        [Segment(0x100, b"\x01\x02\x03"), Segment(0x2000, b"\xaa" * 33)],  # a gap
    ],
)
def test_hex_round_trip(segments: list[Segment], tmp_path: Path) -> None:
    p = tmp_path / "a.hex"
    p.write_text(format_hex(segments))
    img = load_image(p)
    assert img.kind == "hex"
    assert list(img.segments) == segments


def test_hex_errors_name_the_line(tmp_path: Path) -> None:
    good = format_hex([Segment(0, bytes(range(64)))]).splitlines()
    bad = good.copy()
    bad[2] = bad[2][:-2] + ("00" if bad[2][-2:] != "00" else "01")
    with pytest.raises(ImageError, match=r"a.hex:3: checksum mismatch"):
        parse_hex("\n".join(bad), Path("a.hex"))
    with pytest.raises(ImageError, match="no end-of-file record"):
        parse_hex("\n".join(good[:-1]), Path("a.hex"))
    with pytest.raises(ImageError, match="a.hex:1: not an Intel HEX record"):
        parse_hex("hello\n", Path("a.hex"))


def test_bin_placement_and_address_rules(tmp_path: Path) -> None:
    b = tmp_path / "app.bin"
    b.write_bytes(b"\x00" * 64)
    assert load_image(b, address=0x08010000).start == 0x08010000
    h = tmp_path / "app.hex"
    h.write_text(format_hex([Segment(0x08000000, b"\x00" * 16)]))
    with pytest.raises(ImageError, match="applies to raw .bin images"):
        load_image(h, address=0x08010000)
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(ImageError, match="holds no data"):
        load_image(tmp_path / "empty.bin")
    with pytest.raises(ImageError, match="unknown image type .txt"):
        (tmp_path / "x.txt").write_text("x")
        load_image(tmp_path / "x.txt")
    with pytest.raises(ImageError, match="not a valid ELF"):
        (tmp_path / "broken.elf").write_bytes(b"\x7fELF\x01\x01\x01" + b"\x00" * 20)
        load_image(tmp_path / "broken.elf")


def test_manifest_in_a_bin_names_the_board(tmp_path: Path) -> None:
    blob = cortexm_app(0x10000, 0x20400000) + b'{"tinyforge":"0.1","board":"mps2-an386","model":"x"}\x00\xff'
    (tmp_path / "f.bin").write_bytes(blob)
    assert load_image(tmp_path / "f.bin").board == "mps2-an386"


def test_build_dir(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text(json.dumps({"board": "mps2-an386"}))
    with pytest.raises(ImageError, match="no firmware.elf, firmware.hex or firmware.bin"):
        read_build_image(tmp_path)
    (tmp_path / "firmware.bin").write_bytes(b"\x00" * 8)
    bd = read_build_image(tmp_path)
    assert bd.board == "mps2-an386" and bd.image.name == "firmware.bin"
    (tmp_path / "report.json").write_text("{not json")
    with pytest.raises(ImageError, match="report.json: not valid JSON"):
        read_build_image(tmp_path)


def test_vector_table_check() -> None:
    from tinyforge.boards import load_board

    board = load_board("mps2-an386")
    ok = FlashImage((Segment(0x10000, cortexm_app(0x10000, 0x20400000)),), Path("ok.bin"), "bin")
    check_vector_table(ok, board)
    junk = FlashImage((Segment(0x10000, b"\x13\x37" * 100),), Path("junk.bin"), "bin")
    with pytest.raises(ImageError, match=r"initial stack pointer 0x37133713 .* not in the RAM of mps2-an386"):
        check_vector_table(junk, board)
    moved = ok.relocated(0x20000)  # a .bin at the wrong --address: reset handler outside it
    with pytest.raises(ImageError, match="reset handler 0x00010101 is not a Thumb address inside the image"):
        check_vector_table(moved, board)


# ---- registry and capabilities ------------------------------------------------------------


def test_every_runner_module_exists_and_declares_caps() -> None:
    assert set(FLASH_RUNNERS) == {"stm32-uart", "esptool", "uf2"}
    for spec in FLASH_RUNNERS.values():
        assert callable(spec.load())
    assert not runner("uf2").caps.verify and runner("stm32-uart").caps.verify
    with pytest.raises(UsageError, match="unknown flash method 'jtag'"):
        runner("jtag")


def test_unsupported_option_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError) as e:
        check_request(runner("uf2"), {"--verify": True, "--baud": False})
    assert e.value.message == "`uf2` doesn't support --verify"
    # through the CLI: the port does not exist and the image is not even there; the refusal comes first
    img = tmp_path / "app.bin"
    code, _out, err = run_cli(
        [
            "flash",
            str(tmp_path),
            "--board",
            UF2_BOARD,
            "--port",
            "/dev/ttyNOPE",
            "--verify",
            "--baud",
            "9600",
        ],
        capsys,
    )
    assert code == 2
    assert err.startswith("error: `uf2` doesn't support --verify or --baud (hint:")
    assert not img.exists()


def test_board_without_flash_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.bin").write_bytes(b"\x00" * 16)
    code, _out, err = run_cli(["flash", str(tmp_path / "a.bin"), "--board", "host"], capsys)
    assert code == 2 and "board host has no flash method" in err


def test_image_built_for_another_board_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "report.json").write_text(json.dumps({"board": "nucleo-f446re"}))
    (tmp_path / "firmware.bin").write_bytes(cortexm_app(0x08000000, 0x20020000))
    code, _out, err = run_cli(
        ["flash", str(tmp_path), "--board", "mps2-an386", "--port", "/dev/ttyNOPE"], capsys
    )
    assert code == 2
    assert f"error: {tmp_path} was built for board nucleo-f446re, not mps2-an386" in err
    assert "rebuild it with `tinyforge build ... --board mps2-an386`" in err


def test_build_without_the_bootloader_offset_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "report.json").write_text(json.dumps({"board": "mps2-an386", "app_offset": 0}))
    (tmp_path / "firmware.bin").write_bytes(cortexm_app(0x0, 0x20400000))
    code, _out, err = run_cli(["flash", str(tmp_path), "--port", "/dev/ttyNOPE"], capsys)
    assert code == 2
    assert (
        "was built with --app-offset 0x0, but the stm32-uart bootloader of mps2-an386 starts applications"
        in err
    )
    assert "rebuild it without --app-offset" in err and "or with --app-offset 0x10000" in err


# ---- stm32-uart entry sequences -----------------------------------------------------------


def test_stm32flash_style_sequences() -> None:
    assert parse_sequence("-dtr&rts,-rts") == (
        LineStep("dtr", 0),
        LineStep("rts", 1),
        LineStep("wait", 100),
        LineStep("rts", 0),
    )
    assert parse_sequence(",,") == (LineStep("wait", 100), LineStep("wait", 100))
    with pytest.raises(BoardError, match="unsupported signal '-3'"):
        parse_sequence("-3&rts")


# ---- UF2 -----------------------------------------------------------------------------------


def test_uf2_blocks_follow_the_format() -> None:
    data = bytes(range(256)) * 2 + b"\x42" * 100  # 612 bytes from 0x08010080: 4 pages touched
    img = FlashImage((Segment(0x08010080, data),), Path("a.bin"), "bin")
    raw = uf2.encode(img, 0x57755A57)
    assert len(raw) % 512 == 0 and len(raw) // 512 == 3
    for i in range(3):
        blk = raw[i * 512 : (i + 1) * 512]
        m0, m1, flags, addr, size, no, count, fam = struct.unpack_from("<8I", blk)
        assert (m0, m1) == (0x0A324655, 0x9E5D5157) and blk[:4] == b"UF2\n"
        assert struct.unpack_from("<I", blk, 508)[0] == 0x0AB16F30
        assert flags == 0x00002000 and fam == 0x57755A57
        assert size == 256 and addr == 0x08010000 + 256 * i
        assert (no, count) == (i, 3)
        assert blk[32 + 256 : 508] == bytes(476 - 256)
    blocks = uf2.decode(raw)
    assert blocks[0].payload[:0x80] == b"\xff" * 0x80  # before the image: erased flash
    rebuilt = b"".join(b.payload for b in blocks)[0x80 : 0x80 + len(data)]
    assert rebuilt == data


def test_uf2_round_trip_with_gaps() -> None:
    segs = (Segment(0x10000000, b"\x01" * 300), Segment(0x10002000, b"\x02" * 10))
    img = FlashImage(segs, Path("a.hex"), "hex")
    blocks = uf2.decode(uf2.encode(img, 0xE48BFF56))
    assert [b.address for b in blocks] == [0x10000000, 0x10000100, 0x10002000]
    mem = {b.address + i: v for b in blocks for i, v in enumerate(b.payload)}
    for s in segs:
        assert bytes(mem[a] for a in range(s.address, s.end)) == s.data
    with pytest.raises(FlashError, match="bad magic"):
        uf2.decode(b"\x00" * 512)
    with pytest.raises(FlashError, match="not a multiple of 512"):
        uf2.decode(b"\x00" * 100)


def test_uf2_flash_to_a_drive_leaves_the_build_alone(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    app = cortexm_app(0x08010000, 0x20020000, 2000)
    (build / "firmware.bin").write_bytes(app)
    (build / "report.json").write_text(json.dumps({"board": "uf2-blackpill"}))
    before = tree_digest(build)
    drive = tmp_path / "BLACKPILL"
    drive.mkdir()
    (drive / "INFO_UF2.TXT").write_text("TinyUF2 Bootloader 0.18\nModel: BlackPill\nBoard-ID: STM32F411\n")
    res = api.flash(build, board=UF2_BOARD, port=str(drive))
    assert res.runner == "uf2" and not res.verified and res.bytes_written == 2000
    blocks = uf2.decode((drive / "firmware.uf2").read_bytes())
    assert all(b.family_id == 0x57755A57 for b in blocks)
    assert b"".join(b.payload for b in blocks)[: len(app)] == app
    assert tree_digest(build) == before
    assert sorted(p.name for p in build.iterdir()) == ["firmware.bin", "report.json"]


# ---- esptool ------------------------------------------------------------------------------


def esp_image(chip_id: int) -> bytes:
    header = bytes([0xE9, 3, 2, 0x20]) + (0x40080000).to_bytes(4, "little")
    ext = bytes([0xEE, 0, 0, 0]) + chip_id.to_bytes(2, "little") + bytes(10)
    return header + ext + bytes(64)


def test_esptool_image_checks() -> None:
    check_app_image(esp_image(9), "esp32s3", "app.bin")
    with pytest.raises(FlashError, match="app.bin was built for esp32s3, not esp32c3"):
        check_app_image(esp_image(9), "esp32c3", "app.bin")
    with pytest.raises(FlashError, match=r"not an ESP app image \(first byte 0x7f"):
        check_app_image(b"\x7fELF" + bytes(40), "esp32", "app.bin")
    with pytest.raises(FlashError, match="unknown ESP chip 'esp99'"):
        check_app_image(esp_image(0), "esp99", "app.bin")


def test_esptool_arguments() -> None:
    base = FlashRequest(
        board="esp", method="esptool", port="/dev/ttyUSB0", settings={"chip": "esp32s3", "baud": 921600}
    )
    argv = esptool_argv(base, "/dev/ttyUSB0", 0x10000, Path("/tmp/app.bin"))
    assert argv == [
        "--chip", "esp32s3", "--port", "/dev/ttyUSB0", "--baud", "921600",
        "--before", "default-reset", "--after", "hard-reset", "write-flash", "0x10000", "/tmp/app.bin",
    ]  # fmt: skip
    other = FlashRequest(
        board="esp", method="esptool", port="x", baud=115200, verify=False, erase_all=True, start=False,
        settings={"chip": "esp32"},
    )  # fmt: skip
    argv = esptool_argv(other, "socket://h:1", 0x20000, Path("a.bin"))
    assert argv[argv.index("--baud") + 1] == "115200"
    assert argv[argv.index("--after") + 1] == "no-reset"
    assert argv[-4:] == ["--erase-all", "--trust-flash-content", "0x20000", "a.bin"]


# ---- progress -----------------------------------------------------------------------------


def test_progress_lines_for_ci() -> None:
    buf = io.StringIO()
    p = LineProgress(buf)
    p.phase("write", 1000)
    for _ in range(10):
        p.advance(100)
    p.done()
    lines = buf.getvalue().splitlines()
    assert lines[0] == "write: 1000 bytes"
    assert lines[1:4] == ["write: 25% (300 bytes)", "write: 50% (500 bytes)", "write: 75% (800 bytes)"]
    assert lines[4].startswith("write: done, 1000 bytes in ") and lines[4].endswith("/s)")
    assert isinstance(make_progress(quiet=True), NullProgress)
    assert isinstance(make_progress(stream=io.StringIO()), LineProgress)  # not a TTY


def test_esptool_library_runs_and_a_silent_port_is_one_clear_error() -> None:
    """The runner really drives esptool (as a library) against a TCP port that never answers."""
    import socket
    import threading

    from tinyforge.flash.esptool import flash as esp_flash

    server = socket.create_server(("127.0.0.1", 0))
    conns: list[socket.socket] = []
    threading.Thread(target=lambda: conns.append(server.accept()[0]), daemon=True).start()
    img = FlashImage((Segment(0x10000, esp_image(0)),), Path("app.bin"), "bin")
    req = FlashRequest(
        board="esp32-devkit",
        method="esptool",
        port=f"socket://127.0.0.1:{server.getsockname()[1]}",
        settings={"chip": "esp32", "connect_attempts": 1, "before": "no-reset"},
    )
    try:
        with pytest.raises(FlashError) as e:
            esp_flash(req, img, NullProgress())
    finally:
        server.close()
        for c in conns:
            c.close()
    assert e.value.message.startswith("esptool write-flash: Failed to connect to ESP32")
    assert "boot button" in (e.value.hint or "")
    with pytest.raises(FlashError, match="was built for esp32s3, not esp32"):
        esp_flash(req, FlashImage((Segment(0x10000, esp_image(9)),), Path("s3.bin"), "bin"), NullProgress())


def test_progress_bar_on_a_terminal() -> None:
    from tinyforge.flash.progress import BarProgress

    buf = io.StringIO()
    p = BarProgress(buf)
    p.phase("verify", 2048)
    p.advance(1024)
    p.advance(1024)
    p.done()
    text = buf.getvalue()
    assert text.startswith("\rverify  [") and text.endswith("\n")
    last = text.strip().split("\r")[-1]
    assert "100%  2.0 KB / 2.0 KB" in last and "/s" in last and "#" * 30 in last


def test_emulate_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(["emulate", "nucleo-f446re", "--bootloader"], capsys)
    assert code == 2 and "board nucleo-f446re has no tinyforge serial bootloader" in err
    code, _out, err = run_cli(["emulate", "mps2-an386", "--bootloader", "--serial", "udp:9"], capsys)
    assert code == 2 and "--serial 'udp:9': expected tcp:PORT, tcp:HOST:PORT or pty" in err
    code, _out, err = run_cli(["emulate", "mps2-an386"], capsys)
    assert code == 2 and "nothing to run: give --firmware ELF or --bootloader" in err


def test_port_auto_uses_the_boards_usb_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "app.bin").write_bytes(cortexm_app(0x10000, 0x20400000))
    code, _out, err = run_cli(["flash", str(tmp_path / "app.bin"), "--board", "mps2-an386"], capsys)
    assert code == 2 and "--port auto: this board has no USB VID:PID in its profile" in err
    (tmp_path / "bp.bin").write_bytes(cortexm_app(0x08010000, 0x20020000))
    code, _out, err = run_cli(
        ["flash", str(tmp_path / "bp.bin"), "--board", UF2_BOARD, "--port", "auto"], capsys
    )
    assert code == 2 and "--port auto: no port with USB id 239a:0057" in err
