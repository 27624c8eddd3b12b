"""Wall time of flash + test on two labgrid places at once vs one after the other, on the
emulated lab (`tinyforge lab up 2`: QEMU benches behind ser2net RFC 2217 and a local labgrid).

    .venv/bin/python benchmarks/farm_places.py [--model M] [--inputs 10] [--rounds 2]

Each run is `tinyforge test BUILD --place bench-N --inputs K` as its own process (flash, then
stream the inputs, compare with TFLM), as two CI jobs would run it. The firmware is built once
beforehand. Sequential and concurrent rounds alternate so load drifts hit both; the load average
is printed before and after (2 cores: a concurrent pair can at best halve the wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tinyforge import api  # noqa: E402

BOARD = "mps2-an386"


def start(build: Path, place: str, inputs: int, env: dict[str, str]) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tinyforge", "test", str(build), "--place", place]
    argv += ["--inputs", str(inputs), "--json"]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(p: subprocess.Popen[str]) -> dict:  # type: ignore[type-arg]
    try:
        out, err = p.communicate(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode != 0:
        raise SystemExit(f"run failed: {err.strip().splitlines()[-1] if err.strip() else p.returncode}")
    report = json.loads(out)
    assert report["bit_exact"], report
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "tests/data/mlperf-tiny/kws_ref_model.tflite"))
    ap.add_argument("--inputs", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="farm-places-") as tmp:
        build = api.build(args.model, BOARD, Path(tmp) / "fw", inputs=0).directory
        state = api.lab_up(2, Path(tmp) / "lab", BOARD)
        try:
            env = dict(os.environ, LG_COORDINATOR=state.coordinator, PYTHONPATH=str(REPO))
            names = [p.name for p in state.places]
            print(f"load before: {os.getloadavg()[0]:.2f}; {Path(args.model).name}, {args.inputs} inputs")
            seq, con = [], []
            for _ in range(args.rounds):
                t0 = time.monotonic()
                for name in names:
                    finish(start(build, name, args.inputs, env))
                seq.append(time.monotonic() - t0)
                t0 = time.monotonic()
                for p in [start(build, name, args.inputs, env) for name in names]:
                    finish(p)
                con.append(time.monotonic() - t0)
            print(f"load after:  {os.getloadavg()[0]:.2f}")
            flash = finish(start(build, names[0], 1, env))["flash_bytes"]
        finally:
            api.lab_down(Path(tmp) / "lab")
    s, c = min(seq), min(con)
    print(f"image {flash} B flashed per run; best of {args.rounds}")
    print(f"two places one after the other: {s:6.1f} s  ({', '.join(f'{x:.1f}' for x in seq)})")
    print(f"two places at once:             {c:6.1f} s  ({', '.join(f'{x:.1f}' for x in con)})")
    print(f"speed-up: {s / c:.2f}x")


if __name__ == "__main__":
    main()
