"""`tinyforge monitor`: a serial monitor with timestamps, a log file, CI expectations, inference
statistics, fault decoding and reconnection."""

from __future__ import annotations

import json as jsonlib
import sys

import click

from tinyforge.cli.common import place_options, table


@click.command("monitor")
@click.option(
    "--port",
    help="Device path, `auto` (needs --board), or a pyserial URL (socket://, rfc2217://); or --place.",
)
@click.option("--baud", default=115200, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--board", help="Board profile: timer rate for latencies (else raw ticks), USB ids for --port auto."
)
@click.option(
    "--tick-hz", type=click.IntRange(min=1), help="Timer rate of the RESULT ticks, if --board is not given."
)
@click.option("--timestamps", is_flag=True, help="Prefix each line with the host time it arrived.")
@click.option("--log", "log", type=click.Path(dir_okay=False), help="Append everything shown to this file.")
@click.option(
    "--expect",
    multiple=True,
    metavar="REGEX",
    help="Exit 0 once these have all appeared, in order (repeatable).",
)
@click.option(
    "--fail", multiple=True, metavar="REGEX", help="Exit 1 as soon as one of these appears (repeatable)."
)
@click.option(
    "--timeout", type=float, metavar="S", help="Exit 1 after S seconds unless every --expect was seen."
)
@click.option(
    "--elf",
    type=click.Path(dir_okay=False),
    help="The firmware ELF: TF FAULT lines name function and source line.",
)
@click.option(
    "--labels",
    type=click.Path(dir_okay=False),
    help="Class names, one per line: results as a table (label, score, latency); --elf of a build "
    "made with --labels does it too.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per line/record, and a summary object at the end.",
)
@click.option(
    "--reconnect/--no-reconnect",
    default=True,
    show_default=True,
    help="Wait for the port to come back when it disappears.",
)
@click.option("--wait", is_flag=True, help="Wait for the port to appear at start (until --timeout).")
@click.option(
    "--eol",
    type=click.Choice(["cr", "lf", "crlf"]),
    default="crlf",
    show_default=True,
    help="What Enter sends.",
)
@click.option(
    "--stats-interval",
    type=float,
    default=5.0,
    show_default=True,
    metavar="S",
    help="Print live inference statistics every S seconds (0: off).",
)
@click.option(
    "--metrics",
    metavar="[127.0.0.1]:PORT",
    help="Serve live statistics as Prometheus metrics at http://127.0.0.1:PORT/metrics.",
)
@place_options
def monitor(
    port: str | None,
    baud: int,
    board: str | None,
    tick_hz: int | None,
    timestamps: bool,
    log: str | None,
    expect: tuple[str, ...],
    fail: tuple[str, ...],
    timeout: float | None,
    elf: str | None,
    labels: str | None,
    as_json: bool,
    reconnect: bool,
    wait: bool,
    eol: str,
    stats_interval: float,
    metrics: str | None,
    place: str | None,
    coordinator: str | None,
) -> None:
    """Show what a device prints; with --expect/--fail/--timeout, decide a CI run.

    \b
    Interactive (stdin is a terminal): keys go to the device, Ctrl-] quits.
    Exit status: 0 all --expect seen (or nothing expected), 1 --fail seen, timeout, or port closed
    before the expectations were met; 2 bad arguments or port; 130 interrupted.
    \b
    Examples:
      tinyforge monitor --port /dev/ttyACM0 --board nucleo-f446re --timestamps --log run.log
      tinyforge monitor --port socket://127.0.0.1:4000 --expect PASS --fail FAIL --timeout 30
      tinyforge monitor --port socket://127.0.0.1:4000 --board mps2-an386 --metrics :9464
      tinyforge monitor --place bench-1 --expect "TF DONE" --timeout 30
    """
    from tinyforge import api

    report = api.monitor(
        port,
        baud=baud,
        board=board,
        tick_hz=tick_hz,
        timestamps=timestamps,
        log=log,
        expect=expect,
        fail=fail,
        timeout=timeout,
        elf=elf,
        json=as_json,
        reconnect=reconnect,
        wait=wait,
        eol=eol,
        stats_interval=stats_interval,
        labels=labels,
        metrics=metrics,
        place=place,
        coordinator=coordinator,
    )
    if as_json:
        click.echo(jsonlib.dumps(report.to_dict(), separators=(",", ":"), default=str))
        click.echo(report.verdict.summary, err=True)
    else:
        from tinyforge.monitor.views import summary_rows

        click.echo("")
        click.echo(f"--- monitor summary ({report.port}, {report.duration_s:.1f} s)")
        click.echo(table(summary_rows(report.counts, report.latency), ["statistic", "value"], "lr"))
        for fault in report.faults:
            click.echo(f"fault: {fault.get('summary', fault.get('kind'))}")
        click.echo(report.verdict.summary)
    if report.exit_code:
        # sys.exit, not ctx.exit: tinyforge.cli.main runs click with standalone_mode=False,
        # where click turns ctx.exit(code) into a return value that main() does not use
        sys.exit(report.exit_code)
