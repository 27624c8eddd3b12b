"""The secure bench bootloader's image checks and A/B decision (firmware/bootloader/bl_image.c,
bl_boot.c) on the host under ASan/UBSan, against images imgtool signs: every way an image can be
wrong, and every slot state (pending, tried, confirmed, rolled back, not marked, empty); and the
ARM build of the bootloader with a key: warning-free, below its status block."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tinyforge import proc
from tinyforge.boards import load_board
from tinyforge.resources import firmware_dir
from tinyforge.secureboot import layout as L
from tinyforge.secureboot.keys import load_public_key
from tinyforge.secureboot.mcuboot import BOOT_MAGIC, parse_image
from tinyforge.secureboot.sign import imgtool

pytestmark = pytest.mark.toolchain

FW = firmware_dir()
SLOT_SIZE = 0x70000
FLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O1", "-g"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = tmp_path_factory.mktemp("boot_sim") / "boot_sim"
    proc.run_tool(
        ["gcc", *FLAGS, *SANITIZE, f"-I{FW / 'bootloader'}", f"-I{FW / 'crypto'}", f"-I{FW / 'bsp'}", "-o", exe,
         FW / "bootloader/host/boot_sim.c", FW / "bootloader/bl_image.c", FW / "bootloader/bl_boot.c",
         FW / "crypto/tf_sha256.c", FW / "crypto/tf_sha512.c", FW / "crypto/tf_ed25519.c"]
    )  # fmt: skip
    return exe


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    for name in ("good", "other"):
        proc.run_tool([imgtool(), "keygen", "-k", d / f"{name}.pem", "-t", "ed25519"], timeout=60)
    return {"good": d / "good.pem", "other": d / "other.pem"}


@pytest.fixture(scope="module")
def pub(keys: dict[str, Path]) -> str:
    return load_public_key(keys["good"]).raw.hex()


def signed(tmp: Path, key: Path | None, version: str, body: bytes, *extra: str, load: bool = True) -> bytes:
    src, dst = tmp / f"in-{version}.bin", tmp / f"out-{version}.bin"
    src.write_bytes(body)
    argv = [imgtool(), "sign", "--header-size", "0x200", "--pad-header", "--slot-size", hex(SLOT_SIZE),
            "--align", "4", "--version", version, *extra]  # fmt: skip
    if load:
        argv += ["--load-addr", "0x10000"]
    if key is not None:
        argv += ["--key", str(key)]
    proc.run_tool([*argv, src, dst], timeout=60)
    return dst.read_bytes()


def slot_file(path: Path, image: bytes, *, magic: bool = True, seq: int | None = None,
              copy_done: bool = False, image_ok: bool = False) -> Path:  # fmt: skip
    data = bytearray(b"\xff" * SLOT_SIZE)
    data[: len(image)] = image
    if magic:
        data[L.TRAILER_MAGIC :] = BOOT_MAGIC
    if seq is not None:
        struct.pack_into("<I", data, SLOT_SIZE + L.TRAILER_SEQUENCE, seq)
    if copy_done:
        data[L.TRAILER_COPY_DONE] = 0x01
    if image_ok:
        data[L.TRAILER_IMAGE_OK] = 0x01
    path.write_bytes(bytes(data))
    return path


def check(sim: Path, pub: str, image: bytes, tmp: Path) -> str:
    f = tmp / "check.bin"
    f.write_bytes(image)
    res = proc.run_tool([sim, "check", pub, f], check=False)
    assert res.returncode == 0 and not res.stderr, res.stderr
    return res.stdout.split()[1]


def decide(sim: Path, pub: str, mode: str, s0: Path, s1: Path) -> tuple[str, str, dict[str, str]]:
    res = proc.run_tool([sim, mode, pub, s0, s1], check=False)
    assert res.returncode == 0 and not res.stderr, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    slots = {ln.split()[0]: ln for ln in lines[2:]}
    return lines[0], lines[1], slots


def test_image_checks(sim: Path, pub: str, keys: dict[str, Path], tmp_path: Path) -> None:
    body = bytes((i * 7 + 3) % 256 for i in range(20000))
    good = signed(tmp_path, keys["good"], "1.0.0", body)
    assert check(sim, pub, good, tmp_path) == "valid"
    img = parse_image(good)
    for offset, what in ((0x200 + 5000, "bad-hash"), (21, "bad-hash"), (len(good) - 10, "bad-signature")):
        bad = bytearray(good)
        bad[offset] ^= 0x04  # a body byte, the minor version in the header, a signature byte
        assert check(sim, pub, bytes(bad), tmp_path) == what, offset
    assert check(sim, pub, signed(tmp_path, keys["other"], "1.0.1", body), tmp_path) == "bad-key"
    assert check(sim, pub, signed(tmp_path, None, "1.0.2", body), tmp_path) == "bad-key"  # unsigned
    assert check(sim, pub, good[: img.hashed_size + 20], tmp_path) == "truncated"
    assert check(sim, pub, good[:5000], tmp_path) == "truncated"
    assert check(sim, pub, b"\xff" * 64, tmp_path) == "empty"
    assert check(sim, pub, b"\x12" * 64, tmp_path) == "bad-header"
    # a key hash that matches but a signature by another key
    forged = bytearray(signed(tmp_path, keys["other"], "1.0.3", body))
    forged_img = parse_image(bytes(forged))
    kh = forged.index(forged_img.key_hash)
    forged[kh : kh + 32] = img.key_hash
    assert check(sim, pub, bytes(forged), tmp_path) == "bad-signature"


def test_pending_image_boots_once_then_rolls_back(
    sim: Path, pub: str, keys: dict[str, Path], tmp_path: Path
) -> None:
    v1 = signed(tmp_path, keys["good"], "1.0.0", b"A" * 3000)
    v2 = signed(tmp_path, keys["good"], "1.1.0", b"B" * 3000)
    s0 = slot_file(tmp_path / "s0", v1, seq=1, image_ok=True)
    s1 = slot_file(tmp_path / "s1", v2, seq=2)
    before = (s0.read_bytes(), s1.read_bytes())
    line, chosen, _ = decide(sim, pub, "look", s0, s1)
    assert line == "TF BOOT slot=1 version=1.1.0+0 image=pending sequence=2"
    assert (s0.read_bytes(), s1.read_bytes()) == before  # looking changes nothing
    line, chosen, slots = decide(sim, pub, "boot", s0, s1)
    assert line == "TF BOOT slot=1 version=1.1.0+0 image=pending sequence=2"
    assert chosen == "chosen=1 entry=0x00010200"
    assert "trailer=trying" in slots["slot1"]
    assert s1.read_bytes()[L.TRAILER_COPY_DONE] == 0x01 and s0.read_bytes() == before[0]
    # not confirmed: the next reset rolls it back (magic cleared) and starts slot 0
    line, chosen, slots = decide(sim, pub, "boot", s0, s1)
    assert line == (
        'TF BOOT slot=0 version=1.0.0+0 image=confirmed sequence=1 fallback="slot 1 v1.1.0+0: never confirmed, rolled back"'
    )
    assert "trailer=reverted" in slots["slot1"] and s1.read_bytes()[L.TRAILER_MAGIC :] == bytes(16)
    line, _, _ = decide(sim, pub, "boot", s0, s1)
    assert line.endswith('fallback="slot 1 v1.1.0+0: rolled back"') and "slot=0" in line
    assert s0.read_bytes() == before[0]  # the good image was never touched


def test_confirmed_image_is_kept(sim: Path, pub: str, keys: dict[str, Path], tmp_path: Path) -> None:
    v1 = signed(tmp_path, keys["good"], "1.0.0", b"A" * 3000)
    v2 = signed(tmp_path, keys["good"], "1.1.0", b"B" * 3000)
    s0 = slot_file(tmp_path / "s0", v1, seq=1, image_ok=True)
    s1 = slot_file(tmp_path / "s1", v2, seq=2)
    decide(sim, pub, "boot", s0, s1)
    data = bytearray(s1.read_bytes())
    data[L.TRAILER_IMAGE_OK] = 0x01  # what tf_image_confirm() writes
    s1.write_bytes(bytes(data))
    for _ in range(2):
        line, chosen, _ = decide(sim, pub, "boot", s0, s1)
        assert line == "TF BOOT slot=1 version=1.1.0+0 image=confirmed sequence=2" and chosen.startswith(
            "chosen=1"
        )
    # the install order decides, not the version: a downgrade installed later wins
    s0 = slot_file(tmp_path / "s0", v2, seq=3, image_ok=True)
    s1 = slot_file(tmp_path / "s1", v1, seq=4, image_ok=True)
    line, _, _ = decide(sim, pub, "boot", s0, s1)
    assert line == "TF BOOT slot=1 version=1.0.0+0 image=confirmed sequence=4"


@pytest.mark.parametrize(
    ("damage", "note"),
    [
        ("tamper", "hash mismatch"),
        ("other-key", "signed with another key"),
        ("truncate", "truncated image"),
        ("no-magic", "not marked for boot"),
        ("no-load-addr", "not a valid image header"),
    ],
)
def test_bad_new_image_falls_back(
    sim: Path, pub: str, keys: dict[str, Path], tmp_path: Path, damage: str, note: str
) -> None:
    good = signed(tmp_path, keys["good"], "1.0.0", b"A" * 3000)
    new = signed(tmp_path, keys["other" if damage == "other-key" else "good"], "2.0.0", b"B" * 9000,
                 load=damage != "no-load-addr")  # fmt: skip
    if damage == "tamper":
        new = new[:1000] + bytes([new[1000] ^ 1]) + new[1001:]
    if damage == "truncate":
        new = new[:4000]  # the rest of the slot reads erased
    s0 = slot_file(tmp_path / "s0", good, seq=1, image_ok=True)
    s1 = slot_file(tmp_path / "s1", new, seq=2, magic=damage != "no-magic")
    line, chosen, _ = decide(sim, pub, "boot", s0, s1)
    assert line.startswith("TF BOOT slot=0 version=1.0.0+0 image=confirmed") and chosen.startswith("chosen=0")
    assert 'fallback="slot 1' in line and line.endswith(f': {note}"'), line


def test_nothing_to_start(sim: Path, pub: str, keys: dict[str, Path], tmp_path: Path) -> None:
    s0 = slot_file(tmp_path / "s0", b"", magic=False)
    s1 = slot_file(tmp_path / "s1", b"", magic=False)
    line, chosen, _ = decide(sim, pub, "boot", s0, s1)
    assert (
        line == 'TF BOOT slot=none reason="slot 0: empty; slot 1: empty"'
        and chosen == "chosen=none entry=0x0"
    )
    bad = signed(tmp_path, keys["other"], "1.0.0", b"A" * 100)
    s1 = slot_file(tmp_path / "s1", bad, seq=1)
    line, _, slots = decide(sim, pub, "look", s0, s1)
    assert line == 'TF BOOT slot=none reason="slot 0: empty; slot 1 v1.0.0+0: signed with another key"'
    assert "image=bad-key trailer=pending" in slots["slot1"]


def test_secure_bootloader_builds_for_arm_and_fits(tmp_path: Path, keys: dict[str, Path]) -> None:
    from tinyforge.flash.emulated_bench import build_bootloader
    from tinyforge.flash.image import load_image
    from tinyforge.toolchain.firmware import symbol_address

    board = load_board("mps2-an386")
    layout = L.require_layout(board)
    elf = build_bootloader(board, out_dir=tmp_path / "bl", key=keys["good"])  # -Wall -Wextra -Werror
    img = load_image(elf)
    assert img.start == 0 and img.end <= layout.shared  # below its status block
    for sym in ("tf_ed25519_verify", "tf_sha256_update", "bl_boot_evaluate"):
        assert symbol_address(elf, sym) is not None, sym
    # the public key is compiled in; nothing of the private key is
    raw = load_public_key(keys["good"]).raw
    assert raw in img.flat()
    from cryptography.hazmat.primitives import serialization

    sk = serialization.load_pem_private_key(keys["good"].read_bytes(), password=None)
    seed = sk.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    for f in (tmp_path / "bl").rglob("*"):
        if f.is_file():
            assert seed not in f.read_bytes() and seed.hex().encode() not in f.read_bytes(), f
