"""`tinyforge sign`: a build directory's firmware.bin -> firmware.signed.bin in MCUboot's format,
made by `imgtool sign` (through tinyforge/proc.py) with the board's slot layout:

    imgtool sign --key KEY --header-size 0x200 --pad-header --slot-size 0x70000 --align 4
                 --load-addr 0x10000 --version X.Y.Z firmware.bin firmware.signed.bin

The build must have been made for the slots (`tinyforge build --sign KEY` or `--mcuboot`): linked
at load address + header size, with the harness that confirms the image on its first TF DONE.
The key is only read (by imgtool, from where it is); nothing of it is written anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyforge import proc
from tinyforge.errors import ToolError, UsageError
from tinyforge.secureboot.keys import check_signing_key
from tinyforge.secureboot.layout import SlotLayout, require_layout
from tinyforge.secureboot.mcuboot import ImageVersion, McubootImage, parse_image

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile

SIGNED_NAME = "firmware.signed.bin"


@dataclass(frozen=True)
class SignResult:
    path: Path
    board: str
    version: str
    key_id: str
    sha256: str  # the image hash (SHA256 TLV)
    size: int  # bytes of the signed image
    slot_size: int
    model_sha256: str | None
    argv: tuple[str, ...]  # the imgtool command line (paths only)

    def to_dict(self) -> dict[str, Any]:
        return {
            "signed": str(self.path),
            "board": self.board,
            "version": self.version,
            "key_id": self.key_id,
            "sha256": self.sha256,
            "size": self.size,
            "slot_size": self.slot_size,
            "model_sha256": self.model_sha256,
        }


def imgtool() -> str:
    """The imgtool program: $TINYFORGE_IMGTOOL, on PATH, or next to this Python."""
    env = os.environ.get("TINYFORGE_IMGTOOL")
    if env:
        return env
    found = shutil.which("imgtool") or shutil.which("imgtool", path=str(Path(sys.executable).parent))
    if found is None:
        raise ToolError(
            "imgtool not found (MCUboot's image tool)",
            hint='install it with: pip install "tinyforge[sign]" (or pip install imgtool)',
        )
    return os.path.abspath(found)


def image_settings(layout: SlotLayout) -> dict[str, int]:
    """What report.json records for a build made for the slots."""
    return {"header_size": layout.header_size, "load_address": layout.load_address, "slot_size": layout.size}


def imgtool_argv(
    layout: SlotLayout, key: Path, version: ImageVersion, infile: Path, outfile: Path
) -> list[str]:
    return [
        imgtool(),
        "sign",
        "--key",
        str(key),
        "--header-size",
        f"0x{layout.header_size:x}",
        "--pad-header",
        "--slot-size",
        f"0x{layout.size:x}",
        "--align",
        str(layout.align),
        "--load-addr",
        f"0x{layout.load_address:x}",
        "--version",
        str(version),
        str(infile),
        str(outfile),
    ]


def parse_version(text: str) -> ImageVersion:
    try:
        return ImageVersion.parse(text)
    except ValueError as exc:
        raise UsageError(f"--version {text}: {exc}", hint="e.g. --version 1.2.0 or 1.2.0+7") from None


def read_report(directory: str | Path) -> dict[str, Any]:
    """A build directory's report.json (UsageError when it is not a tinyforge build)."""
    d = Path(directory)
    rp = d / "report.json"
    if not rp.is_file():
        raise UsageError(
            f"{d} is not a tinyforge build directory (no report.json)",
            hint="build one with `tinyforge build MODEL --sign KEY.pem -o DIR`",
        )
    try:
        report = json.loads(rp.read_text())
        str(report["board"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{rp}: not a tinyforge build report ({exc})", hint="rebuild the directory"
        ) from None
    return dict(report)


def sign_build(
    directory: str | Path,
    board: BoardProfile,
    key: str | Path,
    version: str,
    *,
    output: str | Path | None = None,
    force: bool = False,
) -> SignResult:
    """Sign DIR/firmware.bin (built for `board`, the board its report.json names) into
    DIR/firmware.signed.bin (or `output`)."""
    from tinyforge.toolchain.project import add_owned_file, owned_files

    d = Path(directory)
    ver = parse_version(version)
    pub = check_signing_key(key)
    report = read_report(d)
    layout = require_layout(board)
    image = report.get("image") or {}
    expected = image_settings(layout)
    if image.get("format") != "mcuboot" or any(image.get(k) != v for k, v in expected.items()):
        raise UsageError(
            f"{d} was not built for the image slots of {board.name} (it is linked at 0x{int(report.get('app_offset', 0)):x} "
            f"without the image-confirming harness)",
            hint=f"rebuild it with `tinyforge build MODEL --board {board.name} --mcuboot -o {d}` (or --sign KEY)",
        )
    infile = d / "firmware.bin"
    if not infile.is_file():
        raise UsageError(f"{infile} is missing", hint="rebuild with `tinyforge build` or `make`")
    key_path = Path(key).resolve()
    if _inside(key_path, d.resolve()):
        raise UsageError(
            f"--key {key}: the key is inside the build directory {d}",
            hint="keep signing keys out of build directories (they get copied, archived and shared)",
        )
    out = Path(output) if output is not None else d / SIGNED_NAME
    if out.exists() and not force:
        mine = output is None and SIGNED_NAME in (owned_files(d) or set())
        if not mine:
            raise UsageError(
                f"{out} exists; refusing to overwrite it", hint="pass --force, or choose --output"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".signing-", suffix=".bin", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        argv = imgtool_argv(layout, key_path, ver, infile, tmp)
        # stdin is empty: imgtool would ask for a password on a terminal (keys are checked above)
        proc.run_tool(argv, input_bytes=b"", what="imgtool sign", timeout=120)
        signed = parse_image(tmp.read_bytes(), out)
        _check_signed(signed, layout, pub.raw, ver)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    if output is None:
        add_owned_file(d, SIGNED_NAME)
    manifest = signed.manifest or {}
    return SignResult(
        path=out,
        board=board.name,
        version=str(signed.version),
        key_id=pub.key_id,
        sha256=(signed.sha256_tlv or b"").hex(),
        size=signed.size,
        slot_size=layout.size,
        model_sha256=manifest.get("model_sha256"),
        argv=tuple(argv),
    )


def _check_signed(img: McubootImage, layout: SlotLayout, public_raw: bytes, version: ImageVersion) -> None:
    """What imgtool wrote is what the bootloader will accept."""
    problems = []
    if img.version != version:
        problems.append(f"version {img.version}, asked for {version}")
    if not img.verify_signature(public_raw):
        problems.append("its signature does not verify")
    if img.header_size != layout.header_size or img.load_address != layout.load_address or not img.ram_load:
        problems.append("its header does not match the slot layout")
    if problems:
        raise ToolError(f"imgtool made an image tinyforge cannot use: {'; '.join(problems)}")


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True
