"""`make demo`: the whole job on the bundled example, as a user would type it.

    convert (digits CNN, .keras -> int8) -> inspect -> build for mps2-an386 -> run in QEMU,
    predictions vs labels, bit-exactness vs TFLite Micro, memory report.

Everything it needs ships with tinyforge (examples/digits); it writes under ./out/demo.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
import numpy as np

from tinyforge.boards import DEFAULT_BOARD

SAMPLES = 16


def _step(title: str, argv: list[str]) -> None:
    from tinyforge.cli import main

    click.secho(f"\n== {title}", bold=True)
    click.secho("$ tinyforge " + " ".join(shlex.quote(a) for a in argv), fg="cyan")
    try:
        main(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise


def run(board: str = DEFAULT_BOARD, out: Path = Path("out/demo")) -> int:
    from tinyforge import api
    from tinyforge.resources import examples_dir
    from tinyforge.run.qemu import run_qemu

    ex = examples_dir() / "digits"
    out.mkdir(parents=True, exist_ok=True)
    samples = out / "samples.npy"
    labels = np.load(ex / "eval_labels.npy")[:SAMPLES]
    np.save(samples, np.load(ex / "eval.npy")[:SAMPLES])
    int8 = out / "digits_int8.tflite"
    build_dir = out / f"digits-{board}"

    _step("the boards tinyforge knows", ["boards"])
    _step(
        "convert the Keras model to int8 (calibration and held-out evaluation data ship with it)",
        [
            "convert", str(ex / "digits.keras"), "-o", str(int8), "--calib", str(ex / "calib.npy"),
            "--eval", str(ex / "eval.npy"), "--labels", str(ex / "eval_labels.npy"), "--force",
        ],
    )  # fmt: skip
    _step("what the int8 model holds", ["inspect", str(int8)])
    _step(
        f"compile it to C and build firmware for {board}",
        ["build", str(int8), "--board", board, "-o", str(build_dir), "--input", str(samples), "--force"],
    )
    _step(f"run it in QEMU ({board}) and compare every byte with TFLite Micro", ["test", str(build_dir)])

    click.secho(f"\n== predictions of the firmware in QEMU on {SAMPLES} held-out digits", bold=True)
    built = api.read_build_dir(build_dir)  # laid out for the board's loader, serving after its run
    run_ = run_qemu(api.board(board), built.elf, app_offset=built.app_offset, exits=not built.serves)
    preds = [int(np.argmax(np.frombuffer(r.outputs[0], dtype=np.int8))) for r in run_.results]
    ok = sum(int(p == t) for p, t in zip(preds, labels, strict=False))
    click.echo("label:      " + " ".join(str(int(t)) for t in labels))
    click.echo("prediction: " + " ".join(str(p) for p in preds))
    instr = [run_.instructions(r.ticks) for r in run_.results]
    click.echo(
        f"{ok}/{len(preds)} correct; {int(np.median(instr)):,} instructions per inference (QEMU -icount)"
    )
    return 0


def main() -> None:
    from tinyforge.errors import TinyforgeError

    try:
        sys.exit(run())
    except TinyforgeError as exc:
        click.echo(exc.render(), err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
