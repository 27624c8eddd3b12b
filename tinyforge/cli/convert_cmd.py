"""`tinyforge convert`: Keras / SavedModel / TFLite -> full-integer int8 TFLite for TFLM."""

from __future__ import annotations

import click

from tinyforge.cli.common import echo_json, table


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


@click.command("convert")
@click.argument("model", type=click.Path(path_type=str))
@click.option("-o", "--output", type=click.Path(path_type=str), help="Where to write the int8 .tflite.")
@click.option(
    "--calib", type=click.Path(path_type=str), help="Calibration data: .npy, .npz or folder of .npy."
)
@click.option(
    "--eval", "eval_data", type=click.Path(path_type=str), help="Data for the report (default: --calib)."
)
@click.option("--labels", type=click.Path(path_type=str), help=".npy of int class labels for --eval data.")
@click.option(
    "--io",
    type=click.Choice(["int8", "float"]),
    default=None,
    help="Model input/output type, default int8 (float adds QUANTIZE/DEQUANTIZE at the edges).",
)
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def convert(
    model: str,
    output: str | None,
    calib: str | None,
    eval_data: str | None,
    labels: str | None,
    io: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Quantize MODEL (.keras, .h5, SavedModel folder, float .tflite) to an int8 .tflite that TFLM
    runs, and report how far int8 outputs are from float ones (int8 run in tflite_micro).
    An int8 .tflite is validated and passed through.

    Example: tinyforge convert model.keras --calib calib.npy --eval x_test.npy --labels y_test.npy
    """
    from tinyforge import api

    res = api.convert(model, output, calib=calib, eval_data=eval_data, labels=labels, io=io, force=force)
    for w in res.warnings:
        click.echo(f"warning: {w}", err=True)
    if as_json:
        echo_json(res.to_dict())
        return
    if res.converter.startswith("none"):
        kind = "16x8" if "16x8" in res.converter else "int8"
        click.echo(
            f"already {kind}, valid for TFLM: {res.output}  ({res.size_bytes:,} bytes, sha256 {res.sha256[:16]})"
        )
    else:
        click.echo(f"wrote {res.output}  ({res.size_bytes:,} bytes, sha256 {res.sha256[:16]})")
    click.echo(f"source: {res.source} ({res.source_format}), loaded with {res.loader}")
    for note in res.loader_notes:
        click.echo(f"  (skipped {note})")
    click.echo(f"converter: {res.converter}, {res.io} I/O")
    for kind, ts in (("input", res.inputs), ("output", res.outputs)):
        for t in ts:
            click.echo(f"{kind:>6}: {t.describe()}")
    click.echo("ops: " + ", ".join(f"{k} x{n}" for k, n in res.ops))
    if res.calibration != "none":
        click.echo(f"calibration: {res.calibration} ({res.calibration_samples} samples)")
    rep = res.report
    if rep is None:
        return
    click.echo("")
    click.echo(f"float vs int8 on {rep.data} ({rep.samples} samples, int8 in {rep.interpreter}):")
    rows = [
        [
            m.name[:32],
            f"{m.cosine:.5f}",
            f"{m.rmse:.5g}",
            f"{m.max_abs_error:.5g}",
            _pct(m.top1_agreement),
        ]
        for m in rep.outputs
    ]
    click.echo(table(rows, ["output", "cosine", "rmse", "max abs err", "top-1 agree"], "lrrrr"))
    if rep.float_accuracy is not None:
        click.echo(
            f"accuracy ({rep.labels}): float {_pct(rep.float_accuracy)}, int8 {_pct(rep.int8_accuracy)}"
        )
