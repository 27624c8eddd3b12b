"""labgrid places: the one module of tinyforge that imports labgrid (the optional `farm` extra).

A labgrid lab is a coordinator (`labgrid-coordinator`), exporters on the hosts the boards hang
off (`labgrid-exporter`, which serves each serial port through ser2net) and places: named
benches that match exported resources and that a user acquires and releases. tinyforge uses a
place as a serial port: `lease()` acquires the place (or uses it when this user holds it
already), finds its `NetworkSerialPort` and turns it into a pyserial URL (`rfc2217://host:port`
or `socket://host:port`), reads the board from the place's `tinyforge.board` tag, and releases
on the way out only what it acquired itself, whatever ends the block.

This talks to the coordinator through labgrid's own Python client (`labgrid.remote.client`,
gRPC on asyncio), one short session per step, on a loop of its own (not the caller's): no session stays
open while tinyforge flashes or tests, so nothing needs the loop to run meanwhile.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tinyforge.errors import PlaceError, ToolError

DEFAULT_COORDINATOR = "127.0.0.1:20408"  # labgrid's own default (LG_COORDINATOR unset)
DEFAULT_PORT = 20408
BOARD_TAG = "tinyforge.board"
SERIAL_CLASS = "NetworkSerialPort"  # what exporters publish for USBSerialPort / RawSerialPort
CONNECT_TIMEOUT = 10.0  # seconds to reach the coordinator
PORT_TIMEOUT = 10.0  # seconds for an exporter to publish the serial port of a place just acquired


@dataclass(frozen=True)
class PlaceLease:
    """A place tinyforge may use: its serial port as a pyserial URL, the board its tag names
    (None: untagged), and whether tinyforge acquired it (and so releases it)."""

    place: str
    coordinator: str
    port: str
    board: str | None
    acquired_here: bool
    resource: str  # exporter/group/class/name of the serial port


def coordinator_address(given: str | None = None) -> str:
    """`--coordinator`, else LG_COORDINATOR, else labgrid's default 127.0.0.1:20408."""
    address = given or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR
    return address if ":" in address.rsplit("]", 1)[-1] else f"{address}:{DEFAULT_PORT}"


def identity() -> str:
    """`host/user` as labgrid records the holder of a place (LG_HOSTNAME, LG_USERNAME honoured)."""
    import getpass

    host = os.environ.get("LG_HOSTNAME") or socket.gethostname()
    user = os.environ.get("LG_USERNAME") or getpass.getuser()
    return f"{host}/{user}"


def _client() -> Any:
    # grpc's fork handlers restart its pollers in a forked child: a QEMU, a compiler or any tool
    # started after a farm session then aborts before its exec ("epoll_wait error: Bad file
    # descriptor"). tinyforge only forks to exec, so they are turned off before grpc loads.
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    try:
        from labgrid.remote import client
    except ImportError as exc:
        raise ToolError(
            "labgrid is not installed (needed for --place and `tinyforge lab`)",
            hint='pip install "tinyforge[farm]"',
        ) from exc
    return client


class _QuietLabgrid(logging.Filter):
    """labgrid's client logs a lost coordinator on the root logger; tinyforge says it in one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "labgrid" not in record.pathname


_loops = threading.local()


def _thread_loop() -> Any:
    """This thread's event loop for labgrid sessions, made once and never closed: grpc.aio's
    completion poller keeps calling the loop a channel was made on, even after it is closed."""
    import asyncio

    loop = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop


class _Session:
    """One labgrid client session (on this thread's labgrid event loop)."""

    def __init__(self, address: str) -> None:
        import asyncio

        client = _client()
        import grpc

        self.address = address
        self.loop = _thread_loop()
        asyncio.set_event_loop(self.loop)  # grpc.aio binds the channel to the current loop
        self.pb2 = client.labgrid_coordinator_pb2
        self.grpc_error: type[BaseException] = grpc.aio.AioRpcError
        self.session = client.ClientSession(address, self.loop)
        self.started = False

    def run(self, coro: Any, timeout: float = CONNECT_TIMEOUT) -> Any:
        import asyncio

        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def start(self) -> None:
        try:
            self.run(self.session.start())
        except Exception as exc:  # noqa: BLE001 - ServerError, TimeoutError, grpc errors alike
            raise PlaceError(
                f"cannot reach the labgrid coordinator at {self.address}",
                hint="is labgrid-coordinator running there? set --coordinator HOST:PORT or LG_COORDINATOR",
            ) from exc
        self.started = True

    def sync(self) -> None:
        """Let the coordinator's updates in (places, resources) up to now."""
        self.run(self.session.sync_with_coordinator())

    def call(self, method: str, request: Any, what: str) -> None:
        try:
            self.run(getattr(self.session.stub, method)(request))
            self.run(self.session.sync_with_coordinator())
        except self.grpc_error as exc:
            raise PlaceError(f"{what}: {exc.details()}") from exc  # type: ignore[attr-defined]

    def wait(self, seconds: float) -> None:
        import asyncio

        self.loop.run_until_complete(asyncio.sleep(seconds))

    def close(self) -> None:
        try:
            if self.started:
                self.run(self.session.stop(), 5.0)
            self.run(self.session.close(), 5.0)
        except Exception:  # noqa: BLE001 - closing a session to a coordinator already gone
            pass
        finally:
            import asyncio

            asyncio.set_event_loop(None)  # the loop stays open: grpc's poller may still call it


@contextmanager
def _session(address: str) -> Iterator[_Session]:
    root = logging.getLogger()
    quiet = _QuietLabgrid()
    null = logging.NullHandler() if not root.handlers else None  # keeps logging.error from basicConfig()
    root.addFilter(quiet)
    if null is not None:
        root.addHandler(null)
    s: _Session | None = None
    try:
        s = _Session(address)
        s.start()
        yield s
    finally:
        if s is not None:
            s.close()
        root.removeFilter(quiet)
        if null is not None:
            root.removeHandler(null)


def _holder(acquired: str) -> str:
    host, _, user = acquired.partition("/")
    return f"{user} (on {host})" if user else acquired


def _serial_ports(s: _Session, place: Any) -> list[tuple[tuple[str, str, str, str], Any]]:
    """(path, resource) for every exported NetworkSerialPort the place matches."""
    found = []
    for exporter, groups in sorted(s.session.resources.items()):
        for group, resources in sorted(groups.items()):
            for name, entry in sorted(resources.items()):
                path = (exporter, group, entry.cls, name)
                if entry.cls == SERIAL_CLASS and place.getmatch(path) is not None:
                    found.append((path, entry))
    return found


def _url(entry: Any) -> str | None:
    params = entry.params
    host, port = params.get("host"), params.get("port")
    if not host or not port:
        return None  # labgrid's ser2net export publishes the port once the place is acquired
    if params.get("protocol", "rfc2217") == "raw":
        return f"socket://{host}:{port}"
    # ser2net does not answer pyserial's modem-control requests: labgrid's own client skips them too
    return f"rfc2217://{host}:{port}?ign_set_control"


def _get_place(s: _Session, name: str) -> Any:
    place = s.session.places.get(name)
    if place is None:
        known = ", ".join(sorted(s.session.places)) or "none"
        raise PlaceError(
            f"place {name} does not exist on the coordinator at {s.address}",
            hint=f"places there: {known} (labgrid-client -x {s.address} places)",
        )
    return place


def _port_or_error(s: _Session, place: Any) -> tuple[str, Any]:
    ports = _serial_ports(s, place)
    if not ports:
        matches = ", ".join(str(m) for m in place.matches) or "no match at all"
        raise PlaceError(
            f"place {place.name} has no serial port: its matches ({matches}) select no exported "
            f"{SERIAL_CLASS}",
            hint="is its exporter running? add one with labgrid-client -p PLACE add-match "
            "EXPORTER/GROUP/NetworkSerialPort",
        )
    path, entry = ports[0]
    if not entry.avail:
        raise PlaceError(
            f"the serial port of place {place.name} ({'/'.join(path)}) is not available",
            hint="is its exporter running, and the board plugged in?",
        )
    return "/".join(path), entry


def acquire(place: str, coordinator: str | None = None) -> PlaceLease:
    """Acquire `place` (or use it when this host/user holds it already) and find its serial port.
    Errors: the place does not exist, someone else holds it (named), it has no serial port, the
    coordinator cannot be reached. Nothing stays acquired when this fails."""
    address = coordinator_address(coordinator)
    me = identity()
    with _session(address) as s:
        p = _get_place(s, place)
        if p.acquired and p.acquired != me and me not in p.allowed:
            raise PlaceError(
                f"place {place} is acquired by {_holder(p.acquired)}",
                hint=f"wait until they release it (labgrid-client -x {address} who)",
            )
        mine_already = p.acquired is not None
        resource, _ = _port_or_error(s, p)
        if not mine_already:
            request = s.pb2.AcquirePlaceRequest(placename=place)
            try:
                s.call("AcquirePlace", request, f"cannot acquire place {place}")
            except PlaceError:
                s.sync()
                p = _get_place(s, place)
                if p.acquired and p.acquired != me:  # someone was quicker
                    raise PlaceError(
                        f"place {place} is acquired by {_holder(p.acquired)}",
                        hint=f"wait until they release it (labgrid-client -x {address} who)",
                    ) from None
                raise
        try:
            url = None
            deadline = time.monotonic() + PORT_TIMEOUT
            while True:
                p = _get_place(s, place)
                resource, entry = _port_or_error(s, p)
                url = _url(entry)
                if url is not None or time.monotonic() > deadline:
                    break
                s.wait(0.1)
            if url is None:
                raise PlaceError(
                    f"the exporter of place {place} published no network port for {resource}",
                    hint="check the exporter's log (is ser2net installed there?)",
                )
        except BaseException:
            if not mine_already:
                _release(s, place)
            raise
        board = p.tags.get(BOARD_TAG) or None
        return PlaceLease(place, address, url, board, not mine_already, resource)


def _release(s: _Session, place: str) -> None:
    s.call("ReleasePlace", s.pb2.ReleasePlaceRequest(placename=place), f"cannot release place {place}")


def release(lease: PlaceLease) -> None:
    """Release a place tinyforge acquired (a place the user held before is left as it was)."""
    if not lease.acquired_here:
        return
    with _session(lease.coordinator) as s:
        p = s.session.places.get(lease.place)
        if p is not None and p.acquired == identity():
            _release(s, lease.place)


@contextmanager
def lease(place: str, coordinator: str | None = None) -> Iterator[PlaceLease]:
    """`acquire` ... `release`, the release also on an error, Ctrl-C or SIGTERM (tinyforge's
    supervisor turns it into an exception). A failed release after a failed run does not hide
    the run's error."""
    held = acquire(place, coordinator)
    ok = False
    try:
        yield held
        ok = True
    finally:
        try:
            release(held)
        except PlaceError:
            if ok:
                raise


# ---- administration (the emulated lab) ---------------------------------------------------------


@dataclass(frozen=True)
class PlaceStatus:
    name: str
    acquired: str | None  # host/user
    board: str | None
    serial_available: bool


def status(coordinator: str | None = None) -> list[PlaceStatus]:
    """Every place of a coordinator: who holds it, its board tag, whether its serial port is up."""
    with _session(coordinator_address(coordinator)) as s:
        out = []
        for name, p in sorted(s.session.places.items()):
            ports = _serial_ports(s, p)
            out.append(
                PlaceStatus(name, p.acquired, p.tags.get(BOARD_TAG) or None, any(e.avail for _, e in ports))
            )
        return out


def ensure_place(coordinator: str, name: str, board: str, match: str) -> None:
    """Create place `name` if missing, tag it with its board, and make it match `match`
    (exporter/group/class/name)."""
    with _session(coordinator) as s:
        if name not in s.session.places:
            s.call("AddPlace", s.pb2.AddPlaceRequest(name=name), f"cannot create place {name}")
        p = _get_place(s, name)
        if p.tags.get(BOARD_TAG) != board:
            s.call(
                "SetPlaceTags",
                s.pb2.SetPlaceTagsRequest(placename=name, tags={BOARD_TAG: board}),
                f"cannot tag place {name}",
            )
        if not p.hasmatch(match.split("/")):
            s.call(
                "AddPlaceMatch",
                s.pb2.AddPlaceMatchRequest(placename=name, pattern=match),
                f"cannot add a match to place {name}",
            )


def wait_for_resources(
    coordinator: str, paths: list[str], timeout: float, alive: Callable[[], bool] | None = None
) -> None:
    """Wait until every exporter/group/class/name in `paths` is published and available."""
    deadline = time.monotonic() + timeout
    with _session(coordinator) as s:
        while True:
            have = {
                f"{e}/{g}/{r.cls}/{n}"
                for e, groups in s.session.resources.items()
                for g, rs in groups.items()
                for n, r in rs.items()
                if r.avail
            }
            missing = [p for p in paths if p not in have]
            if not missing:
                return
            if time.monotonic() > deadline or (alive is not None and not alive()):
                raise PlaceError(
                    f"the exporter did not publish {', '.join(missing)} within {timeout:g} s",
                    hint="see the lab log",
                )
            s.wait(0.1)
