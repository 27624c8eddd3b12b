"""`tinyforge flash` of a signed image (tinyforge/secureboot/: MCUboot format) to a board whose
bench bootloader has A/B slots:

    1. check the image (MCUboot structure, hash) before opening anything
    2. sync with the bootloader (AN3155) and read its status block: the key it accepts, what each
       slot holds, which one the next boot starts
    3. refuse an image signed with another key, or older than the running one (--allow-downgrade)
    4. erase and write the slot that does not hold the last known good image, read it back
    5. mark it pending: MCUboot's trailer magic (and tinyforge's install sequence number), one
       write after everything else, so an update cut short at any point is never started
    6. reset (GO): the bootloader checks the new image and starts it; its first TF DONE confirms it,
       and an image that faults or never confirms is rolled back at the next reset

The slot holding the running image is never written, so nothing on the device is lost whatever
happens during the update.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyforge.errors import FlashError, UsageError
from tinyforge.flash.image import ImageError
from tinyforge.secureboot import layout as L
from tinyforge.secureboot.mcuboot import BOOT_MAGIC, McubootImage, is_mcuboot, parse_image
from tinyforge.secureboot.status import SIZE as STATUS_SIZE
from tinyforge.secureboot.status import BootStatus, parse_status

SIGNED_NAME = "firmware.signed.bin"
BOOT_LINE_TIMEOUT = 30.0
SYNC_REPLY_WAIT = 3.0  # a bootloader just reset checks both slots before it listens
SYNC_RETRY_WAIT = 0.3  # shorter than the bootloader's idle timeout (BL_IDLE_TIMEOUT_MS, 1 s)


@dataclass(frozen=True)
class SignedTarget:
    path: Path
    image: McubootImage
    board: str | None  # from the build's report.json or the image's manifest


def signed_target(path: Path) -> SignedTarget | None:
    """The signed image `tinyforge flash PATH` means, if it means one: a build directory with a
    firmware.signed.bin, or an MCUboot image file. None for anything else."""
    import json

    from tinyforge.toolchain.build_dir import board_ref

    file: Path | None = None
    board = None
    if path.is_dir():
        if (path / SIGNED_NAME).is_file():
            file = path / SIGNED_NAME
            rp = path / "report.json"
            if rp.is_file():
                try:
                    report = json.loads(rp.read_text())
                    board = board_ref(report) if isinstance(report, dict) else None
                except (ValueError, UnicodeDecodeError):
                    board = None
        else:
            rp = path / "report.json"
            if rp.is_file() and '"format": "mcuboot"' in rp.read_text():
                raise ImageError(
                    f"{path} was built for signed-image slots but holds no {SIGNED_NAME}",
                    hint=f"sign it first: tinyforge sign {path} --key KEY.pem --version X.Y.Z",
                )
    elif path.is_file():
        with open(path, "rb") as f:
            if is_mcuboot(f.read(4)):
                file = path
    if file is None:
        return None
    image = parse_image(file.read_bytes(), file)
    manifest_board = (image.manifest or {}).get("board")
    return SignedTarget(file, image, board or (manifest_board if isinstance(manifest_board, str) else None))


def check_image(target: SignedTarget, layout: L.SlotLayout) -> None:
    """What can be known about the image before talking to the board."""
    img = target.image
    where = str(target.path)
    if not img.hash_ok:
        raise ImageError(
            f"{where}: the image hash does not match its SHA256 TLV: it was modified after signing",
            hint="sign the build again (tinyforge sign DIR --key KEY.pem --version X.Y.Z)",
        )
    if img.signature is None or img.key_hash is None:
        raise ImageError(
            f"{where}: the image is not signed (no ED25519 and KEYHASH TLVs)", hint="sign it with --key"
        )
    if not img.ram_load or img.load_address != layout.load_address or img.header_size != layout.header_size:
        raise ImageError(
            f"{where}: built for load address 0x{img.load_address:x} with a {img.header_size}-byte header; "
            f"{layout.board} runs images from 0x{layout.load_address:x} after a {layout.header_size}-byte header",
            hint=f"rebuild it with `tinyforge build MODEL --board {layout.board} --sign KEY.pem`",
        )
    if img.size > layout.size + L.TRAILER_WRITE:
        raise ImageError(f"{where}: {img.size} bytes do not fit a {layout.size}-byte slot with its trailer")


def read_status(bl: Any, layout: L.SlotLayout, port: str) -> BootStatus:
    data = b""
    while len(data) < STATUS_SIZE:
        data += bl.read_memory(layout.shared + len(data), min(256, STATUS_SIZE - len(data)))
    status = parse_status(data)
    if status is None:
        raise FlashError(
            f"{port}: the bootloader has no signed-image slots (no status block at 0x{layout.shared:08x})",
            hint="run the bench with the secure bootloader (tinyforge emulate --key PUBLIC.pem), or flash an "
            "unsigned build (tinyforge build without --sign)",
        )
    return status


def trailer_block(sequence: int) -> bytes:
    """The last 48 bytes of a slot when marked pending: the install sequence (in MCUboot's
    swap-size word), erased flags, the magic. 0xFF bytes leave flash untouched."""
    block = bytearray(b"\xff" * -L.TRAILER_WRITE)
    struct.pack_into("<I", block, L.TRAILER_SEQUENCE - L.TRAILER_WRITE, sequence)
    block[L.TRAILER_MAGIC - L.TRAILER_WRITE :] = BOOT_MAGIC
    return bytes(block)


def flash_signed(
    target: SignedTarget,
    request: Any,  # tinyforge.flash.registry.FlashRequest
    layout: L.SlotLayout,
    progress: Any,
    *,
    allow_downgrade: bool = False,
) -> Any:
    from tinyforge.flash.an3155 import CMD_WRITE_MEMORY, DEFAULT_BAUD, READ_SLICE, An3155
    from tinyforge.flash.registry import FlashResult
    from tinyforge.flash.stm32_chips import CHIPS
    from tinyforge.flash.stm32_uart import (
        FlashPlan,
        _erase,
        _follow,
        _setting_int,
        _verify,
        _write,
        parse_sequence,
        run_sequence,
    )
    from tinyforge.serial.ports import open_port, resolve_port

    img = target.image
    check_image(target, layout)
    settings = request.settings
    enter = parse_sequence(str(settings.get("enter_sequence", "")), f"board {request.board}: enter_sequence")
    baud = request.baud or _setting_int(settings, "baud", DEFAULT_BAUD)
    port_name = resolve_port(request.port, request.usb_ids)
    parity = {"even": "E", "none": "N", "odd": "O"}[str(settings.get("parity", "even"))]
    port = open_port(port_name, baud, parity=parity, timeout=READ_SLICE)
    boot_line = ""
    output: tuple[str, ...] = ()
    try:
        run_sequence(port, enter)
        bl = An3155(port, where=port_name, stream=settings.get("bootloader") == "tinyforge")
        sync(bl, _setting_int(settings, "sync_attempts", 3))
        info = bl.info()
        chip = CHIPS.get(info.pid)
        erase_cmd = info.erase_command
        if chip is None or erase_cmd is None or CMD_WRITE_MEMORY not in info.commands:
            raise FlashError(
                f"{port_name}: the bootloader (chip id 0x{info.pid:03x}) cannot take a signed image"
            )
        status = read_status(bl, layout, port_name)
        progress.note(
            f"bootloader v{info.version_text} on {port_name}: key {status.key_id}; "
            + "; ".join(_describe(s) for s in status.slots)
        )
        # the signer and the signature, against the key the bootloader holds
        if img.key_hash != status.key_hash:
            raise FlashError(
                f"{target.path} is signed with key {img.key_id}, but the bootloader on {port_name} accepts key "
                f"{status.key_id} only",
                hint="sign the build with the key the bootloader was built with (tinyforge sign --key), or "
                "rebuild the bootloader with your public key (tinyforge build-bootloader --key)",
            )
        if not img.verify_signature(status.public_key):
            raise FlashError(
                f"{target.path}: the signature does not verify with the bootloader's key {status.key_id}",
                hint="the image was modified after signing: sign the build again",
            )
        keep = status.keep()
        slot = status.target()
        current = status.slots[keep] if keep is not None else None
        if current is not None and current.version is not None and img.version < current.version:
            if not allow_downgrade:
                raise FlashError(
                    f"{port_name}: refusing to downgrade from {current.version} (slot {current.index}) to "
                    f"{img.version}",
                    hint="build a newer --version, or pass --allow-downgrade to install an older image on purpose",
                )
            progress.note(f"downgrading from {current.version} to {img.version} (--allow-downgrade)")
        L.check_sectors(layout, chip.sectors, chip.flash_base)
        start = layout.slots[slot]
        plan = _slot_plan(FlashPlan, img.data, start, layout, chip.sectors, chip.flash_base)
        progress.note(
            f"writing {img.version} ({img.size} bytes) to slot {slot} at 0x{start:08x}"
            + (f"; slot {keep} keeps {current.version}" if current is not None else "")
        )
        t0 = time.monotonic()
        _erase(bl, plan.pages, erase_cmd)
        written = _write(bl, plan, progress, _setting_int(settings, "retries", 3), port_name)
        _verify(bl, plan, progress, port_name)
        # the commit point: the trailer magic, written and read back after the whole image verified
        sequence = status.next_sequence()
        trailer_at = layout.trailer_address(slot, L.TRAILER_WRITE)
        block = trailer_block(sequence)
        bl.write_memory(trailer_at, block)
        if bl.read_memory(trailer_at, len(block)) != block:
            raise FlashError(f"{port_name}: the slot trailer at 0x{trailer_at:08x} did not verify")
        seconds = time.monotonic() - t0
        progress.note(f"slot {slot} marked pending (install {sequence})")
        started = False
        if request.start:
            bl.go(start)  # resets into the slot check
            started = True
            boot_line = _boot_line(port, progress, BOOT_LINE_TIMEOUT)
            if f"slot={slot} " not in boot_line + " ":
                raise FlashError(
                    f"{port_name}: the bootloader did not start the new image: {boot_line}",
                    hint="slot "
                    + str(slot)
                    + " holds the new image as written and verified; see the reason in the TF BOOT line",
                )
            if request.follow:
                output = (boot_line, *_follow(port, progress, request.follow_timeout))
    finally:
        try:
            port.close()
        except Exception:  # noqa: BLE001 - closing a dead socket must not hide the real error
            pass
    return FlashResult(
        runner="stm32-uart",
        board=request.board,
        port=port_name,
        image=str(target.path),
        start_address=start,
        bytes_written=written + len(block),
        verified=True,
        started=started,
        seconds=seconds,
        chip=f"0x{info.pid:03x} {chip.name}",
        details={
            "image_format": "mcuboot",
            "slot": slot,
            "version": str(img.version),
            "key_id": img.key_id,
            "sha256": (img.sha256_tlv or b"").hex(),
            "install": sequence,
            "kept_slot": keep,
            "kept_version": str(current.version) if current is not None and current.version else None,
            "before": status.to_dict(),
            "boot": boot_line or None,
            "erased_pages": list(plan.pages),
        },
        output=output,
    )


def sync(bl: Any, attempts: int) -> bool:
    """Sync with the secure bootloader, whatever state it is in.

    Just reset, it checks both slots before it listens: a second 0x7F sent while it is busy would
    be taken as a command byte once it catches up, so the first answer is awaited long. Already
    synced (a previous session ended after its sync, e.g. a refused image), each 0x7F is a command
    byte that its idle timeout drops before a long wait ends: then sync again with waits shorter
    than that timeout, so the second 0x7F is a wrong complement and gets the NACK."""
    from tinyforge.flash.an3155 import NoReplyError

    try:
        return bool(bl.sync(attempts=1, reply_wait=SYNC_REPLY_WAIT))
    except NoReplyError:
        return bool(bl.sync(attempts=attempts, reply_wait=SYNC_RETRY_WAIT))


def _describe(s: Any) -> str:
    if s.image == "empty":
        return f"slot {s.index} empty"
    return f"slot {s.index} {s.version or '?'} {s.image}/{s.trailer}"


def _slot_plan(plan_cls: Any, data: bytes, start: int, layout: L.SlotLayout, sectors: Any, base: int) -> Any:
    """Blocks for the image at the slot's start; every sector of the slot erased (its old trailer
    included), never a sector of the other slot."""
    blocks = tuple((start + off, data[off : off + 256]) for off in range(0, len(data), 256))
    pages: list[int] = []
    off = 0
    end = start + layout.size
    other = [a for a in layout.slots if a != start][0]
    for i, size in enumerate(sectors):
        s0, s1 = base + off, base + off + size
        if s0 < end and s1 > start:
            if s0 < other + layout.size and s1 > other:
                raise FlashError(f"sector {i} holds parts of both slots: fix the board's image_slots")
            pages.append(i)
        off += size
    return plan_cls(blocks, tuple(pages), start, start + len(data))


def _boot_line(port: Any, progress: Any, timeout: float) -> str:
    """The bootloader's TF BOOT line after the reset."""
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        b = port.read(1)
        if not b:
            continue
        if b == b"\n":
            line = buf.decode("utf-8", "replace").rstrip("\r")
            buf.clear()
            if line.startswith("TF BOOT"):
                progress.output(line)
                return line
            continue
        buf += b
    raise FlashError(
        f"no TF BOOT line from the bootloader within {timeout:g} s after the reset",
        hint="the board did not restart into the bootloader; power-cycle it and check with `tinyforge monitor`",
    )


def check_options(erase_all: bool, address: int | None, verify: bool | None) -> None:
    if erase_all or address is not None or verify is False:
        what = "--erase-all" if erase_all else "--address" if address is not None else "--no-verify"
        raise UsageError(
            f"{what} does not apply to signed images: the bootloader's slots decide where they go, and each "
            "update erases, writes and verifies one slot",
            hint=f"drop {what}",
        )


def built_for(target: SignedTarget) -> str:
    """The board a signed image was built for (its build's report.json or its manifest)."""
    if target.board is None:
        raise FlashError(f"{target.path}: which board? the image does not say", hint="give --board")
    return target.board


def flash_target(
    target: SignedTarget,
    profile: Any,  # BoardProfile, resolved by the api
    *,
    port: str,
    method: str | None,
    baud: int | None,
    verify: bool | None,
    address: int | None,
    erase_all: bool,
    start: bool | None,
    follow: bool,
    follow_timeout: float,
    allow_downgrade: bool,
    progress: Any,
) -> Any:
    """`api.flash` for a signed image: check the options and the board, update a slot."""
    from tinyforge.flash.progress import NullProgress
    from tinyforge.flash.registry import FlashRequest

    check_options(erase_all, address, verify)
    if target.board is not None and target.board != profile.name:
        raise ImageError(
            f"{target.path} was built for board {target.board}, not {profile.name}",
            hint=f"rebuild it with `tinyforge build ... --board {profile.name} --sign KEY.pem`",
        )
    if method not in (None, "stm32-uart"):
        raise UsageError(f"--method {method}: signed images go through the stm32-uart bench bootloader")
    layout = L.require_layout(profile)
    chosen = profile.flash_method("stm32-uart")
    assert chosen is not None  # require_layout found its image_slots
    request = FlashRequest(
        board=profile.name,
        method="stm32-uart",
        port=port,
        baud=baud,
        verify=True,
        start=True if start is None else start,
        follow=follow,
        follow_timeout=follow_timeout,
        settings=dict(chosen.settings),
        flash_region=(profile.flash.origin, profile.flash.size),
        usb_ids=tuple(profile.usb),
    )
    return flash_signed(
        target,
        request,
        layout,
        progress if progress is not None else NullProgress(),
        allow_downgrade=allow_downgrade,
    )
