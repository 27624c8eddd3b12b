"""MCUboot images in Python (tinyforge/secureboot/): what imgtool writes, parsed and verified
the way the bench bootloader checks it; keys and key ids; the board's slot layout; versions."""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

import pytest

from tinyforge import proc
from tinyforge.boards import load_board
from tinyforge.errors import BoardError, UsageError
from tinyforge.resources import firmware_dir
from tinyforge.secureboot import layout as L
from tinyforge.secureboot.keys import check_signing_key, load_public_key
from tinyforge.secureboot.mcuboot import (
    BOOT_MAGIC,
    IMAGE_F_RAM_LOAD,
    ImageVersion,
    SignedImageError,
    is_mcuboot,
    parse_image,
)
from tinyforge.secureboot.sign import imgtool

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    out = {}
    for name in ("a", "b"):
        proc.run_tool([imgtool(), "keygen", "-k", d / f"{name}.pem", "-t", "ed25519"], timeout=60)
        out[name] = d / f"{name}.pem"
    pub = proc.run_tool([imgtool(), "getpub", "-k", str(out["a"]), "-e", "pem"], timeout=60).stdout.encode()
    (d / "a.pub.pem").write_bytes(pub)
    out["a.pub"] = d / "a.pub.pem"
    return out


def sign_blob(tmp: Path, key: Path, body: bytes, version: str = "1.2.3+4") -> bytes:
    src, dst = tmp / "in.bin", tmp / "out.bin"
    src.write_bytes(body)
    proc.run_tool(
        [imgtool(), "sign", "--key", str(key), "--header-size", "0x200", "--pad-header", "--slot-size",
         "0x70000", "--align", "4", "--load-addr", "0x10000", "--version", version, str(src), str(dst)],
        timeout=120,
    )  # fmt: skip
    return dst.read_bytes()


def test_imgtool_images_parse_and_verify(tmp_path: Path, keys: dict[str, Path]) -> None:
    body = bytes(range(256)) * 37 + b'{"tinyforge":"0.1.0","board":"mps2-an386","model_sha256":"ab"}\x00'
    data = sign_blob(tmp_path, keys["a"], body)
    assert is_mcuboot(data)
    img = parse_image(data, "out.bin")
    assert img.version == ImageVersion(1, 2, 3, 4) and str(img.version) == "1.2.3+4"
    assert img.header_size == 0x200 and img.load_address == 0x10000 and img.flags & IMAGE_F_RAM_LOAD
    assert img.body == body and img.size == len(data)
    assert [t.name for t in img.tlvs] == ["SHA256", "KEYHASH", "ED25519"]
    assert img.hash_ok and img.sha256_tlv == hashlib.sha256(data[: 0x200 + len(body)]).digest()
    pub_a = load_public_key(keys["a.pub"])
    assert load_public_key(keys["a"]).raw == pub_a.raw  # the private key's public half
    assert img.key_hash == pub_a.key_hash and img.key_id == pub_a.key_id and len(img.key_id) == 16
    assert img.verify_signature(pub_a.raw)
    assert not img.verify_signature(load_public_key(keys["b"]).raw)
    assert img.manifest == {"tinyforge": "0.1.0", "board": "mps2-an386", "model_sha256": "ab"}
    # imgtool agrees on the digest
    (tmp_path / "x.bin").write_bytes(data)
    res = proc.run_tool(
        [imgtool(), "verify", "-k", str(keys["a"]), str(tmp_path / "x.bin")], check=False, timeout=60
    )
    assert res.returncode == 0 and f"Image digest: {img.sha256_tlv.hex()}" in res.stdout


def test_tampered_and_truncated_images(tmp_path: Path, keys: dict[str, Path]) -> None:
    data = sign_blob(tmp_path, keys["a"], bytes(4000))
    pub = load_public_key(keys["a"]).raw
    bad = bytearray(data)
    bad[0x200 + 1234] ^= 0x01
    img = parse_image(bytes(bad))
    assert not img.hash_ok and not img.verify_signature(pub)
    with pytest.raises(SignedImageError, match=r"truncated: the header says 4512 bytes of header and image"):
        parse_image(data[:3000], "cut.bin")
    with pytest.raises(SignedImageError, match=r"truncated: the TLV area"):
        parse_image(data[:-10], "cut.bin")
    with pytest.raises(SignedImageError, match="not an MCUboot image"):
        parse_image(b"\x00" * 64)
    # bytes after the TLVs (flash padding) are not part of the image
    assert parse_image(data + b"\xff" * 100).size == len(data)


def test_versions() -> None:
    assert ImageVersion.parse("1.2.3") == ImageVersion(1, 2, 3, 0)
    assert ImageVersion.parse("1.2.3+9") > ImageVersion.parse("1.2.3") > ImageVersion.parse("1.1.999")
    for bad in ("1.2", "1.2.3.4", "256.0.0", "1.0.70000", "v1.2.3"):
        with pytest.raises(ValueError):
            ImageVersion.parse(bad)


def test_key_errors(tmp_path: Path, keys: dict[str, Path]) -> None:
    with pytest.raises(UsageError, match="a public key cannot sign"):
        check_signing_key(keys["a.pub"])
    (tmp_path / "x.pem").write_text("hello")
    with pytest.raises(UsageError, match="not a PEM key file"):
        load_public_key(tmp_path / "x.pem")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ecdsa = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.pem").write_bytes(
        ecdsa.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(UsageError, match="not Ed25519"):
        load_public_key(tmp_path / "ec.pem")
    enc = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    (tmp_path / "enc.pem").write_bytes(enc)
    with pytest.raises(UsageError, match="encrypted"):
        check_signing_key(tmp_path / "enc.pem")


def test_board_layout_matches_the_bootloader_header() -> None:
    """The slot numbers in boards/mps2-an386.toml and firmware/bootloader/bl_layout.h agree, and
    the trailer offsets are MCUboot's (imgtool's image_ok index for max_align 8)."""
    lay = L.require_layout(load_board("mps2-an386"))
    text = (firmware_dir() / "bootloader" / "bl_layout.h").read_text()
    for define in lay.bootloader_defines():
        name, value = define.split("=")
        assert f"#define {name} {value}" in text, define
    assert lay.entry_address == 0x10200 and lay.slots == (0x08010000, 0x08080000)
    assert L.TRAILER_IMAGE_OK == -(16 + 8) and L.TRAILER_MAGIC == -len(BOOT_MAGIC)
    with pytest.raises(BoardError, match="has no image slots"):
        L.require_layout(load_board("mps2-an385"))


def test_bad_slot_layouts_name_the_key(tmp_path: Path) -> None:
    from tinyforge.flash.stm32_chips import CHIPS

    src = (Path(sys.modules["tinyforge"].__file__).parent.parent / "boards" / "mps2-an386.toml").read_text()
    p = tmp_path / "mps2-an386.toml"
    cases = {
        "size = 0x70000": ("size = 0x90000", r"slot 0x08080000..0x08110000 is outside the writable flash"),
        "header_size = 0x200": ("header_size = 0x180", "not a power of two"),
        "addresses = [0x08010000, 0x08080000]": ("addresses = [0x08010000, 0x08040000]", "the two slots overlap"),
    }  # fmt: skip
    for old, (new, message) in cases.items():
        p.write_text(src.replace(old, new))
        with pytest.raises(BoardError, match=message):
            L.require_layout(load_board(str(p)))
    p.write_text(src.replace("addresses = [0x08010000, 0x08080000]", "addresses = [0x08010000]"))
    with pytest.raises(BoardError, match=r"image_slots.addresses.*expected a list of 2"):
        load_board(str(p))
    # the slots against the erase sectors of the chip the bootloader reports (an STM32F405)
    chip = CHIPS[0x413]
    L.check_sectors(L.require_layout(load_board("mps2-an386")), chip.sectors, chip.flash_base)
    p.write_text(src.replace("addresses = [0x08010000, 0x08080000]", "addresses = [0x08010000, 0x08081000]"))
    with pytest.raises(BoardError, match="slot 1 at 0x08081000 is not the start of a flash sector"):
        L.check_sectors(L.require_layout(load_board(str(p))), chip.sectors, chip.flash_base)


def test_trailer_magic_is_imgtools(tmp_path: Path, keys: dict[str, Path]) -> None:
    src, dst = tmp_path / "in.bin", tmp_path / "out.bin"
    src.write_bytes(bytes(1000))
    proc.run_tool(
        [imgtool(), "sign", "--key", str(keys["a"]), "--header-size", "0x200", "--pad-header", "--slot-size",
         "0x8000", "--align", "4", "--version", "1.0.0", "--pad", "--confirm", str(src), str(dst)],
        timeout=120,
    )  # fmt: skip
    padded = dst.read_bytes()
    assert len(padded) == 0x8000
    assert padded[L.TRAILER_MAGIC :] == BOOT_MAGIC
    assert padded[L.TRAILER_IMAGE_OK] == 0x01  # --confirm sets image_ok where the bootloader reads it
    assert struct.unpack_from("<I", padded, 0x8000 + L.TRAILER_SEQUENCE)[0] == 0xFFFFFFFF
