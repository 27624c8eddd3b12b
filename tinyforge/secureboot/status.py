"""The secure bench bootloader's status block (firmware/bsp/tf_boot.h, layout 1), as the flasher
reads it over AN3155: what each slot holds, which one the next boot starts, the accepted key."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from tinyforge.secureboot.mcuboot import ImageVersion

MAGIC = 0x54464231
LAYOUT = 1
NONE = 0xFFFFFFFF
HEAD = struct.Struct("<8I")
SLOT = struct.Struct("<BBBBHHIII32s")
SIZE = HEAD.size + 2 * SLOT.size + 64  # 200 bytes

IMAGE_STATES = (
    "empty",
    "bad-header",
    "truncated",
    "bad-hash",
    "bad-key",
    "bad-signature",
    "valid",
    "unchecked",
)
TRAILER_STATES = ("none", "pending", "trying", "confirmed", "reverted")


@dataclass(frozen=True)
class SlotStatus:
    index: int
    image: str  # IMAGE_STATES
    trailer: str  # TRAILER_STATES
    version: ImageVersion | None
    sequence: int
    size: int
    hash: bytes = field(repr=False)

    @property
    def valid(self) -> bool:
        return self.image == "valid"

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot": self.index,
            "image": self.image,
            "trailer": self.trailer,
            "version": str(self.version) if self.version else None,
            "sequence": self.sequence,
            "sha256": self.hash.hex() if any(self.hash) else None,
        }


@dataclass(frozen=True)
class BootStatus:
    selected: int | None  # the slot the next boot starts
    slots: tuple[SlotStatus, SlotStatus]
    key_hash: bytes = field(repr=False)
    public_key: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return self.key_hash[:8].hex()

    def keep(self) -> int | None:
        """The slot an update must not touch: the newest confirmed valid image (the last known
        good one), else the image the next boot would start."""
        good = [s for s in self.slots if s.valid and s.trailer == "confirmed"]
        if good:
            return max(good, key=lambda s: (s.sequence, s.index == self.selected, -s.index)).index
        return self.selected

    def target(self) -> int:
        """The slot an update writes: the one not kept (an empty or broken one when nothing is kept)."""
        keep = self.keep()
        if keep is not None:
            return 1 - keep
        broken = [s.index for s in self.slots if not s.valid]
        return broken[0] if broken else 0

    def next_sequence(self) -> int:
        return max(s.sequence for s in self.slots) + 1

    def to_dict(self) -> dict[str, Any]:
        return {"selected": self.selected, "key_id": self.key_id, "slots": [s.to_dict() for s in self.slots]}


def parse_status(data: bytes) -> BootStatus | None:
    """The status block, or None if `data` is not one (a bootloader without signed-image support)."""
    if len(data) < SIZE:
        return None
    magic, layout, _strap, _request, _booted, selected, _image_ok, _boots = HEAD.unpack_from(data)
    if magic != MAGIC or layout != LAYOUT:
        return None
    slots = []
    for i in range(2):
        image, trailer, major, minor, rev, _res, build, seq, size, digest = SLOT.unpack_from(
            data, HEAD.size + i * SLOT.size
        )
        has_version = (
            IMAGE_STATES[image % 8] not in ("empty", "bad-header") or (major, minor, rev, build) != (0,) * 4
        )
        slots.append(
            SlotStatus(
                index=i,
                image=IMAGE_STATES[image % 8],
                trailer=TRAILER_STATES[trailer] if trailer < len(TRAILER_STATES) else "none",
                version=ImageVersion(major, minor, rev, build) if has_version else None,
                sequence=seq,
                size=size,
                hash=digest,
            )
        )
    off = HEAD.size + 2 * SLOT.size
    return BootStatus(
        selected=None if selected == NONE else int(selected),
        slots=(slots[0], slots[1]),
        key_hash=bytes(data[off : off + 32]),
        public_key=bytes(data[off + 32 : off + 64]),
    )
