"""Ed25519 signing keys as imgtool makes them (`imgtool keygen -k key.pem -t ed25519`: a PKCS#8
PEM private key) and their public halves (`imgtool getpub -k key.pem -e pem`).

tinyforge only ever reads a key file: it never copies it, and no message, log or file it writes
holds key bytes; a key is named by its key id, the first 8 bytes of the SHA-256 of its DER
SubjectPublicKeyInfo (the hash MCUboot's KEYHASH TLV carries).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyforge.errors import UsageError

KEYGEN_HINT = "make one with `imgtool keygen -k key.pem -t ed25519`"


@dataclass(frozen=True)
class PublicKey:
    raw: bytes = field(repr=False)  # the 32-byte Ed25519 public key
    der: bytes = field(repr=False)  # DER SubjectPublicKeyInfo (what imgtool hashes)
    source: str

    @property
    def key_hash(self) -> bytes:
        return hashlib.sha256(self.der).digest()

    @property
    def key_id(self) -> str:
        return self.key_hash[:8].hex()


def _read(path: str | Path, what: str) -> tuple[Path, bytes]:
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"{what} {p}: no such file", hint=KEYGEN_HINT)
    data = p.read_bytes()
    if b"-----BEGIN" not in data:
        raise UsageError(f"{what} {p}: not a PEM key file", hint=KEYGEN_HINT)
    return p, data


def load_public_key(path: str | Path, what: str = "--key") -> PublicKey:
    """The public key in a PEM file holding an Ed25519 public key or (unencrypted) private key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    p, data = _read(path, what)
    key: object
    if b"PRIVATE KEY" in data:
        key = _load_private(p, data, what).public_key()
    else:
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, TypeError):
            raise UsageError(f"{what} {p}: not a readable PEM public key", hint=KEYGEN_HINT) from None
    if isinstance(key, Ed25519PrivateKey):  # pragma: no cover - handled above
        key = key.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(
            f"{what} {p}: a {type(key).__name__.removeprefix('_')} key, not Ed25519",
            hint="the bench bootloader verifies Ed25519 signatures; " + KEYGEN_HINT,
        )
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return PublicKey(raw, der, str(p))


def check_signing_key(path: str | Path, what: str = "--key") -> PublicKey:
    """Check that `path` is an unencrypted Ed25519 private key imgtool can sign with; its public key."""
    p, data = _read(path, what)
    if b"PRIVATE KEY" not in data:
        raise UsageError(
            f"{what} {p}: a public key cannot sign",
            hint="pass the private key (imgtool keygen's output); the public one goes to the bootloader",
        )
    return load_public_key(p, what)


def _load_private(p: Path, data: bytes, what: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise UsageError(
            f"{what} {p}: the private key is encrypted (password-protected)",
            hint="tinyforge runs imgtool without a terminal: use an unencrypted key file kept outside the "
            "build directory, or sign with imgtool yourself",
        ) from None
    except (ValueError, NotImplementedError):
        raise UsageError(f"{what} {p}: not a readable PEM private key", hint=KEYGEN_HINT) from None
