"""Packers of the faster portable kernels (firmware/kernels/fast/): any core, no features needed."""
