"""The update's decisions without a device: which slot an update writes (never the last known good
image), the trailer block that marks it pending, the status block's layout (tf_boot.h)."""

from __future__ import annotations

import struct

import pytest

from tinyforge.flash.ab_update import trailer_block
from tinyforge.resources import firmware_dir
from tinyforge.secureboot import layout as L
from tinyforge.secureboot import status as S
from tinyforge.secureboot.mcuboot import BOOT_MAGIC, ImageVersion

pytestmark = pytest.mark.unit


def block(slots: list[tuple[int, int, tuple[int, int, int, int], int]], selected: int | None) -> bytes:
    """A status block: per slot (image state, trailer state, version, sequence)."""
    head = S.HEAD.pack(S.MAGIC, S.LAYOUT, 0, 0, S.NONE, S.NONE if selected is None else selected, 0, 0)
    body = b"".join(
        S.SLOT.pack(image, trailer, v[0], v[1], v[2], 0, v[3], seq, 1000, bytes(32))
        for image, trailer, v, seq in slots
    )
    return head + body + bytes(range(32)) + bytes(32)


VALID, EMPTY, BAD_SIG = 6, 0, 5
NONE_T, PENDING, TRYING, CONFIRMED, REVERTED = 0, 1, 2, 3, 4


def test_status_block_size_matches_the_c_header() -> None:
    text = (firmware_dir() / "bsp" / "tf_boot.h").read_text()
    assert "/* 200 bytes */" in text and S.SIZE == 200
    assert "/* 52 bytes */" in text and S.SLOT.size == 52
    assert f"#define TF_BOOT_MAGIC 0x{S.MAGIC:08x}u" in text
    assert S.parse_status(b"\x00" * 200) is None and S.parse_status(b"\x00" * 10) is None


@pytest.mark.parametrize(
    ("slots", "selected", "keep", "target"),
    [
        # nothing installed: slot 0
        ([(EMPTY, NONE_T, (0, 0, 0, 0), 0), (EMPTY, NONE_T, (0, 0, 0, 0), 0)], None, None, 0),
        # v1 confirmed in slot 0: write slot 1
        ([(VALID, CONFIRMED, (1, 0, 0, 0), 1), (EMPTY, NONE_T, (0, 0, 0, 0), 0)], 0, 0, 1),
        # both confirmed: keep the newest install, replace the older
        ([(VALID, CONFIRMED, (1, 0, 0, 0), 1), (VALID, CONFIRMED, (1, 1, 0, 0), 2)], 1, 1, 0),
        # a pending, never-started image next to a confirmed one: the confirmed one is kept
        ([(VALID, CONFIRMED, (1, 0, 0, 0), 1), (VALID, PENDING, (1, 1, 0, 0), 2)], 1, 0, 1),
        # a tried-and-failed image: kept is the confirmed one
        ([(VALID, TRYING, (1, 2, 0, 0), 3), (VALID, CONFIRMED, (1, 1, 0, 0), 2)], 1, 1, 0),
        # only a pending image: it is what boots, keep it
        ([(VALID, PENDING, (1, 0, 0, 0), 1), (EMPTY, NONE_T, (0, 0, 0, 0), 0)], 0, 0, 1),
        # a broken slot 0 and nothing else: write the broken one
        ([(BAD_SIG, PENDING, (1, 0, 0, 0), 1), (VALID, NONE_T, (1, 0, 0, 0), 0)], None, None, 0),
    ],
)
def test_the_update_never_writes_the_last_known_good_slot(
    slots: list[tuple[int, int, tuple[int, int, int, int], int]],
    selected: int | None,
    keep: int | None,
    target: int,
) -> None:
    st = S.parse_status(block(slots, selected))
    assert st is not None
    assert st.keep() == keep and st.target() == target
    assert st.next_sequence() == max(s[3] for s in slots) + 1
    assert st.key_hash == bytes(range(32)) and st.key_id == bytes(range(8)).hex()
    if slots[0][0] == VALID:
        assert st.slots[0].version == ImageVersion(*slots[0][2])


def test_trailer_block() -> None:
    b = trailer_block(7)
    assert len(b) == 48 and -L.TRAILER_WRITE == 48
    assert b[-16:] == BOOT_MAGIC
    assert struct.unpack_from("<I", b, 0)[0] == 7  # MCUboot's swap-size word, 48 bytes from the end
    assert (
        b[L.TRAILER_IMAGE_OK - L.TRAILER_WRITE] == 0xFF and b[L.TRAILER_COPY_DONE - L.TRAILER_WRITE] == 0xFF
    )
