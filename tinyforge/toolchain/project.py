"""A firmware build directory for a compiled model: every file (generated model, harness, test
inputs, BSP and kernel copies, linker script, Makefile), written only where tinyforge may write.

    DIR/model.tflite         the int8 model
    DIR/Makefile linker.ld   rebuild without tinyforge
    DIR/src/                 main.c (harness), inputs.S/.bin/.h, manifest.c, bsp_config.h
    DIR/lib/model/           the generated model (model.c/.h, weights.S/.bin/.h, model_data.c/.h)
    DIR/lib/kernels/         the kernel library (copied from firmware/kernels)
    DIR/lib/bsp/             the board support package (copied from firmware/bsp)
    DIR/build/               objects
    DIR/firmware.elf/.bin/.hex/.map, report.json
    DIR/.tinyforge-files     what tinyforge wrote (so it never overwrites anything else)
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tinyforge import __version__
from tinyforge.codegen.jinja import render
from tinyforge.errors import BuildError
from tinyforge.resources import firmware_dir
from tinyforge.toolchain import bsp as bsp_mod
from tinyforge.toolchain.flags import BASE_CFLAGS, LDFLAGS, LDLIBS, WARN_FLAGS, cpu_flags, opt_flag
from tinyforge.toolchain.gcc import BuildSpec
from tinyforge.toolchain.manifest import manifest_json

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.compiler import CompiledModel

LISTING = ".tinyforge-files"
GENERATED_OUTPUTS = ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.map", "report.json")
OWNED_DIRS = ("build",)
INCLUDE_DIRS = ("src", "lib/model", "lib/kernels", "lib/bsp")
# assembler sources that .incbin a .bin of the same name (make must know)
INCBIN_SOURCES = ("lib/model/weights.S", "src/inputs.S")


@dataclass(frozen=True)
class FirmwareProject:
    directory: Path
    board: BoardProfile
    files: Mapping[str, bytes]  # relative path -> content (sources, Makefile, linker script...)
    sources: tuple[str, ...]  # relative, compiled in this order
    opt: str
    app_offset: int
    arena_region: str
    manifest: Mapping[str, Any]
    # source -> the kernel variant defines it reads (`-DTF_MVE_GEMM_VARIANTS=0x28`): per file, so
    # the object cache keys only those objects by the model's variants
    file_defines: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def spec(
        self,
        *,
        defines: Sequence[str] = (),
        profile_layers: bool = False,
        dump_layers: bool = False,
        name: str = "firmware",
    ) -> BuildSpec:
        """How to compile the directory; `profile_layers` times every layer, `dump_layers` prints
        every layer's output (both through MODEL_LAYER_HOOK, so not together)."""
        d = self.directory
        file_flags = {Path(src): tuple(f"-D{d}" for d in ds) for src, ds in self.file_defines.items()}
        defs = tuple(defines)
        if profile_layers and dump_layers:
            raise ValueError("profile_layers and dump_layers both use MODEL_LAYER_HOOK")
        if profile_layers:
            defs += ("TF_PROFILE_LAYERS",)
            file_flags[Path("lib/model/model.c")] = ("-include", "tf_profile.h")
        if dump_layers:
            defs += ("TF_DUMP_LAYERS", "MODEL_DEBUG_LAYERS")
            file_flags[Path("lib/model/model.c")] = ("-include", "tf_dump.h")
        return BuildSpec(
            board=self.board,
            sources=tuple(Path(s) for s in self.sources),
            include_dirs=tuple(Path(i) for i in INCLUDE_DIRS),
            linker_script=Path("linker.ld"),
            out_dir=d,
            opt=self.opt,
            name=name,
            defines=defs,
            file_flags=MappingProxyType(file_flags),
            source_root=d,
            library_dirs=(Path("lib/kernels"), Path("lib/bsp")),
        )


def build_time() -> str:
    """UTC build time; SOURCE_DATE_EPOCH (reproducible builds) wins when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def variant_defines_for(source: bytes, defines: Sequence[str]) -> tuple[str, ...]:
    """The `MACRO=bits` defines whose macro the kernel source reads."""
    return tuple(d for d in defines if d.partition("=")[0].encode() in source)


def _copy_tree_files(root: Path, dest: str, suffixes: tuple[str, ...]) -> dict[str, bytes]:
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in suffixes:
            out[f"{dest}/{p.relative_to(root).as_posix()}"] = p.read_bytes()
    return out


def _lib_path(p: Path) -> str:
    """firmware/kernels/x.c -> lib/kernels/x.c (kernel and BSP sources are copied into the build)."""
    for sub, dest in (("kernels", "lib/kernels"), ("bsp", "lib/bsp")):
        root = firmware_dir() / sub
        try:
            return f"{dest}/{p.resolve().relative_to(root.resolve()).as_posix()}"
        except ValueError:
            continue
    raise BuildError(f"{p}: a kernel source outside firmware/ cannot be copied into the build")


def assemble(
    compiled: CompiledModel,
    board: BoardProfile,
    directory: Path,
    *,
    records: Sequence[bytes],
    opt: str = "speed",
    app_offset: int = 0,
    arena_region: str = "RAM",
    model_bytes: bytes | None = None,
    serve: bool = False,
    labels: Sequence[str] | None = None,
    flash_method: str | None = None,
    image_shared: int | None = None,
) -> FirmwareProject:
    """Every file of the build directory, in memory (nothing is written here). `serve`: the
    harness answers the host link (firmware/bsp/tf_link.c) after its run; then `records` may be
    empty. `labels` go into the manifest (and labels.txt). `image_shared`: the firmware runs from
    a signed image slot; the harness confirms the image on its first passing TF DONE through
    tf_image.c, which finds the bootloader's status block at this address."""
    from tinyforge.toolchain.qemu_cmd import TRUSTZONE_CPUS, qemu_argv

    if not records and not serve:
        raise BuildError("the firmware needs at least one input record", hint="use --inputs 1 or more")
    record_bytes = sum(s.nbytes for s in compiled.inputs)
    if any(len(r) != record_bytes for r in records):
        raise BuildError(f"input records must be {record_bytes} bytes (every model input back to back)")
    opt_flag(opt)  # validates
    files: dict[str, bytes] = {}
    files["model.tflite"] = model_bytes if model_bytes is not None else compiled.source.data
    for rel, data in compiled.project.files.items():
        files[f"lib/model/{rel}"] = data
    # kernel library: headers + the sources this model's kernels need; the BSP: headers + sources
    kroot = firmware_dir() / "kernels"
    files.update(_copy_tree_files(kroot, "lib/kernels", (".h",)))
    kernel_srcs = [_lib_path(p) for p in compiled.project.kernel_sources]
    file_defines: dict[str, tuple[str, ...]] = {}
    for p, rel in zip(compiled.project.kernel_sources, kernel_srcs, strict=True):
        files[rel] = p.read_bytes()
        defs = variant_defines_for(files[rel], compiled.project.kernel_defines)
        if defs:
            file_defines[rel] = defs
    for inc in compiled.project.include_dirs:
        if inc.resolve() != kroot.resolve():
            _lib_path(inc / "x")  # raises for an include dir we cannot reproduce
    bsp_files = [
        *bsp_mod.bsp_sources(board),
        *((bsp_mod.link_source(),) if serve else ()),
        *((bsp_mod.bsp_dir() / bsp_mod.IMAGE_SOURCE,) if image_shared is not None else ()),
    ]
    bsp_srcs = [_lib_path(p) for p in bsp_files]
    for p, rel in zip(bsp_files, bsp_srcs, strict=True):
        files[rel] = p.read_bytes()
    for h in bsp_mod.bsp_headers():
        files[f"lib/bsp/{h.name}"] = h.read_bytes()

    manifest = {
        "tinyforge": __version__,
        "board": board.name,
        "cpu": board.cpu,
        "model": compiled.name,
        "model_sha256": hashlib.sha256(compiled.source.data).hexdigest(),
        "build_time": build_time(),
        "optimize": compiled.target.optimize,
        "opt": opt,
        "app_offset": app_offset,
        "flash_method": flash_method,
        "serve": serve,
        "inputs": len(records),
        "arena_bytes": compiled.stats.arena_bytes,
        "weight_bytes": compiled.stats.weight_bytes,
        "outputs": [
            {"bytes": o.nbytes, "scale": o.scale, "zero_point": o.zero_point} for o in compiled.outputs
        ],
        "weights": compiled.stats.weights_summary(),
    }
    if labels is not None:
        manifest["labels"] = list(labels)
        files["labels.txt"] = "".join(f"{label}\n" for label in labels).encode()
    if image_shared is not None:
        manifest["image"] = "mcuboot"
    ios = [
        {"i": i, "offset": sum(s.nbytes for s in compiled.inputs[:i])} for i in range(len(compiled.inputs))
    ]
    outs = [{"i": i} for i in range(len(compiled.outputs))]
    files["src/main.c"] = render(
        "main.c.j2",
        board_name=board.name,
        model_name=compiled.name,
        count=len(records),
        inputs=ios,
        outputs=outs,
        serve=serve,
        image_confirm=image_shared is not None,
    ).encode()
    files["src/inputs.h"] = render("inputs.h.j2", count=len(records), record_bytes=record_bytes).encode()
    files["src/inputs.S"] = render(
        "inputs.S.j2", count=len(records), record_bytes=record_bytes, total_bytes=record_bytes * len(records)
    ).encode()
    files["src/inputs.bin"] = b"".join(records)
    files["src/manifest.c"] = render("manifest.c.j2", manifest_json=manifest_json(manifest)).encode()
    image_defines = [("TF_BOOT_SHARED_ADDR", f"0x{image_shared:08X}u")] if image_shared is not None else []
    files["src/bsp_config.h"] = bsp_mod.render_bsp_config(board, image_defines).encode()
    files["linker.ld"] = bsp_mod.render_linker(
        board, app_offset=app_offset, arena_region=arena_region
    ).encode()

    model_srcs = [f"lib/model/{s}" for s in compiled.project.c_sources]
    sources = ("src/main.c", "src/inputs.S", "src/manifest.c", *model_srcs, *kernel_srcs, *bsp_srcs)
    cflags = [opt_flag(opt), *BASE_CFLAGS, *WARN_FLAGS]
    files["Makefile"] = render(
        "Makefile.j2",
        board_name=board.name,
        version=__version__,
        cpu_flags=list(cpu_flags(board)),
        cflags=cflags,
        include_dirs=list(INCLUDE_DIRS),
        ldflags=list(LDFLAGS),
        ldlibs=list(LDLIBS),
        linker_script="linker.ld",
        sources=list(sources),
        file_defines=[(f"build/{src}.o", [f"-D{d}" for d in ds]) for src, ds in sorted(file_defines.items())],
        incbin=[
            (f"build/{src}.o", src.removesuffix(".S") + ".bin") for src in sources if src in INCBIN_SOURCES
        ],
        qemu_command=qemu_argv(board, "firmware.elf", app_offset=app_offset)
        if board.is_emulated and not (app_offset and board.cpu in TRUSTZONE_CPUS)
        else [],
    ).encode()
    return FirmwareProject(
        directory=directory,
        board=board,
        files=MappingProxyType(files),
        sources=sources,
        opt=opt,
        app_offset=app_offset,
        arena_region=arena_region,
        manifest=MappingProxyType(manifest),
        file_defines=MappingProxyType(file_defines),
    )


# ---- writing without clobbering user files ------------------------------------------------------


def owned_files(directory: Path) -> set[str] | None:
    """What a previous tinyforge build wrote into `directory` (None: no listing there)."""
    listing = directory / LISTING
    if not listing.is_file():
        return None
    try:
        data = json.loads(listing.read_text())
        return {str(x) for x in data["files"]}
    except (ValueError, KeyError, TypeError):
        return None


def foreign_files(directory: Path) -> list[str]:
    """Files in `directory` that tinyforge did not write."""
    if not directory.exists():
        return []
    if not directory.is_dir():
        return [directory.name]
    owned = owned_files(directory) or set()
    foreign = []
    for p in sorted(directory.rglob("*")):
        if p.is_dir():
            continue
        rel = p.relative_to(directory).as_posix()
        if rel == LISTING or rel in owned or rel.split("/", 1)[0] in OWNED_DIRS:
            continue
        foreign.append(rel)
    return foreign


def check_directory(directory: Path, *, force: bool = False) -> None:
    if directory.exists() and not directory.is_dir():
        raise BuildError(f"{directory} exists and is not a directory", hint="choose another -o DIR")
    if force:
        return
    foreign = foreign_files(directory)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise BuildError(
            f"{directory} holds files tinyforge did not write ({shown}); refusing to overwrite them",
            hint="choose an empty or new -o DIR, or pass --force to write over it",
        )


def add_owned_file(directory: Path, rel: str) -> None:
    """Record a file another step (e.g. `tinyforge sign`) wrote into a build directory, so a later
    build may replace or remove it."""
    listing = directory / LISTING
    owned = owned_files(directory) or set()
    owned.add(rel)
    listing.write_text(json.dumps({"tinyforge": __version__, "files": sorted(owned)}, indent=1) + "\n")


def write_project(project: FirmwareProject, extra: Mapping[str, bytes] | None = None) -> list[Path]:
    """Write every file (unchanged files are left alone so `make` stays incremental), remove files
    an earlier build wrote that this one does not, and record the listing."""
    files = dict(project.files)
    files.update(extra or {})
    return write_listed(project.directory, files, outputs=GENERATED_OUTPUTS)


def write_listed(directory: Path, files: Mapping[str, bytes], *, outputs: Sequence[str] = ()) -> list[Path]:
    """Write `files` (relative path -> bytes) into `directory` and record them in its listing, so
    a later run may rewrite them and nothing else; files a previous run listed that are gone from
    `files` (and `outputs`, written later by the caller) are removed. Unchanged files keep their
    time stamps. Call check_directory() first."""
    d = directory
    d.mkdir(parents=True, exist_ok=True)
    previous = owned_files(d) or set()
    keep = set(files) | set(outputs)
    for rel in sorted(previous - keep):
        p = d / rel
        if p.is_file():
            p.unlink()
    written = []
    for rel, data in sorted(files.items()):
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.is_file() or p.read_bytes() != data:
            p.write_bytes(data)
        written.append(p)
    (d / LISTING).write_text(json.dumps({"tinyforge": __version__, "files": sorted(keep)}, indent=1) + "\n")
    return written
