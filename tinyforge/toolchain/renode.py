"""Renode files for a build directory (`tinyforge build --renode`): the platform, a script and a
Robot test. run/renode.py runs them (`tinyforge test --emulator renode`).

Files written into the build directory:
    renode/<platform>.repl    the board as Renode sees it (unless Renode ships the platform)
    renode/firmware.resc      `renode renode/firmware.resc` runs the firmware with a UART analyzer
    renode/firmware.robot     `renode-test renode/firmware.robot` checks every TF RESULT line
                              against the TFLM reference outputs computed at build time
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import jinja2

from tinyforge import __version__
from tinyforge.codegen.jinja import environment, sanitize_ident
from tinyforge.errors import RunError
from tinyforge.resources import renode_dir

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.toolchain.project import FirmwareProject

# console driver -> (Renode model, family of .resc template)
UART_MODELS: dict[str, tuple[str, str]] = {
    "cmsdk-uart": ("UART.CMSDK_APB_UART", "mps"),
    "stm32-usart": ("UART.STM32_UART", "stm32"),
    "stm32-usart-v2": ("UART.STM32F7_USART", "stm32"),
    "stm32-lpuart": ("UART.STM32F7_USART", "stm32"),
}
# Names Renode's own STM32F4 platform gives its U(S)ARTs, by base address (RM0090 memory map)
STM32F4_UART_NAMES = {
    0x40011000: "usart1",
    0x40004400: "usart2",
    0x40004800: "usart3",
    0x40004C00: "uart4",
    0x40005000: "uart5",
    0x40011400: "usart6",
}
# Renode cpuType per core (the "f" variants have the FPU)
CPU_TYPES = {
    ("cortex-m3", False): "cortex-m3",
    ("cortex-m4", False): "cortex-m4",
    ("cortex-m4", True): "cortex-m4f",
    ("cortex-m7", False): "cortex-m7",
    ("cortex-m7", True): "cortex-m7",
    ("cortex-m33", False): "cortex-m33",
    ("cortex-m33", True): "cortex-m33f",
    ("cortex-m55", False): "cortex-m55",
    ("cortex-m55", True): "cortex-m55",
}


@cache
def _env() -> jinja2.Environment:
    return environment().overlay(loader=jinja2.FileSystemLoader(str(renode_dir())))


def render(name: str, **values: Any) -> str:
    return _env().get_template(name).render(**values)


def _shipped(board: BoardProfile) -> bool:
    p = board.emulator.renode_platform or ""
    return p.startswith("platforms/")


def uart_name(board: BoardProfile) -> str:
    if _shipped(board):
        name = STM32F4_UART_NAMES.get(board.console.base)
        if name is None:
            raise RunError(
                f"board {board.name}: no known Renode name for the UART at 0x{board.console.base:08x}"
            )
        return name
    return "lpuart1" if board.console.driver == "stm32-lpuart" else "uart0"


def platform_repl(board: BoardProfile) -> str:
    """A Renode platform (.repl) built from the board profile."""
    model, _family = _uart_model(board)
    fpu = bool(board.fpu and board.fpu != "none")
    cpu_type = CPU_TYPES.get((board.cpu, fpu))
    if cpu_type is None:
        raise RunError(f"board {board.name}: Renode has no cpuType for {board.cpu}")
    memories = [
        {"name": sanitize_ident(r.name).lower(), "origin": f"0x{r.origin:08X}", "size": f"0x{r.size:X}"}
        for r in board.regions
    ]
    props: list[tuple[str, str]] = []
    if board.console.driver == "cmsdk-uart":
        props.append(("frequency", str(board.console.clock_hz)))
    return render(
        "cortex-m.repl.j2",
        board_name=board.name,
        cpu_type=cpu_type,
        systick_hz=board.timer.hz,
        memories=memories,
        uart_name=uart_name(board),
        uart_model=model,
        uart_base=f"0x{board.console.base:08X}",
        uart_props=props,
    )


def _uart_model(board: BoardProfile) -> tuple[str, str]:
    entry = UART_MODELS.get(board.console.driver)
    if entry is None:
        raise RunError(f"board {board.name}: no Renode model for console driver {board.console.driver!r}")
    return entry


def render_renode_files(
    board: BoardProfile,
    project: FirmwareProject,
    *,
    expected: list[tuple[bytes, ...]] | None = None,
    timeout: int = 120,
) -> dict[str, bytes]:
    """renode/*.repl, firmware.resc and firmware.robot for a build directory. `expected` are the
    reference outputs per input record (computed with the TFLM reference when not given)."""
    if not board.emulator.renode_platform:
        raise RunError(
            f"--renode: board {board.name} has no Renode platform",
            hint="set emulator.renode_platform in its board file",
        )
    _model, family = _uart_model(board)
    files: dict[str, bytes] = {}
    platform = board.emulator.renode_platform
    if _shipped(board):
        platform_ref = f"@{platform}"
        platform_path = platform
    else:
        files[f"renode/{platform}"] = platform_repl(board).encode()
        platform_ref = f"@${{CURDIR}}/{platform}"
        platform_path = f"$ORIGIN/{platform}"
    if expected is None:
        expected = reference_for_project(project)
    manifest = project.manifest
    results = [
        {"idx": i, "outputs": " ".join(f"out{j}={o.hex()}" for j, o in enumerate(outs))}
        for i, outs in enumerate(expected)
    ]
    common = {
        "board_name": board.name,
        "model_name": str(manifest.get("model", "model")),
        "vector_table": f"0x{board.flash.origin + project.app_offset:08X}",
        "uart_name": uart_name(board),
    }
    files["renode/firmware.resc"] = render(
        f"{family}.resc.j2",
        resc_name="renode/firmware.resc",
        elf_path="$ORIGIN/../firmware.elf",
        platform_path=platform_path,
        **common,
    ).encode()
    files["renode/firmware.robot"] = render(
        "firmware.robot.j2",
        family=family,
        version=__version__,
        robot_name="renode/firmware.robot",
        elf_rel="../firmware.elf",
        platform_ref=platform_ref,
        timeout=timeout,
        model_sha16=str(manifest.get("model_sha256", ""))[:16],
        count=len(expected),
        results=results,
        **common,
    ).encode()
    return files


def reference_for_project(project: FirmwareProject) -> list[tuple[bytes, ...]]:
    """TFLM reference outputs for the input records baked into the project."""
    import numpy as np

    from tinyforge.model.reference import run_reference

    model = project.files["model.tflite"]
    blob = project.files["src/inputs.bin"]
    count = int(project.manifest["inputs"])
    specs = _input_specs(model)
    n = len(blob) // count
    batches = []
    for i in range(count):
        rec, off, parts = blob[i * n : (i + 1) * n], 0, []
        for shape, nbytes, dtype in specs:
            raw = np.frombuffer(rec[off : off + nbytes], dtype=np.dtype(dtype).newbyteorder("<"))
            parts.append(raw.astype(dtype).reshape(shape))
            off += nbytes
        batches.append(parts)
    return [r.outputs for r in run_reference(model, batches)]


def _input_specs(model: bytes) -> list[tuple[tuple[int, ...], int, str]]:
    import tempfile

    from tinyforge.model.tflite import read_tflite

    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(model)
        f.flush()
        g = read_tflite(f.name).graph
    return [(tuple(g.tensor(i).shape), g.tensor(i).nbytes, g.tensor(i).dtype) for i in g.inputs]
