"""Flash speed on the emulated bench: write + verify a 256 KB image with `tinyforge flash` and with
the stock `stm32flash`, side by side, same image, same bench (goal: tinyforge not slower).

    python benchmarks/flash_speed.py [--rounds 3] [--kb 256]

Each run gets a fresh emulated board (tinyforge's AN3155 bootloader in qemu-system-arm,
mps2-an386) with its UART on a pty, and is timed from spawning the flasher to its exit (a whole
command, as a user runs it: Python start-up included for tinyforge). Both write the same .bin at
0x08010000 (bootloader address space; tinyforge uses the board's 0x00010000 alias) and read it back
to verify; neither starts it.

The emulated UART moves one byte per emulator main-loop turn, so whatever else runs on the machine
slows every run, by a lot on a shared 2-core box. By default each round therefore runs the two
tools at the same time, each on its own emulated board: both see the same load, and the round's
ratio compares them under it. The headline is the median of the per-round ratios.
`--sequential` runs them one after the other instead (alternating order).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tinyforge import api, proc  # noqa: E402
from tinyforge.boards import load_board  # noqa: E402
from tinyforge.toolchain.gcc import build_program  # noqa: E402

BOARD = "mps2-an386"


def make_image(work: Path, size: int) -> Path:
    """The flash-hello test application, topped up to `size` bytes with pseudo-random data."""
    build_program(
        load_board(BOARD), [REPO / "tests" / "data" / "firmware" / "flash_hello.c"], work, app_offset=0x10000
    )
    data = (work / "firmware.bin").read_bytes()
    rng = random.Random(1234)
    data += bytes(rng.getrandbits(8) for _ in range(size - len(data)))
    out = work / "image256k.bin"
    out.write_bytes(data[:size])
    return out


def run_tinyforge(image: Path, port: str) -> tuple[float, str]:
    argv = [sys.executable, "-m", "tinyforge", "flash", str(image), "--board", BOARD, "--port", port,
            "--verify", "--no-start", "--json"]  # fmt: skip
    t0 = time.perf_counter()
    res = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"tinyforge flash failed: {res.stderr.strip()}")
    return dt, res.stdout


def run_stm32flash(image: Path, port: str) -> tuple[float, str]:
    argv = [
        proc.find_tool("stm32flash"),
        "-m",
        "8n1",
        "-b",
        "115200",
        "-w",
        str(image),
        "-v",
        "-S",
        "0x08010000",
        port,
    ]
    t0 = time.perf_counter()
    res = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t0
    if res.returncode != 0 or "Done." not in res.stdout + res.stderr:
        raise SystemExit(f"stm32flash failed: {(res.stdout + res.stderr).strip()[-300:]}")
    return dt, res.stdout


RUNNERS = {"tinyforge": run_tinyforge, "stm32flash": run_stm32flash}


def one_run(tool: str, image: Path) -> float:
    with api.emulate(BOARD, bootloader=True, serial="pty") as emu:
        dt, _ = RUNNERS[tool](image, emu.port)
    return dt


def main() -> int:
    from concurrent.futures import ThreadPoolExecutor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--kb", type=int, default=256)
    ap.add_argument("--sequential", action="store_true", help="one tool after the other, not side by side")
    args = ap.parse_args()
    size = args.kb * 1024
    api.build_bootloader(BOARD)
    times: dict[str, list[float]] = {"tinyforge": [], "stm32flash": []}
    ratios: list[float] = []
    mode = "one after the other" if args.sequential else "side by side (same time, one board each)"
    with tempfile.TemporaryDirectory(prefix="flash-speed-") as tmp:
        image = make_image(Path(tmp), size)
        print(
            f"image: {image.name}, {size} bytes; board {BOARD} (QEMU), UART on a pty; {args.rounds} rounds, {mode}"
        )
        for r in range(args.rounds):
            order = ("tinyforge", "stm32flash") if r % 2 == 0 else ("stm32flash", "tinyforge")
            if args.sequential:
                got = {tool: one_run(tool, image) for tool in order}
            else:
                with ThreadPoolExecutor(2) as pool:
                    futures = {tool: pool.submit(one_run, tool, image) for tool in order}
                    got = {tool: f.result() for tool, f in futures.items()}
            for tool in ("tinyforge", "stm32flash"):
                times[tool].append(got[tool])
            ratios.append(got["tinyforge"] / got["stm32flash"])
            print(
                f"  round {r + 1}: tinyforge {got['tinyforge']:6.2f} s, stm32flash {got['stm32flash']:6.2f} s, "
                f"ratio {ratios[-1]:.2f}",
                flush=True,
            )
    med = {k: statistics.median(v) for k, v in times.items()}
    print()
    print(f"{'tool':<12}{'median s':>10}{'best s':>9}{'KB/s':>8}   (written and verified, median)")
    for k, v in times.items():
        print(f"{k:<12}{med[k]:>10.2f}{min(v):>9.2f}{size / med[k] / 1024:>8.1f}")
    ratio = statistics.median(ratios)
    verdict = "tinyforge is not slower" if ratio <= 1.0 else "tinyforge is SLOWER"
    print(f"\nratio tinyforge / stm32flash = {ratio:.2f} (median of rounds; {verdict}; goal <= 1.00)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
