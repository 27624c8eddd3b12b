"""The farm's pure parts: coordinator address, place port URLs, the lab's ser2net and exporter
configuration (everything on 127.0.0.1), and labgrid imported by one module only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tinyforge.farm import lab, places

PKG = Path(__file__).resolve().parents[2] / "tinyforge"


class Entry:
    def __init__(self, **params: object) -> None:
        self.params = params


def test_the_coordinator_comes_from_the_option_then_lg_coordinator_then_labgrids_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    assert places.coordinator_address(None) == "127.0.0.1:20408"
    monkeypatch.setenv("LG_COORDINATOR", "lab.example:5000")
    assert places.coordinator_address(None) == "lab.example:5000"
    assert places.coordinator_address("10.0.0.2") == "10.0.0.2:20408"


def test_identity_is_labgrids_host_slash_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LG_USERNAME", "alice")
    monkeypatch.setenv("LG_HOSTNAME", "ci7")
    assert places.identity() == "ci7/alice"


def test_a_network_serial_port_becomes_a_pyserial_url() -> None:
    assert places._url(Entry(host="h", port=4000)) == "rfc2217://h:4000?ign_set_control"
    assert places._url(Entry(host="h", port=4000, protocol="raw")) == "socket://h:4000"
    assert places._url(Entry(host="h", port=None)) is None  # ser2net not started yet


def test_the_lab_serves_on_loopback_only() -> None:
    argv = " ".join(lab.ser2net_argv("/dev/pts/3", 4100))
    assert "telnet(rfc2217,mode=server),tcp(nodelay),127.0.0.1,4100" in argv
    assert "serialdev(nouucplock=true),/dev/pts/3,115200n81,local" in argv
    cfg = lab.exporter_config([lab.LabPlace("bench-1", "mps2-an386", "", "/dev/pts/3")], [4100])
    assert cfg.splitlines() == [
        "bench-1:",
        "  NetworkSerialPort:",
        "    host: 127.0.0.1",
        "    port: 4100",
        "    speed: 115200",
        "    protocol: rfc2217",
    ]
    assert lab.match_for("bench-1") == "tinyforge-lab/bench-1/NetworkSerialPort/NetworkSerialPort"


def test_only_farm_places_imports_labgrid() -> None:
    importers = []
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            if any(n.split(".")[0] == "labgrid" for n in names):
                importers.append(str(path.relative_to(PKG)))
    assert sorted(set(importers)) == ["farm/places.py"]
