"""`tinyforge bench`: instructions per inference, MACs/instruction, flash and RAM of a model."""

from __future__ import annotations

import click

from tinyforge.boards import DEFAULT_BOARD
from tinyforge.cli.common import echo_json, table


@click.command("bench")
@click.argument("model", type=click.Path(path_type=str))
@click.option(
    "--board", default=DEFAULT_BOARD, show_default=True, help="An emulated board (see `tinyforge boards`)."
)
@click.option(
    "--optimize",
    type=click.Choice(["size", "balanced", "speed"]),
    default="balanced",
    show_default=True,
    help="size: int8 weights, no tables; balanced: int8 weights; speed: int16 weights.",
)
@click.option("--layers", is_flag=True, help="Also time every layer (a second, profiling build).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds before a QEMU run counts as hung.")
def bench(model: str, board: str, optimize: str, layers: bool, as_json: bool, timeout: float) -> None:
    """Count the instructions of one inference of MODEL on BOARD (QEMU -icount shift=0, input
    x[i] = (i*37+11) % 256 - 128), with MACs/instruction, flash and RAM.

    Example: tinyforge bench kws.tflite --board mps2-an386 --layers
    """
    from tinyforge import api

    rep = api.bench(model, board, optimize=optimize, layers=layers, timeout=timeout)
    if as_json:
        echo_json(rep.to_dict())
        return
    f, r = rep.flash, rep.ram
    click.echo(f"board: {rep.board} ({rep.cpu}{', ' + '+'.join(rep.features) if rep.features else ''})")
    click.echo(f"model: {rep.model}  (--optimize {rep.optimize})")
    click.echo(f"bit_exact: {'true' if rep.bit_exact else 'false'}")
    click.echo(f"instructions: {rep.instructions:,} per inference (QEMU -icount shift=0)")
    click.echo(f"macs: {rep.macs:,}  ({rep.macs_per_instruction:.3f} MACs/instruction)")
    click.echo(
        f"flash: {f.total:,} B = weights {f.weights:,} + kernels/runtime {f.kernels_runtime:,} + harness {f.harness:,}"
    )
    ratio = f.weights / rep.weights_model_bytes if rep.weights_model_bytes else 1.0
    click.echo(f"weights: {rep.weights_mode}, {ratio:.2f}x of the model's {rep.weights_model_bytes:,} B")
    click.echo(
        f"ram: {r.total:,} B = arena {r.arena:,} (scratch {r.scratch:,} inside) + stack used {r.stack_used:,}"
        f" (of {r.stack_size:,}) + other .data/.bss {r.other:,}"
    )
    if rep.layers:
        rows = [
            [
                x.n,
                x.op,
                x.kernel,
                x.comment[:40],
                x.macs,
                x.instructions,
                f"{x.macs_per_instruction:.3f}" if x.macs_per_instruction is not None else "-",
                f"{100 * x.instructions / rep.instructions:.1f}" if rep.instructions else "-",
            ]
            for x in rep.layers
        ]
        click.echo("")
        click.echo(
            table(rows, ["n", "op", "kernel", "layer", "macs", "instructions", "macs/instr", "%"], "rlllrrrr")
        )
