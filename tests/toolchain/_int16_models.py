"""Test helper: tiny Keras models quantized by TensorFlow's own converter in the "16x8" mode
(`EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8`: int16 activations, int8 weights,
int64 biases) with int16 inputs and outputs, as users make them.

`convert16(spec)` builds the model named by `spec["model"]` (MODELS below) with the spec's shapes,
seeds Keras and the calibration data, traces it with a batch-1 signature (no dynamic shapes) and
converts it; results are cached on disk by spec and TensorFlow version, so reruns skip TF.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Spec = dict[str, Any]


def _conv(keras: Any, p: Spec) -> Any:
    L = keras.layers
    x = inp = keras.Input(tuple(p["input"]), batch_size=1)
    x = L.Conv2D(
        p.get("filters", 4),
        tuple(p.get("kernel", (3, 3))),
        strides=tuple(p.get("strides", (1, 1))),
        padding=p.get("padding", "same"),
        dilation_rate=tuple(p.get("dilation", (1, 1))),
        activation=p.get("activation"),
        use_bias=p.get("bias", True),
    )(x)
    return keras.Model(inp, x)


def _depthwise(keras: Any, p: Spec) -> Any:
    L = keras.layers
    x = inp = keras.Input(tuple(p["input"]), batch_size=1)
    x = L.DepthwiseConv2D(
        tuple(p.get("kernel", (3, 3))),
        strides=tuple(p.get("strides", (1, 1))),
        padding=p.get("padding", "same"),
        depth_multiplier=p.get("multiplier", 1),
        activation=p.get("activation"),
    )(x)
    return keras.Model(inp, x)


def _dense(keras: Any, p: Spec) -> Any:
    L = keras.layers
    x = inp = keras.Input(tuple(p["input"]), batch_size=1)
    x = L.Dense(p.get("units", 8), activation=p.get("activation"), use_bias=p.get("bias", True))(x)
    return keras.Model(inp, x)


def _pool(keras: Any, p: Spec) -> Any:
    L = keras.layers
    x = inp = keras.Input(tuple(p["input"]), batch_size=1)
    cls = L.AveragePooling2D if p.get("avg") else L.MaxPooling2D
    x = cls(
        tuple(p.get("pool", (2, 2))),
        strides=tuple(p.get("strides", (2, 2))),
        padding=p.get("padding", "valid"),
    )(x)
    return keras.Model(inp, x)


def _merge(keras: Any, p: Spec) -> Any:
    L = keras.layers
    a = keras.Input(tuple(p["input"]), batch_size=1)
    b = keras.Input(tuple(p.get("other", p["input"])), batch_size=1)
    cls = {"add": L.Add, "sub": L.Subtract, "mul": L.Multiply}[p["op"]]
    return keras.Model([a, b], cls()([a, b]))


def _activation(keras: Any, p: Spec) -> Any:
    L = keras.layers
    x = inp = keras.Input(tuple(p["input"]), batch_size=1)
    x = L.Softmax()(x) if p["name"] == "softmax" else L.Activation(p["name"])(x)
    return keras.Model(inp, x)


def _layout(keras: Any, p: Spec) -> Any:
    """PAD, MEAN, CONCATENATION, STRIDED_SLICE, TRANSPOSE, RESHAPE around a 1x1 convolution (so that
    the data-movement op does not sit on a graph input)."""
    L = keras.layers
    x = inp = keras.Input(tuple(p["input"]), batch_size=1)
    x = L.Conv2D(p["input"][-1], 1)(x)
    kind = p["op"]
    if kind == "pad":
        x = L.ZeroPadding2D(tuple(tuple(v) for v in p["padding"]))(x)
    elif kind == "mean":
        x = L.GlobalAveragePooling2D(keepdims=p.get("keepdims", False))(x)
    elif kind == "concat":
        x = L.Concatenate(axis=p.get("axis", -1))([x, L.Activation("tanh")(x)])
    elif kind == "crop":
        x = L.Cropping2D(tuple(tuple(v) for v in p["crop"]))(x)
    elif kind == "permute":
        x = L.Permute(tuple(p["perm"]))(x)
    elif kind == "reshape":
        x = L.Reshape((-1, p["input"][-1]))(x)
    else:  # pragma: no cover - specs come from the tests
        raise ValueError(kind)
    return keras.Model(inp, x)


def _small_cnn(keras: Any, p: Spec) -> Any:
    """A keyword-spotting-like convolutional net: conv, depthwise, pools, pad, mean, dense, softmax."""
    L = keras.layers
    x = inp = keras.Input(tuple(p.get("input", (16, 12, 1))), batch_size=1)
    x = L.Conv2D(8, (3, 3), strides=(2, 1), padding="same", activation="relu")(x)
    x = L.DepthwiseConv2D((3, 3), padding="same", activation="relu")(x)
    x = L.Conv2D(12, (1, 1), activation="relu")(x)
    x = L.MaxPooling2D((2, 2))(x)
    x = L.ZeroPadding2D(((1, 0), (0, 1)))(x)
    x = L.DepthwiseConv2D((3, 3), depth_multiplier=2)(x)
    x = L.AveragePooling2D((2, 1))(x)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(p.get("classes", 6))(x)
    x = L.Softmax()(x)
    return keras.Model(inp, x)


def _small_mlp(keras: Any, p: Spec) -> Any:
    """A fully connected net with the int16 activations: tanh, sigmoid, residual add, mul, softmax."""
    L = keras.layers
    x = inp = keras.Input(tuple(p.get("input", (24,))), batch_size=1)
    h = L.Dense(32, activation="tanh")(x)
    g = L.Dense(32, activation="sigmoid")(x)
    h = L.Multiply()([h, g])
    r = L.Dense(32, activation="relu")(h)
    h = L.Add()([h, r])
    h = L.Subtract()([h, L.Dense(32)(x)])
    h = L.Concatenate()([h, L.Dense(8, activation="relu")(x)])
    h = L.Dense(p.get("classes", 5))(h)
    x = L.Softmax()(h)
    return keras.Model(inp, x)


MODELS: dict[str, Callable[[Any, Spec], Any]] = {
    "conv": _conv,
    "depthwise": _depthwise,
    "dense": _dense,
    "pool": _pool,
    "merge": _merge,
    "activation": _activation,
    "layout": _layout,
    "small_cnn": _small_cnn,
    "small_mlp": _small_mlp,
}


def _cache_dir() -> Path:
    root = Path(os.environ.get("TINYFORGE_CACHE", Path.home() / ".cache" / "tinyforge"))
    d = root / "int16-models"
    d.mkdir(parents=True, exist_ok=True)
    return d


def convert16(spec: Spec, calib_samples: int = 48) -> bytes:
    """The 16x8 .tflite of `spec` (int16 I/O), from the cache or TensorFlow's converter."""
    from tinyforge.model.load import import_tensorflow
    from tinyforge.model.native import quiet_native_output

    tf = import_tensorflow()
    import keras

    key = hashlib.sha256(
        (
            json.dumps(spec, sort_keys=True)
            + f"tf={tf.__version__} keras={keras.__version__} n={calib_samples}"
        ).encode()
    ).hexdigest()[:24]
    hit = _cache_dir() / f"{spec['model']}-{key}.tflite"
    if hit.exists():
        return hit.read_bytes()
    keras.utils.set_random_seed(int(spec.get("seed", 0)))
    model = MODELS[spec["model"]](keras, spec)
    if spec.get("bias_noise", True):  # Keras starts biases at zero: give the int64 biases values
        for layer in model.layers:
            for w in layer.weights:
                if w.name.endswith("bias"):
                    w.assign(np.random.default_rng(1).normal(0, 0.1, tuple(w.shape)).astype(np.float32))
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    shapes = [tuple(int(d) for d in t.shape) for t in model.inputs]
    fn = tf.function(lambda *xs: model(list(xs) if len(xs) > 1 else xs[0]), autograph=False)
    frozen = convert_variables_to_constants_v2(
        fn.get_concrete_function(*[tf.TensorSpec(s, tf.float32) for s in shapes])
    )
    rng = np.random.default_rng(int(spec.get("seed", 0)) + 1000)

    def representative():  # type: ignore[no-untyped-def]
        for _ in range(calib_samples):
            yield [rng.normal(0, 1, s).astype(np.float32) for s in shapes]

    with quiet_native_output():
        conv = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
        conv.inference_input_type = tf.int16
        conv.inference_output_type = tf.int16
        data = bytes(conv.convert())
    tmp = hit.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(hit)
    return data


KWS_SAVEDMODEL = Path(__file__).resolve().parents[1] / "data" / "mlperf-tiny" / "kws_ref_model_savedmodel"


def kws16(calib_samples: int = 32) -> bytes:
    """The MLPerf Tiny keyword-spotting DS-CNN (tests/data/mlperf-tiny) quantized 16x8 by TF's
    converter from its SavedModel (calibration: fixed-seed normal noise), int16 I/O; cached."""
    from tinyforge.model.load import import_tensorflow
    from tinyforge.model.native import quiet_native_output

    tf = import_tensorflow()
    hit = _cache_dir() / f"kws16-tf{tf.__version__}-n{calib_samples}.tflite"
    if hit.exists():
        return hit.read_bytes()
    rng = np.random.default_rng(0)

    def representative():  # type: ignore[no-untyped-def]
        for _ in range(calib_samples):
            yield [rng.normal(0, 1, (1, 49, 10, 1)).astype(np.float32)]

    with quiet_native_output():
        conv = tf.lite.TFLiteConverter.from_saved_model(str(KWS_SAVEDMODEL))
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]
        conv.inference_input_type = tf.int16
        conv.inference_output_type = tf.int16
        data = bytes(conv.convert())
    tmp = hit.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(hit)
    return data


def dsp_gauntlet16(seed: int = 11) -> bytes:
    """One flatbuffer model (opmodels) whose outputs run every branch of the DSP 16x8 kernels: odd
    channel counts and tap tails, im2col with padding, strides and dilation, direct 1x1, int32
    and int64 biases, per-tensor weights, more than 508 taps (int64 runs), one output pixel
    (4 channels x 1 pixel) and FC rows in pairs with an odd last one, depthwise windows clipped
    at every edge."""
    from opmodels import ModelBuilder, options

    rng = np.random.default_rng(seed)
    m = ModelBuilder()
    x = m.input((1, 7, 9, 12), "int16", 3e-4, 0)

    def conv(kernel, cout, stride=(1, 1), dil=(1, 1), pad=0, bias="int64", per_channel=True):  # noqa: ANN001, ANN202
        kh, kw = kernel
        ws = rng.uniform(0.002, 0.02, cout).tolist() if per_channel else [0.01]
        w = m.tensor((cout, kh, kw, 12), "int8", ws, 0, data=rng.integers(-128, 128, (cout, kh, kw, 12)))
        bscale = [3e-4 * s for s in (ws if per_channel else ws * cout)]
        b = m.tensor((cout,), bias, bscale, 0, data=rng.integers(-(2**20), 2**20, cout))
        oh = (7 + stride[0] - 1) // stride[0] if pad == 0 else (7 - (kh - 1) * dil[0] - 1) // stride[0] + 1
        ow = (9 + stride[1] - 1) // stride[1] if pad == 0 else (9 - (kw - 1) * dil[1] - 1) // stride[1] + 1
        y = m.tensor((1, oh, ow, cout), "int16", 3e-4 * max(ws) * math.sqrt(kh * kw * 12) * 40, 0)
        opt = options("Conv2DOptions", padding=pad, strideH=stride[0], strideW=stride[1],
                      dilationHFactor=dil[0], dilationWFactor=dil[1], fusedActivationFunction=1)  # fmt: skip
        m.op("CONV_2D", [x, w, b], [y], opt)
        m.output(y)
        return y

    first = conv((3, 3), 5)  # SAME, odd channels, 108 taps
    conv((1, 1), 7, bias="int32", per_channel=False)  # direct 1x1, int32 bias, per-tensor weights
    conv((3, 2), 6, stride=(2, 3))  # strided im2col
    conv((3, 3), 4, dil=(2, 2), pad=1)  # dilated VALID
    conv((7, 7), 9, pad=1)  # 588 taps, one output row of 3 pixels: int64 runs
    conv((7, 9), 6, pad=1, bias="int32")  # 756 taps, one pixel: 4x1 blocks, int32 wrap
    cd = 12
    wd = m.tensor((1, 3, 3, cd), "int8", rng.uniform(0.002, 0.02, cd).tolist(), 0,
                  data=rng.integers(-128, 128, (1, 3, 3, cd)), axis=3)  # fmt: skip
    bd = m.tensor((cd,), "int64", [1e-6] * cd, 0, data=rng.integers(-(2**20), 2**20, cd))
    yd = m.tensor((1, 4, 5, cd), "int16", 4e-4, 0)
    m.op("DEPTHWISE_CONV_2D", [x, wd, bd], [yd], options("DepthwiseConv2DOptions", padding=0, strideH=2, strideW=2,
         depthMultiplier=1, dilationHFactor=1, dilationWFactor=1))  # fmt: skip
    m.output(yd)
    for src, cin, mult, k, dil in (
        (first, 5, 1, (3, 3), 1),  # odd channel count (no LDRD, a scalar tail)
        (x, 12, 1, (5, 1), 1),  # a 5x1 window
        (x, 12, 1, (3, 3), 2),  # dilated
        (x, 12, 2, (3, 3), 1),  # depth multiplier 2: channel pairs
        (first, 5, 3, (2, 3), 1),  # depth multiplier 3: one by one
    ):
        ch = cin * mult
        wk = m.tensor((1, *k, ch), "int8", rng.uniform(0.002, 0.02, ch).tolist(), 0,
                      data=rng.integers(-128, 128, (1, *k, ch)), axis=3)  # fmt: skip
        bk = m.tensor((ch,), "int64", [1e-6] * ch, 0, data=rng.integers(-(2**20), 2**20, ch))
        yk = m.tensor((1, 7, 9, ch), "int16", 5e-4, 0)
        m.op("DEPTHWISE_CONV_2D", [src, wk, bk], [yk], options("DepthwiseConv2DOptions", padding=0, strideH=1,
             strideW=1, depthMultiplier=mult, dilationHFactor=dil, dilationWFactor=dil))  # fmt: skip
        m.output(yk)
    shp = m.tensor((2,), "int32", data=[7, 108])
    r = m.tensor((7, 108), "int16", 3e-4, 0)
    m.op("RESHAPE", [x, shp], [r], options("ReshapeOptions", newShape=[7, 108]))
    wf = m.tensor(
        (5, 108), "int8", rng.uniform(0.002, 0.02, 5).tolist(), 0, data=rng.integers(-127, 128, (5, 108))
    )
    bf = m.tensor((5,), "int64", [1e-6] * 5, 0, data=rng.integers(-(2**20), 2**20, 5))
    yf = m.tensor((7, 5), "int16", 2e-3, 0)
    m.op("FULLY_CONNECTED", [r, wf, bf], [yf], options("FullyConnectedOptions"))
    m.output(yf)
    return m.build()
