"""16x8 models as TensorFlow's converter writes them (`_int16_models.convert16`: Keras ->
`EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8`, int16 I/O, fixed seeds), compiled
by tinyforge for the host and compared byte for byte with TFLite Micro, every layer's output too.

One model per op (and two small whole nets) in the toolchain tier; hypothesis sweeps over shapes
and options are `slow`. Converted models are cached on disk ($TINYFORGE_CACHE/int16-models).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _int16_models import Spec, convert16
from _props import fixed
from hypothesis import given
from hypothesis import strategies as st
from opmodels import Lab

from tinyforge import api
from tinyforge.model.tflite import parse_tflite

pytestmark = pytest.mark.toolchain

# spec -> the ops the converter makes of it (every one must run on our int16 kernels)
OPS: list[tuple[Spec, tuple[str, ...]]] = [
    ({"model": "conv", "input": [6, 6, 3], "activation": "relu"}, ("CONV_2D",)),
    (
        {"model": "conv", "input": [7, 5, 4], "kernel": [3, 1], "strides": [2, 1], "padding": "valid"},
        ("CONV_2D",),
    ),
    ({"model": "depthwise", "input": [6, 6, 3], "multiplier": 2}, ("DEPTHWISE_CONV_2D",)),
    ({"model": "dense", "input": [10], "activation": "tanh"}, ("FULLY_CONNECTED", "TANH")),
    ({"model": "dense", "input": [3, 10], "units": 6, "bias": False}, ("FULLY_CONNECTED",)),
    ({"model": "pool", "input": [6, 6, 2], "avg": True}, ("AVERAGE_POOL_2D",)),
    ({"model": "pool", "input": [7, 6, 2], "padding": "same"}, ("MAX_POOL_2D",)),
    ({"model": "merge", "input": [4, 3], "op": "add"}, ("ADD",)),
    ({"model": "merge", "input": [4, 3], "op": "sub", "other": [1, 3]}, ("SUB",)),
    ({"model": "merge", "input": [4, 3], "op": "mul"}, ("MUL",)),
    ({"model": "activation", "input": [7], "name": "softmax"}, ("SOFTMAX",)),
    ({"model": "activation", "input": [2, 7], "name": "sigmoid"}, ("LOGISTIC",)),
    ({"model": "activation", "input": [7], "name": "tanh"}, ("TANH",)),
    ({"model": "layout", "input": [5, 5, 2], "op": "pad", "padding": [[1, 0], [2, 1]]}, ("CONV_2D", "PAD")),
    ({"model": "layout", "input": [5, 5, 2], "op": "mean"}, ("CONV_2D", "MEAN")),
    (
        {"model": "layout", "input": [5, 5, 2], "op": "concat"},
        ("CONV_2D", "TANH", "QUANTIZE", "CONCATENATION"),
    ),
    (
        {"model": "layout", "input": [5, 5, 2], "op": "crop", "crop": [[1, 0], [0, 2]]},
        ("CONV_2D", "STRIDED_SLICE"),
    ),
    ({"model": "layout", "input": [5, 4, 2], "op": "permute", "perm": [2, 1, 3]}, ("CONV_2D", "TRANSPOSE")),
    ({"model": "layout", "input": [5, 4, 2], "op": "reshape"}, ("CONV_2D", "RESHAPE")),
]
NETS: list[Spec] = [{"model": "small_cnn"}, {"model": "small_mlp"}]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(tmp_path_factory.mktemp("int16_conv"))


def _kinds(data: bytes) -> tuple[str, ...]:
    return tuple(op.kind for op in parse_tflite(data).graph.ops)


def _check(lab: Lab, data: bytes) -> None:
    out = lab.exact(data, inputs=4, layers=True)
    weighted = [f for f in out.functions if "conv" in f or "fully" in f]
    assert all(f.endswith("_s16") for f in weighted), out.functions


@pytest.mark.parametrize(
    "spec,ops",
    OPS,
    ids=lambda v: v["model"] + "-" + str(v.get("op", v.get("name", ""))) if isinstance(v, dict) else "",
)
def test_converter_op_is_bit_exact(lab: Lab, spec: Spec, ops: tuple[str, ...]) -> None:
    data = convert16(spec)
    assert _kinds(data) == ops  # the converter still writes what this test is about
    g = parse_tflite(data).graph
    assert {g.tensor(i).dtype for i in (*g.inputs, *g.outputs)} == {"int16"}
    _check(lab, data)


@pytest.mark.parametrize("spec", NETS, ids=lambda s: s["model"])
def test_converter_net_is_bit_exact_and_inspect_lists_nothing(lab: Lab, spec: Spec, tmp_path: Path) -> None:
    data = convert16(spec)
    _check(lab, data)
    path = tmp_path / f"{spec['model']}.tflite"
    path.write_bytes(data)
    report = api.inspect(path)
    assert report["unsupported"] == [], report["unsupported"]
    assert report["memory"] and report["memory"]["arena_bytes"] > 0
    rep = api.test_host(path, inputs=3, seed=2, workdir=tmp_path / "w", sanitize=True)
    assert rep.bit_exact, rep.first_mismatch


# ---- sweeps (slow): shapes and options drawn by hypothesis, derandomized ---------------------------


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    kind = draw(st.sampled_from(["conv", "depthwise", "dense", "pool", "merge", "activation"]))
    seed = draw(st.integers(0, 99))
    h, w, c = draw(st.integers(3, 8)), draw(st.integers(3, 8)), draw(st.integers(1, 4))
    k = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    act = draw(st.sampled_from([None, "relu", "relu6"]))
    if kind == "conv":
        return {"model": kind, "input": [h, w, c], "kernel": k, "filters": draw(st.integers(1, 6)),
                "strides": [draw(st.integers(1, 2)), draw(st.integers(1, 2))], "activation": act,
                "padding": draw(st.sampled_from(["same", "valid"])), "bias": draw(st.booleans()), "seed": seed}  # fmt: skip
    if kind == "depthwise":
        return {"model": kind, "input": [h, w, c], "kernel": k, "activation": act,
                "multiplier": draw(st.sampled_from([1, 2])), "seed": seed}  # fmt: skip
    if kind == "dense":
        return {"model": kind, "input": [draw(st.integers(1, 40))], "units": draw(st.integers(1, 12)),
                "activation": draw(st.sampled_from([None, "relu", "tanh", "sigmoid"])), "seed": seed}  # fmt: skip
    if kind == "pool":
        return {"model": kind, "input": [h, w, c], "avg": draw(st.booleans()), "pool": [min(k[0], h), min(k[1], w)],
                "strides": [draw(st.integers(1, 2)), draw(st.integers(1, 2))],
                "padding": draw(st.sampled_from(["same", "valid"]))}  # fmt: skip
    if kind == "merge":
        other = [d if draw(st.booleans()) else 1 for d in (h, c)]
        return {
            "model": kind,
            "input": [h, c],
            "other": other,
            "op": draw(st.sampled_from(["add", "sub", "mul"])),
        }
    return {"model": kind, "input": [h, c], "name": draw(st.sampled_from(["softmax", "sigmoid", "tanh"]))}


@pytest.mark.slow
@fixed(30)
@given(spec=specs())
def test_converter_sweep(lab: Lab, spec: Spec) -> None:
    _check(lab, convert16(spec))
