"""Instructions per inference of the four MLPerf Tiny models on the emulated Cortex-M boards, next
to the anchor figures (TFLite Micro + CMSIS-NN, same method: qemu-system-arm -icount shift=0, one
inference on x[i] = (i*37+11) % 256 - 128), with the ratio and whether issue 8's goal is met.

    .venv/bin/python benchmarks/bench_mlperf.py [--models kws,vww] [--boards mps2-an386] [--json]

Goals: Cortex-M4 and M7 instructions <= 0.6 x TFLM+CMSIS-NN and <= KWS 4.6 M, ResNet-8 17.9 M,
VWW 10.7 M, AD 0.35 M; Cortex-M55 (Helium) <= 0.8 x TFLM+CMSIS-NN; RAM (arena with scratch) at or
under the liveness bound; flash without weights < 16 KB for the conv models. The M3 (no DSP
extension) has no instruction goal and is shown for comparison. Exit code 1 if any goal is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO / "tests" / "data" / "mlperf-tiny"
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
# shared/ANCHORS.md: liveness lower bound of the activations (no in-place); RAM goal: arena with
# scratch at or under it. Flash goal: everything but the weights < 16 KB for the conv models.
LIVENESS_BOUND = {"kws": 16_000, "resnet": 49_152, "vww": 55_296, "ad": 768}
CODE_LIMIT = 16 * 1024
CONV_MODELS = ("kws", "resnet", "vww")


def goal(board: str, model: str) -> int | None:
    """Instruction goal: M4/M7 <= 0.6x TFLM+CMSIS-NN and the absolute figure; M55 <= 0.8x."""
    if board == "mps3-an547":
        return int(0.8 * ANCHOR[board][model])
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
            ram_met = rep.ram.arena <= LIVENESS_BOUND[model]
            code_met = rep.flash.kernels_runtime < CODE_LIMIT if model in CONV_MODELS else None
            missed += (met is False) + (not ram_met) + (code_met is False)
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
                "liveness_bound": LIVENESS_BOUND[model],
                "ram_goal_met": ram_met,
                "code_goal_met": code_met,
                "stack_used": rep.ram.stack_used,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            rows.append(row)
            if args.json:
                print(json.dumps(row), flush=True)
    if not args.json:
        head = (
            f"{'model':7} {'core':4} {'instructions':>13} {'MAC/i':>6} {'TFLM+CMSIS-NN':>14} {'ratio':>6} "
            f"{'goal':>11}  met  exact {'code B':>7} <16K {'arena B':>8} {'bound':>7} ok"
        )
        print(head)
        print("-" * len(head))
        yn = {True: "yes", False: "NO", None: "-"}
        for r in rows:
            anchor = f"{r['tflm_cmsis_nn']:,}" if r["tflm_cmsis_nn"] else "-"
            ratio = f"{r['ratio']:.2f}x" if r["ratio"] else "-"
            want = f"{r['goal']:,}" if r["goal"] else "-"
            met = {True: "yes", False: "NO", None: "-"}[r["goal_met"]]
            print(
                f"{r['model']:7} {r['core']:4} {r['instructions']:>13,} {r['macs_per_instruction']:>6.3f} "
                f"{anchor:>14} {ratio:>6} {want:>11}  {met:>3}  {'yes' if r['bit_exact'] else 'NO':>5} "
                f"{r['flash_kernels_runtime']:>7,} {yn[r['code_goal_met']]:>4} {r['ram_arena']:>8,} "
                f"{r['liveness_bound']:>7,} {yn[r['ram_goal_met']]}"
            )
    return 1 if missed or not all(r["bit_exact"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
