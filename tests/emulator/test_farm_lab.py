"""Board farms on labgrid, rehearsed on the emulated lab (`tinyforge lab up 2`: two QEMU benches
behind ser2net (RFC 2217 on 127.0.0.1), a local labgrid coordinator and exporter, places bench-1
and bench-2 tagged `tinyforge.board=mps2-an386`):

- flash + test on both places at once (two CLI processes, as two CI jobs), bit-exact and equal to
  the QEMU reference for the same inputs;
- monitor through a place while the same user flashes it;
- a place held by another labgrid user is refused naming the holder; a missing place, a place
  without a serial port and an unreachable coordinator are one-line errors;
- SIGTERM during a run releases the place; an exporter killed mid-run gives a clear error, the
  place is released, and once the lab has restarted its exporter host the same run passes;
- `lab down` leaves no process of the lab behind.

The lab is module-scoped and always stopped (lab down, then its process group killed); every CLI
process a test starts is killed in a `finally`. One firmware (KWS, serving) is built once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import shared_model

from tinyforge import api, proc
from tinyforge.farm.lab import LabState, labgrid_tool

BENCH = "mps2-an386"
MODEL = "kws_ref_model.tflite"
RUN_TIMEOUT = 120


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    directory = tmp_path_factory.mktemp("lab")
    state = api.lab_up(2, directory, BENCH)
    try:
        yield state
    finally:
        api.lab_down(directory)
        proc.stop_group(state.pid, grace=0)


@pytest.fixture(scope="module")
def kws_serving(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return api.build(shared_model(MODEL), BENCH, tmp_path_factory.mktemp("kws") / "kws", inputs=0).directory


def env_for(lab: LabState, **extra: str) -> dict[str, str]:
    env = dict(os.environ, LG_COORDINATOR=lab.coordinator, **extra)
    env.pop("LG_USERNAME", None) if "LG_USERNAME" not in extra else None
    return env


def start_cli(lab: LabState, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tinyforge", *args],
        env=env_for(lab, **env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(p: subprocess.Popen[str], timeout: float = RUN_TIMEOUT) -> tuple[int, str, str]:
    try:
        out, err = p.communicate(timeout=timeout)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return p.returncode, out, err


def run_cli(lab: LabState, *args: str, **env: str) -> tuple[int, str, str]:
    return finish(start_cli(lab, *args, **env))


def holder(lab: LabState, place: str) -> str | None:
    return {p.name: p.acquired for p in api.places(lab.coordinator)}[place]


def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_the_lab_places_are_tagged_and_served_on_loopback(lab: LabState) -> None:
    places = {p.name: p for p in api.places(lab.coordinator)}
    assert sorted(places) == ["bench-1", "bench-2"]
    assert all(p.board == BENCH and p.serial_available and p.acquired is None for p in places.values())
    assert lab.coordinator.startswith("127.0.0.1:")
    assert all(p.port.startswith("rfc2217://127.0.0.1:") for p in lab.places)


def test_flash_and_test_on_two_places_at_once_are_bit_exact(lab: LabState, kws_serving: Path) -> None:
    reference = api.test(str(shared_model(MODEL)), BENCH, inputs=4, seed=5).to_dict()  # QEMU
    flashes = [start_cli(lab, "flash", str(kws_serving), "--place", p.name, "--json") for p in lab.places]
    results = [finish(p) for p in flashes]
    for code, out, err in results:
        assert code == 0, err
        assert json.loads(out)["verified"] is True
    tests = [
        start_cli(
            lab,
            "test",
            str(kws_serving),
            "--place",
            p.name,
            "--no-flash",
            "--inputs",
            "4",
            "--seed",
            "5",
            "--json",
        )
        for p in lab.places
    ]
    reports = [finish(p) for p in tests]
    for (code, out, err), place in zip(reports, lab.places, strict=True):
        assert code == 0, err
        report = json.loads(out)
        assert report["bit_exact"] is True and report["mismatched_bytes"] == 0
        assert report["outputs"] == reference["outputs"]
        assert report["board"] == BENCH and report["port"] == place.port
    assert all(holder(lab, p.name) is None for p in lab.places)  # both released


def test_monitor_through_a_place_while_the_same_user_flashes_it(lab: LabState, tmp_path: Path) -> None:
    built = api.build(
        shared_model(MODEL), BENCH, tmp_path / "kws2", inputs=2
    ).directory  # prints, then serves
    mon = start_cli(
        lab,
        "monitor",
        "--place",
        "bench-2",
        "--expect",
        "TF DONE status=pass count=2",
        "--timeout",
        "90",
        "--stats-interval",
        "0",
    )
    try:
        wait_until(lambda: holder(lab, "bench-2") is not None, 30, "the monitor to acquire bench-2")
        time.sleep(1.0)  # its console is open
        code, _, err = run_cli(lab, "flash", str(built), "--place", "bench-2")
        assert code == 0, err
        assert holder(lab, "bench-2") is not None  # the monitor's: flash used it, did not release it
        code, out, err = finish(mon)
    finally:
        if mon.poll() is None:
            mon.kill()
            mon.wait()
    assert code == 0, err
    assert "TF RESULT idx=1" in out and "PASS; seen 'TF DONE status=pass count=2'" in out
    assert holder(lab, "bench-2") is None


def test_a_place_held_by_another_user_is_refused_with_their_name(lab: LabState, kws_serving: Path) -> None:
    client = [labgrid_tool("labgrid-client"), "-x", lab.coordinator, "-p", "bench-1"]
    alice = env_for(lab, LG_USERNAME="alice")
    subprocess.run([*client, "acquire"], env=alice, check=True, capture_output=True, timeout=30)
    try:
        code, _, err = run_cli(lab, "flash", str(kws_serving), "--place", "bench-1")
        assert code == 2
        assert err.strip().splitlines() == [err.strip().splitlines()[0]] and err.startswith(
            "error: place bench-1 is acquired by alice (on "
        )
        assert holder(lab, "bench-1").endswith("/alice")  # type: ignore[union-attr]
    finally:
        subprocess.run([*client, "release"], env=alice, check=True, capture_output=True, timeout=30)
    code, _, err = run_cli(lab, "test", str(kws_serving), "--place", "nowhere")
    assert code == 2 and err.startswith(
        "error: place nowhere does not exist on the coordinator at 127.0.0.1:"
    )
    assert "bench-1, bench-2" in err
    code, _, err = run_cli(
        lab, "monitor", "--place", "bench-1", "--coordinator", "127.0.0.1:1", "--timeout", "1"
    )
    assert code == 2 and err.startswith("error: cannot reach the labgrid coordinator at 127.0.0.1:1")
    subprocess.run([*client[:3], "-p", "bare", "create"], check=True, capture_output=True, timeout=30)
    try:
        code, _, err = run_cli(lab, "flash", str(kws_serving), "--place", "bare")
        assert code == 2 and err.startswith("error: place bare has no serial port")
    finally:
        subprocess.run([*client[:3], "-p", "bare", "delete"], check=True, capture_output=True, timeout=30)
    code, _, err = run_cli(
        lab, "flash", str(kws_serving), "--place", "bench-1", "--port", "socket://127.0.0.1:9"
    )
    assert code == 2 and "give --port or --place, not both" in err


def test_sigterm_during_a_run_releases_the_place(lab: LabState, kws_serving: Path) -> None:
    p = start_cli(lab, "flash", str(kws_serving), "--place", "bench-2")
    try:
        wait_until(lambda: holder(lab, "bench-2") is not None, 30, "flash to acquire bench-2")
        time.sleep(1.0)
        p.send_signal(signal.SIGTERM)
        code, _, err = finish(p, 30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert code == 143, err
    assert holder(lab, "bench-2") is None


def test_an_exporter_killed_mid_run_fails_clearly_releases_and_the_rerun_passes(
    lab: LabState, kws_serving: Path
) -> None:
    args = ("test", str(kws_serving), "--place", "bench-1", "--inputs", "4", "--seed", "5", "--json")
    state = api.lab_status(Path(lab.directory))
    assert state is not None and state.exporter_pid is not None
    p = start_cli(lab, *args[:-1])  # not --json: the progress lines say when the flash is under way
    err_lines: list[str] = []
    reader = threading.Thread(target=lambda: err_lines.extend(iter(p.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        # kill the exporter once the image is being written (not before the link is up: a run that
        # connects after the lab restarted its exporter host would simply pass)
        wait_until(
            lambda: any(ln.startswith("write: 25%") for ln in err_lines), 60, "the flash to be under way"
        )
        os.kill(state.exporter_pid, signal.SIGKILL)
        code = p.wait(RUN_TIMEOUT)
        reader.join(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = "".join(err_lines)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error: place bench-1: ") and "connection dropped" in lines[-1]
    assert holder(lab, "bench-1") is None

    # the lab restarts its exporter host (exporter + ser2net), as a rebooted host comes back
    def restarted() -> bool:
        now = api.lab_status(Path(lab.directory))
        return now is not None and now.exporter_pid not in (None, state.exporter_pid)

    wait_until(restarted, 60, "the lab to restart its exporter")
    wait_until(
        lambda: all(p.serial_available for p in api.places(lab.coordinator)), 60, "the exporter to come back"
    )
    code, out, err = run_cli(lab, *args)
    assert code == 0, err
    assert json.loads(out)["bit_exact"] is True
    assert holder(lab, "bench-1") is None


def test_lab_down_leaves_no_process_behind(tmp_path: Path) -> None:
    state = api.lab_up(1, tmp_path / "lab1", BENCH)
    try:
        assert len(state.pids) == 5  # supervisor, coordinator, exporter, ser2net, QEMU
        assert all(proc.group_alive(pid) or Path(f"/proc/{pid}").exists() for pid in state.pids)
        assert api.lab_up(1, tmp_path / "lab1", BENCH).pid == state.pid  # already up: the same lab
    finally:
        assert api.lab_down(tmp_path / "lab1") is True
        proc.stop_group(state.pid, grace=0)
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in state.pids), 10, "the lab to end")
    assert api.lab_status(tmp_path / "lab1") is None
    assert api.lab_down(tmp_path / "lab1") is False
