"""tinyforge's own crypto for the bootloader (firmware/crypto/): SHA-256, SHA-512 and Ed25519
verification, on the host under ASan/UBSan against the FIPS 180 / RFC 6234 / RFC 8032 section 7.1
vectors (compiled into firmware/crypto/test/test_crypto.c) and against Python's hashlib and the
`cryptography` package on random messages, keys and tampered signatures; warning-free for
arm-none-eabi-gcc too."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

import pytest

from tinyforge import proc
from tinyforge.resources import firmware_dir

pytestmark = pytest.mark.toolchain

CRYPTO = firmware_dir() / "crypto"
SOURCES = ("tf_sha256.c", "tf_sha512.c", "tf_ed25519.c")
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]
SANITIZE = [
    "-O1",
    "-g",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
]


@pytest.fixture(scope="module")
def test_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    exe = tmp_path_factory.mktemp("crypto") / "test_crypto"
    proc.run_tool(
        ["gcc", *STRICT, *SANITIZE, f"-I{CRYPTO}", "-o", exe, CRYPTO / "test" / "test_crypto.c"]
        + [CRYPTO / s for s in SOURCES]
    )
    return exe


def _differential_cases(seed: int = 8032) -> tuple[str, int]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    rnd = random.Random(seed)
    lines: list[str] = []
    for _ in range(200):
        key = Ed25519PrivateKey.from_private_bytes(rnd.randbytes(32))
        pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        msg = rnd.randbytes(rnd.randrange(0, 400))
        sig = key.sign(msg)
        lines.append(f"ed25519 {pub.hex()} {msg.hex() or '-'} {sig.hex()} 1")
        if msg:
            changed = bytearray(msg)
            changed[rnd.randrange(len(msg))] ^= 1 << rnd.randrange(8)
            lines.append(f"ed25519 {pub.hex()} {changed.hex()} {sig.hex()} 0")
        bad = bytearray(sig)
        bad[rnd.randrange(64)] ^= 1 << rnd.randrange(8)
        lines.append(f"ed25519 {pub.hex()} {msg.hex() or '-'} {bad.hex()} 0")
    # every length around the 64/128-byte block and padding boundaries, and a few long ones
    for n in [*range(0, 260), 1000, 4000]:
        msg = rnd.randbytes(n)
        lines.append(f"sha256 {msg.hex() or '-'} {hashlib.sha256(msg).hexdigest()}")
        lines.append(f"sha512 {msg.hex() or '-'} {hashlib.sha512(msg).hexdigest()}")
    return "\n".join(lines) + "\n", len(lines)


def test_vectors_and_differential_cases_under_sanitizers(test_exe: Path) -> None:
    text, n = _differential_cases()
    res = proc.run_tool([test_exe, "--stdin"], input_bytes=text.encode(), check=False, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert "runtime error" not in res.stderr and "AddressSanitizer" not in res.stderr
    passed = int(res.stdout.strip().splitlines()[-1].split(" passed")[0])
    # 5 RFC 8032 vectors x 4 checks, 512 + 256 bit flips, 9 digests, the edge cases, the stdin lines
    assert res.stdout.strip().endswith(" 0 failed")
    assert passed >= 800 + n


def test_rfc8032_vectors_are_the_rfc_s(tmp_path: Path) -> None:
    """The vectors compiled into the C test are RFC 8032's: the same keys and signatures come out of
    `cryptography` (deterministic signing) for the same seeds and messages."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = (CRYPTO / "test" / "test_crypto.c").read_text()
    seeds = {
        "TEST 1": "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "TEST 2": "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "TEST 3": "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "TEST 1024": "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "TEST SHA(abc)": "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
    }
    table = text.split("k_rfc8032[] = {", 1)[1].split("\n};", 1)[0]
    entries = []
    for body in re.findall(r"\{(.*?)\}", table, flags=re.S):
        # fields are separated by commas; a field may be several adjacent string literals
        entries.append(["".join(re.findall(r'"([^"]*)"', part)) for part in body.split(",")])
    assert [e[0] for e in entries] == list(seeds)
    for name, pub, msg, sig in entries:
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seeds[name]))
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert raw.hex() == pub, name
        assert key.sign(bytes.fromhex(msg)).hex() == sig, name
    assert len(bytes.fromhex(entries[3][2])) == 1023


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m0plus"])
def test_warning_free_for_arm(tmp_path: Path, cpu: str) -> None:
    gcc = proc.find_tool("arm-none-eabi-gcc")
    for src in SOURCES:
        proc.run_tool([gcc, f"-mcpu={cpu}", "-mthumb", "-Os", *STRICT, f"-I{CRYPTO}", "-c", CRYPTO / src,
                       "-o", tmp_path / (src + ".o")])  # fmt: skip
        assert (tmp_path / (src + ".o")).stat().st_size > 0
