"""Instructions per inference of the four MLPerf Tiny models on the emulated Cortex-M boards, next
to the anchor figures (TFLite Micro + CMSIS-NN, same method: qemu-system-arm -icount shift=0, one
inference on x[i] = (i*37+11) % 256 - 128), with the ratio and whether issue 8's goal is met.

    .venv/bin/python benchmarks/bench_mlperf.py [--models kws,vww] [--boards mps2-an386] [--json]

Goal (Cortex-M4 and M7): instructions <= 0.6 x TFLM+CMSIS-NN and <= KWS 4.6 M, ResNet-8 17.9 M,
VWW 10.7 M, AD 0.35 M. The M3 (no DSP extension: portable kernels) and the M55 rows are shown for
comparison (the M55 also has Helium kernels when those are registered).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO.parent / "shared" / "models" / "mlperf-tiny"
MODELS = {
    "kws": "kws_ref_model.tflite",
    "resnet": "pretrainedResnet_quant.tflite",
    "vww": "vww_96_int8.tflite",
    "ad": "ad01_int8.tflite",
}
BOARDS = {"mps2-an386": "M4", "mps2-an500": "M7", "mps3-an547": "M55", "mps2-an385": "M3"}

# shared/ANCHORS.md: TFLM (2026-08) + CMSIS-NN, arm-none-eabi-gcc 12.2 -O2, instructions per inference
ANCHOR = {
    "mps2-an386": {"kws": 7_697_920, "resnet": 29_861_640, "vww": 24_101_960, "ad": 582_920},
    "mps2-an500": {"kws": 7_643_720, "resnet": 30_023_160, "vww": 24_025_560, "ad": 583_240},
    "mps3-an547": {"kws": 1_813_718, "resnet": 4_910_156, "vww": 6_558_312, "ad": 150_000},
    "mps2-an385": {"kws": 10_532_720, "resnet": 41_846_080, "vww": 31_959_320},
}
# the absolute goals (about X-CUBE-AI's cycle counts on a Cortex-M4), for the M4 and M7
ABSOLUTE_GOAL = {"kws": 4_600_000, "resnet": 17_900_000, "vww": 10_700_000, "ad": 350_000}
GOAL_BOARDS = ("mps2-an386", "mps2-an500")


def goal(board: str, model: str) -> int | None:
    if board not in GOAL_BOARDS:
        return None
    return min(int(0.6 * ANCHOR[board][model]), ABSOLUTE_GOAL[model])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated: kws,resnet,vww,ad")
    ap.add_argument("--boards", default=",".join(BOARDS), help="comma-separated emulated boards")
    ap.add_argument("--json", action="store_true", help="one JSON object per row")
    args = ap.parse_args(argv)

    from tinyforge import api

    rows = []
    missed = 0
    for board in args.boards.split(","):
        for model in args.models.split(","):
            path = MODELS_DIR / MODELS[model]
            t0 = time.perf_counter()
            rep = api.bench(path, board)
            anchor = ANCHOR.get(board, {}).get(model)
            want = goal(board, model)
            met = None if want is None else rep.instructions <= want
            missed += met is False
            row = {
                "model": model,
                "board": board,
                "core": BOARDS.get(board, "?"),
                "instructions": rep.instructions,
                "macs_per_instruction": rep.macs_per_instruction,
                "bit_exact": rep.bit_exact,
                "tflm_cmsis_nn": anchor,
                "ratio": round(rep.instructions / anchor, 3) if anchor else None,
                "goal": want,
                "goal_met": met,
                "flash_kernels_runtime": rep.flash.kernels_runtime,
                "flash_weights": rep.flash.weights,
                "ram_arena": rep.ram.arena,
                "stack_used": rep.ram.stack_used,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
    if not args.json:
        head = f"{'model':7} {'core':4} {'instructions':>13} {'MAC/i':>6} {'TFLM+CMSIS-NN':>14} {'ratio':>6} {'goal':>11}  met  exact {'code B':>7} {'arena B':>8}"
        print(head)
        print("-" * len(head))
        for r in rows:
            anchor = f"{r['tflm_cmsis_nn']:,}" if r["tflm_cmsis_nn"] else "-"
            ratio = f"{r['ratio']:.2f}x" if r["ratio"] else "-"
            want = f"{r['goal']:,}" if r["goal"] else "-"
            met = {True: "yes", False: "NO", None: "-"}[r["goal_met"]]
            print(
                f"{r['model']:7} {r['core']:4} {r['instructions']:>13,} {r['macs_per_instruction']:>6.3f} "
                f"{anchor:>14} {ratio:>6} {want:>11}  {met:>3}  {'yes' if r['bit_exact'] else 'NO':>5} "
                f"{r['flash_kernels_runtime']:>7,} {r['ram_arena']:>8,}"
            )
    return 1 if missed or not all(r["bit_exact"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
