"""Flashing by copying a .uf2 file to the board's USB mass-storage bootloader (Microsoft UF2).

UF2 (github.com/microsoft/uf2): the file is a sequence of independent 512-byte blocks:

    offset  field
    0       magicStart0 0x0A324655 ("UF2\\n")
    4       magicStart1 0x9E5D5157
    8       flags (0x2000: familyID present; 0x1 not main flash; 0x1000 file container; ...)
    12      targetAddr
    16      payloadSize (256 here)
    20      blockNo
    24      numBlocks
    28      familyID (with flag 0x2000) or fileSize
    32      data[476] (payload first, the rest zero)
    508     magicEnd 0x0AB16F30

Entering the bootloader: a "1200-baud touch" (open the board's CDC serial port at 1200 baud and
close it) makes Arduino-style firmware reset into its UF2 bootloader; then the drive (a folder with
INFO_UF2.TXT) appears, we copy the file, the board flashes itself and restarts.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tinyforge.errors import FlashError

if TYPE_CHECKING:
    from tinyforge.flash.image import FlashImage
    from tinyforge.flash.progress import Progress
    from tinyforge.flash.registry import FlashRequest, FlashResult

MAGIC_START0 = 0x0A324655
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_NOT_MAIN_FLASH = 0x00000001
FLAG_FILE_CONTAINER = 0x00001000
FLAG_FAMILY_ID = 0x00002000
FLAG_MD5 = 0x00004000
FLAG_EXTENSIONS = 0x00008000
BLOCK_SIZE = 512
DATA_SIZE = 476
PAYLOAD = 256
INFO_FILE = "INFO_UF2.TXT"
_HEADER = struct.Struct("<8I")


@dataclass(frozen=True)
class Uf2Block:
    flags: int
    address: int
    payload: bytes
    block_no: int
    num_blocks: int
    family_id: int | None


def encode(image: FlashImage, family_id: int, payload_size: int = PAYLOAD, fill: int = 0xFF) -> bytes:
    """The image as UF2 blocks, one per `payload_size`-aligned page that holds image bytes.
    Page bytes the image does not cover are `fill` (erased flash)."""
    if not 0 < payload_size <= DATA_SIZE or payload_size % 4:
        raise ValueError(f"bad UF2 payload size {payload_size}")
    pages: dict[int, bytearray] = {}
    for seg in image.segments:
        a = seg.address
        while a < seg.end:
            page = a - a % payload_size
            buf = pages.setdefault(page, bytearray([fill]) * payload_size)
            n = min(seg.end, page + payload_size) - a
            buf[a - page : a - page + n] = seg.data[a - seg.address : a - seg.address + n]
            a += n
    addrs = sorted(pages)
    out = bytearray()
    for i, page in enumerate(addrs):
        header = _HEADER.pack(
            MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID, page, payload_size, i, len(addrs), family_id
        )
        data = bytes(pages[page]) + bytes(DATA_SIZE - payload_size)
        out += header + data + struct.pack("<I", MAGIC_END)
    return bytes(out)


def decode(data: bytes) -> list[Uf2Block]:
    """Parse and check every block (magics, sizes, numbering)."""
    if len(data) % BLOCK_SIZE:
        raise FlashError(
            f"UF2 data is {len(data)} bytes, not a multiple of {BLOCK_SIZE}", hint="the file is truncated"
        )
    blocks: list[Uf2Block] = []
    for off in range(0, len(data), BLOCK_SIZE):
        blk = data[off : off + BLOCK_SIZE]
        m0, m1, flags, addr, size, no, count, fam = _HEADER.unpack_from(blk)
        (end,) = struct.unpack_from("<I", blk, BLOCK_SIZE - 4)
        if (m0, m1, end) != (MAGIC_START0, MAGIC_START1, MAGIC_END):
            raise FlashError(
                f"UF2 block {off // BLOCK_SIZE}: bad magic numbers", hint="not a UF2 file, or corrupt"
            )
        if size > DATA_SIZE:
            raise FlashError(f"UF2 block {off // BLOCK_SIZE}: payload size {size} > {DATA_SIZE}")
        blocks.append(
            Uf2Block(
                flags, addr, bytes(blk[32 : 32 + size]), no, count, fam if flags & FLAG_FAMILY_ID else None
            )
        )
    for i, b in enumerate(blocks):
        if b.block_no != i or b.num_blocks != len(blocks):
            raise FlashError(
                f"UF2 block {i}: numbered {b.block_no} of {b.num_blocks}, expected {i} of {len(blocks)}"
            )
    return blocks


# ---- the drive and the 1200-baud touch ------------------------------------------------------


def default_mount_roots() -> list[Path]:
    user = os.environ.get("USER", "")
    roots = [Path("/media") / user, Path("/run/media") / user, Path("/media"), Path("/Volumes")]
    return [r for r in roots if r.is_dir()]


def is_uf2_drive(path: Path) -> bool:
    return path.is_dir() and (path / INFO_FILE).is_file()


def find_drives(roots: Sequence[Path], label: str | None = None) -> list[Path]:
    found = []
    for root in roots:
        if is_uf2_drive(root):
            found.append(root)
            continue
        try:
            children = sorted(root.iterdir())
        except OSError:
            continue
        found += [c for c in children if is_uf2_drive(c)]
    if label:
        found = [d for d in found if d.name == label]
    return found


def touch_1200(port: str) -> None:
    """Open the port at 1200 baud and close it: the board's firmware resets into its bootloader."""
    from tinyforge.serial.ports import open_port

    p = open_port(port, 1200)
    try:
        p.dtr = False
    finally:
        p.close()


def wait_for(predicate, timeout: float, interval: float = 0.2):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def flash(request: FlashRequest, image: FlashImage, progress: Progress) -> FlashResult:
    from tinyforge.flash.registry import FlashResult
    from tinyforge.serial.ports import resolve_port

    settings = request.settings
    family = int(settings["family_id"])
    label = settings.get("volume_label")
    data = encode(image, family)
    t0 = time.monotonic()
    target = Path(request.port)
    port_name = request.port
    touched = False
    if is_uf2_drive(target):
        drive = target
    else:
        touched = True
        port_name = resolve_port(request.port, request.usb_ids)
        progress.note(f"1200-baud touch on {port_name}")
        touch_1200(port_name)
        roots = default_mount_roots()
        drives = wait_for(lambda: find_drives(roots, label), timeout=float(settings.get("timeout", 15.0)))
        if not drives:
            raise FlashError(
                f"no UF2 drive{' ' + label if label else ''} appeared after the 1200-baud touch on {port_name}",
                hint="double-tap reset (or hold BOOTSEL while plugging in) and pass the drive: --port /media/you/DRIVE",
            )
        if len(drives) > 1:
            raise FlashError(
                f"several UF2 drives: {', '.join(map(str, drives))}",
                hint="choose one with --port /path/to/drive",
            )
        drive = drives[0]
    progress.phase("copy", len(data))
    dest = drive / "firmware.uf2"
    step = 64 * BLOCK_SIZE
    try:
        with open(dest, "wb") as out:
            for off in range(0, len(data), step):
                out.write(data[off : off + step])
                progress.advance(len(data[off : off + step]))
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise FlashError(
            f"{dest}: cannot write ({exc.strerror})", hint="is the drive mounted writable?"
        ) from exc
    progress.done()
    reappeared = None
    if touched and port_name.startswith("/dev/"):
        # the board restarts into the new application: its serial port comes back
        reappeared = bool(wait_for(lambda: Path(port_name).exists(), timeout=10.0))
    return FlashResult(
        runner="uf2",
        board=request.board,
        port=str(drive),
        image=str(image.source),
        start_address=image.start,
        bytes_written=image.size,
        verified=False,
        started=True,
        seconds=time.monotonic() - t0,
        chip=None,
        details={
            "family_id": f"0x{family:08x}",
            "uf2_blocks": len(data) // BLOCK_SIZE,
            "port_back": reappeared,
        },
    )
