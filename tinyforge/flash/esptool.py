"""Flashing the ESP32 family through Espressif's esptool, used as a library (`esptool.main(argv)`):
its ROM-bootloader protocol, stub flasher and chip quirks are not ours to reimplement. This runner
checks the image (an ESP app image for the board's chip, or an ELF converted with elf2image),
builds the argument list from the board profile and the request, and maps failures to one line.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tinyforge.errors import FlashError, ToolError

if TYPE_CHECKING:
    from tinyforge.flash.image import FlashImage
    from tinyforge.flash.progress import Progress
    from tinyforge.flash.registry import FlashRequest, FlashResult

ESP_IMAGE_MAGIC = 0xE9
DEFAULT_APP_ADDRESS = 0x10000  # the factory app partition of the default partition table
DEFAULT_BAUD = 460800


def image_chip_ids() -> dict[str, int]:
    """esptool's chip name -> the chip id an app image carries in its extended header."""
    import esptool.targets

    return {
        name: int(cls.IMAGE_CHIP_ID)
        for name, cls in esptool.targets.CHIP_DEFS.items()
        if getattr(cls, "IMAGE_CHIP_ID", None) is not None
    }


def check_app_image(data: bytes, chip: str, where: str) -> None:
    """An ESP32-family app image: magic 0xE9, a sane segment count, and the chip id of `chip`
    in the extended header (byte 12-13, little endian)."""
    if len(data) < 24 or data[0] != ESP_IMAGE_MAGIC:
        raise FlashError(
            f"{where}: not an ESP app image (first byte 0x{data[0]:02x}, expected 0xe9)"
            if data
            else f"{where}: empty",
            hint="flash the .bin from `idf.py build` / `esptool elf2image`, or the ELF",
        )
    segments = data[1]
    if not 1 <= segments <= 16:
        raise FlashError(
            f"{where}: {segments} segments in the image header (corrupt?)", hint="rebuild the image"
        )
    ids = image_chip_ids()
    want = ids.get(chip.replace("-", "").lower())
    if want is None:
        raise FlashError(f"unknown ESP chip {chip!r}", hint=f"esptool knows: {', '.join(sorted(ids))}")
    got = int.from_bytes(data[12:14], "little")
    if got != want:
        other = next((n for n, i in ids.items() if i == got), f"chip id {got}")
        raise FlashError(
            f"{where} was built for {other}, not {chip}",
            hint=f"rebuild it for {chip}, or flash it to a {other} board",
        )


def esptool_argv(request: FlashRequest, port: str, address: int, image_file: Path) -> list[str]:
    """The esptool (v5) command line for this request."""
    s = request.settings
    argv = [
        "--chip",
        str(s["chip"]),
        "--port",
        port,
        "--baud",
        str(request.baud or s.get("baud", DEFAULT_BAUD)),
        "--before",
        str(s.get("before", "default-reset")),
        "--after",
        str(s.get("after", "hard-reset")) if request.start else "no-reset",
    ]
    if "connect_attempts" in s:
        argv += ["--connect-attempts", str(s["connect_attempts"])]
    argv.append("write-flash")
    if request.erase_all:
        argv.append("--erase-all")
    if not request.verify:
        argv.append("--trust-flash-content")  # esptool 5 verifies by default; this skips it
    argv += [f"0x{address:x}", str(image_file)]
    return argv


def _prepare(image: FlashImage, chip: str, tmp: Path) -> Path:
    """The app image file to write: a checked .bin as is, or an ELF through elf2image."""
    if image.kind == "elf":
        out = tmp / "app.bin"
        _run(["--chip", chip, "elf2image", "--output", str(out), str(image.source)], "esptool elf2image")
        return out
    data = image.flat()
    check_app_image(data, chip, str(image.source))
    out = tmp / "app.bin"
    out.write_bytes(data)
    return out


def _run(argv: list[str], what: str) -> None:
    import esptool

    try:
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for --json
            esptool.main(argv)
    except esptool.FatalError as exc:
        raise FlashError(
            f"{what}: {str(exc).strip().splitlines()[0]}", hint="check the port, the boot button and --baud"
        ) from exc
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise ToolError(
                f"{what} exited with status {exc.code}", hint="run esptool by hand with the same arguments"
            ) from exc


def flash(request: FlashRequest, image: FlashImage, progress: Progress) -> FlashResult:
    from tinyforge.flash.registry import FlashResult
    from tinyforge.serial.ports import resolve_port

    chip = str(request.settings["chip"])
    address = (
        request.address
        if request.address is not None
        else int(request.settings.get("address", DEFAULT_APP_ADDRESS))
    )
    port = resolve_port(request.port, request.usb_ids)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tinyforge-esp-") as tmp:
        app = _prepare(image, chip, Path(tmp))
        size = app.stat().st_size
        progress.note(f"esptool: {chip} on {port}, {size} bytes at 0x{address:x}")
        _run(esptool_argv(request, port, address, app), "esptool write-flash")
    return FlashResult(
        runner="esptool",
        board=request.board,
        port=port,
        image=str(image.source),
        start_address=address,
        bytes_written=size,
        verified=request.verify,
        started=request.start,
        seconds=time.monotonic() - t0,
        chip=chip,
    )
