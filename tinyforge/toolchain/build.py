"""The build pipeline behind `tinyforge build`: model -> compile for the board -> fit check ->
build directory (project.py renders the sources) -> arm-none-eabi-gcc (gcc.py) -> FirmwareImage
+ memory report (report.json). toolchain/build_dir.py reads such a directory back.

build(model, board, directory) -> BuildResult
build_firmware(compiled, board, directory, records) -> BuildResult
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tinyforge.boards import BoardProfile
from tinyforge.codegen.inputs import make_inputs
from tinyforge.compiler import CompiledModel, check_optimize, compile_for
from tinyforge.errors import UsageError
from tinyforge.model.convert import load_int8_model
from tinyforge.model.tflite import LoadedModel
from tinyforge.toolchain import bsp as bsp_mod
from tinyforge.toolchain.footprint import check_fit, layer_rows, layer_table, region_usage
from tinyforge.toolchain.gcc import build_image
from tinyforge.toolchain.labels import read_labels
from tinyforge.toolchain.layout import AppLayout, app_layout
from tinyforge.toolchain.project import assemble, check_directory, write_project


@dataclass(frozen=True)
class BuildResult:
    directory: Path
    board: str
    elf: Path
    bin: Path | None
    hex: Path | None
    sizes: dict[str, int]  # SectionSizes.to_dict()
    regions: tuple[dict[str, Any], ...]  # linker region, origin, size, used
    report: dict[str, Any]  # what report.json holds
    compiled: CompiledModel = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.report)


def default_build_dir(model: str | Path, board: str) -> Path:
    """`out/<model stem>-<board>`: where `build` writes when no directory is given."""
    stem = Path(str(model).rstrip("/")).name
    for suffix in (".tflite", ".keras", ".h5"):
        stem = stem.removesuffix(suffix)
    return Path("out") / f"{stem}-{board}"


def build(
    model: str | Path | LoadedModel,
    board: BoardProfile,
    output: str | Path | None = None,
    *,
    optimize: str = "balanced",
    opt: str = "speed",
    app_offset: int | None = None,
    method: str | None = None,
    inputs: int = 4,
    seed: int = 0,
    input_file: str | Path | None = None,
    serve: bool | None = None,
    labels: str | Path | Sequence[str] | None = None,
    renode: bool = False,
    platformio: bool = False,
    force: bool = False,
    profile_layers: bool = False,
    calib: str | Path | None = None,
    mcuboot: bool = False,
) -> BuildResult:
    """Compile a model to C and build firmware for a board into a directory.

    The directory gets the int8 .tflite, the generated sources, a standalone Makefile, the
    firmware (.elf/.bin/.hex) and report.json. The firmware runs the model on `inputs` records
    baked into the image (random with `seed`, or from `input_file`) and prints the TF result
    protocol. `profile_layers` adds per-layer tick lines (`TF LOG layer n=.. ticks=..`).

    The image is linked for the board's default flash method (its loader's application offset),
    or for `method`'s, or at `app_offset`. `serve` (default: when laid out for a flash method)
    makes it answer the host link after its run, for `tinyforge test --port`; `inputs=0` builds
    no records in (a firmware only for that). `labels` (a text file, one class per line, or a
    list) name the classes of the output, for the result tables of `flash --follow` and `monitor`.
    `optimize` ("size", "balanced", "speed") is what kernel selection may spend flash on.
    `mcuboot`: for the board's signed-image slots (linked after the image header at the RAM-load
    address, the harness confirms the image; sign it with tinyforge/secureboot/sign.py).
    """
    b = board
    bsp_mod.console_driver(b)  # the host board stops here with a clear message
    check_optimize(optimize)
    layout = _mcuboot_layout(b, method, app_offset) if mcuboot else app_layout(b, method, app_offset)
    if serve is None:
        serve = layout.method is not None
    if inputs < 0 or (inputs == 0 and input_file is None and not serve):
        raise UsageError(
            f"--inputs {inputs}: the firmware needs at least one input",
            hint="--inputs 0 builds no inputs in only for a firmware that serves the host link (--serve)",
        )
    directory = (
        Path(output)
        if output is not None
        else default_build_dir(model.path if isinstance(model, LoadedModel) else model, b.name)
    )
    if isinstance(model, LoadedModel):
        loaded = model
    else:
        # a float model is converted first (in a temporary folder, calibrated on `calib`); its
        # int8 .tflite ends up in the build directory as model.tflite
        loaded = load_int8_model(model, calib=calib)
        if loaded.conversion is not None:
            note = replace(loaded.conversion, kept_at=str(directory.resolve() / "model.tflite"))
            loaded = replace(loaded, conversion=note)
    compiled = compile_for(loaded, b, optimize=optimize)
    records = make_inputs(compiled.inputs, inputs, seed, input_file).records() if inputs or input_file else []
    return build_firmware(
        compiled,
        b,
        directory,
        records,
        opt=opt,
        layout=layout,
        serve=serve,
        labels=read_labels(labels) if isinstance(labels, str | Path) else labels,
        renode=renode,
        platformio=platformio,
        force=force,
        profile_layers=profile_layers,
        mcuboot=mcuboot,
    )


def _mcuboot_layout(b: BoardProfile, method: str | None, app_offset: int | None) -> AppLayout:
    from tinyforge.secureboot.layout import require_layout

    slots = require_layout(b)
    layout = slots.app_layout(b)
    if (app_offset is not None and app_offset != layout.app_offset) or method not in (None, layout.method):
        raise UsageError(
            f"a signed image for {b.name} is laid out by its image slots ({layout.describe()})",
            hint="drop --app-offset and --method",
        )
    return layout


def build_firmware(
    compiled: CompiledModel,
    board: BoardProfile,
    directory: str | Path,
    records: list[bytes],
    *,
    opt: str = "speed",
    app_offset: int = 0,
    layout: AppLayout | None = None,
    serve: bool = False,
    labels: Sequence[str] | None = None,
    renode: bool = False,
    platformio: bool = False,
    force: bool = False,
    profile_layers: bool = False,
    dump_layers: bool = False,
    mcuboot: bool = False,
) -> BuildResult:
    """Build firmware for an already compiled model and explicit input records (each record is
    every model input back to back; none for a firmware that only serves the host link). See
    `build`; `layout` (else `app_offset`) says where the image goes."""
    b = board
    slots = None
    if mcuboot:
        from tinyforge.secureboot.layout import require_layout

        slots = require_layout(b)
        if layout is None:
            layout = _mcuboot_layout(b, None, None)
        if layout.app_offset != slots.app_layout(b).app_offset:
            raise UsageError(f"a signed image for {b.name} goes at {slots.app_layout(b).describe()}")
    if layout is None:
        layout = app_layout(b, app_offset=app_offset)
    app_offset = layout.app_offset
    if not records and not serve:
        raise UsageError("the firmware needs at least one input record", hint="use --inputs 1 or more")
    if labels is not None:
        check_labels(labels, compiled)
    directory = Path(directory).resolve()
    s = compiled.stats
    budget = check_fit(
        b,
        weight_bytes=s.weight_bytes,
        optimize=compiled.target.optimize,
        weights_mode=s.weights_mode,
        weights_model_bytes=s.weights_model_bytes,
        arena_bytes=s.arena_bytes,
        scratch_bytes=s.scratch_bytes,
        input_bytes=sum(len(r) for r in records),
        output_bytes=sum(o.nbytes for o in compiled.outputs),
        app_offset=app_offset,
        for_emulator=b.is_emulated,
    )
    bsp_mod.link_regions(b, app_offset)  # validates --app-offset before anything is written
    check_directory(directory, force=force)
    project = assemble(
        compiled,
        b,
        directory,
        records=records,
        opt=opt,
        app_offset=app_offset,
        arena_region=budget.arena_region,
        serve=serve,
        labels=labels,
        flash_method=layout.method,
        image_shared=slots.shared if slots is not None else None,
    )
    extra: dict[str, bytes] = {}
    if platformio:
        from tinyforge.toolchain.platformio import render_platformio

        extra["platformio.ini"] = render_platformio(project).encode()
    if renode:
        from tinyforge.toolchain.renode import render_renode_files

        extra.update(render_renode_files(b, project))
    write_project(project, extra)
    image = build_image(project.spec(profile_layers=profile_layers, dump_layers=dump_layers))
    usage = region_usage(image.elf, bsp_mod.link_regions(b, app_offset))
    regions = tuple(
        {"name": u.name, "origin": u.origin, "size": u.size, "used": u.used, "percent": round(u.percent, 1)}
        for u in usage
    )
    report: dict[str, Any] = {
        "board": b.name,
        **({} if _builtin(b) else {"board_file": str(Path(b.source).resolve())}),
        "model": str(
            compiled.source.conversion.source if compiled.source.conversion else compiled.source.path
        ),
        "model_sha256": project.manifest["model_sha256"],
        "directory": str(directory),
        "elf": str(image.elf),
        "optimize": compiled.target.optimize,
        "opt": opt,
        "app_offset": app_offset,
        "layout": layout.to_dict(),
        "serve": serve,
        "inputs": len(records),
        "labels": list(labels) if labels is not None else None,
        "arena_region": budget.arena_region,
        "sizes": image.sizes.to_dict(),
        "flash_bytes": image.sizes.flash_bytes,
        "ram_bytes": image.sizes.ram_bytes,
        "regions": list(regions),
        "weights": {
            "mode": s.weights_mode,
            "image_bytes": s.weight_bytes,
            "model_bytes": s.weights_model_bytes,
            "ratio": round(s.weights_ratio, 3),
        },
        "model_stats": {
            "macs": s.macs,
            "layers": s.layers,
            "weight_bytes": s.weight_bytes,
            "arena_bytes": s.arena_bytes,
            "scratch_bytes": s.scratch_bytes,
            "liveness_bound": s.liveness_bound,
        },
        "stack_bytes": b.stack_bytes,
        "manifest": dict(project.manifest),
        "layers": layer_rows(layer_table(compiled)),
        "files": sorted(set(project.files) | set(extra)),
    }
    if compiled.source.conversion is not None:
        report["conversion"] = compiled.source.conversion.to_dict()
    if slots is not None:
        from tinyforge.secureboot.sign import image_settings

        report["image"] = {"format": "mcuboot", **image_settings(slots)}
        _check_slot_fit(image.bin, slots)
    (directory / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return BuildResult(
        directory, b.name, image.elf, image.bin, image.hex, image.sizes.to_dict(), regions, report, compiled
    )


def _check_slot_fit(binary: Path | None, slots: Any) -> None:
    """The image, its header and TLVs and the slot trailer must fit one slot (imgtool checks
    again when signing)."""
    from tinyforge.errors import BuildError

    if binary is None:
        return
    room = slots.size - slots.header_size - 1024 - 2048  # TLVs; trailer with imgtool's swap status
    size = binary.stat().st_size
    if size > room:
        raise BuildError(
            f"{binary}: {size} bytes do not fit an image slot of {slots.board} ({room} bytes for the firmware "
            f"in a {slots.size // 1024} KiB slot)",
            hint="make it smaller (--optimize size, --opt size, fewer --inputs)",
        )


def check_labels(labels: Sequence[str], compiled: CompiledModel) -> None:
    """Labels name the elements of the first output: as many of them as it has."""
    n = compiled.outputs[0].nbytes
    if len(labels) != n:
        raise UsageError(
            f"--labels: {len(labels)} labels for an output of {n} values",
            hint=f"give one label per class of output 0 ({n} lines)",
        )


def _builtin(b: BoardProfile) -> bool:
    """The board is one of tinyforge's own files (a board file elsewhere is recorded by path, so
    `tinyforge test DIR` and `flash DIR` find it again without --board)."""
    from tinyforge.resources import boards_dir

    return Path(b.source).resolve().parent == boards_dir().resolve()
