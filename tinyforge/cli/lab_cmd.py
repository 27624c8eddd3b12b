"""`tinyforge lab`: an emulated board farm on this machine (labgrid coordinator, exporter, N
emulated benches, all on 127.0.0.1), for trying `--place` without boards and for tests."""

from __future__ import annotations

import click

from tinyforge.boards import DEFAULT_BOARD
from tinyforge.cli.common import echo_json, table

DIR_OPTION = click.option(
    "--dir",
    "directory",
    default="out/lab",
    show_default=True,
    type=click.Path(file_okay=False, path_type=str),
    help="The lab's folder: lab.json (what runs where), lab.log, the coordinator's places.",
)


@click.group("lab")
def lab() -> None:
    """An emulated board farm: `lab up N`, use places bench-1..N with --place, `lab down`.

    \b
    Example:
      tinyforge lab up 2
      export LG_COORDINATOR=127.0.0.1:PORT      # printed by lab up
      tinyforge flash out/kws --place bench-1
      tinyforge lab down
    """


@lab.command("up")
@click.argument("count", type=click.IntRange(min=1), default=2)
@DIR_OPTION
@click.option(
    "--board",
    default=DEFAULT_BOARD,
    show_default=True,
    help="The benches' board (it needs the bench bootloader).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the lab's state as JSON.")
def up(count: int, directory: str, board: str, as_json: bool) -> None:
    """Start COUNT emulated places in the background and return once they are ready."""
    from tinyforge import api

    state = api.lab_up(count, directory, board)
    if as_json:
        echo_json(state.to_dict())
        return
    click.echo(f"lab up in {state.directory} (supervisor pid {state.pid}); coordinator {state.coordinator}")
    click.echo(
        table([(p.name, p.board, p.port) for p in state.places], ["place", "board", "serial (ser2net)"])
    )
    click.echo(f"  export LG_COORDINATOR={state.coordinator}")
    first = state.places[0].name
    click.echo(f"  tinyforge flash BUILD_DIR --place {first}   |   tinyforge test BUILD_DIR --place {first}")
    click.echo(f"  tinyforge lab down --dir {directory}")


@lab.command("down")
@DIR_OPTION
def down(directory: str) -> None:
    """Stop the lab in DIR (benches, exporter, coordinator)."""
    from tinyforge import api

    if api.lab_down(directory):
        click.echo(f"lab in {directory} stopped", err=True)
    else:
        click.echo(f"no lab running in {directory}", err=True)


@lab.command("status")
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def status(directory: str, as_json: bool) -> None:
    """The places of the lab in DIR: board, holder, whether the serial port is up."""
    from tinyforge import api
    from tinyforge.errors import UsageError

    state = api.lab_status(directory)
    if state is None:
        raise UsageError(f"no lab in {directory}", hint="tinyforge lab up 2")
    places = api.places(state.coordinator)
    if as_json:
        echo_json(
            [
                {"place": p.name, "board": p.board, "acquired": p.acquired, "serial": p.serial_available}
                for p in places
            ]
        )
        return
    click.echo(f"coordinator {state.coordinator}")
    click.echo(
        table(
            [
                (p.name, p.board or "-", p.acquired or "-", "up" if p.serial_available else "down")
                for p in places
            ],
            ["place", "board", "acquired by", "serial"],
        )
    )


@lab.command("serve", hidden=True)
@click.argument("count", type=click.IntRange(min=1), default=2)
@DIR_OPTION
@click.option("--board", default=DEFAULT_BOARD, show_default=True)
def serve(count: int, directory: str, board: str) -> None:
    """Run the lab in the foreground until Ctrl-C or SIGTERM (what `lab up` starts detached)."""
    from tinyforge import api

    api.lab_serve(count, directory, board)
