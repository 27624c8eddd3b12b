"""Packers of the Helium kernels (firmware/kernels/mve/), and their build-time packing (pack.py)."""
