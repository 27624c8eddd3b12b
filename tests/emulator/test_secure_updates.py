"""Signed A/B updates on the emulated bench (mps2-an386 in QEMU, the bootloader built with a key,
its flash in a file that survives QEMU): `tinyforge flash` of MCUboot images made by imgtool, and
the faults a device in the field meets: a tampered byte, a wrong key, a truncated image, a
downgrade, the power cut (QEMU killed) at 10 %, 50 % and 99 % of a write, a new image that
hard-faults or hangs on boot. In every case the previous image still boots and the next update
succeeds: nothing on the device is lost.

Each test starts from a copy of one installed device (v1.0.0 confirmed in slot 0), is bounded by
a timer, and stops every QEMU it starts (context managers, also on failure)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _securebench import BOARD, LAYOUT, Bench, deadline, raw_install

from tinyforge import api, proc
from tinyforge.cli import main
from tinyforge.errors import FlashError
from tinyforge.flash.image import ImageError
from tinyforge.secureboot import layout as L
from tinyforge.secureboot.mcuboot import BOOT_MAGIC, read_image
from tinyforge.secureboot.sign import imgtool

pytestmark = pytest.mark.emulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))
from _fw_models import dense  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(autouse=True)
def _bounded() -> Iterator[None]:
    with deadline():
        yield


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    for name in ("fleet", "intruder"):
        proc.run_tool([imgtool(), "keygen", "-k", d / f"{name}.pem", "-t", "ed25519"], timeout=60)
    pub = proc.run_tool(
        [imgtool(), "getpub", "-k", str(d / "fleet.pem"), "-e", "pem"], timeout=60
    ).stdout.encode()
    (d / "fleet.pub.pem").write_bytes(pub)
    return {"fleet": d / "fleet.pem", "pub": d / "fleet.pub.pem", "intruder": d / "intruder.pem"}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> dict[str, Path]:
    """Signed images of one real build (a 32 KB FULLY_CONNECTED model: 150+ write blocks), and of
    the same build with a model that hard-faults and one that hangs."""
    root = tmp_path_factory.mktemp("images")
    model = dense(root / "dense.tflite", n_in=256, n_out=128)
    build = root / "build"
    # serve=False: the harness exits after TF DONE (the fake models have no host-link API)
    api.build(model, BOARD, build, inputs=2, mcuboot=True, serve=False)
    out: dict[str, Path] = {}
    for name, version, key in (("v1", "1.0.0", "fleet"), ("v2", "1.1.0", "fleet"), ("old", "0.9.0", "fleet"),
                               ("intruder", "1.1.0", "intruder")):  # fmt: skip
        out[name] = api.sign(build, keys[key], version, output=root / f"{name}.signed.bin").path
    for name, fake in (("fault", "fault_model.c"), ("hang", "hang_model.c")):
        d = root / name
        shutil.copytree(build, d)
        shutil.copy(DATA / "fake_model" / fake, d / "lib/model/model.c")
        proc.run_tool(["make", "-s", "-C", d, "firmware.elf", "firmware.bin"], timeout=300)
        out[name] = api.sign(d, keys["fleet"], "1.2.0", output=root / f"{name}.signed.bin").path
    return out


@pytest.fixture(scope="module")
def installed(
    tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path], images: dict[str, Path]
) -> Path:
    """A device's flash with v1.0.0 installed and confirmed in slot 0 (tests work on copies)."""
    flash_file = tmp_path_factory.mktemp("device") / "installed.flash"
    bench = Bench(keys["pub"], flash_file)
    with bench.programming() as emu:
        res = api.flash(images["v1"], port=emu.port, follow=True, follow_timeout=60)
    assert (
        res.details["slot"] == 0
        and res.output[0] == "TF BOOT slot=0 version=1.0.0+0 image=pending sequence=1"
    )
    assert "TF LOG image confirmed slot=0 version=1.0.0+0" in res.output
    assert res.output[-1] == "TF DONE status=pass count=2"
    return flash_file


@pytest.fixture()
def device(tmp_path: Path, keys: dict[str, Path], installed: Path) -> Bench:
    shutil.copy(installed, tmp_path / "device.flash")
    return Bench(keys["pub"], tmp_path / "device.flash")


def v1_still_there(device: Bench, images: dict[str, Path], slot: int = 0) -> None:
    """Slot `slot` holds v1 byte for byte, confirmed, and it boots and passes."""
    v1 = read_image(images["v1"]).data
    data = device.slot_bytes(slot)
    assert data[: len(v1)] == v1
    assert data[L.TRAILER_MAGIC :] == BOOT_MAGIC and data[L.TRAILER_IMAGE_OK] == 0x01


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# ---- the update cycle --------------------------------------------------------------------------


def test_update_goes_to_the_other_slot_and_is_confirmed(
    device: Bench, images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = device.power_cycle()
    assert lines[0] == "TF BOOT slot=0 version=1.0.0+0 image=confirmed sequence=1"
    assert lines[-1] == "TF DONE status=pass count=2"
    with device.programming() as emu:
        code, _out, err = run_cli(
            ["flash", str(images["v2"]), "--port", emu.port, "--follow", "--follow-timeout", "60"], capsys
        )
    assert code == 0, err
    assert "version 1.1.0+0 written and verified to slot 1 at 0x08080000" in err
    assert "marked pending (install 2)" in err and "slot 0 keeps 1.0.0+0" in err
    assert "TF BOOT slot=1 version=1.1.0+0 image=pending sequence=2" in err + _out
    lines = device.power_cycle()
    assert lines[0] == "TF BOOT slot=1 version=1.1.0+0 image=confirmed sequence=2"
    assert lines[-1] == "TF DONE status=pass count=2"
    v1_still_there(device, images)  # the previous image stays as the fallback
    # the next update replaces the older image, keeping the running one
    with device.programming() as emu:
        res = api.flash(images["v2"], port=emu.port, start=False)
    assert res.details["slot"] == 0 and res.details["kept_slot"] == 1 and res.started is False
    lines = device.power_cycle()  # not started by the flasher: pending until the next reset
    assert lines[0] == "TF BOOT slot=0 version=1.1.0+0 image=pending sequence=3"


def test_downgrade_is_refused_unless_allowed(
    device: Bench, images: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = device.flash_bytes()
    with device.programming() as emu:
        code, _out, err = run_cli(["flash", str(images["old"]), "--port", emu.port], capsys)
        assert code == 2
        assert (
            err.strip()
            .splitlines()[-1]
            .startswith(f"error: {emu.port}: refusing to downgrade from 1.0.0+0 (slot 0) to 0.9.0+0 (hint: ")
        )
        assert "--allow-downgrade" in err and "Traceback" not in err
        assert device.flash_bytes() == before  # nothing written
        # the same session: the bootloader, left synced by the refused flash, takes the next one
        res = api.flash(images["old"], port=emu.port, allow_downgrade=True, follow=True, follow_timeout=60)
    assert (
        res.details["slot"] == 1
        and res.output[0] == "TF BOOT slot=1 version=0.9.0+0 image=pending sequence=2"
    )
    assert res.output[-1] == "TF DONE status=pass count=2"
    # confirmed, the downgrade stays: the newest install boots, not the highest version
    assert device.power_cycle()[0] == "TF BOOT slot=1 version=0.9.0+0 image=confirmed sequence=2"
    v1_still_there(device, images)


# ---- images the bootloader must refuse -----------------------------------------------------------


@pytest.mark.parametrize("damage", ["tampered", "wrong-key", "truncated"])
def test_bad_images_are_refused_by_the_flasher_and_the_bootloader(
    device: Bench, images: dict[str, Path], tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = read_image(images["v2"]).data
    if damage == "tampered":
        data = bytearray(good)
        data[LAYOUT.header_size + 5000] ^= 0x10  # one bit of the firmware body
        bad, flasher_says, bootloader_says = bytes(data), "modified after signing", "hash mismatch"
    elif damage == "wrong-key":
        bad, flasher_says, bootloader_says = (
            read_image(images["intruder"]).data,
            "is signed with key",
            "signed with another key",
        )
    else:
        bad, flasher_says, bootloader_says = good[: len(good) // 2], "truncated", "truncated image"
    path = tmp_path / "bad.signed.bin"
    path.write_bytes(bad)
    before = device.flash_bytes()
    # 1. tinyforge flash refuses it (before or right after the sync), writing nothing
    with device.programming() as emu:
        code, _out, err = run_cli(["flash", str(path), "--board", BOARD, "--port", emu.port], capsys)
        assert code == 2 and flasher_says in err and "Traceback" not in err, err
        assert len([ln for ln in err.splitlines() if ln.startswith("error:")]) == 1
    assert device.flash_bytes() == before
    # 2. written anyway (raw AN3155, marked pending): the bootloader refuses it and starts slot 0
    with device.programming() as emu:
        raw_install(emu.port, 1, bad, sequence=2)
    lines = device.power_cycle()
    assert lines[0] == (
        'TF BOOT slot=0 version=1.0.0+0 image=confirmed sequence=1 fallback="slot 1'
        + ("" if damage == "truncated" else " v1.1.0+0")
        + f': {bootloader_says}"'
    ), lines[0]
    assert lines[-1] == "TF DONE status=pass count=2"
    v1_still_there(device, images)
    # 3. and a good update replaces it
    with device.programming() as emu:
        res = api.flash(images["v2"], port=emu.port, follow=True, follow_timeout=60)
    assert res.details["slot"] == 1 and res.output[-1] == "TF DONE status=pass count=2"


# ---- power cuts ---------------------------------------------------------------------------------


class KillAt:
    """A flash progress that kills QEMU (SIGKILL: a power cut) once `percent` of the write is done."""

    def __init__(self, emu: Any, percent: float) -> None:
        self.emu, self.percent = emu, percent
        self.phase_name, self.total, self.sent = "", 0, 0
        self.killed_at: int | None = None

    def phase(self, name: str, total: int) -> None:
        self.phase_name, self.total, self.sent = name, total, 0

    def advance(self, nbytes: int) -> None:
        self.sent += nbytes
        if (
            self.phase_name == "write"
            and self.killed_at is None
            and self.sent >= self.total * self.percent / 100
        ):
            self.killed_at = self.sent
            self.emu.process.kill()
            self.emu.process.wait(10)

    def done(self) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def output(self, line: str) -> None:
        pass


@pytest.mark.parametrize("percent", [10, 50, 99])
def test_power_cut_during_the_write_loses_nothing(
    device: Bench, images: dict[str, Path], percent: int
) -> None:
    size = read_image(images["v2"]).size
    with device.programming() as emu:
        cut = KillAt(emu, percent)
        with pytest.raises(FlashError):
            api.flash(images["v2"], port=emu.port, progress=cut)
    assert cut.killed_at is not None and cut.killed_at < size  # killed mid-write
    assert cut.killed_at >= size * percent / 100
    # the device powers up on the previous image, saying why slot 1 is not started
    lines = device.power_cycle()
    assert lines[0].startswith(
        'TF BOOT slot=0 version=1.0.0+0 image=confirmed sequence=1 fallback="slot 1'
    ), lines
    assert lines[0].endswith(': truncated image"') or lines[0].endswith(': not marked for boot"')
    assert lines[-1] == "TF DONE status=pass count=2"
    v1_still_there(device, images)
    # and the next update succeeds
    with device.programming() as emu:
        res = api.flash(images["v2"], port=emu.port, follow=True, follow_timeout=60)
    assert res.details["slot"] == 1 and res.output[0].startswith(
        "TF BOOT slot=1 version=1.1.0+0 image=pending"
    )
    assert res.output[-1] == "TF DONE status=pass count=2"


# ---- new images that do not work ----------------------------------------------------------------


@pytest.mark.parametrize("bad", ["fault", "hang"])
def test_an_image_that_never_confirms_is_rolled_back(
    device: Bench, images: dict[str, Path], bad: str
) -> None:
    with device.programming() as emu:
        res = api.flash(images[bad], port=emu.port)  # reset into it; the flasher reads the TF BOOT line
        assert res.details["boot"] == "TF BOOT slot=1 version=1.2.0+0 image=pending sequence=2"
        if bad == "fault":
            assert emu.wait(timeout=60) != 0  # the hard fault ends the emulated device
        # a hang: the power is cut with the image running and unconfirmed
    lines = device.power_cycle()
    assert lines[0] == (
        'TF BOOT slot=0 version=1.0.0+0 image=confirmed sequence=1 fallback="slot 1 v1.2.0+0: never confirmed, '
        'rolled back"'
    )
    assert lines[-1] == "TF DONE status=pass count=2"
    assert device.slot_bytes(1)[L.TRAILER_MAGIC :] == bytes(16)  # the failed image's trailer cleared
    assert device.power_cycle()[0].endswith('fallback="slot 1 v1.2.0+0: rolled back"')
    v1_still_there(device, images)
    # the next update goes to the freed slot and works
    with device.programming() as emu:
        res = api.flash(images["v2"], port=emu.port, follow=True, follow_timeout=60)
    assert res.details["slot"] == 1 and res.output[-1] == "TF DONE status=pass count=2"


def test_unsigned_builds_and_plain_bootloader(
    tmp_path: Path, keys: dict[str, Path], images: dict[str, Path]
) -> None:
    """A signed image offered to the plain bootloader, and an unsigned one to the secure
    bootloader, each say so; the status of an erased device."""
    with api.emulate(BOARD, bootloader=True, serial="tcp") as emu:
        with pytest.raises(FlashError, match="the bootloader has no signed-image slots"):
            api.flash(images["v1"], port=emu.port)
    device = Bench(keys["pub"], tmp_path / "new.flash")
    assert (
        device.power_cycle(until=("TF BOOT",))[0] == 'TF BOOT slot=none reason="slot 0: empty; slot 1: empty"'
    )
    plain = tmp_path / "plain"
    api.build(dense(tmp_path / "small.tflite"), BOARD, plain, inputs=1, app_offset=0x10000)
    before = device.flash_bytes()
    with device.programming() as emu:
        with pytest.raises(FlashError, match="only starts signed images"):
            api.flash(plain, port=emu.port)
    assert device.flash_bytes() == before
    # a build made for the slots but not signed
    d = tmp_path / "unsigned"
    (d).mkdir()
    (d / "report.json").write_text('{"board": "mps2-an386", "image": {"format": "mcuboot"}}')
    with pytest.raises(ImageError, match="holds no firmware.signed.bin"):
        api.flash(d, port="socket://127.0.0.1:1")
