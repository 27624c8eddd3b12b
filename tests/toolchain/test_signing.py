"""`tinyforge build --sign`, `tinyforge sign` and `tinyforge inspect` on signed images: imgtool's
command line from the board's slot layout, the embedded manifest, imgtool's own verify agreeing,
the errors, and the key never landing in the build directory or any output."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

import pytest

from tinyforge import proc
from tinyforge.cli import main
from tinyforge.secureboot.mcuboot import read_image
from tinyforge.secureboot.sign import imgtool

pytestmark = pytest.mark.toolchain

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _fw_models import dense  # noqa: E402

BOARD = "mps2-an386"


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    for name in ("fleet", "other"):
        proc.run_tool([imgtool(), "keygen", "-k", d / f"{name}.pem", "-t", "ed25519"], timeout=60)
    pub = proc.run_tool(
        [imgtool(), "getpub", "-k", str(d / "fleet.pem"), "-e", "pem"], timeout=60
    ).stdout.encode()
    (d / "fleet.pub.pem").write_bytes(pub)
    return {"fleet": d / "fleet.pem", "pub": d / "fleet.pub.pem", "other": d / "other.pem"}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dense(tmp_path_factory.mktemp("model") / "dense.tflite")


def key_secrets(key: Path) -> list[bytes]:
    """Every form the private key could leak in: PEM lines, raw seed, hex, base64."""
    from cryptography.hazmat.primitives import serialization

    pem = key.read_bytes()
    sk = serialization.load_pem_private_key(pem, password=None)
    seed = sk.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    body = [line for line in pem.splitlines() if line and not line.startswith(b"-----")]
    return [*body, seed, seed.hex().encode(), seed.hex().upper().encode(), base64.b64encode(seed)]


def test_build_sign_makes_an_image_imgtool_verifies(
    tmp_path: Path, model: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[str, ...]] = []
    proc.add_observer(seen.append)
    try:
        out = tmp_path / "fw"
        code, stdout, err = run_cli(
            ["build", str(model), "--board", BOARD, "--sign", str(keys["fleet"]), "--version", "1.4.2",
             "-o", str(out), "--inputs", "2"],
            capsys,
        )  # fmt: skip
    finally:
        proc.remove_observer(seen.append)
    assert code == 0, err
    signed = out / "firmware.signed.bin"
    assert "firmware.signed.bin: version 1.4.2+0" in stdout and "signed by key" in stdout
    # imgtool was run with the board's layout, the key read from where it is
    sign_argv = next(a for a in seen if len(a) > 1 and a[1] == "sign")
    assert Path(sign_argv[0]).name == "imgtool"
    for opt, value in (("--header-size", "0x200"), ("--slot-size", "0x70000"), ("--align", "4"),
                       ("--load-addr", "0x10000"), ("--version", "1.4.2+0"), ("--key", str(keys["fleet"]))):  # fmt: skip
        assert sign_argv[sign_argv.index(opt) + 1] == value, opt
    assert "--pad-header" in sign_argv
    # the firmware is linked after the header at the load address
    report = json.loads((out / "report.json").read_text())
    assert report["app_offset"] == 0x10200 and report["image"]["format"] == "mcuboot"
    img = read_image(signed)
    assert img.body == (out / "firmware.bin").read_bytes()
    assert int.from_bytes(img.body[4:8], "little") & ~1 >= 0x10200  # reset handler after the header
    # the manifest in the signed body names the board and the model's SHA-256
    assert img.manifest is not None and img.manifest["board"] == BOARD
    assert img.manifest["model_sha256"] == hashlib.sha256((out / "model.tflite").read_bytes()).hexdigest()
    assert img.manifest["image"] == "mcuboot"
    # imgtool verify agrees with our hash
    res = proc.run_tool([imgtool(), "verify", "-k", str(keys["pub"]), str(signed)], check=False, timeout=60)
    assert res.returncode == 0 and f"Image digest: {img.sha256_tlv.hex()}" in res.stdout, res.stdout
    assert "Image version: 1.4.2+0" in res.stdout
    # inspect: version, hash, key id, verifies
    code, stdout, _ = run_cli(["inspect", str(signed), "--key", str(keys["pub"])], capsys)
    assert code == 0
    assert "version: 1.4.2+0" in stdout and f"sha256: {img.sha256_tlv.hex()}  (matches the image)" in stdout
    assert f"key id: {img.key_id}" in stdout and f"signature: valid for key {img.key_id}" in stdout
    assert f"model sha256: {img.manifest['model_sha256']}" in stdout
    code, stdout, _ = run_cli(["inspect", str(signed), "--key", str(keys["other"]), "--json"], capsys)
    info = json.loads(stdout)
    assert code == 1 and info["verified"] is False and info["hash_ok"] is True
    # the key is nowhere in the build directory, the output or the command lines
    secrets = key_secrets(keys["fleet"])
    for f in sorted(out.rglob("*")):
        if f.is_file():
            blob = f.read_bytes()
            assert not any(s in blob for s in secrets), f
    text = (stdout + err).encode() + b"\n".join(b" ".join(a.encode() for a in argv) for argv in seen)
    assert not any(s in text for s in secrets)


def test_sign_again_and_inspect_tampered_and_truncated(
    tmp_path: Path, model: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fw"
    code, _, err = run_cli(
        ["build", str(model), "--board", BOARD, "--mcuboot", "-o", str(out), "--inputs", "1"], capsys
    )
    assert code == 0, err
    assert not (out / "firmware.signed.bin").exists()
    code, stdout, err = run_cli(
        ["sign", str(out), "--key", str(keys["fleet"]), "--version", "2.0.0+7", "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(stdout)["version"] == "2.0.0+7"
    # signing again replaces tinyforge's own file; an explicit --output that exists needs --force
    code, _, err = run_cli(["sign", str(out), "--key", str(keys["fleet"]), "--version", "2.0.1"], capsys)
    assert code == 0, err
    assert read_image(out / "firmware.signed.bin").version.revision == 1
    other = tmp_path / "mine.bin"
    other.write_bytes(b"precious")
    code, _, err = run_cli(["sign", str(out), "--key", str(keys["fleet"]), "--output", str(other)], capsys)
    assert code == 2 and "exists; refusing to overwrite it" in err and other.read_bytes() == b"precious"
    # a flipped byte: inspect says the hash does not match; a cut file: one error line
    data = bytearray((out / "firmware.signed.bin").read_bytes())
    data[0x200 + 100] ^= 0xFF
    (tmp_path / "tampered.bin").write_bytes(bytes(data))
    code, stdout, _ = run_cli(["inspect", str(tmp_path / "tampered.bin"), "--key", str(keys["pub"])], capsys)
    assert code == 1 and "DOES NOT MATCH the image" in stdout and "signature: NOT valid" in stdout
    (tmp_path / "cut.bin").write_bytes(bytes(data[:2000]))
    code, _, err = run_cli(["inspect", str(tmp_path / "cut.bin")], capsys)
    assert code == 2 and err.startswith("error: ") and "truncated" in err and "Traceback" not in err
    # a rebuild removes the stale signed image (it no longer matches firmware.bin)
    code, _, err = run_cli(
        ["build", str(model), "--board", BOARD, "--mcuboot", "-o", str(out), "--inputs", "2"], capsys
    )
    assert code == 0, err
    assert not (out / "firmware.signed.bin").exists()


def test_sign_errors(
    tmp_path: Path, model: Path, keys: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "plain"
    code, _, err = run_cli(["build", str(model), "--board", BOARD, "-o", str(plain), "--inputs", "1"], capsys)
    assert code == 0, err
    code, _, err = run_cli(["sign", str(plain), "--key", str(keys["fleet"]), "--version", "1.0.0"], capsys)
    assert code == 2 and "was not built for the image slots of mps2-an386" in err and "--mcuboot" in err
    for args, message in (
        (["--key", str(keys["pub"]), "--version", "1.0.0"], "a public key cannot sign"),
        (["--key", str(keys["fleet"]), "--version", "1.0"], "--version 1.0: '1.0' is not a version"),
        (["--key", str(tmp_path / "nope.pem")], "no such file"),
    ):
        code, _, err = run_cli(["sign", str(plain), *args], capsys)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    # a board without slots
    code, _, err = run_cli(["build", str(model), "--board", "mps2-an385", "--sign", str(keys["fleet"]),
                            "-o", str(tmp_path / "m3")], capsys)  # fmt: skip
    assert code != 0 and "board mps2-an385 has no image slots" in err
    # a key inside the build directory is refused
    d = tmp_path / "withkey"
    code, _, err = run_cli(
        ["build", str(model), "--board", BOARD, "--mcuboot", "-o", str(d), "--inputs", "1"], capsys
    )
    assert code == 0
    inside = d / "k.pem"
    inside.write_bytes(keys["fleet"].read_bytes())
    code, _, err = run_cli(["sign", str(d), "--key", str(inside)], capsys)
    assert code == 2 and "the key is inside the build directory" in err
