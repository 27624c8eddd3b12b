"""Packers of the portable reference kernels (firmware/kernels/): every op, every board."""
