"""Kernel packers, one module per op family. Importing this package registers them all.

Add a new module to this list; the registry never imports plugins by scanning.
"""

import importlib

MODULES = [
    # core ops of the MLPerf Tiny models (conv, depthwise, fully connected, pools, softmax, add)
    "conv",  # CONV_2D, DEPTHWISE_CONV_2D
    "fully_connected",  # FULLY_CONNECTED
    "pooling",  # AVERAGE_POOL_2D, MAX_POOL_2D
    "softmax",  # SOFTMAX
    "elementwise",  # ADD, SUB, MUL
    "mean",  # MEAN
    "pad",  # PAD, PADV2
    "concatenation",  # CONCATENATION
    # elementwise, activations, shape ops, quantize/dequantize, ...
    "activations",  # RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH
    "quantize",  # QUANTIZE, DEQUANTIZE
    "layout",  # STRIDED_SLICE, TRANSPOSE, RESHAPE/SQUEEZE/EXPAND_DIMS copies
    # faster portable kernels (no features: M0+/M3 and the host), preferred over the reference ones
    "fast_conv",  # CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED
    # DSP-extension kernels (boards with the "dsp" feature), preferred over the portable ones
    "dsp_conv",  # CONV_2D, DEPTHWISE_CONV_2D
    "dsp_fully_connected",  # FULLY_CONNECTED
    "dsp_elementwise",  # ADD, SUB (same shapes)
    "dsp_pooling",  # AVERAGE_POOL_2D
    # Helium (MVE) kernels (boards with the "mve" feature: Cortex-M55), preferred over DSP ones
    "mve_conv",  # CONV_2D, DEPTHWISE_CONV_2D
    "mve_fully_connected",  # FULLY_CONNECTED
    "mve_elementwise",  # ADD, SUB
    "mve_pooling",  # AVERAGE_POOL_2D
]

for _name in MODULES:
    importlib.import_module(f"tinyforge.kernels.ops.{_name}")
