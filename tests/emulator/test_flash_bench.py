"""The emulated flashing bench: tinyforge's AN3155 serial bootloader running in qemu-system-arm
(mps2-an386), flashed by `tinyforge flash` over a TCP socket or a pty and by the stock Debian
`stm32flash`, plus the faults a real bench has (no port, no permission, no bootloader, NACKs,
a dropped connection, wrong or corrupt images)."""

from __future__ import annotations

import ctypes
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
import tty
from pathlib import Path

import pytest
from _flashbench import BOARD, FaultProxy, SilentServer, build_hello, tree_digest

from tinyforge import api, proc
from tinyforge.cli import main
from tinyforge.flash.image import load_image


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hello(tmp_path_factory.mktemp("hello") / "build")


@pytest.fixture(scope="module")
def bootloader() -> Path:
    return api.build_bootloader(BOARD)


@pytest.fixture()
def bench(bootloader: Path):  # noqa: ANN201
    with api.emulate(BOARD, bootloader=True, serial="tcp") as emu:
        yield emu


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def tcp_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("socket://").rsplit(":", 1)
    return host, int(port)


def test_flash_build_dir_over_tcp_and_the_output_arrives(bench, hello: Path, capsys) -> None:  # noqa: ANN001
    before = tree_digest(hello)
    code, out, err = run_cli(
        ["flash", str(hello), "--port", bench.port, "--follow", "--follow-timeout", "30", "--json"], capsys
    )
    assert code == 0, err
    res = json.loads(out)
    assert res["board"] == BOARD and res["runner"] == "stm32-uart"
    assert res["verified"] is True and res["started"] is True
    assert res["chip"].startswith("0x413") and res["erase_command"] == "0x44"
    assert res["start_address"] == "0x00010000"
    assert res["bytes_written"] == load_image(hello / "firmware.elf").size
    assert res["output"][0].startswith("TF BEGIN board=mps2-an386")
    assert res["output"][-1] == "TF DONE status=pass count=0"
    assert any("hello from the flashed application" in line for line in res["output"])
    assert tree_digest(hello) == before  # nothing in the build directory changed


def test_flash_hex_over_a_pty_with_progress_lines(bootloader: Path, hello: Path, capsys) -> None:  # noqa: ANN001
    with api.emulate(BOARD, bootloader=True, serial="pty") as emu:
        code, out, err = run_cli(
            ["flash", str(hello / "firmware.hex"), "--board", BOARD, "--port", emu.port, "--follow"], capsys
        )
    assert code == 0, err
    assert "TF DONE status=pass count=0" in out.splitlines()
    assert "write: done" in err and "verify: done" in err  # plain lines: not a TTY
    assert "written and verified at 0x00010000" in err and "application started" in err


def test_stock_stm32flash_writes_verifies_and_starts(bootloader: Path, hello: Path) -> None:
    stm32flash = proc.find_tool("stm32flash")
    with api.emulate(BOARD, bootloader=True, serial="pty") as emu:
        # hold the pty open (raw) so the application's output waits for us after stm32flash exits
        fd = os.open(emu.port, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            # a pty cannot carry parity bits (Linux forces CS8, no PARENB): 8n1 on the emulated wire
            argv = [stm32flash, "-m", "8n1", "-w", hello / "firmware.bin", "-v", "-S", "0x08010000",
                    "-g", "0x08010000", emu.port]  # fmt: skip
            # stm32flash gives the sync byte one short wait; on a loaded machine the emulated
            # bootloader may not answer that first one yet (nothing is written before the sync)
            for _attempt in range(3):
                res = proc.run_tool(argv, timeout=120, check=False)
                if "Failed to init device" not in res.stdout + res.stderr:
                    break
            assert res.returncode == 0, res.stdout + res.stderr
            out = b""
            deadline = time.monotonic() + 20
            while b"TF DONE status=pass count=0\n" not in out and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.2)[0]:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        break
        finally:
            os.close(fd)
    text = res.stdout + res.stderr
    assert "Device ID    : 0x0413 (STM32F40xxx/41xxx)" in text
    assert "Wrote and verified address 0x08011" in text
    assert "Starting execution at address 0x08010000... done." in text
    assert b"TF BEGIN board=mps2-an386" in out and b"TF DONE status=pass count=0" in out


def test_a_corrupted_byte_is_nacked_and_the_block_retried(bench, hello: Path) -> None:  # noqa: ANN001
    with FaultProxy(tcp_port(bench.port), corrupt_at=3000) as proxy:
        res = api.flash(hello, port=proxy.url, follow=True, follow_timeout=30)
    assert proxy.corrupted == 1
    assert res.verified and res.output[-1] == "TF DONE status=pass count=0"


def test_a_persistent_nack_fails_naming_the_address(bench, hello: Path, capsys) -> None:  # noqa: ANN001
    # corrupt the data frame of every WRITE_MEMORY to 0x00010400 (its address bytes + XOR)
    with FaultProxy(
        tcp_port(bench.port), corrupt_after=bytes([0x00, 0x01, 0x04, 0x00, 0x05]), corrupt_gap=4
    ) as proxy:
        code, _out, err = run_cli(["flash", str(hello), "--port", proxy.url], capsys)
    assert code == 2
    error = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error) == 1  # one line, with its hint
    assert error[0].startswith(f"error: {proxy.url}: the bootloader refused the write at 0x00010400 4 times")
    assert "(hint: " in error[0]


def test_dropped_connection_fails_clearly_and_a_rerun_succeeds(bench, hello: Path, capsys) -> None:  # noqa: ANN001
    with FaultProxy(tcp_port(bench.port), drop_after=2500) as proxy:
        code, _out, err = run_cli(["flash", str(hello), "--port", proxy.url], capsys)
    assert proxy.dropped
    assert code == 2
    assert "connection dropped while writing 0x000" in err and "bytes written)" in err
    assert "run the same command again" in err
    # the board was left mid-command; the re-run resyncs, rewrites and the verify proves the image
    res = api.flash(hello, port=bench.port, follow=True, follow_timeout=30)
    assert res.verified and res.output[-1] == "TF DONE status=pass count=0"


def test_no_answer_to_sync_from_a_silent_port(hello: Path, capsys) -> None:  # noqa: ANN001
    silent = SilentServer()
    try:
        code, _out, err = run_cli(["flash", str(hello), "--port", silent.url], capsys)
    finally:
        silent.close()
    assert code == 2
    assert f"error: {silent.url}: no answer to 0x7F (bootloader sync) after 3 attempts" in err
    assert "check the BOOT0 and reset wiring" in err and "--baud" in err


def test_an_application_answering_instead_of_the_bootloader(hello: Path, capsys) -> None:  # noqa: ANN001
    app = SilentServer(reply=b"TF LOG tick 42\r\n")
    try:
        code, _out, err = run_cli(["flash", str(hello), "--port", app.url], capsys)
    finally:
        app.close()
    assert code == 2
    assert "no answer to 0x7F" in err and "'TF LOG tick 42" in err and "the application may be running" in err


def test_no_such_port(hello: Path, capsys) -> None:  # noqa: ANN001
    code, _out, err = run_cli(["flash", str(hello), "--port", "/dev/ttyNOPE0"], capsys)
    assert code == 2
    assert err.strip().startswith("error: /dev/ttyNOPE0: no such serial port (hint:")


def test_permission_denied_mentions_dialout(hello: Path) -> None:
    """A port we may not open: the pty belongs to another user, and the flasher runs without the
    DAC override capability (as a normal user would)."""
    master, slave = os.openpty()
    name = os.ttyname(slave)
    if os.geteuid() == 0:
        os.chown(name, 65534, 65534)
        os.chmod(name, 0o600)
    else:
        os.chmod(name, 0)  # our own pty, but no access for anyone
    libc = ctypes.CDLL(None, use_errno=True)

    def drop_dac_override() -> None:
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH out of the bounding set
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    try:
        res = subprocess.run(
            [sys.executable, "-m", "tinyforge", "flash", str(hello), "--port", name],
            preexec_fn=drop_dac_override if os.geteuid() == 0 else None,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert res.returncode == 2, res.stderr
    assert f"error: {name}: permission denied" in res.stderr
    assert "dialout group" in res.stderr and "udev rules" in res.stderr
    assert "Traceback" not in res.stderr


def test_oversized_image_is_refused_from_the_chip_id(bench, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    # 1 MB of flash (GET_ID 0x413) minus the 64 KB bootloader: 983,040 bytes fit, this is 1 MB
    app = (0x20400000).to_bytes(4, "little") + (0x00010101).to_bytes(4, "little") + bytes(0x100000 - 8)
    (tmp_path / "big.bin").write_bytes(app)
    code, _out, err = run_cli(
        ["flash", str(tmp_path / "big.bin"), "--board", BOARD, "--port", bench.port], capsys
    )
    assert code == 2
    assert "big.bin does not fit: it ends at 0x00110000 but the flash ends at 0x00100000" in err
    assert "983040 bytes available from 0x00010000" in err


def test_corrupt_images_are_refused_before_the_port_is_opened(hello: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    elf = tmp_path / "firmware.elf"
    elf.write_bytes((hello / "firmware.elf").read_bytes()[:300])  # truncated
    code, _out, err = run_cli(["flash", str(elf), "--board", BOARD, "--port", "/dev/ttyNOPE0"], capsys)
    assert code == 2 and "not a valid ELF file" in err and "no such serial port" not in err
    hexf = tmp_path / "firmware.hex"
    lines = (hello / "firmware.hex").read_text().splitlines()
    lines[5] = lines[5][:12] + ("0" if lines[5][12] != "0" else "1") + lines[5][13:]
    hexf.write_text("\n".join(lines) + "\n")
    code, _out, err = run_cli(["flash", str(hexf), "--board", BOARD, "--port", "/dev/ttyNOPE0"], capsys)
    assert code == 2 and "firmware.hex:6: checksum mismatch" in err
    binf = tmp_path / "firmware.bin"
    binf.write_bytes(b"\xde\xad\xbe\xef" * 64)
    code, _out, err = run_cli(["flash", str(binf), "--board", BOARD, "--port", "/dev/ttyNOPE0"], capsys)
    assert code == 2 and "initial stack pointer 0xefbeadde" in err


def test_emulate_prints_where_to_connect_and_ctrl_c_stops_it(bootloader: Path) -> None:
    p = subprocess.Popen(
        [sys.executable, "-m", "tinyforge", "emulate", BOARD, "--bootloader", "--serial", "tcp:0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stderr is not None
        first = p.stderr.readline()
        assert "running the tinyforge serial bootloader in QEMU (pid " in first
        qemu_pid = int(first.split("(pid ")[1].split(")")[0])
        url = first.strip().rsplit(" ", 1)[1]
        assert url.startswith("socket://127.0.0.1:")
        import serial  # a raw sync proves the bootloader answers while it runs

        s = serial.serial_for_url(url, timeout=2)
        s.write(b"\x7f")
        assert s.read(1) == b"\x79"
        s.close()
        p.send_signal(signal.SIGINT)
        rest = p.communicate(timeout=30)[1]
        assert p.returncode == 0
        assert "stopped" in rest
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and os.path.exists(f"/proc/{qemu_pid}"):
            time.sleep(0.1)
        assert (
            not os.path.exists(f"/proc/{qemu_pid}")
            or "zombie" in Path(f"/proc/{qemu_pid}/status").read_text()
        )
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_stm32flash_is_installed() -> None:
    assert shutil.which("stm32flash"), "stm32flash missing: sudo apt-get install stm32flash"


def test_flash_a_built_model_and_it_runs(bench, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """`tinyforge build --app-offset 0x10000` output, flashed through the bootloader: the model runs
    from the board's flash and its results arrive on the same port."""
    from conftest import shared_model

    out = tmp_path / "kws"
    api.build(shared_model("kws_ref_model.tflite"), BOARD, out, app_offset=0x10000, inputs=2)
    before = tree_digest(out)
    code, stdout, err = run_cli(["flash", str(out), "--port", bench.port, "--follow", "--json"], capsys)
    assert code == 0, err
    res = json.loads(stdout)
    assert res["verified"] and res["started"] and res["start_address"] == "0x00010000"
    results = [line for line in res["output"] if line.startswith("TF RESULT idx=")]
    assert len(results) == 2
    assert res["output"][-1] == "TF DONE status=pass count=2"
    assert tree_digest(out) == before


def read_pty_until(path: str, marker: bytes, timeout: float = 20.0) -> bytes:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    out = b""
    try:
        deadline = time.monotonic() + timeout
        while marker not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.2)[0]:
                out += os.read(fd, 4096)
    finally:
        os.close(fd)
    return out


def test_emulate_runs_a_firmware_and_keeps_its_output_on_the_pty(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    from tinyforge.boards import load_board
    from tinyforge.toolchain.gcc import build_program

    build_program(
        load_board(BOARD), [Path(__file__).parent.parent / "data" / "firmware" / "flash_hello.c"], plain
    )
    with api.emulate(BOARD, firmware=plain / "firmware.elf", serial="pty") as emu:
        assert emu.wait(30) == 0  # the firmware ran and exited (semihosting)
        out = read_pty_until(emu.port, b"count=0\n")  # read after QEMU is gone: the relay kept it
    assert b"TF BEGIN board=mps2-an386" in out and b"TF DONE status=pass count=0" in out


def test_bootloader_with_a_preloaded_application_starts_it_on_go(hello: Path) -> None:
    import serial

    from tinyforge.flash.an3155 import An3155

    with api.emulate(BOARD, bootloader=True, firmware=hello / "firmware.elf", serial="tcp") as emu:
        port = serial.serial_for_url(emu.port, timeout=0.05)
        bl = An3155(port, where=emu.port)
        bl.sync()
        assert bl.read_memory(0x08010000, 8) == (hello / "firmware.bin").read_bytes()[:8]
        bl.go(0x08010000)  # through the STM32 flash address alias
        out = b""
        deadline = time.monotonic() + 20
        while b"count=0\n" not in out and time.monotonic() < deadline:
            try:
                out += port.read(1)
            except Exception:  # noqa: BLE001 - the board exits after TF DONE
                break
        port.close()
    assert b"TF DONE status=pass count=0" in out
