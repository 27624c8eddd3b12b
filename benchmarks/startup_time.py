"""Start-up time of `tinyforge --help` (goal: < 0.3 s), and proof that it loads no TensorFlow.

    python benchmarks/startup_time.py [--runs 10]

Each run is a fresh interpreter (`python -m tinyforge --help`), timed from spawn to exit.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

GOAL_S = 0.3

PROBE = (
    "import sys\n"
    "from tinyforge.cli import main\n"
    "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'tf_keras', 'numpy', 'jinja2'})\n"
    "print('HEAVY', ','.join(heavy) or '-', file=sys.stderr)\n"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tinyforge", "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    probe = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True, text=True)
    heavy = probe.stderr.strip().splitlines()[-1].split()[-1]
    best, median = min(times), statistics.median(times)
    print(
        f"tinyforge --help: min {best:.3f} s, median {median:.3f} s over {args.runs} runs (goal < {GOAL_S} s)"
    )
    print(f"heavy modules imported by --help: {heavy}")
    ok = median < GOAL_S and heavy == "-"
    print("OK" if ok else "SLOW or heavy imports")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
