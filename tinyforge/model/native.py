"""Quiet native code: what TensorFlow's and TFLM's C++ code print on file descriptors 1 and 2,
captured so `--json` output stays clean and the text can go into an error message."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_output() -> Iterator[list[str]]:
    """Send what TensorFlow's C++ code prints on fds 1 and 2 to a buffer (yielded as a list
    that holds the text afterwards), so `--json` output stays clean; Python warnings raised
    meanwhile (the converters' advice) are dropped too."""
    import sys
    import warnings

    captured: list[str] = []
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = [os.dup(1), os.dup(2)]
    with tempfile.TemporaryFile(mode="w+b") as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield captured
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            sink.seek(0)
            captured.append(sink.read().decode("utf-8", "replace"))
