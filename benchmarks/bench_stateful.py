"""MACs per instruction of the LSTM and SVDF kernels on the emulated Cortex-M boards (QEMU
-icount shift=0, `tinyforge bench --layers`: one inference on x[i] = (i*37+11) % 256 - 128), for
models of the shapes recurrent keyword/sensor models use: LSTMs from `tf_keras.layers.LSTM(units,
unroll=False)` through TF's converter (full int8), SVDFs written with the schema as TFLM's keyword
models build them (tests/toolchain/_stateful_models.py).

    .venv/bin/python benchmarks/bench_stateful.py [--boards mps2-an386,mps3-an547] [--json]

Goal (issue 12): every LSTM/SVDF layer >= 0.2 MACs per instruction on the M4; the M3 runs the
portable kernels and is shown for comparison. Exit code 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "toolchain"))

BOARDS = {"mps2-an385": "M3", "mps2-an386": "M4", "mps3-an547": "M55"}
GOAL = {"mps2-an386": 0.2}
LSTMS = {
    "lstm 10x12->16": {"units": 16, "steps": 10, "features": 12, "dense": 4, "seed": 6},
    "lstm 49x10->32": {
        "units": 32,
        "steps": 49,
        "features": 10,
        "return_sequences": False,
        "dense": 12,
        "seed": 9,
    },
    "lstm 20x40->64": {"units": 64, "steps": 20, "features": 40, "dense": 8, "seed": 8},
    "lstm 28x28->128": {
        "units": 128,
        "steps": 28,
        "features": 28,
        "return_sequences": False,
        "dense": 10,
        "seed": 3,
    },
}
SVDFS = {
    "svdf 40->24/16 (keyword)": None,
    "svdf 40->64 m16": {
        "batches": 1,
        "in_size": 40,
        "units": 64,
        "rank": 1,
        "memory": 16,
        "seed": 4,
        "input_zp": 5,
    },
    "svdf 64->128 r2 m8": {"batches": 1, "in_size": 64, "units": 128, "rank": 2, "memory": 8, "seed": 5},
}


def models(work: Path) -> dict[str, Path]:
    from _stateful_models import keras_lstm, svdf_keyword_model, svdf_model

    out = {}
    for name, spec in LSTMS.items():
        out[name] = work / f"{len(out)}.tflite"
        out[name].write_bytes(keras_lstm(spec, work / "cache"))
    for name, kw in SVDFS.items():
        out[name] = work / f"{len(out)}.tflite"
        out[name].write_bytes(svdf_keyword_model(seed=1) if kw is None else svdf_model(**kw))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boards", default=",".join(BOARDS), help="comma-separated emulated boards")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from tinyforge import api

    rows = []
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-stateful-") as tmp:
        work = Path(tmp)
        for name, path in models(work).items():
            for board in args.boards.split(","):
                rep = api.bench(path, board, layers=True, workdir=work / f"{path.stem}-{board}")
                for lay in rep.layers:
                    if lay.op not in ("UNIDIRECTIONAL_SEQUENCE_LSTM", "SVDF"):
                        continue
                    mpi = lay.macs_per_instruction or 0.0
                    met = mpi >= GOAL[board] if board in GOAL else None
                    ok = ok and met is not False and rep.bit_exact
                    rows.append(
                        {
                            "model": name,
                            "board": board,
                            "layer": lay.n,
                            "kernel": lay.kernel,
                            "macs": lay.macs,
                            "instructions": lay.instructions,
                            "macs_per_instruction": round(mpi, 3),
                            "model_instructions": rep.instructions,
                            "bit_exact": rep.bit_exact,
                            "goal_met": met,
                        }
                    )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'model':26} {'core':4} {'kernel':18} {'MACs':>8} {'instr':>10} {'MACs/instr':>10}  goal")
        for r in rows:
            goal = "-" if r["goal_met"] is None else ("ok" if r["goal_met"] else "MISSED")
            print(
                f"{r['model']:26} {BOARDS.get(r['board'], r['board']):4} {r['kernel']:18} {r['macs']:>8,} "
                f"{r['instructions']:>10,} {r['macs_per_instruction']:>10.3f}  {goal}"
                + ("" if r["bit_exact"] else "  NOT BIT-EXACT")
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
