"""`tinyforge test`: run a model on a board and compare every output byte with TFLM."""

from __future__ import annotations

import click

from tinyforge.cli.common import dump_ir_to_stderr, echo_json, place_options


@click.command("test")
@click.argument("models", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option(
    "--board",
    help="Board profile (see `tinyforge boards`) [default: a build directory's board; host for a model; "
    "with --port the default board]; several, comma-separated, for a matrix.",
)
@click.option("--inputs", "count", default=20, show_default=True, help="Number of random inputs.")
@click.option("--seed", default=0, show_default=True, help="Seed for the random inputs.")
@click.option("--input", "input_file", type=click.Path(exists=True, dir_okay=False), help="Inputs as .npy.")
@click.option("--sanitize", is_flag=True, help="Host only: build with -fsanitize=address,undefined.")
@click.option("--dump-ir", is_flag=True, help="Print the graph after each compiler pass (to stderr).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable result.")
@click.option(
    "--timeout",
    type=float,
    help="Seconds before a run counts as hung [emulator: 120 for the run; --port: 30 per input].",
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
@click.option(
    "--optimize",
    type=click.Choice(["size", "balanced", "speed"]),
    default=None,
    help="What the kernels may spend flash on: size (int8 weights, no tables), balanced (int8 weights; "
    "the default, or a build directory's mode), speed (int16 weights).",
)
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="Also write a JUnit XML report.")
@click.option(
    "--port",
    help="Validate on the board at this serial port (device, `auto`, or a pyserial URL such as "
    "socket://127.0.0.1:4000): flash, stream the inputs over the console, compare.",
)
@click.option(
    "--flash/--no-flash",
    "do_flash",
    default=True,
    show_default=True,
    help="With --port: flash a firmware that serves the validation link first.",
)
@click.option("--flash-port", help="With --port: the bootloader's port, when it is not the console.")
@click.option(
    "--baud", type=click.IntRange(min=1), help="With --port: the console's baud rate (default: the board's)."
)
@click.option(
    "--jobs", "-j", default=1, show_default=True, help="Matrix: pairs run at once (worker processes)."
)
@click.option(
    "--out",
    "out_dir",
    default="out/matrix",
    show_default=True,
    type=click.Path(file_okay=False, path_type=str),
    help="Matrix: one build folder per pair, OUT/<model>-<board>.",
)
@place_options
def test(
    models: tuple[str, ...],
    board: str | None,
    count: int,
    seed: int,
    input_file: str | None,
    sanitize: bool,
    dump_ir: bool,
    as_json: bool,
    timeout: float | None,
    emulator: str,
    junit_file: str | None,
    calib: str | None,
    optimize: str | None,
    port: str | None,
    do_flash: bool,
    flash_port: str | None,
    baud: int | None,
    jobs: int,
    out_dir: str,
    place: str | None,
    coordinator: str | None,
) -> None:
    """Run MODEL (a model file or a `tinyforge build` directory) on BOARD and compare every output
    byte with the tflite_micro reference: on the host, in QEMU, or with --port on the board itself.
    Several models and/or boards (--board B1,B2) run every model on every board: a matrix.

    \b
    Examples:
      tinyforge test kws.tflite --board host --inputs 20
      tinyforge test kws.tflite --board mps2-an386 --inputs 20 --json       # QEMU
      tinyforge test out/kws --port socket://127.0.0.1:4000 --inputs 20     # on the target
      tinyforge test out/kws --place bench-1 --inputs 20                    # on a labgrid place
      tinyforge test kws.tflite ad01.tflite --board mps2-an386,mps3-an547 --jobs 2 --junit r.xml
    """
    from tinyforge import api
    from tinyforge.flash.progress import make_progress

    boards = [b.strip() for b in (board or "host").split(",") if b.strip()]
    if len(models) > 1 or len(boards) > 1:
        if port is not None or place is not None:
            from tinyforge.errors import UsageError

            flag = "--port" if port is not None else "--place"
            raise UsageError(f"{flag} validates one model on one board", hint="run the pairs one by one")
        _matrix(
            models,
            boards,
            count,
            seed,
            input_file,
            sanitize,
            dump_ir,
            as_json,
            timeout,
            emulator,
            junit_file,
            jobs,
            out_dir,
            calib,
            optimize or "balanced",
        )
        return
    model = models[0]
    if junit_file:
        from tinyforge.run.testing import check_junit_target

        check_junit_target(junit_file)  # before the run, not after it
    report = api.test(
        model,
        board,
        port=port,
        inputs=count,
        seed=seed,
        input_file=input_file,
        flash=do_flash,
        flash_port=flash_port,
        baud=baud,
        timeout=timeout,
        emulator=emulator,
        sanitize=sanitize,
        dump_ir=dump_ir_to_stderr if dump_ir else None,
        calib=calib,
        optimize=optimize,
        progress=make_progress(quiet=as_json) if port is not None or place is not None else None,
        place=place,
        coordinator=coordinator,
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
        click.echo(f"model: {report.model}  (--optimize {report.extra.get('optimize', 'balanced')})")
        click.echo(f"inputs: {report.inputs}")
        click.echo(
            f"arena: {report.arena_bytes} B (+ scratch {report.scratch_bytes} B; liveness bound {report.liveness_bound} B)"
        )
        click.echo(f"mismatched_bytes: {report.mismatched_bytes}")
        click.echo(f"bit_exact: {'true' if report.bit_exact else 'false'}")
        ipi = report.extra.get("instructions_per_inference")
        if ipi is not None:
            click.echo(f"instructions_per_inference: {ipi:,} (QEMU -icount)")
        lat = report.extra.get("latency_ms")
        if lat:
            click.echo(
                f"latency: p50 {lat['p50']:.3f} ms  p95 {lat['p95']:.3f} ms  max {lat['max']:.3f} ms "
                f"(board timer at {report.extra['timer_hz']:,} Hz, on {report.extra['port']})"
            )
        if report.extra.get("flash_bytes"):
            click.echo(f"flash: {report.extra['flash_bytes']:,} B  ram: {report.extra['ram_bytes']:,} B")
        if report.first_mismatch:
            from tinyforge.run.verify import LayerMismatch

            click.echo(f"first differing layer: {LayerMismatch(**report.first_mismatch).describe()}")
    if not report.bit_exact:
        raise SystemExit(1)


def _matrix(
    models: tuple[str, ...],
    boards: list[str],
    count: int,
    seed: int,
    input_file: str | None,
    sanitize: bool,
    dump_ir: bool,
    as_json: bool,
    timeout: float | None,
    emulator: str,
    junit_file: str | None,
    jobs: int,
    out_dir: str,
    calib: str | None,
    optimize: str,
) -> None:
    from tinyforge import api
    from tinyforge.errors import UsageError
    from tinyforge.run.matrix import summary_table

    if sanitize or dump_ir:
        flag = "--sanitize" if sanitize else "--dump-ir"
        raise UsageError(f"{flag} works on one model on one board", hint="test that pair on its own")
    if junit_file:
        from tinyforge.run.testing import check_junit_target

        check_junit_target(junit_file)  # before the run, not after it
    results = api.test_matrix(
        list(models),
        boards,
        out_dir,
        jobs=jobs,
        inputs=count,
        seed=seed,
        input_file=input_file,
        timeout=120.0 if timeout is None else timeout,
        emulator=emulator,
        calib=calib,
        optimize=optimize,
    )
    if junit_file:
        api.write_junit_matrix(results, junit_file)
    if as_json:
        echo_json([r.to_dict() for r in results])
    else:
        click.echo(summary_table(results))
    if not all(r.passed for r in results):
        raise SystemExit(1)
