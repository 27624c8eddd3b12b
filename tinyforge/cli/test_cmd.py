"""`tinyforge test`: run a model on a board and compare every output byte with TFLM."""

from __future__ import annotations

import click

from tinyforge.cli.common import dump_ir_to_stderr, echo_json


@click.command("test")
@click.argument("model", type=click.Path(path_type=str))
@click.option("--board", default="host", show_default=True, help="Board profile (see `tinyforge boards`).")
@click.option("--inputs", "count", default=20, show_default=True, help="Number of random inputs.")
@click.option("--seed", default=0, show_default=True, help="Seed for the random inputs.")
@click.option("--input", "input_file", type=click.Path(exists=True, dir_okay=False), help="Inputs as .npy.")
@click.option("--sanitize", is_flag=True, help="Host only: build with -fsanitize=address,undefined.")
@click.option("--dump-ir", is_flag=True, help="Print the graph after each compiler pass (to stderr).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
@click.option(
    "--timeout",
    default=120.0,
    show_default=True,
    help="Emulated boards: seconds before a run counts as hung.",
)
@click.option(
    "--emulator",
    type=click.Choice(["qemu", "renode"]),
    default="qemu",
    show_default=True,
    help="Emulated boards: which emulator runs the firmware.",
)
@click.option(
    "--calib",
    type=click.Path(path_type=str),
    help="Calibration data when MODEL is not int8 yet (it is converted first, in a temporary folder).",
)
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="Also write a JUnit XML report.")
def test(
    model: str,
    board: str,
    count: int,
    seed: int,
    input_file: str | None,
    sanitize: bool,
    dump_ir: bool,
    as_json: bool,
    timeout: float,
    emulator: str,
    junit_file: str | None,
    calib: str | None,
) -> None:
    """Run MODEL on BOARD and compare every output byte with the tflite_micro reference.

    Example: tinyforge test kws.tflite --board host --inputs 20
    """
    from pathlib import Path

    from tinyforge import api

    dump = dump_ir_to_stderr if dump_ir else None
    if junit_file:
        from tinyforge.run.testing import check_junit_target

        check_junit_target(junit_file)  # before the run, not after it
    is_dir = Path(model).is_dir()
    # a `tinyforge build` directory runs on its own board unless --board says otherwise
    profile = None if is_dir and board == "host" else api.board(board)
    if profile is not None and profile.is_host and not is_dir:
        report = api.test_host(
            model,
            inputs=count,
            seed=seed,
            input_file=input_file,
            sanitize=sanitize,
            dump_ir=dump,
            board=profile,
            calib=calib,
        )
    else:  # an emulated board, or a build directory
        report = api.test_emulator(
            model,
            profile,
            inputs=count,
            seed=seed,
            input_file=input_file,
            timeout=timeout,
            emulator=emulator,
            calib=calib,
        )
    conversion = report.extra.get("conversion")
    if conversion:
        from tinyforge.model.convert import ConversionNote

        click.echo(f"note: {ConversionNote(**conversion).describe()}", err=True)
    if junit_file:
        api.write_junit(report, junit_file)
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(f"board: {report.board}")
        click.echo(f"model: {report.model}")
        click.echo(f"inputs: {report.inputs}")
        click.echo(
            f"arena: {report.arena_bytes} B (+ scratch {report.scratch_bytes} B; liveness bound {report.liveness_bound} B)"
        )
        click.echo(f"mismatched_bytes: {report.mismatched_bytes}")
        click.echo(f"bit_exact: {'true' if report.bit_exact else 'false'}")
        ipi = report.extra.get("instructions_per_inference")
        if ipi is not None:
            click.echo(f"instructions_per_inference: {ipi:,} (QEMU -icount)")
            click.echo(f"flash: {report.extra['flash_bytes']:,} B  ram: {report.extra['ram_bytes']:,} B")
        if report.first_mismatch:
            from tinyforge.run.verify import LayerMismatch

            click.echo(f"first differing layer: {LayerMismatch(**report.first_mismatch).describe()}")
    if not report.bit_exact:
        raise SystemExit(1)
