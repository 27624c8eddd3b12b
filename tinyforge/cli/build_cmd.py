"""`tinyforge build`: compile a model to C and build firmware for a board, with a memory report."""

from __future__ import annotations

from typing import Any

import click

from tinyforge.boards import DEFAULT_BOARD
from tinyforge.cli.common import echo_json, table


def _int_auto(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        n = int(value, 0)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number (decimal or 0x hex)") from None
    if n < 0:
        raise click.BadParameter("must be >= 0")
    return n


@click.command("build")
@click.argument("model", type=click.Path(path_type=str))
@click.option(
    "--board", default=DEFAULT_BOARD, show_default=True, help="Board profile (see `tinyforge boards`)."
)
@click.option(
    "-o", "--output", type=click.Path(path_type=str), help="Build directory [default: out/<model>-<board>]."
)
@click.option(
    "--optimize",
    type=click.Choice(["size", "balanced", "speed"]),
    default="balanced",
    show_default=True,
    help="What the kernels may spend flash on: size (int8 weights, no tables), balanced (int8 weights), speed (int16 weights).",
)
@click.option(
    "--opt",
    type=click.Choice(["speed", "size"]),
    default="speed",
    show_default=True,
    help="C compiler level: -O2 or -Os.",
)
@click.option(
    "--app-offset",
    callback=_int_auto,
    help="Link the firmware this far into flash (default: where the flash method's loader starts "
    "applications; 0: no loader).",
)
@click.option(
    "--method", help="Lay the image out for this flash method's loader (default: the board's first)."
)
@click.option(
    "--inputs",
    "count",
    default=4,
    show_default=True,
    help="Random test inputs baked into the firmware (0: none, for a firmware that only serves `test --port`).",
)
@click.option("--seed", default=0, show_default=True, help="Seed for the random inputs.")
@click.option(
    "--input", "input_file", type=click.Path(exists=True, dir_okay=False), help="Test inputs as .npy."
)
@click.option(
    "--serve/--no-serve",
    default=None,
    help="After its run, answer `tinyforge test --port` over the console (default: when laid out for a "
    "flash method).",
)
@click.option(
    "--labels",
    type=click.Path(dir_okay=False),
    help="Class names, one per line, for the result tables of `flash --follow` and `monitor`.",
)
@click.option("--renode", is_flag=True, help="Also write Renode .resc/.robot files.")
@click.option("--platformio", is_flag=True, help="Also write a platformio.ini.")
@click.option(
    "--force", is_flag=True, help="Write into a directory that holds files tinyforge did not write."
)
@click.option(
    "--calib",
    type=click.Path(path_type=str),
    help="Calibration data when MODEL is not int8 yet (it is converted first, in a temporary folder).",
)
@click.option(
    "--mcuboot",
    is_flag=True,
    help="Build for the board's signed-image slots (sign it later: `tinyforge sign`).",
)
@click.option(
    "--sign",
    "sign_key",
    type=click.Path(dir_okay=False),
    help="Also sign it with this Ed25519 private key (PEM): firmware.signed.bin (implies --mcuboot).",
)
@click.option(
    "--version", "image_version", default="0.0.0", show_default=True, help="Image version for --sign."
)
@click.option("--verbose", "-v", is_flag=True, help="Per-layer memory table.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report (report.json).")
def build(
    model: str,
    board: str,
    output: str | None,
    optimize: str,
    opt: str,
    app_offset: int | None,
    method: str | None,
    count: int,
    seed: int,
    input_file: str | None,
    serve: bool | None,
    labels: str | None,
    renode: bool,
    platformio: bool,
    force: bool,
    calib: str | None,
    mcuboot: bool,
    sign_key: str | None,
    image_version: str,
    verbose: bool,
    as_json: bool,
) -> None:
    """Compile MODEL (.tflite, or a Keras/SavedModel converted first) and build firmware for BOARD.

    The directory gets the int8 .tflite, generated C, a standalone Makefile, firmware.elf/.bin/.hex
    and report.json. Example: tinyforge build kws.tflite --board nucleo-f446re -o out/kws
    """
    from tinyforge import api
    from tinyforge.toolchain.footprint import RegionUsage, bar, kib

    if sign_key is not None:
        from tinyforge.secureboot.keys import check_signing_key
        from tinyforge.secureboot.sign import parse_version

        check_signing_key(sign_key, "--sign")  # a bad key or version fails before the build
        parse_version(image_version)
    res = api.build(
        model,
        board,
        output,
        optimize=optimize,
        opt=opt,
        app_offset=app_offset,
        method=method,
        inputs=count,
        seed=seed,
        input_file=input_file,
        serve=serve,
        labels=labels,
        renode=renode,
        platformio=platformio,
        force=force,
        calib=calib,
        mcuboot=mcuboot or sign_key is not None,
    )
    rep = res.report
    if rep.get("conversion"):
        from tinyforge.model.convert import ConversionNote

        click.echo(f"note: {ConversionNote(**rep['conversion']).describe()}", err=True)
    signed = None
    if sign_key is not None:
        signed = api.sign(res.directory, sign_key, image_version)
        rep = {**rep, "signed": signed.to_dict()}
    if as_json:
        echo_json(rep)
        return
    sz = rep["sizes"]
    st = rep["model_stats"]
    click.echo(f"board: {rep['board']}  model: {rep['model']} (sha256 {rep['model_sha256'][:16]})")
    click.echo(f"directory: {rep['directory']}  (--optimize {rep['optimize']})")
    click.echo(f"layout: {layout_text(rep)}")
    for r in rep["regions"]:
        if r["used"] or r["name"] in ("FLASH", "RAM"):
            click.echo(bar(RegionUsage(r["name"], r["origin"], r["size"], r["used"])))
    click.echo(
        f"  flash: code {kib(sz['text'])}, constants {kib(sz['rodata'])}, weights {kib(sz['weights'])} "
        f"({rep['weights']['mode']}, {rep['weights']['ratio']:.2f}x of the model's), "
        f"test inputs {kib(sz['inputs'])}, .data {kib(sz['data'])}"
    )
    click.echo(
        f"  ram:   arena {kib(st['arena_bytes'])} + scratch {kib(st['scratch_bytes'])} (in {rep['arena_region']}), "
        f"stack reserve {kib(sz['stack'])}, .data+.bss {kib(sz['data'] + sz['bss'])}"
    )
    if verbose:
        rows = [
            [
                x["index"],
                x["kind"],
                x["name"][:36],
                x["output_shape"],
                x["weight_bytes"],
                x["output_bytes"],
                x["arena_offset"],
                x["macs"],
            ]
            for x in rep["layers"]
        ]
        click.echo("")
        click.echo(
            table(rows, ["#", "op", "name", "out", "weights", "out bytes", "arena @", "MACs"], "rlllrrrr")
        )
    click.echo(f"firmware: {res.elf} (.bin, .hex); rebuild with `make -C {rep['directory']}`")
    if rep.get("serve"):
        click.echo("after its run it serves `tinyforge test DIR --port PORT` (validation on the target)")

    if signed is not None:
        from tinyforge.cli.sign_cmd import echo_signed

        echo_signed(signed)


def layout_text(rep: dict[str, Any]) -> str:
    """`stm32-uart (tinyforge's bench bootloader), application at 0x00010000 (board default)`."""
    from tinyforge.toolchain.layout import LOADER_NAMES

    lay = rep.get("layout") or {}
    where = f"application at {lay.get('address', '?')} ({lay.get('chosen_by', '?')})"
    if not lay.get("method"):
        return f"no loader, {where}"
    loader = lay.get("loader")
    return (
        f"for {lay['method']}" + (f" ({LOADER_NAMES.get(loader, loader)})" if loader else "") + f", {where}"
    )
