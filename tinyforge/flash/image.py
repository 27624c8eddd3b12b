"""Firmware images to flash: raw .bin, Intel .hex or .elf (a `tinyforge build` directory's image is
found by toolchain/build_dir.py), read into one shape (address + bytes segments). Reading never
modifies the files.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyforge.errors import FlashError

IMAGE_SUFFIXES = (".elf", ".hex", ".bin")


class ImageError(FlashError):
    """The image file is missing, corrupt, or not for this board."""


@dataclass(frozen=True)
class Segment:
    address: int
    data: bytes

    @property
    def end(self) -> int:
        return self.address + len(self.data)


@dataclass(frozen=True)
class FlashImage:
    """What goes into the board's memory: non-overlapping segments sorted by address."""

    segments: tuple[Segment, ...]
    source: Path
    kind: str  # "elf" | "hex" | "bin"
    board: str | None = None  # the board the image was built for, when it says so
    manifest: dict[str, Any] | None = None

    @property
    def start(self) -> int:
        return self.segments[0].address

    @property
    def end(self) -> int:
        return self.segments[-1].end

    @property
    def size(self) -> int:
        """Bytes of data (gaps not counted)."""
        return sum(len(s.data) for s in self.segments)

    @property
    def span(self) -> int:
        return self.end - self.start

    def flat(self, fill: int = 0xFF) -> bytes:
        """The image as one block from `start` to `end`, gaps filled (erased flash reads 0xFF)."""
        out = bytearray([fill]) * self.span
        for s in self.segments:
            out[s.address - self.start : s.end - self.start] = s.data
        return bytes(out)

    def sha256(self) -> str:
        return hashlib.sha256(self.flat()).hexdigest()

    def relocated(self, address: int) -> FlashImage:
        """The same bytes at another start address (for a raw .bin given --address)."""
        delta = address - self.start
        segs = tuple(Segment(s.address + delta, s.data) for s in self.segments)
        return FlashImage(segs, self.source, self.kind, self.board, self.manifest)


def _normalise(segments: Iterable[Segment], source: Path) -> tuple[Segment, ...]:
    """Sort, merge adjacent segments, reject overlaps."""
    segs = sorted((s for s in segments if s.data), key=lambda s: s.address)
    if not segs:
        raise ImageError(f"{source}: the image holds no data", hint="rebuild the firmware")
    out: list[Segment] = [segs[0]]
    for s in segs[1:]:
        last = out[-1]
        if s.address < last.end:
            raise ImageError(
                f"{source}: data at 0x{s.address:08x} overlaps the data before it (ends 0x{last.end:08x})",
                hint="the image is corrupt; rebuild it",
            )
        if s.address == last.end:
            out[-1] = Segment(last.address, last.data + s.data)
        else:
            out.append(s)
    return tuple(out)


# ---- Intel HEX --------------------------------------------------------------------------------


def parse_hex(text: str, source: Path) -> tuple[Segment, ...]:
    """Intel HEX records 00 (data), 01 (end), 02/04 (segment/linear base), 03/05 (start address)."""
    chunks: list[Segment] = []
    base = 0
    ended = False
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        where = f"{source}:{lineno}"
        if ended:
            raise ImageError(f"{where}: data after the end-of-file record", hint="the .hex file is corrupt")
        if not line.startswith(":") or len(line) < 11 or len(line) % 2 == 0:
            raise ImageError(f"{where}: not an Intel HEX record", hint="the .hex file is corrupt")
        try:
            rec = bytes.fromhex(line[1:])
        except ValueError:
            raise ImageError(f"{where}: not hexadecimal", hint="the .hex file is corrupt") from None
        count, addr, rtype = rec[0], (rec[1] << 8) | rec[2], rec[3]
        if len(rec) != count + 5:
            raise ImageError(
                f"{where}: record length {count} does not match the line", hint="the .hex file is corrupt"
            )
        if sum(rec) & 0xFF:
            raise ImageError(f"{where}: checksum mismatch", hint="the .hex file is corrupt; rebuild it")
        payload = rec[4 : 4 + count]
        if rtype == 0x00:
            chunks.append(Segment(base + addr, payload))
        elif rtype == 0x01:
            ended = True
        elif rtype == 0x02 and count == 2:
            base = ((payload[0] << 8) | payload[1]) << 4
        elif rtype == 0x04 and count == 2:
            base = ((payload[0] << 8) | payload[1]) << 16
        elif rtype in (0x03, 0x05):
            pass  # start address: GO uses the vector table instead
        else:
            raise ImageError(f"{where}: unknown record type {rtype:02x}", hint="the .hex file is corrupt")
    if not ended:
        raise ImageError(
            f"{source}: no end-of-file record (truncated?)", hint="the .hex file is corrupt; rebuild it"
        )
    return _normalise(chunks, source)


def format_hex(segments: Iterable[Segment]) -> str:
    """Intel HEX text for segments (type-04 records, 16 data bytes a line). For tests and tools."""
    lines: list[str] = []

    def rec(rtype: int, addr: int, payload: bytes) -> None:
        body = bytes([len(payload), (addr >> 8) & 0xFF, addr & 0xFF, rtype]) + payload
        lines.append(":" + (body + bytes([(-sum(body)) & 0xFF])).hex().upper())

    upper = None
    for seg in segments:
        for off in range(0, len(seg.data), 16):
            a = seg.address + off
            if a >> 16 != upper:
                upper = a >> 16
                rec(0x04, 0, upper.to_bytes(2, "big"))
            chunk = seg.data[off : off + 16]
            # a record must not cross a 64 KB boundary
            room = 0x10000 - (a & 0xFFFF)
            rec(0x00, a & 0xFFFF, chunk[:room])
            if len(chunk) > room:
                upper = (a + room) >> 16
                rec(0x04, 0, upper.to_bytes(2, "big"))
                rec(0x00, 0, chunk[room:])
    rec(0x01, 0, b"")
    return "\n".join(lines) + "\n"


# ---- ELF --------------------------------------------------------------------------------------


def parse_elf(path: Path) -> tuple[tuple[Segment, ...], dict[str, Any] | None]:
    """Loadable segments at their load (physical) addresses, and the tinyforge manifest if any."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            segs = [
                Segment(int(seg["p_paddr"]), seg.data()[: int(seg["p_filesz"])])
                for seg in elf.iter_segments()
                if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0
            ]
            sec = elf.get_section_by_name(".tf_manifest")
            manifest = _manifest_from(sec.data()) if sec is not None else None
    except (ELFError, ValueError, OSError, AssertionError) as exc:
        raise ImageError(
            f"{path}: not a valid ELF file ({exc})", hint="the file is corrupt or truncated; rebuild it"
        ) from exc
    return _normalise(segs, path), manifest


_MANIFEST_RE = re.compile(rb'\{"[^\x00]{0,4000}?"board":"[^"\x00]{1,100}"[^\x00]{0,4000}?\}(?=\x00)')


def _manifest_from(data: bytes) -> dict[str, Any] | None:
    m = _MANIFEST_RE.search(data)
    if m is None:
        return None
    try:
        value = json.loads(m.group(0).decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


# ---- files and build directories --------------------------------------------------------------


def load_image(path: str | Path, *, address: int | None = None) -> FlashImage:
    """Read a .bin (placed at `address`), .hex or .elf. A raw .bin without an address starts at 0."""
    p = Path(path)
    if not p.is_file():
        raise ImageError(
            f"{p}: no such file", hint="pass a firmware.elf/.hex/.bin or a `tinyforge build` directory"
        )
    suffix = p.suffix.lower()
    manifest: dict[str, Any] | None
    if suffix == ".elf" or (suffix not in (".hex", ".bin") and p.read_bytes()[:4] == b"\x7fELF"):
        segs, manifest = parse_elf(p)
        kind = "elf"
    elif suffix == ".hex":
        try:
            text = p.read_text(encoding="ascii")
        except UnicodeDecodeError:
            raise ImageError(f"{p}: not a text file", hint="the .hex file is corrupt") from None
        segs = parse_hex(text, p)
        manifest = _manifest_from(b"".join(s.data for s in segs))
        kind = "hex"
    elif suffix == ".bin":
        data = p.read_bytes()
        segs = _normalise([Segment(address or 0, data)], p)
        manifest = _manifest_from(data)
        kind = "bin"
    else:
        raise ImageError(
            f"{p}: unknown image type {suffix or '(none)'}", hint="use a .elf, .hex or .bin file"
        )
    img = FlashImage(segs, p, kind, (manifest or {}).get("board"), manifest)
    if address is not None and kind != "bin" and address != img.start:
        raise ImageError(
            f"--address 0x{address:x} applies to raw .bin images; {p.name} carries its own addresses "
            f"(starts at 0x{img.start:08x})",
            hint="drop --address, or flash the .bin",
        )
    return img


def check_vector_table(image: FlashImage, board: Any) -> None:
    """A Cortex-M image starts with its vector table: the initial stack pointer must point into
    the board's RAM and the reset handler (a Thumb address) into the image. Catches corrupt files,
    images for other boards and .bin files placed at the wrong address before anything is sent."""
    head = image.segments[0].data[:8]
    where = f"{image.source}"
    if len(head) < 8:
        raise ImageError(
            f"{where}: too short to hold a vector table ({image.size} bytes)", hint="rebuild the firmware"
        )
    sp = int.from_bytes(head[:4], "little")
    reset = int.from_bytes(head[4:], "little")
    rams = [r for r in board.regions if r.kind == "ram"]
    if not any(r.origin < sp <= r.end for r in rams) or sp % 4:
        ranges = ", ".join(f"0x{r.origin:08x}..0x{r.end:08x}" for r in rams)
        raise ImageError(
            f"{where}: the initial stack pointer 0x{sp:08x} at 0x{image.start:08x} is not in the RAM of "
            f"{board.name} ({ranges})",
            hint="the image is corrupt or built for another board; rebuild it with --board " + board.name,
        )
    if not reset & 1 or not (image.start <= (reset & ~1) < image.end):
        raise ImageError(
            f"{where}: the reset handler 0x{reset:08x} is not a Thumb address inside the image "
            f"(0x{image.start:08x}..0x{image.end:08x})",
            hint="the image is corrupt, or a .bin was given the wrong --address",
        )
