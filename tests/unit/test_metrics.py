"""`tinyforge monitor --metrics`: the Prometheus view on protocol lines (no device), its address
rules, and the TF BOOT record of the protocol."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tinyforge.errors import UsageError
from tinyforge.monitor.core import MonitorCore
from tinyforge.monitor.expect import Expectations
from tinyforge.monitor.metrics import MetricsView, parse_address
from tinyforge.serial import protocol

pytestmark = pytest.mark.unit


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def value(m: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return next(v for lab, v in m[name] if all(lab.get(k) == x for k, x in labels.items()))


def test_metrics_follow_the_protocol_lines() -> None:
    view = MetricsView(parse_address(":0"), tick_hz=25_000_000)
    try:
        assert view.address.host == "127.0.0.1" and view.address.port > 0
        core = MonitorCore([view], Expectations((), ()))
        lines = [
            'TF BOOT slot=1 version=1.1.0+0 image=pending sequence=2 fallback="slot 0 v1.0.0+0: bad signature"',
            "TF BEGIN board=mps2-an386 model=6f97c960f81d879f inputs=3",
            "TF RESULT idx=0 ticks=25000 out0=00",  # 1 ms
            "TF RESULT idx=1 ticks=50000 out0=00",  # 2 ms
            "TF RESULT idx=2 ticks=2500000 out0=00",  # 100 ms
            "TF LOG image confirmed slot=1 version=1.1.0+0",
            "TF DONE status=fail count=3",
            "TF FAULT kind=BusFault pc=0x1 lr=0x2 xpsr=0x3 cfsr=0x400 hfsr=0 mmfar=0 bfar=0 sp=0",
            "TF NONSENSE",
        ]
        core.data(("\n".join(lines) + "\n").encode(), 0.0)
        m = scrape(view.url)
        assert value(m, "tinyforge_inferences_total") == 3
        assert value(m, "tinyforge_inference_failures_total") == 1
        assert value(m, "tinyforge_faults_total", kind="BusFault") == 1
        assert value(m, "tinyforge_errors_total") == 3  # the failed run, the fault, the malformed line
        assert value(m, "tinyforge_runs_total") == 1
        assert value(m, "tinyforge_boots_total", image="pending") == 1
        assert value(m, "tinyforge_boot_fallbacks_total") == 1
        assert value(m, "tinyforge_inference_latency_seconds_count") == 3
        assert value(m, "tinyforge_inference_latency_seconds_sum") == pytest.approx(0.103)
        assert value(m, "tinyforge_inference_latency_seconds_bucket", le="0.001") == 1
        assert value(m, "tinyforge_inference_latency_seconds_bucket", le="0.0025") == 2
        assert value(m, "tinyforge_inference_latency_seconds_bucket", le="0.1") == 3
        info = m["tinyforge_image_info"][0][0]
        assert info == {"version": "1.1.0+0", "slot": "1", "state": "confirmed", "model_sha256": "6f97c960f81d879f",
                        "board": "mps2-an386"}  # fmt: skip
        assert value(m, "tinyforge_port_connected") == 1
        core.port_event("lost", "port lost", 1.0)
        assert value(scrape(view.url), "tinyforge_port_connected") == 0
    finally:
        view.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(view.url, timeout=2)


def test_ticks_without_a_tick_rate() -> None:
    view = MetricsView(parse_address("127.0.0.1:0"))
    try:
        MonitorCore([view], Expectations((), ())).data(b"TF RESULT idx=0 ticks=300 out0=00\n", 0.0)
        m = scrape(view.url)
        assert value(m, "tinyforge_inference_latency_ticks_count") == 1
        assert value(m, "tinyforge_inference_latency_ticks_bucket", le="1024.0") == 1
    finally:
        view.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.0.0.0:9464", "served on 127.0.0.1 only, not 0.0.0.0"),
        ("example.com:80", "served on 127.0.0.1 only"),
        ("nine", "expected :PORT or 127.0.0.1:PORT"),
        (":70000", "expected :PORT"),
    ],
)
def test_addresses(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_address(text)
    assert parse_address("localhost:9464").host == "127.0.0.1" and parse_address("9464").port == 9464


def test_a_port_in_use_is_one_error() -> None:
    view = MetricsView(parse_address(":0"))
    try:
        with pytest.raises(UsageError, match=f"--metrics 127.0.0.1:{view.address.port}: cannot listen"):
            MetricsView(view.address)
    finally:
        view.close()


def test_boot_lines_parse() -> None:
    rec = protocol.parse_line(
        'TF BOOT slot=0 version=1.0.0+0 image=confirmed sequence=1 fallback="slot 1 v1.2.0+0: never confirmed, rolled back"'
    )
    assert rec == protocol.Boot(0, "1.0.0+0", "confirmed", 1, "slot 1 v1.2.0+0: never confirmed, rolled back")
    assert protocol.parse_line('TF BOOT slot=none reason="slot 0: empty; slot 1: empty"') == protocol.Boot(
        None, note="slot 0: empty; slot 1: empty"
    )
    assert isinstance(protocol.parse_line("TF BOOT slot=x"), protocol.Plain)
