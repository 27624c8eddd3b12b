"""Tiny Keras models -> `tinyforge.api.convert` (full-integer int8) -> tinyforge host build, compared
byte for byte with TFLite Micro's reference interpreter, for every op tinyforge compiles.

Models are drawn by hypothesis (derandomized, fixed budgets) from one spec per layer family, saved
as .keras and converted through the product's own convert path. Converted models are cached on
disk (pytest's cache folder) by spec, TensorFlow and Keras version, so reruns skip TensorFlow's
converter. The zoo test (a few multi-layer models covering all ops) runs in the toolchain tier;
the hypothesis sweeps are `slow`. RELU_N1_TO_1, which TFLM lacks, is checked against TFLite's
own reference kernels instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _props import fixed
from hypothesis import given
from hypothesis import strategies as st
from opmodels import Lab, ModelBuilder

Spec = dict[str, Any]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(tmp_path_factory.mktemp("keras_ops"))


@pytest.fixture(scope="module")
def convert(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[Spec], bytes]:
    """spec -> int8 .tflite bytes, through tinyforge.api.convert, cached on disk."""
    from tinyforge import api
    from tinyforge.model.load import import_tensorflow

    tf = import_tensorflow()
    import keras

    work = tmp_path_factory.mktemp("keras_src")
    store = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    cache = Path(store.mkdir("tinyforge-keras-ops")) if store is not None else work
    versions = f"tf={tf.__version__} keras={keras.__version__}"

    def run(spec: Spec) -> bytes:
        key = hashlib.sha256((json.dumps(spec, sort_keys=True) + versions).encode()).hexdigest()[:24]
        hit = cache / f"{key}.tflite"
        if hit.exists():
            return hit.read_bytes()
        keras.utils.set_random_seed(spec.get("seed", 0))
        model = build_keras(keras, spec)
        src = work / f"{key}.keras"
        model.save(src)
        result = api.convert(src, work / f"{key}.tflite", report=False)
        data = Path(result.output).read_bytes()
        hit.write_bytes(data)
        return data

    return run


# ---- spec -> Keras model -----------------------------------------------------------------------------


def build_keras(keras: Any, spec: Spec) -> Any:
    L = keras.layers
    inputs = [keras.Input(tuple(s)) for s in spec["inputs"]]
    x = inputs[0]
    kind = spec["kind"]
    p = spec["params"]
    if kind == "conv":
        y = L.Conv2D(
            p["filters"],
            tuple(p["kernel"]),
            strides=tuple(p["strides"]),
            padding=p["padding"],
            dilation_rate=tuple(p["dilation"]),
            activation=p["activation"],
            use_bias=p["bias"],
        )(x)
    elif kind == "depthwise":
        y = L.DepthwiseConv2D(
            tuple(p["kernel"]),
            strides=tuple(p["strides"]),
            padding=p["padding"],
            depth_multiplier=p["multiplier"],
            dilation_rate=tuple(p["dilation"]),
            activation=p["activation"],
        )(x)
    elif kind == "dense":
        y = L.Dense(p["units"], activation=p["activation"], use_bias=p["bias"])(x)
    elif kind == "pool":
        cls = L.AveragePooling2D if p["avg"] else L.MaxPooling2D
        y = cls(tuple(p["pool"]), strides=tuple(p["strides"]), padding=p["padding"])(x)
    elif kind == "merge":
        cls = {"add": L.Add, "sub": L.Subtract, "mul": L.Multiply}[p["op"]]
        y = cls()(inputs)
        if p["activation"]:
            y = L.Activation(p["activation"])(y)
    elif kind == "mean":
        y = L.GlobalAveragePooling2D(keepdims=p["keepdims"])(x)
    elif kind == "pad":
        y = L.ZeroPadding2D(tuple(tuple(v) for v in p["padding"]))(x)
        y = L.Conv2D(2, 1)(y)  # so the pad is not the output's only producer of zeros
    elif kind == "concat":
        branches = [L.Activation(a)(t) if a else t for a, t in zip(p["acts"], inputs, strict=True)]
        y = L.Concatenate(axis=p["axis"])(branches)
    elif kind == "activation":
        y = _activation(L, p)(x)
    elif kind == "crop":
        y = L.Cropping2D(tuple(tuple(v) for v in p["crop"]))(x)
    elif kind == "permute":
        y = L.Permute(tuple(p["perm"]))(x)
    elif kind == "reshape":
        y = L.Reshape(tuple(p["shape"]))(L.Dense(p["units"])(x))
        y = L.Activation("relu")(y)
    else:  # pragma: no cover - specs come from this module
        raise ValueError(kind)
    return keras.Model(inputs, y)


def _activation(L: Any, p: Spec) -> Any:  # noqa: N803
    name = p["name"]
    if name == "relu":
        return L.ReLU()
    if name == "relu6":
        return L.ReLU(max_value=6.0)
    if name == "leaky":
        return L.LeakyReLU(negative_slope=p["slope"])
    if name == "softmax":
        return L.Softmax()
    return L.Activation(name)  # sigmoid, tanh, hard_silu


# ---- strategies --------------------------------------------------------------------------------------


def _spec(kind: str, inputs: list[tuple[int, ...]], params: Spec, seed: int = 0) -> Spec:
    return {"kind": kind, "inputs": [list(s) for s in inputs], "params": params, "seed": seed}


acts = st.sampled_from([None, "relu", "relu6"])
paddings = st.sampled_from(["same", "valid"])


@st.composite
def conv_specs(draw: st.DrawFn, depthwise: bool = False) -> Spec:
    h, w, c = draw(st.integers(3, 10)), draw(st.integers(3, 10)), draw(st.integers(1, 6))
    k = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    dil = draw(st.sampled_from([[1, 1], [1, 1], [2, 2], [1, 2]]))
    strides = [1, 1] if dil != [1, 1] else [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    pad = draw(paddings)
    if pad == "valid" and (h < (k[0] - 1) * dil[0] + 1 or w < (k[1] - 1) * dil[1] + 1):
        pad = "same"
    params: Spec = {
        "kernel": k,
        "strides": strides,
        "padding": pad,
        "dilation": dil,
        "activation": draw(acts),
    }
    if depthwise:
        params["multiplier"] = draw(st.sampled_from([1, 1, 2, 3]))
        return _spec("depthwise", [(h, w, c)], params, draw(st.integers(0, 99)))
    params["filters"] = draw(st.integers(1, 8))
    params["bias"] = draw(st.booleans())
    return _spec("conv", [(h, w, c)], params, draw(st.integers(0, 99)))


@st.composite
def dense_specs(draw: st.DrawFn) -> Spec:
    shape = draw(st.sampled_from([(16,), (3,), (40,), (4, 6)]))
    act = draw(st.sampled_from([None, "relu", "relu6", "softmax", "sigmoid", "tanh"]))
    return _spec(
        "dense",
        [shape],
        {"units": draw(st.integers(1, 12)), "activation": act, "bias": draw(st.booleans())},
        draw(st.integers(0, 99)),
    )


@st.composite
def pool_specs(draw: st.DrawFn) -> Spec:
    h, w, c = draw(st.integers(2, 10)), draw(st.integers(2, 10)), draw(st.integers(1, 4))
    pool = [draw(st.integers(1, min(3, h))), draw(st.integers(1, min(3, w)))]
    strides = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    return _spec(
        "pool",
        [(h, w, c)],
        {"avg": draw(st.booleans()), "pool": pool, "strides": strides, "padding": draw(paddings)},
    )


@st.composite
def merge_specs(draw: st.DrawFn) -> Spec:
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    other = tuple(d if draw(st.integers(0, 2)) else 1 for d in shape)
    ins = [shape, other] if draw(st.booleans()) else [other, shape]
    params = {
        "op": draw(st.sampled_from(["add", "sub", "mul"])),
        "activation": draw(st.sampled_from([None, "relu"])),
    }
    return _spec("merge", ins, params)


@st.composite
def activation_specs(draw: st.DrawFn) -> Spec:
    shape = tuple(draw(st.lists(st.integers(1, 8), min_size=1, max_size=3)))
    name = draw(st.sampled_from(["relu", "relu6", "leaky", "sigmoid", "tanh", "hard_silu", "softmax"]))
    params: Spec = {"name": name}
    if name == "leaky":
        params["slope"] = draw(st.sampled_from([0.01, 0.1, 0.2, 0.3, 0.5]))
    return _spec("activation", [shape], params)


@st.composite
def layout_specs(draw: st.DrawFn) -> Spec:
    kind = draw(st.sampled_from(["crop", "permute", "reshape", "pad", "mean", "concat"]))
    h, w, c = draw(st.integers(3, 8)), draw(st.integers(3, 8)), draw(st.integers(1, 4))
    if kind == "crop":
        crop = [
            [draw(st.integers(0, 1)), draw(st.integers(0, h - 2))],
            [draw(st.integers(0, 1)), draw(st.integers(0, w - 2))],
        ]
        crop[0][1] = min(crop[0][1], h - crop[0][0] - 1)
        crop[1][1] = min(crop[1][1], w - crop[1][0] - 1)
        return _spec("crop", [(h, w, c)], {"crop": crop})
    if kind == "permute":
        return _spec("permute", [(h, w, c)], {"perm": list(draw(st.permutations([1, 2, 3])))})
    if kind == "reshape":
        units = draw(st.sampled_from([4, 6, 12]))
        return _spec("reshape", [(h,)], {"units": units, "shape": [2, units // 2]})
    if kind == "pad":
        pads = [[draw(st.integers(0, 2)), draw(st.integers(0, 2))] for _ in range(2)]
        return _spec("pad", [(h, w, c)], {"padding": pads})
    if kind == "mean":
        return _spec("mean", [(h, w, c)], {"keepdims": draw(st.booleans())})
    n = draw(st.integers(2, 3))
    axis = draw(st.sampled_from([-1, 1, 2]))
    shapes = []
    for _ in range(n):
        s = [h, w, c]
        s[axis if axis > 0 else 2] = draw(st.integers(1, 4))
        shapes.append(tuple(s))
    act_names = [draw(st.sampled_from([None, "relu", "tanh", "sigmoid"])) for _ in range(n)]
    return _spec("concat", shapes, {"axis": axis, "acts": act_names})


# ---- the checks ------------------------------------------------------------------------------------


def _check(lab: Lab, convert: Callable[[Spec], bytes], spec: Spec) -> None:
    data = convert(spec)
    lab.exact(data, inputs=3, seed=7)


ZOO = [
    _spec(
        "conv",
        [(9, 9, 3)],
        {
            "filters": 5,
            "kernel": [3, 3],
            "strides": [2, 2],
            "padding": "same",
            "dilation": [1, 1],
            "activation": "relu6",
            "bias": True,
        },
    ),
    _spec(
        "conv",
        [(8, 7, 2)],
        {
            "filters": 3,
            "kernel": [3, 2],
            "strides": [1, 1],
            "padding": "valid",
            "dilation": [2, 1],
            "activation": None,
            "bias": False,
        },
    ),
    _spec(
        "depthwise",
        [(8, 8, 3)],
        {
            "kernel": [3, 3],
            "strides": [1, 2],
            "padding": "same",
            "dilation": [1, 1],
            "activation": "relu",
            "multiplier": 2,
        },
    ),
    _spec("dense", [(20,)], {"units": 7, "activation": "softmax", "bias": True}),
    _spec("pool", [(7, 6, 2)], {"avg": True, "pool": [2, 3], "strides": [2, 2], "padding": "same"}),
    _spec("pool", [(7, 6, 2)], {"avg": False, "pool": [3, 3], "strides": [1, 2], "padding": "valid"}),
    _spec("merge", [(4, 5, 3), (1, 5, 1)], {"op": "add", "activation": None}),
    _spec("merge", [(4, 3), (4, 1)], {"op": "sub", "activation": "relu"}),
    _spec("merge", [(2, 3, 4), (2, 3, 4)], {"op": "mul", "activation": None}),
    _spec("mean", [(5, 4, 3)], {"keepdims": False}),
    _spec("pad", [(4, 4, 2)], {"padding": [[1, 2], [0, 1]]}),
    _spec("concat", [(4, 4, 2), (4, 4, 3)], {"axis": -1, "acts": [None, "sigmoid"]}),
    _spec("activation", [(6, 7)], {"name": "relu6"}),
    _spec("activation", [(6, 7)], {"name": "leaky", "slope": 0.2}),
    _spec("activation", [(50,)], {"name": "sigmoid"}),
    _spec("activation", [(50,)], {"name": "tanh"}),
    _spec("activation", [(5, 9)], {"name": "hard_silu"}),
    _spec("activation", [(5, 9)], {"name": "relu"}),
    _spec("crop", [(6, 7, 2)], {"crop": [[1, 2], [0, 3]]}),
    _spec("permute", [(3, 4, 5)], {"perm": [3, 1, 2]}),
    _spec("reshape", [(6,)], {"units": 12, "shape": [2, 6]}),
]


def test_keras_zoo_covers_the_ops(lab: Lab, convert: Callable[[Spec], bytes]) -> None:
    """A fixed set of one-layer Keras models: each bit-exact, and together they exercise every op
    the converter emits for them (each listed kind must show up in some converted model)."""
    from tinyforge.model.tflite import parse_tflite

    seen: set[str] = set()
    for spec in ZOO:
        data = convert(spec)
        seen |= {op.kind for op in parse_tflite(data).graph.ops}
        _check(lab, convert, spec)
    wanted = {
        "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX", "AVERAGE_POOL_2D", "MAX_POOL_2D",
        "ADD", "SUB", "MUL", "MEAN", "PAD", "CONCATENATION", "RELU6", "LEAKY_RELU", "LOGISTIC",
        "TANH", "HARD_SWISH", "STRIDED_SLICE", "TRANSPOSE", "RESHAPE", "QUANTIZE",
    }  # fmt: skip
    assert wanted <= seen, f"the zoo no longer produces {sorted(wanted - seen)}"


@pytest.mark.slow
@fixed(12)
@given(spec=conv_specs())
def test_keras_conv(lab: Lab, convert: Callable[[Spec], bytes], spec: Spec) -> None:
    _check(lab, convert, spec)


@pytest.mark.slow
@fixed(10)
@given(spec=conv_specs(depthwise=True))
def test_keras_depthwise(lab: Lab, convert: Callable[[Spec], bytes], spec: Spec) -> None:
    _check(lab, convert, spec)


@pytest.mark.slow
@fixed(10)
@given(spec=dense_specs())
def test_keras_dense(lab: Lab, convert: Callable[[Spec], bytes], spec: Spec) -> None:
    _check(lab, convert, spec)


@pytest.mark.slow
@fixed(10)
@given(spec=pool_specs())
def test_keras_pool(lab: Lab, convert: Callable[[Spec], bytes], spec: Spec) -> None:
    _check(lab, convert, spec)


@pytest.mark.slow
@fixed(12)
@given(spec=merge_specs())
def test_keras_merge(lab: Lab, convert: Callable[[Spec], bytes], spec: Spec) -> None:
    _check(lab, convert, spec)


@pytest.mark.slow
@fixed(14)
@given(spec=activation_specs())
def test_keras_activations(lab: Lab, convert: Callable[[Spec], bytes], spec: Spec) -> None:
    _check(lab, convert, spec)


@pytest.mark.slow
@fixed(14)
@given(spec=layout_specs())
def test_keras_layout(lab: Lab, convert: Callable[[Spec], bytes], spec: Spec) -> None:
    _check(lab, convert, spec)


# ---- RELU_N1_TO_1: TFLM has no kernel; TFLite's reference kernels are the oracle -----------------------


@pytest.mark.parametrize(
    ("si", "zi", "so", "zo"), [(0.05, 3, 0.01, -2), (0.004, -100, 0.008, 0), (0.3, 20, 0.3, 20)]
)
def test_relu_n1_to_1_matches_tflite(lab: Lab, si: float, zi: int, so: float, zo: int) -> None:
    from tinyforge.model.load import import_tensorflow

    tf = import_tensorflow()
    m = ModelBuilder()
    a = m.input((2, 128), "int8", si, zi)
    b = m.tensor((2, 128), "int8", so, zo)
    m.op("RELU_N1_TO_1", [a], [b])
    m.output(b)
    data = m.build()
    x = (np.arange(256) - 128).astype(np.int8).reshape(2, 128)
    interp = tf.lite.Interpreter(
        model_content=data, experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF
    )
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    want = interp.get_tensor(interp.get_output_details()[0]["index"]).tobytes()

    from dataclasses import replace

    from tinyforge.compiler import compile_model
    from tinyforge.kernels.registry import Target
    from tinyforge.model.tflite import parse_tflite
    from tinyforge.run.host import build_host, run_host

    compiled = compile_model(parse_tflite(data), Target(), name="relu_n1")
    compiled = replace(compiled, project=replace(compiled.project, kernel_sources=tuple(lab.kernels.objects)))
    run = run_host(build_host(compiled, lab.root / f"relu_n1_{si}", opt="-O1"), [x.tobytes()])
    assert compiled.layers[0].call.function == "tf_relu_s8"
    assert run.results[0].outputs[0] == want
