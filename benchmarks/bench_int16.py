"""Instructions per inference of 16x8 models (int16 activations, int8 weights, as TF's converter
writes them with EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8) on the emulated
Cortex-M boards: MLPerf Tiny's keyword-spotting DS-CNN (tests/data/mlperf-tiny, quantized 16x8
from its SavedModel with fixed-seed calibration) and the tests' small CNN, with the MACs per
instruction of every convolution layer. Same method as bench_mlperf.py (qemu-system-arm -icount
shift=0, one inference on the anchors' input pattern, here times 256 for int16 inputs).

    .venv/bin/python benchmarks/bench_int16.py [--models kws16,small_cnn] [--boards mps2-an386] [--json]

Goal (issue 12): no convolution layer of KWS 16x8 under 0.2 MACs/instruction on the Cortex-M4
(DSP kernels). Exit code 1 if a layer misses it or an output is not bit-exact.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "toolchain"))

from _int16_models import convert16, kws16  # noqa: E402

from tinyforge import api  # noqa: E402

BOARDS = {"mps2-an386": "M4", "mps3-an547": "M55", "mps2-an385": "M3"}
MODELS = {"kws16": kws16, "small_cnn": lambda: convert16({"model": "small_cnn"})}
GOAL_BOARD, GOAL_MACS_PER_INSTRUCTION = "mps2-an386", 0.2
GOAL_MODELS = ("kws16",)  # shapes of a real model; small_cnn's layers are a test's toys (K of 8 or 9)
WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            path = Path(tmp) / f"{name}.tflite"
            path.write_bytes(MODELS[name]())
            for board in args.boards.split(","):
                rep = api.bench(path, board, layers=True, workdir=Path(tmp) / f"{name}-{board}")
                convs = [lay for lay in rep.layers if lay.op in WEIGHTED and lay.macs >= 1000]
                worst = min(convs, key=lambda lay: lay.macs_per_instruction or 0.0)
                goal = board == GOAL_BOARD and name in GOAL_MODELS
                missed = goal and (worst.macs_per_instruction or 0.0) < GOAL_MACS_PER_INSTRUCTION
                ok = ok and rep.bit_exact and not missed
                rows.append(
                    {
                        "model": name,
                        "board": board,
                        "core": BOARDS.get(board, board),
                        "macs": rep.macs,
                        "instructions": rep.instructions,
                        "macs_per_instruction": round(rep.macs_per_instruction, 3),
                        "worst_layer": f"{worst.n} {worst.op} {worst.kernel} {worst.macs_per_instruction:.3f}",
                        "arena_bytes": rep.ram.arena,
                        "flash_bytes": rep.flash.total,
                        "bit_exact": rep.bit_exact,
                        "goal_met": not missed if goal else None,
                    }
                )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(
            f"{'model':10} {'core':4} {'instructions':>13} {'MACs/instr':>10} {'arena':>7}  worst conv layer (MACs/instr)"
        )
        for r in rows:
            print(
                f"{r['model']:10} {r['core']:4} {r['instructions']:>13,} {r['macs_per_instruction']:>10.3f} "
                f"{r['arena_bytes']:>7,}  {r['worst_layer']}{'' if r['bit_exact'] else '  NOT BIT-EXACT'}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
