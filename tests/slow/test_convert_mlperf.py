"""Convert the four shared MLPerf Tiny float models (Keras 3, tf-keras fallbacks, a SavedModel) to
int8 and check each against its published int8 twin: valid full-integer ops, same input shape, a
subset of its op kinds, runs in the tflite_micro interpreter, close to float, deterministic.

Calibration is synthetic (no data sets ship with the models), so accuracy is not asserted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import shared_model
from tinyforge import api
from tinyforge.model.load import int8_violations
from tinyforge.model.tflite import read_tflite

# key: (float source, published int8 model, loader that must read it)
MODELS = {
    "ad": ("ad01.h5", "ad01_int8.tflite", "keras 3"),
    "resnet": ("pretrainedResnet.h5", "pretrainedResnet_quant.tflite", "keras 3"),
    "vww": ("vww_96.h5", "vww_96_int8.tflite", "tf-keras"),
    "kws": ("kws_ref_model_savedmodel", "kws_ref_model.tflite", "tf-keras"),
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Conversions cached for the module: key -> ConvertResult."""
    out = tmp_path_factory.mktemp("mlperf")
    cache: dict[str, Any] = {}

    def get(key: str) -> Any:
        if key not in cache:
            cache[key] = api.convert(shared_model(MODELS[key][0]), out / f"{key}.tflite")
        return cache[key]

    return {"get": get, "dir": out}


@pytest.mark.parametrize("key", sorted(MODELS))
def test_converts_to_valid_int8(key: str, converted: dict[str, Any]) -> None:
    res = converted["get"](key)
    src, ref_name, loader = MODELS[key]
    assert res.loader.startswith(loader), (res.loader, res.loader_notes)
    if key == "vww":
        assert any("DepthwiseConv2D" in n for n in res.loader_notes)
    assert res.warnings and "no --calib" in res.warnings[0]
    g = read_tflite(res.output).graph
    ref = read_tflite(shared_model(ref_name)).graph
    assert int8_violations(g) == []
    assert g.tensors[g.inputs[0]].shape == ref.tensors[ref.inputs[0]].shape
    assert g.tensors[g.outputs[0]].shape == ref.tensors[ref.outputs[0]].shape
    assert {op.kind for op in g.ops} <= {op.kind for op in ref.ops}
    n_weighted = sum(op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") for op in g.ops)
    assert n_weighted == sum(op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED") for op in ref.ops)


@pytest.mark.parametrize("key", sorted(MODELS))
def test_runs_in_tflite_micro_with_report(key: str, converted: dict[str, Any]) -> None:
    from tflite_micro.python.tflite_micro import runtime

    res = converted["get"](key)
    rep = res.report
    assert rep.interpreter == "tflite_micro" and rep.samples == 64 and rep.data == "synthetic"
    m = rep.outputs[0]
    assert m.cosine > 0.95, m
    assert np.isfinite(m.rmse) and m.max_abs_error >= 0
    assert (m.top1_agreement is not None) == (key != "ad")  # softmax classifiers vs the autoencoder
    interp = runtime.Interpreter.from_file(res.output)
    interp.set_input(np.zeros(res.inputs[0].shape, np.int8), 0)
    interp.invoke()
    assert interp.get_output(0).shape == tuple(res.outputs[0].shape)


@pytest.mark.parametrize("key", ["kws", "resnet"])
def test_deterministic(key: str, converted: dict[str, Any]) -> None:
    first = converted["get"](key)
    again = api.convert(
        shared_model(MODELS[key][0]), Path(converted["dir"]) / f"{key}_again.tflite", report=False
    )
    assert again.sha256 == first.sha256


def test_ad_with_log_mel_like_calibration_runs_bit_exact(tmp_path: Path) -> None:
    """The AD autoencoder calibrated on dB-scaled frames (its real input is 5 log-mel frames of
    128 bands): the written model is one TFLM prepares (convert checks before writing), and
    tinyforge runs it bit-exact."""
    from tinyforge.model.reference import prepare_problem

    rng = np.random.default_rng(0)
    base = rng.normal(-40, 12, (1, 128))
    calib = np.clip(np.tile(base, (1, 5)) + rng.normal(0, 3, (64, 640)), -85, 15).astype(np.float32)
    np.save(tmp_path / "calib.npy", calib)
    res = api.convert(shared_model("ad01.h5"), tmp_path / "ad.tflite", calib=tmp_path / "calib.npy")
    assert prepare_problem(Path(res.output).read_bytes()) is None
    assert api.test_host(res.output, inputs=8, workdir=tmp_path / "run").bit_exact
