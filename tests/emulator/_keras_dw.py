"""A Keras model of the depthwise shapes audio models use (DepthwiseConv2D with (k, 1) time kernels,
strides, dilation, and micro_speech's 10x8 stride 2 with depth multiplier 8), converted to a
full-int8 .tflite by `tinyforge.api.convert` (TensorFlow's converter), cached on disk by TensorFlow
and Keras version so that reruns skip the converter."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

# (input shape (h, w, c), kernel, strides, dilation, depth multiplier, padding, activation)
BRANCHES: tuple[
    tuple[tuple[int, int, int], tuple[int, int], tuple[int, int], tuple[int, int], int, str, str], ...
] = (
    ((40, 1, 16), (3, 1), (1, 1), (1, 1), 1, "valid", "relu"),
    ((40, 1, 16), (5, 1), (2, 1), (1, 1), 1, "valid", "linear"),
    ((40, 1, 16), (10, 1), (1, 1), (1, 1), 1, "valid", "relu"),
    ((40, 1, 16), (15, 1), (1, 1), (1, 1), 1, "same", "relu"),
    ((40, 1, 16), (4, 1), (1, 1), (2, 1), 1, "same", "relu"),
    ((49, 40, 1), (10, 8), (2, 2), (1, 1), 8, "same", "relu"),
    ((12, 10, 6), (1, 5), (1, 2), (1, 1), 2, "same", "linear"),
)


def _build(keras: Any) -> Any:
    layers = keras.layers
    inputs, outputs = [], []
    for shape, kernel, strides, dilation, mult, padding, act in BRANCHES:
        x = keras.Input(shape)
        y = layers.DepthwiseConv2D(
            kernel,
            strides=strides,
            padding=padding,
            depth_multiplier=mult,
            dilation_rate=dilation,
            activation=act,
        )(x)
        inputs.append(x)
        outputs.append(y)
    return keras.Model(inputs, outputs)


def keras_depthwise_model(cache: Path) -> Path:
    """The converted int8 model (built and converted once per TensorFlow/Keras version)."""
    from tinyforge import api
    from tinyforge.model.load import import_tensorflow

    tf = import_tensorflow()
    import keras

    key = hashlib.sha256(f"{BRANCHES} tf={tf.__version__} keras={keras.__version__} v1".encode()).hexdigest()[
        :16
    ]
    out = cache / f"keras_dw_{key}.tflite"
    if out.exists():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(5)
    src = cache / f"keras_dw_{key}.keras"
    _build(keras).save(src)
    result = api.convert(src, out, report=False)
    return Path(result.output)
