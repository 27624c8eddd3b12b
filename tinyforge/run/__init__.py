"""Running compiled models: the host, QEMU and Renode runners, and the test / verify / bench stage
that compares their outputs with the TFLM reference (reference.py)."""
