"""`tinyforge inspect` says whether a model keeps state across invocations, and which tensors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tinyforge.cli import cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

from _stateful_models import svdf_model  # noqa: E402

pytestmark = pytest.mark.unit


def test_inspect_lists_svdf_state(tmp_path: Path) -> None:
    model = tmp_path / "svdf.tflite"
    model.write_bytes(svdf_model(2, 16, 8, 2, 10, seed=1))  # int16 state 2 x (10 * 16)
    res = CliRunner().invoke(cli, ["inspect", str(model)])
    assert res.exit_code == 0, res.output
    assert "state: stateful, 1 tensor(s), 640 B kept across invocations" in res.output
    assert "svdf_state  int16 [2, 160]  640 B" in res.output
    assert "unsupported ops: none" in res.output
    assert "memory plan: arena" in res.output

    res = CliRunner().invoke(cli, ["inspect", str(model), "--json"])
    rep = json.loads(res.output)
    assert rep["stateful"] is True and rep["unsupported"] == []
    (t,) = rep["state"]["tensors"]
    assert (t["name"], t["dtype"], t["shape"], t["bytes"], t["layers"]) == (
        "svdf_state",
        "int16",
        [2, 160],
        640,
        [0],
    )
    assert rep["state"]["bytes"] == 640
    assert rep["memory"]["arena_bytes"] >= 640 + 32 + 16  # state + input + output, never shared


def test_inspect_stateless(shared_models) -> None:
    res = CliRunner().invoke(cli, ["inspect", str(shared_models["ad"])])
    assert "state: none (stateless)" in res.output
    rep = json.loads(CliRunner().invoke(cli, ["inspect", str(shared_models["ad"]), "--json"]).output)
    assert rep["stateful"] is False and rep["state"] == {"tensors": [], "bytes": 0}
