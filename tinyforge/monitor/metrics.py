"""`tinyforge monitor --metrics [127.0.0.1]:PORT`: the live statistics as Prometheus metrics, the
SLIs an edge-AI operator watches, served in the Prometheus text format (prometheus-client) on
127.0.0.1 only while the monitor runs:

    tinyforge_inferences_total                   TF RESULT lines
    tinyforge_inference_failures_total           runs that ended with TF DONE status=fail
    tinyforge_inference_latency_seconds          histogram of the device-measured latency
        (tinyforge_inference_latency_ticks without --board / --tick-hz)
    tinyforge_faults_total{kind}                 TF FAULT lines (HardFault, BusFault, ...)
    tinyforge_errors_total                       faults, failed runs, malformed protocol lines
    tinyforge_runs_total                         firmware starts (TF BEGIN)
    tinyforge_boots_total{image}                 images the bootloader started (TF BOOT), pending/confirmed
    tinyforge_boot_fallbacks_total               boots that fell back to the other slot (or found none)
    tinyforge_image_info{version,slot,state,model_sha256,board}   the running image
    tinyforge_port_connected                     1 while the serial port is open
    tinyforge_last_inference_timestamp_seconds   host time of the last TF RESULT

It is one more monitor view (tinyforge/monitor/views.py): it sees the same records as the terminal.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from tinyforge.errors import UsageError
from tinyforge.monitor.stats import LatencySummary
from tinyforge.monitor.stream import Piece
from tinyforge.serial import protocol

LOCALHOST = "127.0.0.1"
SECONDS_BUCKETS = (
    50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
TICKS_BUCKETS = tuple(float(4**k) for k in range(3, 16))
_ADDRESS = re.compile(r"^(?:(?P<host>[^:\s]*):)?(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class MetricsAddress:
    host: str
    port: int  # 0: any free port

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_address(text: str) -> MetricsAddress:
    """`:PORT`, `PORT`, `127.0.0.1:PORT` or `localhost:PORT`: always served on 127.0.0.1."""
    m = _ADDRESS.match(text.strip())
    if m is None or int(m.group("port")) > 65535:
        raise UsageError(f"--metrics {text!r}: expected :PORT or 127.0.0.1:PORT", hint="e.g. --metrics :9464")
    host = m.group("host") or LOCALHOST
    if host not in (LOCALHOST, "localhost"):
        raise UsageError(
            f"--metrics {text}: metrics are served on 127.0.0.1 only, not {host}",
            hint="scrape through a reverse proxy or an SSH tunnel to reach them from elsewhere",
        )
    return MetricsAddress(LOCALHOST, int(m.group("port")))


class MetricsView:
    """A monitor view that keeps the metrics and serves them over HTTP until `close()`."""

    def __init__(self, address: MetricsAddress, tick_hz: int | None = None) -> None:
        try:
            from prometheus_client import (
                CollectorRegistry,
                Counter,
                Gauge,
                Histogram,
                Info,
                start_http_server,
            )
        except ImportError:
            raise UsageError(
                "--metrics needs the prometheus-client package", hint='pip install "tinyforge[metrics]"'
            ) from None
        self.tick_hz = tick_hz
        reg = CollectorRegistry()
        self.registry = reg
        self.inferences = Counter(
            "tinyforge_inferences", "Inferences the device reported (TF RESULT).", registry=reg
        )
        self.failures = Counter(
            "tinyforge_inference_failures", "Runs that ended with TF DONE status=fail.", registry=reg
        )
        if tick_hz:
            self.latency = Histogram(
                "tinyforge_inference_latency_seconds",
                "Inference latency measured by the device's timer.",
                buckets=SECONDS_BUCKETS,
                registry=reg,
            )
        else:
            self.latency = Histogram(
                "tinyforge_inference_latency_ticks",
                "Inference latency in device timer ticks (give --board or --tick-hz for seconds).",
                buckets=TICKS_BUCKETS,
                registry=reg,
            )
        self.faults = Counter(
            "tinyforge_faults", "Faults the device reported (TF FAULT).", ["kind"], registry=reg
        )
        self.errors = Counter(
            "tinyforge_errors", "Faults, failed runs and malformed protocol lines.", registry=reg
        )
        self.runs = Counter("tinyforge_runs", "Firmware starts (TF BEGIN).", registry=reg)
        self.boots = Counter(
            "tinyforge_boots", "Images the bootloader started (TF BOOT).", ["image"], registry=reg
        )
        self.fallbacks = Counter(
            "tinyforge_boot_fallbacks",
            "Boots that started the other slot, or nothing, because an image could not be started.",
            registry=reg,
        )
        self.image = Info("tinyforge_image", "The image the device runs.", registry=reg)
        self.connected = Gauge("tinyforge_port_connected", "1 while the serial port is open.", registry=reg)
        self.last = Gauge(
            "tinyforge_last_inference_timestamp_seconds", "Host time of the last TF RESULT.", registry=reg
        )
        self._image: dict[str, str] = {
            "version": "",
            "slot": "",
            "state": "",
            "model_sha256": "",
            "board": "",
        }
        self.image.info(self._image)
        try:
            self.server, self.thread = start_http_server(address.port, addr=LOCALHOST, registry=reg)
        except OSError as exc:
            raise UsageError(
                f"--metrics {address}: cannot listen ({exc.strerror or exc})", hint="choose another port"
            ) from None
        self.address = MetricsAddress(LOCALHOST, int(self.server.server_address[1]))
        self.connected.set(1)

    @property
    def url(self) -> str:
        return f"http://{self.address}/metrics"

    def _set_image(self, **values: str) -> None:
        self._image.update(values)
        self.image.info(dict(self._image))

    # ---- the View protocol ---------------------------------------------------------------------

    def piece(self, piece: Piece) -> None:
        pass

    def line(self, t: float, text: str, record: protocol.Record, fault: dict[str, Any] | None) -> None:
        if isinstance(record, protocol.Result):
            self.inferences.inc()
            self.latency.observe(record.ticks / self.tick_hz if self.tick_hz else record.ticks)
            self.last.set(t or time.time())
        elif isinstance(record, protocol.Fault):
            self.faults.labels(kind=record.kind).inc()
            self.errors.inc()
        elif isinstance(record, protocol.Done):
            if not record.passed:
                self.failures.inc()
                self.errors.inc()
        elif isinstance(record, protocol.Begin):
            self.runs.inc()
            self._set_image(model_sha256=record.model, board=record.board)
        elif isinstance(record, protocol.Boot):
            if record.slot is None:
                self.fallbacks.inc()
                self._set_image(version="", slot="none", state="", model_sha256="")
                return
            self.boots.labels(image=record.image or "unknown").inc()
            if record.note:
                self.fallbacks.inc()
            self._set_image(version=record.version or "", slot=str(record.slot), state=record.image or "")
        elif isinstance(record, protocol.Log) and record.text.startswith("image confirmed "):
            self._set_image(state="confirmed")
        elif isinstance(record, protocol.Plain) and text.startswith(protocol.PREFIX):
            self.errors.inc()

    def event(self, t: float, kind: str, message: str) -> None:
        if kind in ("lost", "gone"):
            self.connected.set(0)
        elif kind in ("back", "open"):
            self.connected.set(1)

    def stats(self, t: float, counts: dict[str, int], latency: LatencySummary | None) -> None:
        pass

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
