"""Board farms: labgrid places as serial ports (places.py, the one module that imports labgrid)
and the emulated lab, N emulated benches exported through a local labgrid (lab.py)."""
