"""Board profiles: every built-in board loads, families merge, bad files fail with precise messages,
and `tinyforge boards` prints and exits as documented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinyforge import api
from tinyforge.board_schema import CPUS
from tinyforge.boards import (
    DEFAULT_BOARD,
    BoardProfile,
    list_boards,
    load_board,
    load_board_file,
)
from tinyforge.cli import main
from tinyforge.errors import BoardError
from tinyforge.resources import boards_dir

DATA = Path(__file__).resolve().parent.parent / "data" / "boards"

EXPECTED_BOARDS = [
    "host",
    "mps2-an385",
    "mps2-an386",
    "mps2-an500",
    "mps2-an505",
    "mps3-an547",
    "netduinoplus2",
    "nucleo-f446re",
    "nucleo-l4r5zi",
]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run tinyforge.cli.main in-process; return (exit code, stdout, stderr)."""
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# ---- the built-in boards -------------------------------------------------------------------------


def test_nine_concrete_boards_listed_sorted():
    boards = list_boards()
    assert [b.name for b in boards] == EXPECTED_BOARDS
    assert all(isinstance(b, BoardProfile) for b in boards)
    # family files are not boards
    assert not any(b.name in {"mps2", "mps3", "stm32", "stm32f4", "stm32l4", "arm-mps"} for b in boards)


@pytest.mark.parametrize("name", EXPECTED_BOARDS)
def test_every_board_loads_and_is_consistent(name):
    b = load_board(name)
    assert b.name == name
    assert Path(b.source) == boards_dir() / f"{name}.toml"
    assert b.cpu in CPUS
    assert b.flash.kind == "flash" and b.ram.kind == "ram"
    assert all(r.kind == "ram" for r in b.extra_ram)
    regions = b.regions
    for i, r in enumerate(regions):
        assert r.size > 0
        for other in regions[i + 1 :]:
            assert not r.overlaps(other), (r, other)
    assert b.flash_methods, "every board has at least the 'none' flash method"
    json.dumps(b.to_dict())  # JSON-friendly
    if b.is_host:
        assert b.console.driver == "host-stdio" and b.timer.kind == "host" and not b.is_emulated
        return
    assert b.console.base > 0 and b.console.baud == 115200 and b.console.clock_hz > 0
    assert b.timer.kind == "systick" and b.timer.hz > 0
    assert b.stack_bytes < b.ram.size
    assert b.vendor and b.url.startswith("https://")
    assert (b.float_abi == "hard") == (b.fpu != "none")


def test_default_board_is_mps2_an386():
    assert DEFAULT_BOARD == "mps2-an386" == api.default_board()
    b = api.board(DEFAULT_BOARD)
    assert b.cpu == "cortex-m4" and b.fpu == "fpv4-sp-d16" and b.float_abi == "hard"
    assert b.features == frozenset({"dsp"})
    assert b.is_emulated and b.emulator.qemu_machine == "mps2-an386"


def test_cpu_features():
    feats = {b.name: b.features for b in list_boards()}
    assert feats["mps2-an385"] == frozenset()
    assert feats["mps2-an386"] == feats["mps2-an500"] == feats["mps2-an505"] == frozenset({"dsp"})
    assert feats["mps3-an547"] == frozenset({"dsp", "mve"})
    for stm in ("netduinoplus2", "nucleo-f446re", "nucleo-l4r5zi"):
        assert feats[stm] == frozenset({"dsp"})


def test_memory_maps_match_qemu_and_datasheets():
    """The numbers the firmware is linked against (QEMU 7.2 `info mtree` and the datasheets)."""
    an386 = load_board("mps2-an386")
    assert (an386.flash.origin, an386.flash.size) == (0x0, 4 << 20)
    assert (an386.ram.origin, an386.ram.size) == (0x20000000, 4 << 20)
    assert an386.console.base == 0x40004000 and an386.console.clock_hz == 25_000_000
    assert an386.timer.hz == 25_000_000
    an505 = load_board("mps2-an505")  # TrustZone: secure aliases
    assert (an505.flash.origin, an505.ram.origin, an505.vector_table) == (0x10000000, 0x38000000, 0x10000000)
    assert an505.console.base == 0x50200000 and an505.timer.hz == 20_000_000
    an547 = load_board("mps3-an547")
    assert (an547.flash.origin, an547.flash.size) == (0x10000000, 512 << 10)
    assert (an547.ram.origin, an547.ram.size) == (0x30000000, 512 << 10)
    assert an547.console.base == 0x59303000 and an547.timer.hz == 32_000_000
    nd = load_board("netduinoplus2")
    assert (nd.flash.origin, nd.flash.size, nd.ram.size) == (0x08000000, 1 << 20, 128 << 10)
    assert nd.console.base == 0x40011000 and nd.console.driver == "stm32-usart"
    (ccm,) = nd.extra_ram
    assert (ccm.name, ccm.origin, ccm.size, ccm.emulated) == ("ccm", 0x10000000, 64 << 10, False)
    f446 = load_board("nucleo-f446re")
    assert (f446.flash.size, f446.ram.size, f446.console.base) == (512 << 10, 128 << 10, 0x40004400)
    assert not f446.is_emulated and "0483:374b" in f446.usb
    l4 = load_board("nucleo-l4r5zi")
    assert l4.console.driver == "stm32-lpuart" and l4.console.base == 0x40008000
    assert [(r.name, r.origin, r.size) for r in l4.extra_ram] == [
        ("sram2", 0x20030000, 64 << 10),
        ("sram3", 0x20040000, 384 << 10),
    ]
    assert l4.ram.size + sum(r.size for r in l4.extra_ram) == 640 << 10


def test_flash_methods():
    an386 = load_board("mps2-an386")
    m = an386.flash_method("stm32-uart")
    assert m is not None and m.settings["app_offset"] == 0x10000 and m.settings["bootloader"] == "tinyforge"
    assert m.settings["baud"] == 115200 and m.settings["parity"] == "even"
    assert an386.flash_method("uf2") is None
    for name in ("netduinoplus2", "nucleo-f446re", "nucleo-l4r5zi"):
        s = load_board(name).flash_method("stm32-uart").settings
        assert (s["baud"], s["parity"], s["address"], s["bootloader"]) == (115200, "even", 0x08000000, "rom")
        assert s["enter_sequence"] and s["exit_sequence"] and s["pins"].startswith("USART1")
    assert [m.kind for m in load_board("mps2-an385").flash_methods] == ["none"]
    with pytest.raises(TypeError):
        m.settings["baud"] = 9600  # read-only


def test_families_are_merged():
    b = load_board("nucleo-f446re")
    assert b.family == ("stm32f4", "stm32")
    assert b.vendor == "STMicroelectronics"  # from stm32
    assert b.cpu == "cortex-m4" and b.console.driver == "stm32-usart"  # from stm32f4
    assert b.flash.origin == 0x08000000  # from stm32, size from the board: tables merge key by key
    assert b.console.baud == 115200 and b.console.base == 0x40004400
    # the board's [flash_methods.stm32-uart] only adds `pins`; the rest comes from stm32.toml
    assert b.flash_method("stm32-uart").settings["enter_sequence"] == "-dtr&rts,-rts"
    assert load_board("mps2-an385").family == ("mps2", "arm-mps")


def test_user_board_file_on_a_builtin_family():
    path = DATA / "valid_custom.toml"
    b = load_board_file(path)
    assert b.family == ("stm32f4", "stm32")
    assert b.source == str(path)
    assert b.flash.origin == 0x08000000 and b.flash.size == 0x40000
    assert b.fpu == "fpv4-sp-d16" and b.features == frozenset({"dsp"})
    s = b.flash_method("stm32-uart").settings
    assert s["baud"] == 57600 and s["parity"] == "even"  # overridden / inherited
    assert load_board(str(path)) == b  # a .toml path works wherever a board name does


# ---- unknown names -------------------------------------------------------------------------------


def test_unknown_board_suggests_closest():
    with pytest.raises(BoardError) as exc:
        load_board("mps2-an38")
    msg = str(exc.value)
    assert msg.startswith("unknown board 'mps2-an38'; did you mean ")
    assert "mps2-an385" in msg and "mps2-an386" in msg
    assert exc.value.exit_code == 2


def test_unknown_board_without_close_match_lists_all():
    with pytest.raises(BoardError) as exc:
        load_board("zzz")
    assert str(exc.value) == "unknown board 'zzz' (known: " + ", ".join(EXPECTED_BOARDS) + ")"


def test_missing_board_file():
    with pytest.raises(BoardError, match=r"^nowhere/x\.toml: no such board file$"):
        load_board_file("nowhere/x.toml")


# ---- invalid files: one per failure kind, each with its exact message ----------------------------

ALL_KEYS = (
    "name, extends, description, vendor, url, cpu, fpu, float_abi, features, clock_hz, flash, ram, "
    "extra_ram, console, timer, flash_methods, usb, emulator, stack_bytes, vector_table"
)

INVALID = {
    "invalid_unknown_key": "console.parity: unknown key (allowed: driver, base, baud, clock_hz)",
    "invalid_missing_field": "clock_hz: missing field",
    "invalid_wrong_type": "clock_hz: expected an integer, got string '25 MHz'",
    "invalid_overlap": (
        "memory: regions overlap: flash 0x08000000..0x0807ffff (512 KiB) "
        "and ram 0x08070000..0x0808ffff (128 KiB)"
    ),
    "invalid_cpu": (
        "cpu: unknown cpu 'cortex-m99' (allowed: host, cortex-m0plus, cortex-m3, cortex-m4, "
        "cortex-m7, cortex-m33, cortex-m55)"
    ),
    "invalid_feature": "features: unknown feature 'neon' (allowed: dsp, mve, mve-float)",
    "invalid_feature_for_cpu": "features: 'mve' is not available on cortex-m4 (allowed: dsp)",
    "invalid_flash_method": (
        "flash_methods.jlink: unknown flash method 'jlink' (allowed: stm32-uart, esptool, uf2, none)"
    ),
    "invalid_flash_setting": "flash_methods.stm32-uart.parity: unknown parity 'mark' (allowed: even, none, odd)",
    "invalid_flash_method_missing": (
        "flash_methods.stm32-uart.baud: missing field (the stm32-uart flash method needs it)"
    ),
    "invalid_usb": (
        'usb: bad USB id \'0483-374b\' (allowed: "vid:pid" as 4 + 4 lowercase hex digits, e.g. "0483:374b")'
    ),
    "invalid_extends_cycle": "extends: cycle invalid_extends_cycle -> cycle_a -> cycle_b -> cycle_a",
    "invalid_unknown_family": (
        "extends: unknown family 'stm32h7' (known: arm-mps, mps2, mps3, stm32, stm32f4, stm32l4)"
    ),
    "invalid_name": "name: 'some-other-board' does not match the file name (expected 'invalid_name')",
    "invalid_float_abi": "float_abi: 'hard' needs an fpu (fpu is 'none')",
    "invalid_syntax": "not valid TOML: Illegal character '\\n' (at line 3, column 35)",
}


def test_every_invalid_file_has_a_case():
    files = {p.stem for p in DATA.glob("invalid_*.toml")}
    assert files == set(INVALID) | {"invalid_family_key"}


@pytest.mark.parametrize("stem", sorted(INVALID))
def test_invalid_board_file_message(stem):
    path = DATA / f"{stem}.toml"
    with pytest.raises(BoardError) as exc:
        load_board_file(path)
    assert str(exc.value) == f"{path}: {INVALID[stem]}"
    assert "\n" not in exc.value.render()


def test_error_in_a_family_names_the_family_file():
    with pytest.raises(BoardError) as exc:
        load_board_file(DATA / "invalid_family_key.toml")
    family = DATA / "families" / "bad_family.toml"
    assert str(exc.value) == f"{family}: vendr: unknown key; did you mean 'vendor'? (allowed: {ALL_KEYS})"


def test_bool_is_not_an_integer(tmp_path):
    p = tmp_path / "b.toml"
    p.write_text(
        'name = "b"\nextends = "mps2"\ndescription = "d"\nurl = "u"\ncpu = "cortex-m3"\nstack_bytes = true\n'
    )
    with pytest.raises(BoardError, match=r"stack_bytes: expected an integer, got boolean True$"):
        load_board_file(p)


# ---- CLI ------------------------------------------------------------------------------------------


def test_cli_boards_table(capsys):
    code, out, err = run_cli(capsys, "boards")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["name", "cpu", "features", "flash", "ram", "emulator", "flash", "methods"]
    rows = {line.split()[0]: line for line in lines[2:] if line and not line.startswith("*")}
    assert sorted(rows) == EXPECTED_BOARDS
    assert "mps2-an386 *" in out and "* default board. 9 boards" in out
    assert rows["mps3-an547"].split()[1:3] == ["cortex-m55", "dsp,mve"]
    assert "stm32-uart" in rows["nucleo-f446re"] and rows["nucleo-f446re"].split()[-2] == "-"
    assert "512 KiB" in rows["nucleo-f446re"] and "128 KiB" in rows["nucleo-f446re"]


def test_cli_boards_json(capsys):
    code, out, _ = run_cli(capsys, "boards", "--json")
    assert code == 0
    data = json.loads(out)
    assert [d["name"] for d in data] == EXPECTED_BOARDS
    an547 = next(d for d in data if d["name"] == "mps3-an547")
    assert an547["features"] == ["dsp", "mve"] and an547["flash"]["origin"] == 0x10000000


def test_cli_boards_show(capsys):
    code, out, _ = run_cli(capsys, "boards", "show", "nucleo-l4r5zi")
    assert code == 0
    assert "family        stm32l4 -> stm32" in out
    assert "console       stm32-lpuart at 0x40008000, 115200 baud, input clock 120,000,000 Hz" in out
    assert "ram           sram3 0x20040000..0x2009ffff (384 KiB)" in out
    code, out, _ = run_cli(capsys, "boards", "show", "mps2-an386", "--json")
    assert code == 0 and json.loads(out) == load_board("mps2-an386").to_dict()


def test_cli_unknown_board_exit_code_and_message(capsys):
    code, out, err = run_cli(capsys, "boards", "show", "mps2-an38")
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("error: unknown board 'mps2-an38'; did you mean mps2-an386, mps2-an385")
    assert line.endswith("(hint: `tinyforge boards` lists every board)")


def test_cli_invalid_board_file(capsys):
    path = DATA / "invalid_cpu.toml"
    code, _, err = run_cli(capsys, "boards", "show", str(path))
    assert code == 2
    assert err.strip() == f"error: {path}: {INVALID['invalid_cpu']}"


def test_cli_subprocess_error_path():
    """The real entry point: one error line, exit 2, no traceback."""
    res = subprocess.run(
        [sys.executable, "-m", "tinyforge", "boards", "show", "nucleo-f466re"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.count("error:") == 1 and "Traceback" not in res.stderr
    assert "did you mean nucleo-f446re" in res.stderr
