"""`tinyforge inspect` on the shared MLPerf Tiny models: MACs, weights, liveness, I/O."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from tinyforge import api
from tinyforge.cli import cli
from tinyforge.model.tflite import read_tflite

# MACs from the anchors (../shared/ANCHORS.md), measured independently of tinyforge.
ANCHOR_MACS = {"kws": 2_656_768, "resnet": 12_501_632, "vww": 7_489_664, "ad": 264_192}
LIVENESS = {"kws": 16_000, "resnet": 49_152, "vww": 55_296, "ad": 768}


def independent_macs(path) -> int:
    """MACs recomputed from raw tensor shapes with numpy, without tinyforge.ir.metrics."""
    g = read_tflite(path).graph
    total = 0
    for op in g.ops:
        out = np.prod(g.tensor(op.outputs[0]).shape)
        if op.kind in ("CONV_2D", "FULLY_CONNECTED"):
            w = g.tensor(op.inputs[1]).shape
            total += int(out * np.prod(w[1:]))
        elif op.kind == "DEPTHWISE_CONV_2D":
            w = g.tensor(op.inputs[1]).shape
            total += int(out * w[1] * w[2])
    return total


@pytest.mark.parametrize("key", sorted(ANCHOR_MACS))
def test_macs_and_liveness(shared_models, key):
    rep = api.inspect(shared_models[key])
    assert rep["macs"] == ANCHOR_MACS[key] == independent_macs(shared_models[key])
    assert rep["largest_live_pair"]["bytes"] == LIVENESS[key]
    assert sum(layer["macs"] for layer in rep["layers"]) == rep["macs"]
    assert rep["weight_bytes"] > 0


def test_inspect_io_quantization(shared_models):
    rep = api.inspect(shared_models["kws"])
    (inp,) = rep["inputs"]
    assert inp["dtype"] == "int8" and inp["shape"] == [1, 49, 10, 1]
    assert len(inp["scale"]) == 1 and len(inp["zero_point"]) == 1
    (out,) = rep["outputs"]
    assert out["shape"] == [1, 12]
    ops = [layer["op"] for layer in rep["layers"]]
    assert ops.count("CONV_2D") == 5 and ops.count("DEPTHWISE_CONV_2D") == 4


def test_inspect_cli_json_and_text(shared_models):
    runner = CliRunner()
    res = runner.invoke(cli, ["inspect", str(shared_models["ad"]), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["macs"] == ANCHOR_MACS["ad"]
    res = runner.invoke(cli, ["inspect", str(shared_models["ad"])])
    assert res.exit_code == 0
    assert "MACs: 264,192" in res.output
    assert "FULLY_CONNECTED" in res.output


def test_inspect_hybrid_model_says_so():
    from tests.conftest import shared_model

    rep = api.inspect(shared_model("kws_ref_model_float32.tflite"))
    assert "hybrid" in rep["problem"]
