"""The `host` runner: compile generated code with the native gcc and run it on this machine.

Fast and sanitizer-friendly; the same result protocol as firmware (TF RESULT / TF DONE lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tinyforge import proc
from tinyforge.compiler import CompiledModel
from tinyforge.errors import RunError
from tinyforge.resources import firmware_dir
from tinyforge.serial import protocol

HOST_CFLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-fno-strict-aliasing")
SANITIZE_FLAGS = (
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
    "-g",
)


@dataclass(frozen=True)
class HostBuild:
    executable: Path
    directory: Path
    sanitize: bool
    debug_layers: bool


@dataclass(frozen=True)
class HostRun:
    results: tuple[protocol.Result, ...]
    layers: dict[int, bytes]  # layer position -> output bytes (with debug_layers)
    stdout: str


def build_host(
    compiled: CompiledModel,
    directory: Path,
    *,
    sanitize: bool = False,
    debug_layers: bool = False,
    opt: str = "-O2",
) -> HostBuild:
    directory.mkdir(parents=True, exist_ok=True)
    compiled.project.write(directory)
    host = firmware_dir() / "host"
    exe = directory / ("model_host" + ("_asan" if sanitize else "") + ("_dbg" if debug_layers else ""))
    argv: list[str] = ["gcc", opt, *HOST_CFLAGS]
    if sanitize:
        argv += SANITIZE_FLAGS
    if debug_layers:
        argv += ["-DMODEL_DEBUG_LAYERS", "-include", str(host / "host_hook.h")]
    argv += ["-I", str(directory)]
    for inc in compiled.project.include_dirs:
        argv += ["-I", str(inc)]
    argv += list(compiled.project.c_sources)
    argv += [str(p) for p in compiled.project.kernel_sources]
    argv += [str(host / "host_main.c"), "-o", str(exe)]
    proc.run_tool(argv, cwd=directory, what="host gcc", timeout=600)
    return HostBuild(exe, directory, sanitize, debug_layers)


def run_host(
    build: HostBuild, records: Sequence[bytes], *, timeout: float = 120.0, reset_every: int = 0
) -> HostRun:
    """Run the records in order (a stateful model carries its state from one to the next;
    `reset_every` N > 0 calls model_reset_state() before records N, 2N, ...)."""
    inputs_file = build.directory / "inputs.bin"
    inputs_file.write_bytes(b"".join(records))
    argv = [str(build.executable), str(inputs_file)]
    if build.debug_layers:
        argv.append("--layers")
    if reset_every > 0:
        argv += ["--reset-every", str(reset_every)]
    res = proc.run_tool(argv, cwd=build.directory, timeout=timeout, check=False, what="host model")
    if res.returncode != 0:
        detail = (res.stderr.strip().splitlines() or ["no output"])[:3]
        raise RunError(
            f"the host build of the model exited with code {res.returncode}: {'; '.join(detail)}",
            hint="this is a kernel bug if it came from a sanitizer; please report it",
        )
    results: list[protocol.Result] = []
    logs: list[str] = []
    done = None
    for line in res.stdout.splitlines():
        rec = protocol.parse_line(line)
        if isinstance(rec, protocol.Result):
            results.append(rec)
        elif isinstance(rec, protocol.Log):
            logs.append(rec.text)
        elif isinstance(rec, protocol.Done):
            done = rec
    if done is None:
        raise RunError("the host model did not print its final TF DONE line")
    if res.stderr.strip():
        raise RunError(f"the host model wrote to stderr: {res.stderr.strip().splitlines()[0]}")
    return HostRun(tuple(results), protocol.layer_outputs(logs), res.stdout)
