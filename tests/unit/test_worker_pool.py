"""proc.worker_pool: the matrix's worker processes end with the block, normal or not."""

from __future__ import annotations

import os
import time

import pytest

from tinyforge import proc

pytestmark = pytest.mark.unit


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): look at its state
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _slow_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def test_pool_runs_work_in_other_processes() -> None:
    with proc.worker_pool(2) as pool:
        pids = set(pool.map(_slow_pid, [0.2] * 4))
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert not any(_alive(p) for p in pids)


def test_workers_are_stopped_when_the_block_fails() -> None:
    pids: list[int] = []
    with pytest.raises(RuntimeError), proc.worker_pool(2) as pool:
        pids.append(pool.submit(_slow_pid, 0).result())
        pool.submit(_slow_pid, 60)  # still running when the block fails
        pool.submit(_slow_pid, 60)
        raise RuntimeError("boom")
    assert pids and not any(_alive(p) for p in pids)
