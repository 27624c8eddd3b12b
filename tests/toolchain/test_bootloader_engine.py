"""The AN3155 bootloader engine (firmware/bootloader/an3155.c) on the host: its C unit test, the
ARM build of the bootloader, and tinyforge's Python protocol client against the same engine
compiled as a host simulator (raw bytes over pipes)."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from tinyforge import proc
from tinyforge.boards import load_board
from tinyforge.flash.an3155 import CMD_ERASE, CMD_EXTENDED_ERASE, An3155, NackError, NoReplyError
from tinyforge.flash.image import FlashImage, Segment
from tinyforge.flash.stm32_chips import CHIPS
from tinyforge.flash.stm32_uart import plan_flash
from tinyforge.resources import firmware_dir

BL = firmware_dir() / "bootloader"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("an3155") / "an3155_sim"
    proc.run_tool(["gcc", *STRICT, "-o", out, BL / "an3155.c", BL / "host" / "an3155_sim.c"])
    return out


def test_engine_unit_test_passes(tmp_path: Path) -> None:
    exe = tmp_path / "test_an3155"
    proc.run_tool(["gcc", *STRICT, "-o", exe, BL / "an3155.c", BL / "test" / "test_an3155.c"])
    res = proc.run_tool([exe], check=False)
    assert res.returncode == 0, res.stdout
    assert " passed, 0 failed" in res.stdout
    assert int(res.stdout.split(" passed")[0].split()[-1]) >= 40


def test_bootloader_builds_warning_free_and_fits(tmp_path: Path) -> None:
    from tinyforge.flash.emulated_bench import build_bootloader
    from tinyforge.flash.image import load_image

    board = load_board("mps2-an386")
    elf = build_bootloader(board, out_dir=tmp_path / "bl")  # -Wall -Wextra -Werror via build_program
    img = load_image(elf)
    assert img.start == board.flash.origin
    assert img.end <= board.flash.origin + 0x10000
    # its vector table: stack in RAM, reset handler in the bootloader
    sp = int.from_bytes(img.segments[0].data[:4], "little")
    assert board.ram.origin < sp <= 0x20003000


class PipeTransport:
    """The simulator's stdin/stdout as a byte transport (the protocol needs nothing more)."""

    def __init__(self, p: subprocess.Popen[bytes]) -> None:
        self.p = p
        self.timeout: float | None = 0.05
        assert p.stdout is not None
        self.fd = p.stdout.fileno()

    def write(self, data: bytes) -> int:
        assert self.p.stdin is not None
        self.p.stdin.write(data)
        self.p.stdin.flush()
        return len(data)

    def read(self, size: int = 1) -> bytes:
        import time

        out = b""
        deadline = time.monotonic() + (self.timeout or 0)
        while len(out) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                break
            chunk = os.read(self.fd, size - len(out))
            if not chunk:
                raise OSError("simulator closed its output")
            out += chunk
        return out

    def reset_input_buffer(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            if not os.read(self.fd, 4096):
                break


def start(sim: Path, *args: str, stream: bool = False) -> tuple[subprocess.Popen[bytes], An3155]:
    p = proc.start_tool([sim, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p, An3155(PipeTransport(p), where="sim", timeout=2.0, stream=stream)


def finish(p: subprocess.Popen[bytes]) -> str:
    assert p.stdin is not None and p.stderr is not None
    p.stdin.close()
    p.wait(10)
    return p.stderr.read().decode()


def test_sync_and_info(sim: Path) -> None:
    p, bl = start(sim)
    assert bl.sync() is True  # first 0x7F: ACK
    assert bl.sync() is False  # already synced: the second 0x7F gets NACK
    info = bl.info()
    assert info.pid == 0x413 and info.version_text == "3.1"
    assert info.erase_command == CMD_EXTENDED_ERASE
    assert bl.get_version() == (0x31, 0, 0)
    assert "nacks=1" in finish(p)


def test_legacy_erase_is_offered_and_used(sim: Path) -> None:
    p, bl = start(sim, "--erase-cmd", "0x43")
    bl.sync()
    assert bl.info().erase_command == CMD_ERASE
    bl.write_memory(0x08010000, b"\x00" * 16)
    bl.erase([4], CMD_ERASE)
    assert bl.read_memory(0x08010000, 16) == b"\xff" * 16
    finish(p)


@pytest.mark.parametrize("stream", [False, True], ids=["strict", "streamed"])
def test_write_verify_and_go_through_the_client(sim: Path, tmp_path: Path, stream: bool) -> None:
    dump = tmp_path / "flash.bin"
    p, bl = start(sim, "--image", str(dump), stream=stream)
    bl.sync()
    payload = bytes((i * 7) & 0xFF for i in range(3000))
    vector = (0x20400000).to_bytes(4, "little") + (0x00010101).to_bytes(4, "little")
    image = FlashImage((Segment(0x00010000, vector + payload),), tmp_path / "app.bin", "bin")
    chip = CHIPS[0x413]
    plan = plan_flash(
        image, flash_base=0, capacity=chip.flash_size, sectors=chip.sectors, protect_below=0x10000
    )
    assert plan.pages == (4,)
    assert [a for a, _ in plan.blocks][:2] == [0x10000, 0x10100]
    bl.erase(plan.pages, CMD_EXTENDED_ERASE)
    for addr, data in plan.blocks:
        bl.write_memory(addr, data)
    for addr, data in plan.blocks:
        assert bl.read_memory(addr, len(data)) == data
    bl.go(0x00010000)
    log = finish(p)
    assert "GO vtor=0x00010000 msp=0x20400000 entry=0x00010101" in log
    assert dump.read_bytes() == vector + payload  # the simulator's own copy of its flash


@pytest.mark.parametrize("stream", [False, True], ids=["strict", "streamed"])
def test_nacks_are_typed_and_name_the_address(sim: Path, stream: bool) -> None:
    p, bl = start(sim, stream=stream)
    bl.sync()
    with pytest.raises(NackError) as e:
        bl.write_memory(0x08000000, b"\x00" * 4)  # the bootloader's own sector
    assert e.value.stage == "address" and e.value.address == 0x08000000
    assert "0x08000000" in e.value.message
    with pytest.raises(NackError):
        bl.erase([0], CMD_EXTENDED_ERASE)
    with pytest.raises(NackError):
        bl.go(0x08020000)  # erased: no vector table there
    with pytest.raises(NackError) as e:
        bl.read_memory(0x30000000, 256)  # unmapped
    assert e.value.stage == "address"
    # a streamed READ's length pair may still be in flight and be taken as a command: let the
    # device drop it (its idle timeout is 1 s) before resyncing, so the result does not depend on timing
    time.sleep(1.2)
    bl.sync()
    assert bl.get_id() == 0x413  # still in step after NACKs
    finish(p)


def test_resync_after_a_half_sent_command(sim: Path) -> None:
    """A host that vanished mid-WRITE: the next sync waits out the device's idle timeout."""
    p, bl = start(sim, "--timeout-ms", "300")
    bl.sync()
    bl._write(bytes([0x31, 0xCE]))  # WRITE_MEMORY
    bl._ack("cmd", stage="command")
    bl._write(bytes([0x08, 0x01, 0x00, 0x00, 0x09]))
    bl._ack("addr", stage="address")
    bl._write(bytes([0xFF, 1, 2, 3]))  # 4 of 258 bytes, then silence
    assert bl.sync(attempts=3, reply_wait=0.1, settle=0.5) is False
    assert bl.get_id() == 0x413
    assert "timeouts=1" in finish(p)


def test_no_reply_is_a_clear_error(sim: Path) -> None:
    p = proc.start_tool(["sleep", "30"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        bl = An3155(PipeTransport(p), where="/dev/ttyX")
        with pytest.raises(NoReplyError) as e:
            bl.sync(attempts=2, reply_wait=0.05, settle=0.05)
        assert "no answer to 0x7F" in e.value.message
        assert "BOOT0" in (e.value.hint or "")
    finally:
        p.kill()
        p.wait()
