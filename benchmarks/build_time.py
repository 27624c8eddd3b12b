"""How long `tinyforge build` takes: KWS (goal < 3 s) and generated models of growing weight size
(goal: at most linear growth with weight bytes; weights go through .incbin, never C literals).

    .venv/bin/python benchmarks/build_time.py [--board mps2-an386]

Uses KWS from tests/data/mlperf-tiny.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.toolchain.opmodels import ModelBuilder, options  # noqa: E402  (a .tflite writer, no TF)
from tinyforge import api  # noqa: E402

KWS = REPO / "tests" / "data" / "mlperf-tiny" / "kws_ref_model.tflite"


def dense_chain(weight_bytes: int, width: int = 512, seed: int = 0) -> bytes:
    """FULLY_CONNECTED layers of width x width int8 weights until `weight_bytes` is reached."""
    rng = np.random.default_rng(seed)
    m = ModelBuilder()
    cur = m.input((1, width), "int8", 0.05, 0)
    for _ in range(max(1, weight_bytes // (width * width))):
        w = m.tensor((width, width), "int8", 0.01, 0, data=rng.integers(-127, 128, (width, width)))
        b = m.tensor((width,), "int32", 0.0005, 0, data=rng.integers(-1000, 1000, width))
        nxt = m.tensor((1, width), "int8", 0.05, 0)
        m.op("FULLY_CONNECTED", [cur, w, b], [nxt], options("FullyConnectedOptions"))
        cur = nxt
    m.output(cur)
    return m.build()


def timed_build(model: Path, board: str, out: Path) -> float:
    t0 = time.perf_counter()
    api.build(model, board, out, inputs=1, force=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="mps2-an386")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warm = root / "warm.tflite"
        warm.write_bytes(dense_chain(1 << 18))
        timed_build(warm, args.board, root / "warm")  # warm caches (imports, disk)
        if KWS.exists():
            os.environ["TINYFORGE_CACHE"] = str(root / "cold-cache")  # nothing compiled yet
            cold = timed_build(KWS, args.board, root / "kws-cold")
            runs = [timed_build(KWS, args.board, root / f"kws{i}") for i in range(3)]
            t = sorted(runs)[1]
            verdict = "met" if max(cold, t) < 3 else "MISSED"
            print(
                f"KWS build on {args.board}: cold (empty object cache) {cold:.2f} s, warm {t:.2f} s; goal < 3 s: {verdict}"
            )
        else:
            print(f"KWS: {KWS} not found, skipped")
        print(f"{'weights':>10}  {'build s':>8}  {'s per MB':>8}")
        rows = []
        for mb in (0.25, 0.5, 1.0, 1.5):
            path = root / f"dense{mb}.tflite"
            path.write_bytes(dense_chain(int(mb * (1 << 20))))
            t = timed_build(path, args.board, root / f"dense{mb}")
            rows.append((mb, t))
            print(f"{mb:>8.2f}MB  {t:>8.2f}  {t / mb:>8.2f}")
        (mb0, t0), (mb1, t1) = rows[0], rows[-1]
        growth = (t1 - t0) / (mb1 - mb0)
        print(
            f"marginal cost: {growth:.2f} s per extra MB of weights "
            f"({'linear or better' if t1 <= t0 * mb1 / mb0 else 'SUPERLINEAR'})"
        )


if __name__ == "__main__":
    main()
