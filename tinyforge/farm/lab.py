"""The emulated lab: N emulated benches behind a local labgrid, for tests and for users without
boards. Everything listens on 127.0.0.1.

One supervisor process (`tinyforge lab serve`, which `lab up` starts detached) owns the lab:
- a labgrid coordinator (`labgrid-coordinator --listen 127.0.0.1:PORT`, its places in DIR/coordinator);
- per place, an emulated bench: tinyforge's serial bootloader in QEMU (flash/emulated_bench.py),
  its console UART on a pty, served by ser2net as RFC 2217 on a 127.0.0.1 TCP port, as a labgrid
  exporter serves a board's USB serial port;
- a labgrid exporter publishing each of those ports as a NetworkSerialPort, and places `bench-1`,
  `bench-2`, ... tagged `tinyforge.board=<board>` that match them.

The exporter and the ser2net instances are one unit, like the host a real exporter runs on: when
one of them dies the supervisor stops the rest (the serial links drop, as when that host goes
down) and starts them again; a bench whose QEMU ends is started again with its ser2net. `lab down`
(or SIGTERM to the supervisor) stops everything; the supervisor's children die with it even when
it is killed (proc.py's parent-death signal). DIR/lab.json says what runs where; DIR/lab.log is
the supervisor's and its children's output.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tinyforge import proc
from tinyforge.errors import RunError, ToolError, UsageError

if TYPE_CHECKING:
    from tinyforge.boards import BoardProfile
    from tinyforge.flash.emulated_bench import Emulator

STATE_FILE = "lab.json"
LOG_FILE = "lab.log"
EXPORTER_NAME = "tinyforge-lab"
HOST = "127.0.0.1"
SERIAL_CLASS = "NetworkSerialPort"
POLL = 0.2  # seconds between the supervisor's health checks
START_TIMEOUT = 60.0  # seconds for the whole lab to come up (the bootloader is built beforehand)


@dataclass(frozen=True)
class LabPlace:
    name: str
    board: str
    port: str  # the bench's serial port as ser2net serves it (what the place resolves to)
    pty: str


@dataclass(frozen=True)
class LabState:
    """DIR/lab.json: the supervisor's pid (= its process group), the coordinator's address, the
    places, the exporter's pid, and whether the lab is ready."""

    directory: str
    pid: int
    coordinator: str
    places: tuple[LabPlace, ...]
    exporter_pid: int | None
    ready: bool
    pids: tuple[int, ...] = ()  # every process of the lab: supervisor, coordinator, QEMUs, ser2nets, exporter

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabState:
        return cls(
            directory=d["directory"],
            pid=int(d["pid"]),
            coordinator=d["coordinator"],
            places=tuple(LabPlace(**p) for p in d["places"]),
            exporter_pid=d.get("exporter_pid"),
            ready=bool(d.get("ready")),
            pids=tuple(int(p) for p in d.get("pids", ())),
        )


def place_names(count: int) -> list[str]:
    return [f"bench-{i}" for i in range(1, count + 1)]


def read_state(directory: str | Path) -> LabState | None:
    path = Path(directory) / STATE_FILE
    try:
        return LabState.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_state(directory: Path, state: LabState) -> None:
    tmp = directory / f".{STATE_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(state.to_dict(), indent=2))
    os.replace(tmp, directory / STATE_FILE)


def _is_supervisor(pid: int) -> bool:
    """pid is a running `tinyforge lab serve` (not a recycled pid of something else)."""
    if not proc.group_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return sys.platform != "linux"
    return b"lab" in cmdline and b"serve" in cmdline


def labgrid_tool(name: str) -> str:
    """labgrid's programs: beside this Python (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    try:
        return proc.find_tool(name)
    except ToolError:
        raise ToolError(f"{name} not found", hint='pip install "tinyforge[farm]" (labgrid)') from None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, alive: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1.0):
                return
        except OSError:
            pass
        if not alive():
            raise RunError(f"{what} exited while starting", hint="see the lab log")
        if time.monotonic() > deadline:
            raise RunError(f"{what} did not listen on {HOST}:{port} within {timeout:g} s")
        time.sleep(0.05)


def ser2net_argv(device: str, port: int, speed: int = 115200) -> list[str]:
    """ser2net (4.x) serving `device` as RFC 2217 on 127.0.0.1:port; `nodelay` so each AN3155
    acknowledgement leaves at once (with Nagle a 64 KB flash takes 3x longer)."""
    return [
        "ser2net",
        "-d",
        "-n",
        "-Y",
        f"connection: &bench#  accepter: telnet(rfc2217,mode=server),tcp(nodelay),{HOST},{port}",
        "-Y",
        f"  connector: serialdev(nouucplock=true),{device},{speed}n81,local",
        "-Y",
        "  options:",
        "-Y",
        "    max-connections: 10",  # a console may watch while another connection flashes
    ]


def exporter_config(places: list[LabPlace], ports: list[int]) -> str:
    """The exporter's resource file: one group per place, its bench's ser2net port."""
    lines = []
    for place, port in zip(places, ports, strict=True):
        lines += [
            f"{place.name}:",
            f"  {SERIAL_CLASS}:",
            f"    host: {HOST}",
            f"    port: {port}",
            "    speed: 115200",
            "    protocol: rfc2217",
        ]
    return "\n".join(lines) + "\n"


def match_for(place: str) -> str:
    return f"{EXPORTER_NAME}/{place}/{SERIAL_CLASS}/{SERIAL_CLASS}"


class _Lab:
    """The supervisor's children and how to (re)start them."""

    def __init__(self, directory: Path, boards: list[BoardProfile], log: IO[bytes]) -> None:
        self.dir = directory
        self.boards = boards
        self.log = log
        self.names = place_names(len(boards))
        self.ser2net_ports = [_free_port() for _ in boards]
        self.coordinator_port = _free_port()
        self.coordinator = f"{HOST}:{self.coordinator_port}"
        self.benches: list[Emulator | None] = [None] * len(boards)
        self.ser2nets: list[proc.Process | None] = [None] * len(boards)
        self.exporter: proc.Process | None = None
        self.coordinator_proc: proc.Process | None = None

    def note(self, text: str) -> None:
        self.log.write(f"[lab {time.strftime('%H:%M:%S')}] {text}\n".encode())
        self.log.flush()

    def start_coordinator(self) -> None:
        workdir = self.dir / "coordinator"
        workdir.mkdir(parents=True, exist_ok=True)
        p = proc.start_tool(
            [labgrid_tool("labgrid-coordinator"), "--listen", self.coordinator],
            cwd=workdir,
            stdout=self.log.fileno(),
            stderr=proc.STDOUT,
        )
        self.coordinator_proc = p
        _wait_listening(self.coordinator_port, lambda: p.poll() is None, "labgrid-coordinator")
        self.note(f"coordinator on {self.coordinator} (pid {p.pid})")

    def start_bench(self, i: int) -> None:
        from tinyforge.flash.emulated_bench import build_bootloader, start_emulator

        board = self.boards[i]
        emu = start_emulator(board, build_bootloader(board), "pty")
        self.benches[i] = emu
        self.note(f"{self.names[i]}: {board.name} bench on {emu.port} (QEMU pid {emu.process.pid})")

    def start_ser2net(self, i: int) -> None:
        emu = self.benches[i]
        assert emu is not None
        port = self.ser2net_ports[i]
        p = proc.start_tool(ser2net_argv(emu.port, port), stdout=self.log.fileno(), stderr=proc.STDOUT)
        self.ser2nets[i] = p
        _wait_listening(port, lambda: p.poll() is None, f"ser2net for {self.names[i]}")

    def start_exporter(self) -> None:
        config = self.dir / "exporter.yaml"
        config.write_text(exporter_config(self.places(), self.ser2net_ports))
        self.exporter = proc.start_tool(
            [
                labgrid_tool("labgrid-exporter"),
                "--coordinator",
                self.coordinator,
                "--name",
                EXPORTER_NAME,
                "--hostname",
                HOST,
                str(config),
            ],
            stdout=self.log.fileno(),
            stderr=proc.STDOUT,
        )
        exporter = self.exporter
        from tinyforge.farm.places import wait_for_resources

        wait_for_resources(
            self.coordinator,
            [match_for(n) for n in self.names],
            START_TIMEOUT,
            alive=lambda: exporter.poll() is None,
        )
        self.note(f"exporter {EXPORTER_NAME} (pid {exporter.pid}) publishes {', '.join(self.names)}")

    def start_exporter_host(self) -> None:
        for i in range(len(self.boards)):
            self.start_ser2net(i)
        self.start_exporter()

    def stop_exporter_host(self) -> None:
        for p in [self.exporter, *self.ser2nets]:
            if p is not None:
                proc.stop(p, grace=1.0)
        self.exporter = None
        self.ser2nets = [None] * len(self.boards)

    def places(self) -> list[LabPlace]:
        return [
            LabPlace(
                name,
                board.name,
                f"rfc2217://{HOST}:{port}?ign_set_control",
                emu.port if emu is not None else "",
            )
            for name, board, port, emu in zip(
                self.names, self.boards, self.ser2net_ports, self.benches, strict=True
            )
        ]

    def state(self, ready: bool) -> LabState:
        return LabState(
            str(self.dir),
            os.getpid(),
            self.coordinator,
            tuple(self.places()),
            self.exporter.pid if self.exporter is not None else None,
            ready,
            (
                os.getpid(),
                *(p.pid for p in [self.coordinator_proc, self.exporter, *self.ser2nets] if p is not None),
                *(emu.process.pid for emu in self.benches if emu is not None),
            ),
        )

    def check(self) -> bool:
        """Start again what died; True when something was restarted."""
        restarted = False
        for i, emu in enumerate(self.benches):
            if emu is not None and not emu.running:
                self.note(
                    f"{self.names[i]}: QEMU exited ({emu.process.returncode}); starting the bench again"
                )
                p = self.ser2nets[i]
                if p is not None:
                    proc.stop(p, grace=1.0)
                emu.stop()
                self.start_bench(i)
                self.start_ser2net(i)
                restarted = True
        dead = [p for p in [self.exporter, *self.ser2nets] if p is None or p.poll() is not None]
        if dead:
            self.note("the exporter host lost a process (exporter or ser2net): restarting it, links drop")
            self.stop_exporter_host()
            self.start_exporter_host()
            restarted = True
        if self.coordinator_proc is not None and self.coordinator_proc.poll() is not None:
            raise RunError(f"the lab's labgrid-coordinator exited ({self.coordinator_proc.returncode})")
        return restarted

    def stop(self) -> None:
        self.stop_exporter_host()
        for emu in self.benches:
            if emu is not None:
                emu.stop()
        if self.coordinator_proc is not None:
            proc.stop(self.coordinator_proc)


def serve(directory: str | Path, boards: list[BoardProfile]) -> None:
    """Run the lab in the foreground until SIGTERM or Ctrl-C (under tinyforge's supervisor, which
    turns those into exceptions): coordinator, benches, exporter host, places; DIR/lab.json is
    written once it is ready and removed on the way out."""
    from tinyforge.farm.places import ensure_place

    d = Path(directory).resolve()
    d.mkdir(parents=True, exist_ok=True)
    with open(d / LOG_FILE, "ab") as log:
        lab = _Lab(d, boards, log)
        try:
            lab.note(f"starting {len(boards)} place(s) in {d} (pid {os.getpid()})")
            lab.start_coordinator()
            for i in range(len(boards)):
                lab.start_bench(i)
            lab.start_exporter_host()
            for name, board in zip(lab.names, boards, strict=True):
                ensure_place(lab.coordinator, name, board.name, match_for(name))
            _write_state(d, lab.state(ready=True))
            lab.note("ready")
            while True:
                time.sleep(POLL)
                if lab.check():
                    _write_state(d, lab.state(ready=True))
        finally:
            lab.note("stopping")
            try:
                lab.stop()
            finally:
                state = read_state(d)
                if state is not None and state.pid == os.getpid():
                    (d / STATE_FILE).unlink(missing_ok=True)


def up(directory: str | Path, count: int, board: str, timeout: float = START_TIMEOUT) -> LabState:
    """Start `tinyforge lab serve` detached and wait until the lab is ready. A lab already up in
    the folder with the same places is returned as it is."""
    d = Path(directory).resolve()
    if count < 1:
        raise UsageError(f"lab up {count}: at least one place", hint="e.g. tinyforge lab up 2")
    state = read_state(d)
    if state is not None and _is_supervisor(state.pid):
        if len(state.places) != count or any(p.board != board for p in state.places):
            raise UsageError(
                f"a lab with {len(state.places)} place(s) is already up in {d}",
                hint=f"tinyforge lab down --dir {directory} first",
            )
        return state
    d.mkdir(parents=True, exist_ok=True)
    (d / STATE_FILE).unlink(missing_ok=True)
    log = d / LOG_FILE
    start = log.stat().st_size if log.exists() else 0
    # the supervisor runs this very tinyforge, wherever it was imported from
    root = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    pid = proc.start_detached(
        [sys.executable, "-m", "tinyforge", "lab", "serve", str(count), "--dir", str(d), "--board", board],
        log=log,
        cwd=d,
        env={**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")},
    )
    deadline = time.monotonic() + timeout
    while True:
        state = read_state(d)
        if state is not None and state.pid == pid and state.ready:
            return state
        if not proc.group_alive(pid):
            raise RunError(f"the lab did not start: {_last_error(log, start)}", hint=f"see {log}")
        if time.monotonic() > deadline:
            proc.stop_group(pid)
            raise RunError(f"the lab did not come up within {timeout:g} s", hint=f"see {log}")
        time.sleep(0.1)


def _last_error(log: Path, start: int) -> str:
    try:
        with open(log, "rb") as f:
            f.seek(start)
            lines = [ln.strip() for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    errors = [ln for ln in lines if ln.startswith("error:")]
    return (errors or lines or ["no output"])[-1]


def down(directory: str | Path, grace: float = 20.0) -> bool:
    """Stop the lab running in `directory` (its supervisor stops its children). Returns whether a
    lab was running."""
    d = Path(directory).resolve()
    state = read_state(d)
    if state is None:
        return False
    running = _is_supervisor(state.pid)
    if running:
        proc.stop_group(state.pid, grace=grace)
    (d / STATE_FILE).unlink(missing_ok=True)
    return running
