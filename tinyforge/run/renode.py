"""The `renode` runner: runs the Robot test that `tinyforge build --renode` writes
(toolchain/renode.py renders it) with `renode-test`; `tinyforge test --emulator renode` uses it
(run/testing.py).
"""

from __future__ import annotations

from pathlib import Path

from tinyforge import proc
from tinyforge.errors import RunError, ToolError

RENODE_TEST = "renode-test"
RENODE_HINT = (
    "install Renode (https://renode.io, e.g. the renode-test wrapper from its portable package) "
    "and put renode-test on PATH; or use --emulator qemu"
)


def run_renode_test(robot: Path, *, timeout: float = 300.0) -> None:
    """Run `renode-test` on a generated .robot file; RunError when a test fails."""
    exe = renode_test_path()
    res = proc.run_tool([exe, str(robot)], cwd=robot.parent, timeout=timeout, check=False, what="renode-test")
    if res.returncode != 0:
        lines = [ln for ln in (res.stdout + res.stderr).splitlines() if "FAIL" in ln or "Error" in ln]
        raise RunError(
            f"renode-test failed ({robot}): {'; '.join(lines[:3]) or f'exit code {res.returncode}'}",
            hint="open the .resc with `renode` to watch the UART",
        )


def renode_test_path() -> str:
    try:
        return proc.find_tool(RENODE_TEST)
    except ToolError as exc:
        raise ToolError(f"{RENODE_TEST} not found on PATH", hint=RENODE_HINT) from exc
