"""Test helper: small models of the kinds users bring beyond full-int8 CNNs (issue 12), each made
the way users make them, with TensorFlow's own TFLite converter (or `tinyforge convert`):

flatten_dynamic   Conv + Flatten + Dense converted with a dynamic batch: SHAPE -> STRIDED_SLICE ->
                  PACK -> RESHAPE before the Dense
float_io          int8 body with float32 input/output (`tinyforge convert --io float`)
sparse_int8       pruned Dense weights, Optimize.EXPERIMENTAL_SPARSITY: "block" zeroes 1x16 blocks
                  (FULLY_CONNECTED reads a block-sparse tensor), "random" zeroes single weights
                  (a CSR tensor behind a DENSIFY op)
sparse_float      a float model with 1x4 block-sparse weights (the float .tflite convert reads)
float16           a float model with float16 weights (DEQUANTIZE float16 -> float32)
pruning_wrapper   a tfmot prune_low_magnitude model converted with the wrapper still on: weights
                  in resource variables set by a CALL_ONCE initializer subgraph
two_signatures    one tf.Module with two signatures: two subgraphs, neither calls the other
dead_layer        a Dense(1, relu) that never fires on the calibration data: the converter gives
                  its output a degenerate scale (TFLM then refuses the per-tensor FC)

Each builder writes `path` and returns it; TensorFlow is imported inside.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


def _tf() -> Any:
    from tinyforge.model.load import import_tensorflow

    return import_tensorflow()


def _int8_converter(tf: Any, converter: Any, shape: tuple[int, ...], seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)

    def rep() -> Iterator[list[np.ndarray]]:
        for _ in range(16):
            yield [rng.normal(size=(1, *shape)).astype(np.float32)]

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = rep
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter


def _conv_dense(keras: Any, shape: tuple[int, ...] = (8, 8, 2)) -> Any:
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input(shape),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(5),
        ]
    )


def flatten_dynamic(path: Path) -> Path:
    tf = _tf()
    import keras

    conv = tf.lite.TFLiteConverter.from_keras_model(_conv_dense(keras))
    path.write_bytes(_int8_converter(tf, conv, (8, 8, 2)).convert())
    return path


def float_io(path: Path, work: Path) -> Path:
    """`tinyforge convert --io float` of a small CNN ending in a softmax."""
    import keras

    from tinyforge import api

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(6, 3, activation="relu"),
            keras.layers.DepthwiseConv2D(3, padding="same"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(5),
            keras.layers.Softmax(),
        ]
    )
    src = work / "float_io.keras"
    model.save(src)
    api.convert(src, path, io="float", report=False, force=True)
    return path


def _pruned_dense(keras: Any, block: int, keep: float = 0.2) -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(48, activation="relu"), keras.layers.Dense(16)]
    )
    rng = np.random.default_rng(0)
    for layer in model.layers:
        w, b = layer.get_weights()  # Keras kernels are (in, out); TFLite's (out, in)
        mask = (rng.random((w.shape[0] // block, w.shape[1])) < keep).repeat(block, axis=0)
        layer.set_weights([w * mask, b])
    return model


def sparse_int8(path: Path, kind: str) -> Path:
    tf = _tf()
    import keras

    model = _pruned_dense(keras, 16 if kind == "block" else 1)
    conv = _int8_converter(tf, tf.lite.TFLiteConverter.from_keras_model(model), (64,))
    conv.optimizations = [tf.lite.Optimize.DEFAULT, tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    path.write_bytes(conv.convert())
    return path


def sparse_float(path: Path) -> Path:
    tf = _tf()
    import keras

    conv = tf.lite.TFLiteConverter.from_keras_model(_pruned_dense(keras, 4))
    conv.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    path.write_bytes(conv.convert())
    return path


def float16(path: Path) -> Path:
    tf = _tf()
    import keras

    conv = tf.lite.TFLiteConverter.from_keras_model(_conv_dense(keras))
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_types = [tf.float16]
    path.write_bytes(conv.convert())
    return path


def pruning_wrapper(path: Path) -> Path:
    """Runs in a subprocess: tfmot needs tf-keras (TF_USE_LEGACY_KERAS) from the first import."""
    import subprocess
    import sys

    code = f"""
import numpy as np, tensorflow as tf, tf_keras as keras
import tensorflow_model_optimization as tfmot
keras.utils.set_random_seed(0)
m = keras.Sequential([keras.Input((16,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(4)])
pm = tfmot.sparsity.keras.prune_low_magnitude(m, pruning_schedule=tfmot.sparsity.keras.ConstantSparsity(0.5, 0))
pm.compile("adam", "mse")
x = np.random.default_rng(0).normal(size=(64, 16)).astype(np.float32)
pm.fit(x, np.zeros((64, 4), np.float32), epochs=1, verbose=0, callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
rng = np.random.default_rng(0)
c = tf.lite.TFLiteConverter.from_keras_model(pm)
c.optimizations = [tf.lite.Optimize.DEFAULT]
c.representative_dataset = lambda: ([rng.normal(size=(1, 16)).astype(np.float32)] for _ in range(8))
c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
c.inference_input_type = tf.int8
c.inference_output_type = tf.int8
open({str(path)!r}, "wb").write(c.convert())
"""
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and path.is_file(), res.stderr[-2000:]
    return path


def two_signatures(path: Path) -> Path:
    tf = _tf()
    rng = np.random.default_rng(0)

    class Module(tf.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            self.w = tf.constant(rng.normal(size=(16, 8)).astype(np.float32))
            self.v = tf.constant(rng.normal(size=(16, 4)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec((1, 16), tf.float32)])
        def infer(self, x: Any) -> Any:
            return {"y": tf.nn.relu(tf.matmul(x, self.w))}

        @tf.function(input_signature=[tf.TensorSpec((1, 16), tf.float32)])
        def other(self, x: Any) -> Any:
            return {"z": tf.matmul(x, self.v)}

    m = Module()
    conv = tf.lite.TFLiteConverter.from_concrete_functions(
        [m.infer.get_concrete_function(), m.other.get_concrete_function()], m
    )

    def rep() -> Iterator[tuple[str, dict[str, np.ndarray]]]:
        for _ in range(8):
            x = rng.normal(size=(1, 16)).astype(np.float32)
            yield ("infer", {"x": x})
            yield ("other", {"x": x})

    conv = _int8_converter(tf, conv, (16,))
    conv.representative_dataset = rep
    path.write_bytes(conv.convert())
    return path


def dead_layer(path: Path, work: Path) -> tuple[Path, Path]:
    """(Keras source, calibration .npy): Dense(32, relu) -> Dense(1, relu, bias -1e6) whose output
    is 0 on every calibration sample, with inputs of std 3000 (a large input scale)."""
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((16,))
    x = keras.layers.Dense(32, activation="relu")(inp)
    y = keras.layers.Dense(1, activation="relu", bias_initializer=keras.initializers.Constant(-1e6))(x)
    keras.Model(inp, y).save(path)
    calib = work / "dead_calib.npy"
    np.save(calib, np.random.default_rng(0).normal(0, 3000, (16, 16)).astype(np.float32))
    return path, calib
