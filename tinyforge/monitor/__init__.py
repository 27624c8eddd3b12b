"""`tinyforge monitor`: serial bytes -> lines -> records -> views, and a verdict for CI.

stream.py   bytes -> printable pieces and whole lines (nothing dropped, \\xNN escapes)
expect.py   --expect / --fail / --timeout -> Verdict with a one-line summary
stats.py    latency percentiles from the device's ticks
views.py    terminal text, JSON records, log file, summary rows
core.py     MonitorCore: the above wired together, no I/O -> MonitorReport
session.py  PortSession: reader thread that survives resets and re-enumeration
keys.py     raw terminal: keystrokes to the device, Ctrl-] quits
run.py      the loop: session + core + keyboard + timeout
"""
