"""Kernel packers, one folder per kernel family of firmware/kernels/, one module per op family.
Importing this package registers them all.

    portable/  firmware/kernels/        the reference kernels, every board
    fast/      firmware/kernels/fast/   faster portable conv/depthwise/FC (no features needed)
    dsp/       firmware/kernels/dsp/    boards with the "dsp" feature (M4/M7/M33)
    mve/       firmware/kernels/mve/    boards with the "mve" feature (Helium, M55)

Add a new module to this list; the registry never imports plugins by scanning.
"""

import importlib

MODULES = [
    # core ops of the MLPerf Tiny models (conv, depthwise, fully connected, pools, softmax, add)
    "portable.conv",  # CONV_2D, DEPTHWISE_CONV_2D
    "portable.fully_connected",  # FULLY_CONNECTED
    "portable.pooling",  # AVERAGE_POOL_2D, MAX_POOL_2D
    "portable.softmax",  # SOFTMAX
    "portable.elementwise",  # ADD, SUB, MUL
    "portable.mean",  # MEAN
    "portable.pad",  # PAD, PADV2
    "portable.concatenation",  # CONCATENATION
    # elementwise, activations, shape ops, quantize/dequantize, ...
    "portable.activations",  # RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, LOGISTIC, TANH, HARD_SWISH
    "portable.quantize",  # QUANTIZE, DEQUANTIZE
    "portable.layout",  # STRIDED_SLICE, TRANSPOSE, RESHAPE/SQUEEZE/EXPAND_DIMS copies
    # stateful ops (their state lives in variable tensors, kept in the arena across invocations)
    "portable.lstm",  # UNIDIRECTIONAL_SEQUENCE_LSTM
    "portable.svdf",  # SVDF
    # 16x8 kernels: int16 activations, int8 weights (every board)
    "portable.s16_conv",  # CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED
    "portable.s16_elementwise",  # ADD, SUB, MUL
    "portable.s16_layout",  # AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, PAD, PADV2, CONCATENATION
    "portable.s16_activations",  # SOFTMAX, LOGISTIC, TANH
    "portable.s16_quantize",  # QUANTIZE to and from int32
    # faster portable kernels (no features: M0+/M3 and the host), preferred over the reference ones
    "fast.conv",  # CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED
    # DSP-extension kernels (boards with the "dsp" feature), preferred over the portable ones
    "dsp.conv",  # CONV_2D, DEPTHWISE_CONV_2D
    "dsp.fully_connected",  # FULLY_CONNECTED
    "dsp.elementwise",  # ADD, SUB (same shapes)
    "dsp.pooling",  # AVERAGE_POOL_2D
    "dsp.lstm",  # UNIDIRECTIONAL_SEQUENCE_LSTM
    "dsp.svdf",  # SVDF
    "dsp.s16_conv",  # 16x8 CONV_2D, FULLY_CONNECTED, DEPTHWISE_CONV_2D
    # Helium (MVE) kernels (boards with the "mve" feature: Cortex-M55), preferred over DSP ones
    "mve.conv",  # CONV_2D, DEPTHWISE_CONV_2D
    "mve.fully_connected",  # FULLY_CONNECTED
    "mve.elementwise",  # ADD, SUB
    "mve.pooling",  # AVERAGE_POOL_2D
    "mve.lstm",  # UNIDIRECTIONAL_SEQUENCE_LSTM
    "mve.svdf",  # SVDF
]

for _name in MODULES:
    importlib.import_module(f"tinyforge.kernels.ops.{_name}")
