"""`tinyforge export`: a model as a library folder for the user's own firmware."""

from __future__ import annotations

import click

from tinyforge.boards import DEFAULT_BOARD
from tinyforge.cli.common import echo_json


@click.command("export")
@click.argument("model", type=click.Path(path_type=str))
@click.option(
    "--board", default=DEFAULT_BOARD, show_default=True, help="Board profile (see `tinyforge boards`)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=str),
    help="Library folder [default: out/<model>-<board>-lib].",
)
@click.option(
    "--opt", type=click.Choice(["speed", "size"]), default="speed", show_default=True, help="-O2 or -Os."
)
@click.option("--url", help="Your project's page, for library.properties / library.json.")
@click.option("--force", is_flag=True, help="Write into a folder that holds files tinyforge did not write.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report (tinyforge-library.json).")
def export(
    model: str, board: str, output: str | None, opt: str, url: str | None, force: bool, as_json: bool
) -> None:
    """Write MODEL as a library for your own firmware on BOARD: model.h, the generated C, only the
    kernels it calls, and build glue for CMake, Zephyr, PlatformIO and Arduino.

    Example: tinyforge export kws.tflite --board nucleo-f446re -o third_party/kws
    """
    from tinyforge import api
    from tinyforge.toolchain.footprint import kib

    res = api.export(model, board, output, opt=opt, force=force, url=url)
    rep = res.report
    if as_json:
        echo_json(rep)
        return
    d = rep["directory"]
    click.echo(
        f"board: {rep['board']} ({rep['core']})  model: {rep['model']} (sha256 {rep['model_sha256'][:16]})"
    )
    click.echo(f"library: {d}")
    for t in rep["tensors"]:
        click.echo(
            f"  {t['kind']} {t['i']}: {t['dtype']} {t['shape']} ({t['bytes']} B), "
            f"scale {t['scale']:.6g}, zero point {t['zero_point']}"
        )
    click.echo(f"  memory: arena {kib(rep['arena_bytes'])} (RAM), weights {kib(rep['weight_bytes'])} (flash)")
    names = ", ".join(k.rsplit("/", 1)[-1] for k in rep["kernels"])
    click.echo(f"  kernels: {len(rep['kernels'])} sources ({names})")
    click.echo(f"CMake:      add_subdirectory({d} tinyforge_model)")
    click.echo('            target_link_libraries(app PRIVATE tinyforge_model)   # then #include "model.h"')
    click.echo(f"Zephyr:     -DZEPHYR_EXTRA_MODULES={d} and CONFIG_TINYFORGE_MODEL=y")
    click.echo("PlatformIO: the folder in lib/ (library.json); Arduino: in libraries/ (library.properties)")
