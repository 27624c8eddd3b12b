"""Every shared MLPerf Tiny int8 model, compiled for the host, is bit-exact with TFLM."""

from __future__ import annotations

import json

import pytest

from tinyforge import api
from tinyforge.cli import main

TFLM_ARENA = {"kws": 16_000, "resnet": 49_152, "vww": 73_728, "ad": 768}
TFLM_TOTAL = {"kws": 24_272, "resnet": 55_984, "vww": 103_680, "ad": 3_984}


@pytest.mark.parametrize("key", ["kws", "resnet", "vww", "ad"])
def test_shared_model_bit_exact_20_inputs(shared_models, key, tmp_path):
    rep = api.test_host(shared_models[key], inputs=20, seed=7, workdir=tmp_path)
    assert rep.inputs == 20
    assert rep.mismatched_bytes == 0 and rep.bit_exact
    assert rep.arena_bytes <= TFLM_ARENA[key]
    assert rep.arena_bytes + rep.scratch_bytes <= TFLM_TOTAL[key]


@pytest.mark.parametrize("key", ["kws", "ad"])
def test_sanitizers_report_nothing(shared_models, key, tmp_path):
    rep = api.test_host(shared_models[key], inputs=3, seed=1, workdir=tmp_path, sanitize=True)
    assert rep.bit_exact


def test_cli_json_fields(shared_models, capsys):
    main(["test", str(shared_models["ad"]), "--board", "host", "--inputs", "4", "--json"])  # returns: exit 0
    data = json.loads(capsys.readouterr().out)
    for key in ("board", "model", "inputs", "mismatched_bytes", "bit_exact", "arena_bytes"):
        assert key in data
    assert data["bit_exact"] is True and data["inputs"] == 4 and data["board"] == "host"


def test_mismatch_names_first_layer(shared_models, tmp_path, monkeypatch):
    """Corrupt one layer's requantization on purpose: the report must name that layer."""
    from tinyforge import compiler
    from tinyforge.kernels.registry import KernelCall

    real = compiler.select

    def corrupt(graph, op, target):  # type: ignore[no-untyped-def]
        call = real(graph, op, target)
        if op.index != 3:
            return call
        params = tuple((k, (v + 1 if k == "output_offset" else v)) for k, v in call.params)
        return KernelCall(**{**call.__dict__, "params": params})

    monkeypatch.setattr(compiler, "select", corrupt)
    rep = api.test_host(shared_models["ad"], inputs=2, workdir=tmp_path)
    assert not rep.bit_exact and rep.mismatched_bytes > 0
    assert rep.first_mismatch is not None
    assert rep.first_mismatch["op_index"] == 3
    assert rep.first_mismatch["kind"] == "FULLY_CONNECTED"
