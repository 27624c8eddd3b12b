"""`tinyforge monitor --metrics`: scraping the Prometheus endpoint while the monitor follows a
signed firmware on the emulated secure bench (mps2-an386 in QEMU): inference count, latency
histogram, faults, the running image's version and model hash; served on 127.0.0.1 only, and
gone when the monitor ends."""

from __future__ import annotations

import hashlib
import re
import signal
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from _securebench import BOARD, Bench, deadline
from prometheus_client.parser import text_string_to_metric_families

from tinyforge import api, proc
from tinyforge.secureboot.sign import imgtool

pytestmark = pytest.mark.emulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))
from _fw_models import dense  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, []).append((dict(s.labels), s.value))
    return out


def one(m: dict[str, list[tuple[dict[str, str], float]]], name: str) -> float:
    return m[name][0][1] if name in m else 0.0


def test_metrics_while_monitoring_a_signed_firmware(tmp_path: Path) -> None:
    with deadline(300):
        key = tmp_path / "fleet.pem"
        proc.run_tool([imgtool(), "keygen", "-k", key, "-t", "ed25519"], timeout=60)
        model = dense(tmp_path / "dense.tflite")
        build = tmp_path / "build"
        api.build(model, BOARD, build, inputs=6, mcuboot=True)
        signed = api.sign(build, key, "2.3.4").path
        bench = Bench(key, tmp_path / "device.flash")
        with bench.programming() as emu:
            res = api.flash(signed, port=emu.port, follow=True, follow_timeout=60)
            assert res.output[-1] == "TF DONE status=pass count=6"
        # power on into the image; the CPU starts when the monitor attaches: it sees the TF BOOT line
        emu = api.emulate(BOARD, key=key, flash_file=bench.flash_file, boot=True, serial="tcp")
        mon = None
        try:
            # `python -m tinyforge` from the repository: this tree's tinyforge, stopped by proc.stop
            mon = proc.start_tool(
                [sys.executable, "-m", "tinyforge", "monitor", "--port", emu.port, "--wait", "--board", BOARD,
                 "--metrics", ":0", "--stats-interval", "0"],
                cwd=REPO, stdout=proc.PIPE, stderr=proc.STDOUT,
            )  # fmt: skip
            assert mon.stdout is not None
            url = None
            seen: list[str] = []
            for raw in mon.stdout:
                line = raw.decode("utf-8", "replace")
                seen.append(line)
                m = re.search(r"metrics on (http://127\.0\.0\.1:\d+/metrics)", line)
                if m:
                    url = m.group(1)
                    break
            assert url is not None, seen
            # scrape until the device's 6 results have been counted
            end = time.monotonic() + 60
            metrics = scrape(url)
            while one(metrics, "tinyforge_inferences_total") < 6 and time.monotonic() < end:
                time.sleep(0.2)
                metrics = scrape(url)
            assert one(metrics, "tinyforge_inferences_total") == 6
            assert one(metrics, "tinyforge_inference_latency_seconds_count") == 6
            assert 0 < one(metrics, "tinyforge_inference_latency_seconds_sum") < 1
            assert one(metrics, "tinyforge_runs_total") == 1
            assert one(metrics, "tinyforge_inference_failures_total") == 0
            assert one(metrics, "tinyforge_errors_total") == 0
            assert "tinyforge_faults_total" not in metrics  # no fault kind seen yet
            assert metrics["tinyforge_boots_total"] == [({"image": "confirmed"}, 1.0)]
            info = metrics["tinyforge_image_info"][0][0]
            model_sha = hashlib.sha256((build / "model.tflite").read_bytes()).hexdigest()
            assert info == {"version": "2.3.4+0", "slot": "0", "state": "confirmed", "model_sha256": model_sha[:16],
                            "board": BOARD}  # fmt: skip
            # the device goes away: the monitor waits for the port to come back, still serving
            emu.stop()
            end = time.monotonic() + 30
            while one(scrape(url), "tinyforge_port_connected") != 0 and time.monotonic() < end:
                time.sleep(0.2)
            assert one(scrape(url), "tinyforge_port_connected") == 0
            mon.send_signal(signal.SIGINT)
            assert mon.wait(30) == 130
            with pytest.raises(OSError):
                urllib.request.urlopen(url, timeout=2)
        finally:
            if mon is not None:
                proc.stop(mon)  # reaped whether it ended or not
            emu.stop()
