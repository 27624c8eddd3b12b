"""Tiny int8 TFLite models for the kernel parameter sweeps, built with TensorFlow.

Each model is a tf.function over plain tf ops with random constant weights, converted to full
int8 (int8 input/output) with a representative dataset. Many layer variants sit side by side as
separate outputs of one model, so one conversion covers a whole sweep. Built models are cached
on disk (pytest's cache dir), keyed by the builder's spec and the TensorFlow version.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TinyModel:
    name: str
    inputs: tuple[tuple[int, ...], ...]
    build: Callable[[Any, Callable[..., Any]], Callable[..., list[Any]]]  # (tf, W) -> fn(*inputs)
    low: float = -1.0  # representative input range
    high: float = 3.0
    weight_scale: float = 0.5
    per_channel_dense: bool = True
    per_channel: bool = True  # False: every weight tensor quantized per tensor
    # kinds of ops the converted model must contain (the sweep checks each one)
    expect: tuple[str, ...] = ()


def _conv(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(x: Any) -> list[Any]:
        return [
            tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, W(3, 3, 6, 8), 1, "SAME"), W(8))),
            tf.nn.conv2d(x, W(3, 3, 6, 5), 2, "VALID"),
            tf.nn.relu6(tf.nn.conv2d(x, W(2, 5, 6, 4), [1, 3, 2, 1], "SAME")),
            tf.nn.conv2d(x, W(3, 3, 6, 6), 1, "SAME", dilations=2),
            tf.nn.conv2d(x, W(3, 2, 6, 3), 1, "VALID", dilations=[3, 2]),
            tf.nn.conv2d(x, W(3, 3, 3, 6), 1, "SAME"),  # 2 groups
            tf.nn.conv2d(x, W(1, 1, 2, 6), 1, "SAME"),  # 3 groups
            tf.clip_by_value(tf.nn.conv2d(x, W(4, 4, 6, 4), 2, "SAME"), -1.0, 1.0),
            tf.nn.conv2d(x, W(1, 1, 6, 7), [1, 2, 3, 1], "VALID"),
            tf.nn.conv2d(x, W(11, 10, 6, 3), 1, "VALID"),
        ]

    return fn


def _depthwise(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(x: Any) -> list[Any]:
        return [
            tf.nn.relu(tf.nn.depthwise_conv2d(x, W(3, 3, 6, 1), [1, 1, 1, 1], "SAME") + W(6)),
            tf.nn.depthwise_conv2d(x, W(3, 3, 6, 2), [1, 1, 1, 1], "SAME"),
            tf.nn.depthwise_conv2d(x, W(3, 3, 6, 1), [1, 2, 2, 1], "VALID"),
            tf.nn.depthwise_conv2d(x, W(3, 3, 6, 3), [1, 1, 1, 1], "SAME", dilations=[2, 2]),
            tf.nn.relu6(tf.nn.depthwise_conv2d(x, W(5, 3, 6, 4), [1, 2, 1, 1], "SAME")),
            tf.nn.depthwise_conv2d(x, W(4, 4, 6, 1), [1, 3, 3, 1], "SAME"),
            tf.nn.depthwise_conv2d(x, W(2, 3, 6, 1), [1, 1, 1, 1], "VALID", dilations=[3, 2]),
        ]

    return fn


def _fc(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(x: Any, x3: Any) -> list[Any]:
        return [
            tf.nn.relu(tf.matmul(x, W(20, 7)) + W(7)),
            tf.matmul(x, W(20, 33)),
            tf.nn.relu6(tf.matmul(tf.reshape(x3, [4, 16]), W(16, 5)) + W(5)),
            tf.tensordot(x3, W(16, 6), axes=1),  # keep_num_dims
        ]

    return fn


def _pool(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(x: Any) -> list[Any]:
        return [
            tf.nn.avg_pool2d(x, 2, 2, "VALID"),
            tf.nn.avg_pool2d(x, 3, 1, "SAME"),
            tf.nn.avg_pool2d(x, 3, 2, "SAME"),
            tf.nn.avg_pool2d(x, [2, 4], [3, 2], "SAME"),
            tf.nn.max_pool2d(x, 2, 2, "VALID"),
            tf.nn.max_pool2d(x, 3, 2, "SAME"),
            tf.nn.max_pool2d(x, [3, 1], [1, 2], "SAME"),
            tf.nn.relu(tf.nn.max_pool2d(x, 2, 1, "SAME")),
        ]

    return fn


def _elementwise(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(a: Any, b: Any, c: Any, d: Any, e: Any, f: Any) -> list[Any]:
        return [
            a + b,
            tf.nn.relu(a + b),
            a + c,
            c + a,
            a - b,
            d - a,
            tf.nn.relu6(a - c),
            a * b,
            a * c,
            tf.nn.relu(d * a),
            a * W(1, 1, 1, 4),
            a + W(1, 1, 6, 1),
            W(5, 6, 4) - a,
            e + f,
            e * f,
            e - f,
            a * 0.01 + b * 50.0,
        ]

    return fn


def _softmax(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(x: Any, x3: Any) -> list[Any]:
        return [
            tf.nn.softmax(tf.matmul(x, W(20, 10))),
            tf.nn.softmax(tf.matmul(x, W(20, 3)) * 30.0),
            tf.nn.softmax(tf.matmul(x, W(20, 12)) * 0.01),
            tf.nn.softmax(x3),
            tf.nn.softmax(x3 * 5.0, axis=-1),
        ]

    return fn


def _mean(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(m: Any, v: Any) -> list[Any]:
        return [
            tf.reduce_mean(m, [1, 2], keepdims=True),
            tf.reduce_mean(m, [1, 2]),
            tf.reduce_mean(m, [3]),
            tf.reduce_mean(m, [1], keepdims=True),
            tf.reduce_mean(m, [-1, 1], keepdims=True),
            tf.reduce_mean(m * 3.0, [2]),
            tf.reduce_mean(v, [1]),
            tf.reduce_mean(v, [0, 2], keepdims=True),
        ]

    return fn


def _pad_concat(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(m: Any, n: Any) -> list[Any]:
        return [
            tf.pad(m, [[0, 0], [1, 2], [0, 3], [0, 0]]),
            tf.pad(m, [[0, 0], [1, 0], [0, 0], [2, 1]], constant_values=0.5),
            tf.pad(n, [[2, 1], [0, 4]]),
            tf.concat([m, m * 2.0, tf.nn.relu(m)], axis=3),
            tf.concat([m, m + 1.0], axis=1),
            tf.concat([m, m * 0.5], axis=0),
            tf.concat([n, n * 3.0, n, n - 1.0], axis=-1),
        ]

    return fn


def _batch2(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(x: Any) -> list[Any]:
        y = tf.nn.relu(tf.nn.conv2d(x, W(3, 3, 3, 4), 1, "SAME") + W(4))
        z = tf.nn.depthwise_conv2d(y, W(3, 3, 4, 2), [1, 2, 2, 1], "SAME")
        p = tf.nn.avg_pool2d(z, 2, 2, "VALID")
        q = tf.nn.max_pool2d(z, 2, 2, "VALID")
        flat = tf.reshape(p + q, [2, -1])
        return [tf.nn.softmax(tf.matmul(flat, W(32, 5))), tf.reduce_mean(y, [1, 2])]

    return fn


def _pairs(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(a: Any, b: Any) -> list[Any]:
        return [a + b, a - b, a * b]

    return fn


def _fc_probe(tf: Any, W: Callable[..., Any]) -> Callable[..., list[Any]]:
    def fn(x: Any) -> list[Any]:
        return [tf.matmul(x, W(256, 64)) + W(64)]

    return fn


# Not part of the sweep: a wide FULLY_CONNECTED (large accumulators) per channel and per tensor.
FC_PROBES = {
    True: TinyModel("fc_probe", ((16, 256),), _fc_probe, expect=("FULLY_CONNECTED",)),
    False: TinyModel(
        "fc_probe_pt", ((16, 256),), _fc_probe, per_channel_dense=False, expect=("FULLY_CONNECTED",)
    ),
}

# Not part of the sweep: two 65536-element inputs that carry every int8 pair, for tests that
# patch the scales and check how the rescaling multipliers are derived.
PAIRS = TinyModel("pairs", ((1, 65536), (1, 65536)), _pairs, expect=("ADD", "SUB", "MUL"))

MODELS: dict[str, TinyModel] = {
    m.name: m
    for m in (
        TinyModel("conv", ((1, 11, 10, 6),), _conv, expect=("CONV_2D",)),
        TinyModel(
            "conv_zp_high",
            ((1, 11, 10, 6),),
            _conv,
            low=-100.0,
            high=3.0,
            weight_scale=0.05,
            expect=("CONV_2D",),
        ),
        TinyModel(
            "conv_tiny", ((1, 11, 10, 6),), _conv, low=0.0, high=0.01, weight_scale=20.0, expect=("CONV_2D",)
        ),
        TinyModel("conv_per_tensor", ((1, 11, 10, 6),), _conv, per_channel=False, expect=("CONV_2D",)),
        TinyModel("depthwise", ((1, 9, 8, 6),), _depthwise, expect=("DEPTHWISE_CONV_2D",)),
        TinyModel(
            "depthwise_per_tensor",
            ((1, 9, 8, 6),),
            _depthwise,
            per_channel=False,
            expect=("DEPTHWISE_CONV_2D",),
        ),
        TinyModel(
            "depthwise_extreme",
            ((1, 9, 8, 6),),
            _depthwise,
            low=-0.02,
            high=200.0,
            weight_scale=0.01,
            expect=("DEPTHWISE_CONV_2D",),
        ),
        TinyModel("fc", ((1, 20), (1, 4, 16)), _fc, expect=("FULLY_CONNECTED",)),
        TinyModel(
            "fc_per_tensor",
            ((1, 20), (1, 4, 16)),
            _fc,
            low=-50.0,
            high=0.5,
            per_channel_dense=False,
            expect=("FULLY_CONNECTED",),
        ),
        TinyModel("pool", ((1, 9, 10, 5),), _pool, expect=("AVERAGE_POOL_2D", "MAX_POOL_2D")),
        TinyModel(
            "elementwise",
            ((1, 5, 6, 4), (1, 5, 6, 4), (1, 1, 1, 4), (1, 5, 1, 4), (1, 2, 3, 4, 5), (1, 2, 1, 4, 1)),
            _elementwise,
            expect=("ADD", "SUB", "MUL"),
        ),
        TinyModel("softmax", ((1, 20), (1, 3, 7)), _softmax, expect=("SOFTMAX",)),
        TinyModel("mean", ((1, 6, 5, 8), (3, 7, 4)), _mean, expect=("MEAN",)),
        TinyModel(
            "pad_concat", ((1, 6, 5, 8), (3, 7)), _pad_concat, expect=("PAD", "PADV2", "CONCATENATION")
        ),
        TinyModel(
            "batch2",
            ((2, 8, 8, 3),),
            _batch2,
            expect=(
                "CONV_2D",
                "DEPTHWISE_CONV_2D",
                "AVERAGE_POOL_2D",
                "MAX_POOL_2D",
                "FULLY_CONNECTED",
                "SOFTMAX",
            ),
        ),
    )
}


def _key(spec: TinyModel, tf_version: str) -> str:
    src = inspect.getsource(spec.build)
    text = repr(
        (spec.name, spec.inputs, spec.low, spec.high, spec.weight_scale, spec.per_channel_dense, tf_version)
    )
    return hashlib.sha256((text + src).encode()).hexdigest()[:16]


def build_model(spec: TinyModel, cache_dir: Path) -> bytes:
    """The int8 .tflite bytes of `spec`, from the cache or freshly converted."""
    import tensorflow as tf

    path = cache_dir / f"{spec.name}-{_key(spec, tf.__version__)}.tflite"
    if path.exists():
        return path.read_bytes()
    seed = int(hashlib.sha256(spec.name.encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng(seed)

    def weight(*shape: int) -> Any:
        return tf.constant(rng.normal(0.0, spec.weight_scale, size=shape).astype(np.float32))

    body = spec.build(tf, weight)
    signature = [tf.TensorSpec(list(s), tf.float32) for s in spec.inputs]
    fn = tf.function(body, input_signature=signature)
    concrete = fn.get_concrete_function()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([concrete], fn)
    data_rng = np.random.default_rng(seed + 1)

    def representative() -> Any:
        for _ in range(32):
            yield [data_rng.uniform(spec.low, spec.high, size=s).astype(np.float32) for s in spec.inputs]

    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    if not spec.per_channel_dense:
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    if not spec.per_channel:
        conv._experimental_disable_per_channel = True
    data = conv.convert()
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


def patch_tensor_quant(model: bytes, tensor: int, scale: float, zero_point: int) -> bytes:
    """A copy of `model` with one tensor's (per-tensor) quantization replaced."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    q = m.subgraphs[0].tensors[tensor].quantization
    q.scale = [float(scale)]
    q.zeroPoint = [int(zero_point)]
    builder = flatbuffers.Builder(len(model) + 1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
