"""MCUboot's image format, read in Python (imgtool writes it; the bench bootloader checks it in C):

    header (32 bytes, padded to ih_hdr_size):  magic 0x96f3b83d, load address, header size,
        protected-TLV size, image size, flags, version (major, minor, revision, build)
    image body (ih_img_size bytes)
    protected TLV area (optional):  info 0x6908 + total, TLVs covered by the hash
    TLV area:  info 0x6907 + total, then type (u8) + pad (u8) + length (u16) + value:
        SHA256 0x10 (hash of header + body + protected TLVs), KEYHASH 0x01 (SHA-256 of the
        signer's public key, DER SubjectPublicKeyInfo), ED25519 0x24 (signature of the hash)

Everything is little-endian. Parsing never trusts a length it has not checked against the data.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyforge.errors import FlashError

IMAGE_MAGIC = 0x96F3B83D
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
HEADER_STRUCT = struct.Struct("<IIHHIIBBHII")  # 32 bytes

TLV_KEYHASH = 0x01
TLV_PUBKEY = 0x02
TLV_SHA256 = 0x10
TLV_ED25519 = 0x24
TLV_SIG_PURE = 0x25
TLV_NAMES = {
    TLV_KEYHASH: "KEYHASH",
    TLV_PUBKEY: "PUBKEY",
    TLV_SHA256: "SHA256",
    0x11: "SHA384",
    0x12: "SHA512",
    0x20: "RSA2048_PSS",
    0x22: "ECDSA_SIG",
    TLV_ED25519: "ED25519",
    TLV_SIG_PURE: "SIG_PURE",
    0x50: "SEC_CNT",
    0x60: "BOOT_RECORD",
}

IMAGE_F_NON_BOOTABLE = 0x10
IMAGE_F_RAM_LOAD = 0x20
IMAGE_F_ENCRYPTED = 0x04 | 0x08
IMAGE_F_ROM_FIXED = 0x100

_MANIFEST_RE = re.compile(rb'\{"tinyforge":"[^\x00]{0,8000}?\}(?=\x00)')


class SignedImageError(FlashError):
    """A signed image file that is missing, cut short or not in MCUboot's format."""


# MCUboot's trailer magic for max_align 8 (bootutil's boot_img_magic; imgtool's boot_magic)
BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
BOOT_FLAG_SET = 0x01

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:\+(\d+))?$")


@dataclass(frozen=True, order=True)
class ImageVersion:
    major: int
    minor: int
    revision: int
    build: int = 0

    @classmethod
    def parse(cls, text: str) -> ImageVersion:
        """`X.Y.Z` or `X.Y.Z+B` (imgtool's format): major/minor < 256, revision < 65536."""
        m = _VERSION_RE.match(text.strip())
        if m is None:
            raise ValueError(f"{text!r} is not a version X.Y.Z or X.Y.Z+BUILD")
        major, minor, revision = (int(m.group(i)) for i in (1, 2, 3))
        build = int(m.group(4) or 0)
        if major > 255 or minor > 255 or revision > 65535 or build > 0xFFFFFFFF:
            raise ValueError(f"{text!r}: major and minor must be < 256, revision < 65536, build < 2^32")
        return cls(major, minor, revision, build)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.revision}+{self.build}"


@dataclass(frozen=True)
class Tlv:
    kind: int
    value: bytes
    protected: bool = False

    @property
    def name(self) -> str:
        return TLV_NAMES.get(self.kind, f"0x{self.kind:02x}")


@dataclass(frozen=True)
class McubootImage:
    """A parsed MCUboot image (the bytes from its header to the end of its TLV area)."""

    source: str
    data: bytes = field(repr=False)
    load_address: int
    header_size: int
    protected_tlv_size: int
    image_size: int
    flags: int
    version: ImageVersion
    tlvs: tuple[Tlv, ...]

    @property
    def hashed_size(self) -> int:
        """Header + body + protected TLVs: what the SHA256 TLV covers."""
        return self.header_size + self.image_size + self.protected_tlv_size

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def body(self) -> bytes:
        return self.data[self.header_size : self.header_size + self.image_size]

    def tlv(self, kind: int) -> bytes | None:
        for t in self.tlvs:
            if t.kind == kind and not t.protected:
                return t.value
        return None

    @property
    def sha256_tlv(self) -> bytes | None:
        return self.tlv(TLV_SHA256)

    @property
    def computed_sha256(self) -> bytes:
        return hashlib.sha256(self.data[: self.hashed_size]).digest()

    @property
    def hash_ok(self) -> bool:
        return self.sha256_tlv is not None and self.sha256_tlv == self.computed_sha256

    @property
    def key_hash(self) -> bytes | None:
        """The signer's key hash: the KEYHASH TLV, or the hash of a full PUBKEY TLV."""
        kh = self.tlv(TLV_KEYHASH)
        if kh is not None:
            return kh
        pub = self.tlv(TLV_PUBKEY)
        return hashlib.sha256(pub).digest() if pub is not None else None

    @property
    def key_id(self) -> str | None:
        kh = self.key_hash
        return kh[:8].hex() if kh is not None else None

    @property
    def signature(self) -> bytes | None:
        return self.tlv(TLV_ED25519)

    @property
    def ram_load(self) -> bool:
        return bool(self.flags & IMAGE_F_RAM_LOAD)

    @property
    def manifest(self) -> dict[str, Any] | None:
        """The tinyforge build manifest inside the body (board, model SHA-256, ...), if any: the
        JSON string toolchain/manifest.py embeds (it starts with the "tinyforge" key)."""
        import json

        m = _MANIFEST_RE.search(self.body)
        if m is None:
            return None
        try:
            value = json.loads(m.group(0).decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def verify_signature(self, public_key_raw: bytes) -> bool:
        """True if the ED25519 TLV is a valid signature of the image hash by this key (and the
        hash TLV matches the image): what MCUboot and the bench bootloader check."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        sig = self.signature
        if sig is None or not self.hash_ok or self.tlv(TLV_SIG_PURE) is not None:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public_key_raw).verify(sig, self.computed_sha256)
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_dict(self) -> dict[str, Any]:
        manifest = self.manifest or {}
        return {
            "image": self.source,
            "format": "mcuboot",
            "version": str(self.version),
            "size": self.size,
            "header_size": self.header_size,
            "image_size": self.image_size,
            "load_address": f"0x{self.load_address:08x}",
            "flags": [n for f, n in _FLAG_NAMES if self.flags & f],
            "sha256": (self.sha256_tlv or b"").hex(),
            "hash_ok": self.hash_ok,
            "key_id": self.key_id,
            "signature": "ed25519" if self.signature is not None else None,
            "tlvs": [t.name for t in self.tlvs],
            "board": manifest.get("board"),
            "model_sha256": manifest.get("model_sha256"),
            "manifest": manifest or None,
        }


_FLAG_NAMES = (
    (0x01, "PIC"),
    (0x04, "ENCRYPTED_AES128"),
    (0x08, "ENCRYPTED_AES256"),
    (IMAGE_F_NON_BOOTABLE, "NON_BOOTABLE"),
    (IMAGE_F_RAM_LOAD, "RAM_LOAD"),
    (IMAGE_F_ROM_FIXED, "ROM_FIXED"),
)


def is_mcuboot(data: bytes) -> bool:
    return len(data) >= 4 and struct.unpack_from("<I", data)[0] == IMAGE_MAGIC


def _tlv_area(data: bytes, off: int, magic: int, where: str, protected: bool) -> tuple[list[Tlv], int]:
    if off + 4 > len(data):
        raise SignedImageError(
            f"{where}: truncated: the TLV area at byte {off} is past the end of the file ({len(data)} bytes)",
            hint="the file was cut short; sign the build again",
        )
    got, total = struct.unpack_from("<HH", data, off)
    if got != magic:
        raise SignedImageError(
            f"{where}: no TLV area at byte {off} (found 0x{got:04x}, expected 0x{magic:04x})",
            hint="the file is corrupt or truncated; sign the build again",
        )
    end = off + total
    if total < 4 or end > len(data):
        raise SignedImageError(
            f"{where}: truncated: the TLV area ends at byte {end}, past the end of the file ({len(data)} bytes)",
            hint="the file was cut short; sign the build again",
        )
    tlvs: list[Tlv] = []
    p = off + 4
    while p < end:
        if p + 4 > end:
            raise SignedImageError(f"{where}: a TLV header at byte {p} crosses the end of its area")
        kind, _pad, length = struct.unpack_from("<BBH", data, p)
        if p + 4 + length > end:
            raise SignedImageError(f"{where}: TLV 0x{kind:02x} at byte {p} is longer than its area")
        tlvs.append(Tlv(kind, bytes(data[p + 4 : p + 4 + length]), protected))
        p += 4 + length
    return tlvs, end


def parse_image(data: bytes, source: str | Path = "image") -> McubootImage:
    """Parse an MCUboot image (bytes beyond its TLV area, e.g. flash padding, are ignored)."""
    where = str(source)
    if len(data) < HEADER_STRUCT.size:
        raise SignedImageError(f"{where}: {len(data)} bytes is too short for an MCUboot image header")
    magic, load, hdr, prot, img, flags, major, minor, rev, build, _pad = HEADER_STRUCT.unpack_from(data)
    if magic != IMAGE_MAGIC:
        raise SignedImageError(
            f"{where}: not an MCUboot image (magic 0x{magic:08x}, expected 0x{IMAGE_MAGIC:08x})",
            hint="sign the build with `tinyforge sign DIR --key KEY.pem --version X.Y.Z`",
        )
    if hdr < HEADER_STRUCT.size:
        raise SignedImageError(f"{where}: header size {hdr} is smaller than the 32-byte header")
    if hdr + img > len(data):
        raise SignedImageError(
            f"{where}: truncated: the header says {hdr + img} bytes of header and image, the file has {len(data)}",
            hint="the file was cut short; sign the build again",
        )
    off = hdr + img
    tlvs: list[Tlv] = []
    if prot:
        ptlvs, pend = _tlv_area(data, off, TLV_PROT_INFO_MAGIC, where, True)
        if pend - off != prot:
            raise SignedImageError(
                f"{where}: the protected TLV area is {pend - off} bytes, the header says {prot}"
            )
        tlvs += ptlvs
        off = pend
    utlvs, end = _tlv_area(data, off, TLV_INFO_MAGIC, where, False)
    tlvs += utlvs
    return McubootImage(
        source=where,
        data=bytes(data[:end]),
        load_address=load,
        header_size=hdr,
        protected_tlv_size=prot,
        image_size=img,
        flags=flags,
        version=ImageVersion(major, minor, rev, build),
        tlvs=tuple(tlvs),
    )


def read_image(path: str | Path) -> McubootImage:
    p = Path(path)
    if not p.is_file():
        raise SignedImageError(
            f"{p}: no such file", hint="pass a firmware.signed.bin made by `tinyforge sign`"
        )
    return parse_image(p.read_bytes(), p)
