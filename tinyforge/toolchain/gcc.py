"""Compile, link and objcopy with arm-none-eabi-gcc, every call through `tinyforge.proc.run_tool`.

build_image(spec) -> FirmwareImage          any set of sources + a linker script
build_program(board, sources, out_dir)      a BSP program (bootloader, test firmware): adds the
                                            BSP sources, bsp_config.h and linker.ld
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from tinyforge import proc
from tinyforge.errors import BuildError, ToolError
from tinyforge.resources import firmware_dir
from tinyforge.toolchain.firmware import FirmwareImage, section_sizes
from tinyforge.toolchain.flags import LDLIBS, compile_flags, link_flags
from tinyforge.toolchain.objcache import compile_cached

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile

CC = "arm-none-eabi-gcc"
OBJCOPY = "arm-none-eabi-objcopy"
COMPILE_TIMEOUT = 600.0

_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")


@dataclass(frozen=True)
class BuildSpec:
    board: BoardProfile
    sources: tuple[Path, ...]  # .c and .S files
    include_dirs: tuple[Path, ...]
    linker_script: Path
    out_dir: Path  # objects go to out_dir/build, the image to out_dir/<name>.elf/.bin/.hex
    opt: str = "speed"
    name: str = "firmware"
    defines: tuple[str, ...] = ()  # "NAME" or "NAME=VALUE"
    file_flags: Mapping[Path, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    source_root: Path | None = None  # object names mirror paths relative to this (default out_dir)
    # sources that are the same for every model (kernels, BSP): their objects are cached across builds
    library_dirs: tuple[Path, ...] = ()


def object_path(spec: BuildSpec, src: Path) -> Path:
    root = spec.source_root or spec.out_dir
    if not src.is_absolute():
        stem = src.as_posix()  # relative to out_dir, where the compiler runs
    else:
        try:
            stem = src.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            stem = f"ext/{src.parent.name}/{src.name}"
    return spec.out_dir / "build" / (stem + ".o")


def compile_argv(spec: BuildSpec, src: Path) -> list[str]:
    argv = [CC, *compile_flags(spec.board, spec.opt)]
    argv += [f"-D{d}" for d in spec.defines]
    for inc in spec.include_dirs:
        argv.append(f"-I{inc}")
    argv += list(spec.file_flags.get(src, ()))
    argv += ["-c", str(src), "-o", str(object_path(spec, src))]
    return argv


def link_argv(spec: BuildSpec, objects: Sequence[Path]) -> list[str]:
    elf = spec.out_dir / f"{spec.name}.elf"
    return [
        CC,
        *link_flags(spec.board),
        f"-T{spec.linker_script}",
        f"-Wl,-Map={spec.out_dir / (spec.name + '.map')}",
        *[str(o) for o in objects],
        *LDLIBS,
        "-o",
        str(elf),
    ]


def compile_objects(spec: BuildSpec) -> list[Path]:
    objs = [object_path(spec, s) for s in spec.sources]
    if len(set(objs)) != len(objs):
        raise ValueError("two sources map to the same object file")
    for o in objs:
        o.parent.mkdir(parents=True, exist_ok=True)
    proc.find_tool(CC)  # a missing compiler is one clear error, not one per file

    library = [(spec.out_dir / d).resolve() for d in spec.library_dirs] + [firmware_dir().resolve()]

    def one(src: Path) -> None:
        def run(argv: Sequence[str]) -> None:
            proc.run_tool(argv, cwd=spec.out_dir, timeout=COMPILE_TIMEOUT, what=f"compiling {src.name}")

        try:
            argv = compile_argv(spec, src)
            full = (spec.out_dir / src).resolve()
            if any(full.is_relative_to(lib) for lib in library):
                compile_cached(argv, Path(src), object_path(spec, src), run, spec.out_dir)
            else:
                run(argv)
        except ToolError as exc:
            raise BuildError(
                exc.message, hint="the generated code or a kernel does not compile; please report it"
            ) from exc

    workers = max(1, min(len(spec.sources), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, spec.sources))
    return objs


def link(spec: BuildSpec, objects: Sequence[Path]) -> Path:
    res = proc.run_tool(
        link_argv(spec, objects), cwd=spec.out_dir, timeout=COMPILE_TIMEOUT, check=False, what="linking"
    )
    if res.returncode != 0:
        text = res.stderr + res.stdout
        over = _OVERFLOW.findall(text)
        if over:
            detail = ", ".join(f"{region} overflowed by {int(n):,} bytes" for region, n in over)
            raise BuildError(
                f"firmware does not fit {spec.board.name}: {detail}",
                hint="build with --opt size, or pick a board with more memory",
            )
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        raise BuildError(
            f"linking failed: {'; '.join(lines[:3]) or 'no output'}",
            hint="run again with TINYFORGE_VERBOSE=1 to see the full command",
        )
    return spec.out_dir / f"{spec.name}.elf"


def objcopy(elf: Path) -> tuple[Path, Path]:
    bin_path, hex_path = elf.with_suffix(".bin"), elf.with_suffix(".hex")
    proc.run_tool([OBJCOPY, "-O", "binary", str(elf), str(bin_path)], what="objcopy")
    proc.run_tool([OBJCOPY, "-O", "ihex", str(elf), str(hex_path)], what="objcopy")
    return bin_path, hex_path


def build_image(spec: BuildSpec) -> FirmwareImage:
    spec.out_dir.mkdir(parents=True, exist_ok=True)
    objects = compile_objects(spec)
    elf = link(spec, objects)
    bin_path, hex_path = objcopy(elf)
    return FirmwareImage(elf, bin_path, hex_path, section_sizes(elf))


def build_program(
    board: BoardProfile,
    sources: Sequence[Path],
    out_dir: Path,
    *,
    include_dirs: Sequence[Path] = (),
    app_offset: int = 0,
    opt: str = "size",
    name: str = "firmware",
    defines: Sequence[str] = (),
) -> FirmwareImage:
    """Build a program written on the BSP API (firmware/bsp/bsp.h) for `board`.

    Writes bsp_config.h and linker.ld into `out_dir`, compiles `sources` + the board's BSP, links
    at flash origin + `app_offset`. Example (a serial bootloader at offset 0, an app at 16 KB):
        build_program(board, [Path("boot.c")], Path("out/boot"))   # board: a BoardProfile
    """
    from tinyforge.toolchain.bsp import bsp_dir, bsp_sources, write_bsp_files

    out_dir = Path(out_dir).resolve()  # the compiler runs in out_dir: every path absolute
    write_bsp_files(board, out_dir, app_offset=app_offset)
    spec = BuildSpec(
        board=board,
        sources=(*[Path(s).resolve() for s in sources], *bsp_sources(board)),
        include_dirs=(out_dir, bsp_dir(), *[Path(i).resolve() for i in include_dirs]),
        linker_script=out_dir / "linker.ld",
        out_dir=out_dir,
        opt=opt,
        name=name,
        defines=tuple(defines),
    )
    return build_image(spec)
