"""The secure bench bootloader's cost: its flash size (against the plain AN3155 bootloader, and what
the crypto adds), and the instructions it spends checking a 256 KiB signed image on the
Cortex-M4 (mps2-an386, QEMU -icount shift=0: 1 instruction per ns, so SysTick ticks give
instructions; exact to one tick = 40 instructions).

    python benchmarks/bootloader_verify.py [--kib 256]

The image is imgtool's (`imgtool sign` with a fresh Ed25519 key, body of pseudo-random bytes);
the measured code is firmware/tests/verify_bench/verify_bench.c on the bootloader's own sources
(bl_image.c, firmware/crypto/), built as the bootloader is (-Os).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tinyforge import proc  # noqa: E402
from tinyforge.boards import load_board  # noqa: E402
from tinyforge.flash.emulated_bench import build_bootloader  # noqa: E402
from tinyforge.resources import firmware_dir  # noqa: E402
from tinyforge.run.qemu import instructions, qemu_argv  # noqa: E402
from tinyforge.secureboot.keys import load_public_key  # noqa: E402
from tinyforge.secureboot.sign import imgtool  # noqa: E402
from tinyforge.toolchain.firmware import section_sizes  # noqa: E402
from tinyforge.toolchain.gcc import build_program  # noqa: E402

BOARD = "mps2-an386"
IMAGE_ADDR = 0x00200000
OPT = os.environ.get("VB_OPT", "size")  # the bootloader is built -Os; VB_OPT=speed for -O2


def object_sizes(build_dir: Path, names: tuple[str, ...]) -> dict[str, int]:
    """text + data of the named objects in a build directory."""
    size_tool = proc.find_tool("arm-none-eabi-size")
    out: dict[str, int] = {}
    for obj in build_dir.rglob("*.o"):
        stem = obj.name.split(".")[0]
        if stem in names:
            fields = proc.run_tool([size_tool, obj]).stdout.splitlines()[1].split()
            out[stem] = int(fields[0]) + int(fields[1])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kib", type=int, default=256, help="image body size in KiB")
    args = ap.parse_args()
    board = load_board(BOARD)
    with tempfile.TemporaryDirectory(prefix="tinyforge-blverify-") as tmp_name:
        tmp = Path(tmp_name)
        key = tmp / "bench.pem"
        proc.run_tool([imgtool(), "keygen", "-k", key, "-t", "ed25519"], timeout=60)
        pub = load_public_key(key)

        # 1. flash size of the two bootloaders
        plain = build_bootloader(board, out_dir=tmp / "plain")
        secure = build_bootloader(board, out_dir=tmp / "secure", key=key)
        p, s = section_sizes(plain), section_sizes(secure)
        parts = object_sizes(tmp / "secure", ("tf_sha256", "tf_sha512", "tf_ed25519", "bl_image", "bl_boot"))
        print(f"bootloader flash: plain AN3155 {p.flash_bytes:,} B, secure {s.flash_bytes:,} B "
              f"(+{s.flash_bytes - p.flash_bytes:,} B); RAM {s.ram_bytes:,} B (8 KiB of it stack)")  # fmt: skip
        print("  of which: " + ", ".join(f"{k} {v:,} B" for k, v in sorted(parts.items())))

        # 2. a signed image of the requested size
        body = random.Random(16).randbytes(args.kib * 1024)
        (tmp / "body.bin").write_bytes(body)
        slot = max(0x70000, (args.kib + 16) * 1024)
        proc.run_tool(
            [imgtool(), "sign", "--key", str(key), "--header-size", "0x200", "--pad-header", "--slot-size",
             hex(slot), "--align", "4", "--load-addr", "0x10000", "--version", "1.0.0",
             str(tmp / "body.bin"), str(tmp / "image.bin")],
            timeout=120,
        )  # fmt: skip
        image = tmp / "image.bin"

        # 3. the measuring firmware on the bootloader's sources, -Os like the bootloader
        src = tmp / "src"
        src.mkdir()
        (src / "bench_key.h").write_text(
            "#include <stdint.h>\nstatic const uint8_t bench_public_key[32] = {"
            + ", ".join(f"0x{b:02x}" for b in pub.raw)
            + "};\n"
        )
        fw = firmware_dir()
        img = build_program(
            board,
            [fw / "tests/verify_bench/verify_bench.c", fw / "bootloader/bl_image.c", fw / "crypto/tf_sha256.c",
             fw / "crypto/tf_sha512.c", fw / "crypto/tf_ed25519.c"],
            tmp / "bench",
            include_dirs=[src, fw / "bootloader", fw / "crypto"],
            opt=OPT,
            defines=[f"VB_IMAGE_ADDR=0x{IMAGE_ADDR:x}u", f"VB_CAPACITY=0x{slot:x}u"],
        )  # fmt: skip
        argv = qemu_argv(
            board, img.elf, extra=["-device", f"loader,file={image},addr=0x{IMAGE_ADDR:x},force-raw=on"]
        )
        res = proc.run_tool(argv, timeout=300, check=False)
    line = next((x for x in res.stdout.splitlines() if x.startswith("TF LOG verify_bench")), None)
    if line is None or "TF DONE status=pass" not in res.stdout:
        print(res.stdout + res.stderr)
        return 1
    kv = dict(f.split("=") for f in line.split()[3:])
    hz = int(kv["tick_hz"])

    def ins(key: str) -> int:
        return instructions(int(kv[key]), hz)

    mb = int(kv["hashed"]) / 1e6
    print(
        f"image: {int(kv['bytes']):,} B signed by imgtool ({args.kib} KiB body), valid: {kv['state'] == '6'}"
    )
    print(f"check at boot on the M4: {ins('validate_ticks'):,} instructions "
          f"(SHA-256 {ins('sha256_ticks'):,} = {ins('sha256_ticks') / int(kv['hashed']):.1f}/byte, "
          f"Ed25519 verify {ins('ed25519_ticks'):,}); RAM-load copy {ins('copy_ticks'):,}; "
          f"key hash {ins('key_hash_ticks'):,}")  # fmt: skip
    print(f"  = {ins('validate_ticks') / 168e6 * 1e3:.0f} ms at 168 MHz (STM32F405), "
          f"{ins('sha256_ticks') / mb / 1e6:.1f} M instructions per MB hashed")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
