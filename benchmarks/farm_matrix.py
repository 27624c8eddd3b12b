"""Wall time of the model x board matrix (`tinyforge test MODEL... --board B1,... --jobs N`): the
4 MLPerf Tiny models on the 6 emulated boards, with --jobs 1 and --jobs 2 (and more with --jobs).

    .venv/bin/python benchmarks/farm_matrix.py [--jobs 2,1] [--inputs 2] [--cache DIR]

Runs the job counts in the order given, all on one object cache (warm after the first run, so
put the larger job count first: the later runs get the warmer cache, which favours them). The
machine's load matters: the figure is only as good as the idle cores it had (os.getloadavg is
printed before and after).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tinyforge import api  # noqa: E402
from tinyforge.run.matrix import summary_table  # noqa: E402

DATA = REPO / "tests" / "data" / "mlperf-tiny"
MODELS = [
    DATA / "kws_ref_model.tflite",
    DATA / "ad01_int8.tflite",
    DATA / "vww_96_int8.tflite",
    DATA / "pretrainedResnet_quant.tflite",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", default="2,1", help="comma-separated job counts, run in this order")
    ap.add_argument("--inputs", type=int, default=2)
    ap.add_argument("--cache", help="TINYFORGE_CACHE for the runs (default: the usual one)")
    args = ap.parse_args()
    if args.cache:
        os.environ["TINYFORGE_CACHE"] = args.cache
    boards = [b.name for b in api.boards() if b.is_emulated]
    print(f"{len(MODELS)} models x {len(boards)} boards ({', '.join(boards)}), {args.inputs} inputs each")
    print(f"cpus: {os.cpu_count()}  load average before: {os.getloadavg()}")
    walls: dict[int, float] = {}
    for jobs in (int(j) for j in args.jobs.split(",")):
        with tempfile.TemporaryDirectory(prefix="farm-matrix-") as out:
            t0 = time.perf_counter()
            results = api.test_matrix(MODELS, boards, out, jobs=jobs, inputs=args.inputs)
            walls[jobs] = time.perf_counter() - t0
        print(f"\n--jobs {jobs}: {walls[jobs]:.1f} s wall  (load average after: {os.getloadavg()})")
        print(summary_table(results))
    if 1 in walls:
        for jobs, wall in sorted(walls.items()):
            print(f"jobs {jobs}: {wall:7.1f} s   speed-up vs 1 job: {walls[1] / wall:.2f}x")


if __name__ == "__main__":
    main()
