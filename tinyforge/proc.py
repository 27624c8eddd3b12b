"""The one seam through which tinyforge runs external programs.

Every gcc, objcopy, qemu, stm32flash or addr2line call goes through `run_tool` (blocking) or
`start_tool` (background process), so tests can record or assert the exact command lines and a
missing tool always becomes the same clear error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tinyforge.errors import ToolError

# Where each tool comes from on Debian/Ubuntu, for the error hint.
APT_PACKAGES: dict[str, str] = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "arm-none-eabi-objcopy": "binutils-arm-none-eabi",
    "arm-none-eabi-size": "binutils-arm-none-eabi",
    "arm-none-eabi-addr2line": "binutils-arm-none-eabi",
    "arm-none-eabi-nm": "binutils-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
    "stm32flash": "stm32flash",
    "gcc": "gcc",
}


@dataclass(frozen=True)
class ToolResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


# Tests may install a recorder here: it sees every argv before it runs.
_observers: list[Callable[[tuple[str, ...]], None]] = []


def add_observer(fn: Callable[[tuple[str, ...]], None]) -> None:
    _observers.append(fn)


def remove_observer(fn: Callable[[tuple[str, ...]], None]) -> None:
    _observers.remove(fn)


def find_tool(name: str) -> str:
    """Absolute path of `name`, or a ToolError that says how to install it."""
    env_override = os.environ.get("TINYFORGE_" + name.upper().replace("-", "_"))
    if env_override:
        return env_override
    path = shutil.which(name)
    if path is None:
        pkg = APT_PACKAGES.get(name, name)
        raise ToolError(
            f"{name} not found on PATH",
            hint=f"install it with: sudo apt-get install {pkg}",
        )
    return path


def _resolve(argv: Sequence[str | os.PathLike[str]]) -> tuple[str, ...]:
    args = tuple(str(a) for a in argv)
    if not args:
        raise ValueError("empty command line")
    exe = args[0] if os.sep in args[0] else find_tool(args[0])
    args = (exe, *args[1:])
    for fn in _observers:
        fn(args)
    return args


def run_tool(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    timeout: float | None = None,
    check: bool = True,
    input_bytes: bytes | None = None,
    what: str | None = None,
) -> ToolResult:
    """Run a tool to completion and capture its output.

    With `check`, a non-zero exit becomes a ToolError that quotes the first lines of stderr.
    """
    args = _resolve(argv)
    try:
        proc = subprocess.run(
            args, cwd=cwd, capture_output=True, timeout=timeout, input=input_bytes, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolError(
            f"{what or Path(args[0]).name} did not finish within {timeout:g} s",
            hint="the program may hang; rerun with a larger --timeout",
        ) from exc
    result = ToolResult(
        args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )
    if check and proc.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        first = "; ".join(detail[:3]) if detail else "no output"
        raise ToolError(
            f"{what or Path(args[0]).name} failed with exit code {proc.returncode}: {first}",
            hint="run again with TINYFORGE_VERBOSE=1 to see the full command and output",
        )
    return result


def start_tool(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    stdin: int | None = subprocess.DEVNULL,
    stdout: int | None = subprocess.PIPE,
    stderr: int | None = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start a long-running tool (an emulator, a server) in the background."""
    args = _resolve(argv)
    return subprocess.Popen(args, cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr)
