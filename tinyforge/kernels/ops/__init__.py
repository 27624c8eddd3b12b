"""Kernel packers, one module per op family. Importing this package registers them all.

Add a new module to this list; the registry never imports plugins by scanning.
"""

import importlib

MODULES = [
    # core ops of the MLPerf Tiny models (conv, depthwise, fully connected, pools, softmax, add)
    # elementwise, activations, shape ops, quantize/dequantize, ...
]

for _name in MODULES:
    importlib.import_module(f"tinyforge.kernels.ops.{_name}")
