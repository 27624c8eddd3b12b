"""From what the user asked to flash (a build directory or an image file, plus options) to a
checked FlashRequest, the image and the runner call.

    built_for(target) -> board name        when no --board is given: what the build says
    flash_target(target, board, ...) -> FlashResult

The board arrives resolved (a BoardProfile, from the api). What the board's runner cannot do is
refused before the target is even read; files are only read, never written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinyforge.errors import FlashError, UsageError
from tinyforge.flash.image import ImageError, check_vector_table, load_image
from tinyforge.flash.progress import NullProgress
from tinyforge.flash.registry import FlashRequest, FlashResult, check_request, runner
from tinyforge.toolchain.build_dir import BuildDir, board_ref, scan_build_dir

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile, FlashMethod
    from tinyforge.flash.progress import Progress


def read_build_image(path: str | Path) -> BuildDir:
    """A build directory with an image to flash (ImageError when it has none)."""
    try:
        bd = scan_build_dir(path)
    except UsageError as exc:
        raise ImageError(exc.message, hint=exc.hint) from exc
    if bd.image is None:
        raise ImageError(
            f"{bd.path}: no firmware.elf, firmware.hex or firmware.bin in this directory",
            hint="pass the output directory of `tinyforge build`, or an image file",
        )
    return bd


def built_for(target: str | Path) -> str:
    """The board a build directory or image was built for (its report.json or embedded manifest)."""
    path = Path(target)
    board: str | None = None
    if path.is_dir():
        board = board_ref(read_build_image(path).report)
    elif path.is_file():
        board = load_image(path).board  # the manifest a tinyforge build embeds
    if board is None:
        raise FlashError(f"{path}: which board? the build does not say", hint="give --board")
    return board


def choose_method(profile: BoardProfile, method: str | None) -> FlashMethod:
    """The board's flash method named `method`, or its first one."""
    methods = [m for m in profile.flash_methods if m.kind != "none"]
    if method is not None:
        chosen = profile.flash_method(method)
        if chosen is None:
            raise FlashError(
                f"board {profile.name} has no {method} flash method",
                hint=f"its methods: {', '.join(m.kind for m in methods) or 'none'}",
            )
        return chosen
    if methods:
        return methods[0]
    raise FlashError(
        f"board {profile.name} has no flash method (nothing to flash over a wire)",
        hint="run it in the emulator with `tinyforge test` / `tinyforge emulate` instead",
    )


def flash_target(
    target: str | Path,
    profile: BoardProfile,
    *,
    port: str = "auto",
    method: str | None = None,
    baud: int | None = None,
    verify: bool | None = None,
    address: int | None = None,
    erase_all: bool = False,
    start: bool | None = None,
    follow: bool = False,
    follow_timeout: float = 60.0,
    progress: Progress | None = None,
) -> FlashResult:
    """Flash a build directory or an image to `profile`'s board; returns the runner's FlashResult."""
    path = Path(target)
    chosen = choose_method(profile, method)
    spec = runner(chosen.kind)
    check_request(
        spec,
        {
            "--verify": verify is True,
            "--erase-all": erase_all,
            "--start": start is True,
            "--address": address is not None,
            "--baud": baud is not None,
            "--follow": follow,
        },
    )
    report: dict[str, Any] = {}
    built: str | None = None
    if path.is_dir():
        bd = read_build_image(path)
        assert bd.image is not None
        image_path, built, report = bd.image, bd.board, bd.report
    elif path.exists():
        image_path = path
    else:
        raise ImageError(
            f"{path}: no such file or directory",
            hint="pass a `tinyforge build` output directory or an image",
        )
    if built and built != profile.name:
        raise ImageError(
            f"{path} was built for board {built}, not {profile.name}",
            hint=f"rebuild it with `tinyforge build ... --board {profile.name}`, or flash it to a {built}",
        )
    settings = dict(chosen.settings)
    base = int(settings.get("address", profile.flash.origin))
    app_offset = int(settings.get("app_offset", 0))
    built_offset = report.get("app_offset")
    if isinstance(built_offset, int) and "app_offset" in settings and built_offset != app_offset:
        raise ImageError(
            f"{path} was built with --app-offset 0x{built_offset:x}, but the {chosen.kind} bootloader of "
            f"{profile.name} starts applications at offset 0x{app_offset:x}",
            hint=f"rebuild it without --app-offset (`tinyforge build` lays the image out for the board's flash "
            f"method), or with --app-offset 0x{app_offset:x}",
        )
    image = load_image(image_path, address=address)
    if image.kind == "bin" and address is None:
        image = image.relocated(base + app_offset)
    if image.board and image.board != profile.name:
        raise ImageError(
            f"{image_path} was built for board {image.board}, not {profile.name}",
            hint=f"rebuild it with `tinyforge build ... --board {profile.name}`, or flash it to a {image.board}",
        )
    if profile.cpu.startswith("cortex-m") and chosen.kind != "esptool":
        check_vector_table(image, profile)
    request = FlashRequest(
        board=profile.name,
        method=chosen.kind,
        port=port,
        baud=baud,
        verify=spec.caps.verify if verify is None else verify,
        erase_all=erase_all,
        start=spec.caps.start if start is None else start,
        address=address,
        follow=follow,
        follow_timeout=follow_timeout,
        settings=settings,
        flash_region=(base, profile.flash.size),
        usb_ids=tuple(profile.usb),
    )
    return spec.load()(request, image, progress if progress is not None else NullProgress())
