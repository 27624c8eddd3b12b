"""Packers of the DSP-extension kernels (firmware/kernels/dsp/), and their build-time folding (fold.py)."""
