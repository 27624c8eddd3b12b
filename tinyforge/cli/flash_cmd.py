"""`tinyforge flash`: write a build (or an image) to a board through its flash method."""

from __future__ import annotations

from typing import Any

import click

from tinyforge.cli.common import echo_json, place_options


def _int(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value, 0)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number (use e.g. 0x08010000)") from None


@click.command("flash")
@click.argument("target", metavar="DIR|IMAGE")
@click.option("--board", "-b", help="Board profile (default: the one the build was made for).")
@click.option(
    "--port",
    "-p",
    default="auto",
    show_default=True,
    help="Serial device, `auto` (the board's USB id), or a pyserial URL (socket://host:port, rfc2217://...).",
)
@click.option("--method", help="Flash method, when the board has several (stm32-uart, esptool, uf2).")
@click.option("--baud", type=int, help="Bootloader baud rate (default: the board profile's).")
@click.option(
    "--verify/--no-verify", default=None, help="Read back and compare (default: when the method can)."
)
@click.option(
    "--address", callback=_int, help="Load address of a raw .bin (default: flash start + app offset)."
)
@click.option(
    "--erase-all", is_flag=True, help="Erase the whole chip first (default: only the sectors written)."
)
@click.option(
    "--start/--no-start",
    default=None,
    help="Start the application afterwards (default: when the method can).",
)
@click.option(
    "--follow",
    is_flag=True,
    help="Then print the application's output from the same port until its TF DONE line.",
)
@click.option(
    "--follow-timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds --follow waits for TF DONE.",
)
@click.option(
    "--allow-downgrade",
    is_flag=True,
    help="Signed images: install one older than the running image (refused otherwise).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (no progress output).")
@place_options
def flash(
    target: str,
    board: str | None,
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
    as_json: bool,
    place: str | None,
    coordinator: str | None,
) -> None:
    """Flash DIR (a `tinyforge build` output) or IMAGE (.elf/.hex/.bin) to a board.

    \b
    A signed build (firmware.signed.bin, `tinyforge build --sign`) goes to the inactive slot of a
    bootloader with A/B slots: written, verified, marked pending, then started.
    \b
    Examples:
      tinyforge flash out/kws --port /dev/ttyUSB0
      tinyforge flash out/kws --port socket://127.0.0.1:4000 --follow   # the emulated bench
      tinyforge flash out/kws --place bench-1                            # a labgrid place
    """
    from tinyforge import api
    from tinyforge.flash.progress import make_progress

    progress = make_progress(quiet=as_json)
    table = api.result_table(target) if follow and not as_json else None
    if table is not None:  # the build carries labels: results as a table a person reads
        progress = TableProgress(progress, table)
    result = api.flash(
        target,
        board=board,
        port=port,
        method=method,
        baud=baud,
        verify=verify,
        address=address,
        erase_all=erase_all,
        start=start,
        follow=follow,
        follow_timeout=follow_timeout,
        progress=progress,
        allow_downgrade=allow_downgrade,
        place=place,
        coordinator=coordinator,
    )
    if as_json:
        echo_json(result.to_dict())
        return
    rate = result.bytes_per_second / 1024
    what = "written and verified" if result.verified else "written"
    if result.details.get("image_format") == "mcuboot":
        d = result.details
        click.echo(
            f"{result.image}: version {d['version']} written and verified to slot {d['slot']} at "
            f"0x{result.start_address:08x} on {result.port}, marked pending (install {d['install']}) in "
            f"{result.seconds:.2f} s"
            + (f"; slot {d['kept_slot']} keeps {d['kept_version']}" if d.get("kept_version") else "")
            + (f"; {d['boot']}" if d.get("boot") else ""),
            err=True,
        )
        return
    click.echo(
        f"{result.image}: {result.bytes_written} bytes {what} at 0x{result.start_address:08x} on {result.port} "
        f"({result.chip or result.runner}) in {result.seconds:.2f} s ({rate:.1f} KB/s)"
        + ("; application started" if result.started else ""),
        err=True,
    )


class TableProgress:
    """A flash progress whose --follow output shows TF RESULT lines as result-table rows."""

    def __init__(self, inner: Any, table: Any) -> None:
        from tinyforge.monitor.table import TableLines

        self.inner = inner
        self.lines = TableLines(table)

    def phase(self, name: str, total: int) -> None:
        self.inner.phase(name, total)

    def advance(self, nbytes: int) -> None:
        self.inner.advance(nbytes)

    def done(self) -> None:
        self.inner.done()

    def note(self, text: str) -> None:
        self.inner.note(text)

    def output(self, line: str) -> None:
        for shown in self.lines.render(line):
            for part in shown.split("\n"):
                self.inner.output(part)
