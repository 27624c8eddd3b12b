"""pytest plugin (entry point `pytest11`): run a model on a board from a test.

    def test_kws_on_m4(tinyforge_run):
        run = tinyforge_run("kws.tflite", "mps2-an500", inputs=3)
        assert run.outputs[0][0].shape == (1, 12)
        assert run.instructions_per_inference < 50_000_000

`tinyforge_run(model, board=DEFAULT_BOARD, inputs=1, *, seed=0, timeout=60)` builds the model for
the board (a name, a board .toml or a BoardProfile; the default is tinyforge's default board) (the host with the native gcc, an emulated board with arm-none-eabi-gcc and QEMU), runs
it and returns a `TinyforgeRun`: the outputs (int8 arrays shaped like the model's outputs), the
TFLM reference outputs, and the figures (ticks, instructions per inference, flash and RAM bytes).
`inputs` is a count of random inputs, one array (single-input model: shape or N x shape), or a
list of records (each a sequence of arrays, one per model input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tinyforge.boards import DEFAULT_BOARD, BoardProfile

if TYPE_CHECKING:
    import numpy as np

    from tinyforge.codegen.inputs import InputSet
    from tinyforge.compiler import CompiledModel


@dataclass(frozen=True)
class TinyforgeRun:
    board: str
    outputs: tuple[tuple[np.ndarray, ...], ...]  # per inference, one array per model output
    reference: tuple[tuple[np.ndarray, ...], ...]  # the same from the tflite_micro reference
    ticks: tuple[int, ...]  # per inference, at the board's timer rate
    timer_hz: int
    instructions_per_inference: int | None  # QEMU boards only (-icount shift=0)
    flash_bytes: int | None
    ram_bytes: int | None
    lines: tuple[str, ...] = field(repr=False, default=())

    @property
    def bit_exact(self) -> bool:
        return all(
            len(o) == len(r) and all(a.tobytes() == b.tobytes() for a, b in zip(o, r, strict=True))
            for o, r in zip(self.outputs, self.reference, strict=True)
        ) and len(self.outputs) == len(self.reference)


def _input_set(compiled: CompiledModel, inputs: Any, seed: int) -> InputSet:
    import numpy as np

    from tinyforge.codegen.inputs import InputSet, random_inputs

    specs = compiled.inputs
    if isinstance(inputs, int):
        return random_inputs(specs, inputs, seed)
    if isinstance(inputs, np.ndarray):
        if len(specs) != 1:
            raise ValueError(f"the model has {len(specs)} inputs: pass a list of records")
        shape = tuple(specs[0].shape)
        arr = inputs.astype(specs[0].dtype)
        batch = arr[None] if arr.shape == shape else arr.reshape((-1, *shape))
        return InputSet(tuple((batch[i],) for i in range(batch.shape[0])))
    records = []
    for rec in inputs:
        parts = (rec,) if isinstance(rec, np.ndarray) else tuple(rec)
        if len(parts) != len(specs):
            raise ValueError(f"each record needs {len(specs)} arrays, got {len(parts)}")
        records.append(
            tuple(np.asarray(p, dtype=s.dtype).reshape(s.shape) for p, s in zip(parts, specs, strict=True))
        )
    return InputSet(tuple(records))


def _shaped(compiled: CompiledModel, outs: Sequence[bytes]) -> tuple[np.ndarray, ...]:
    import numpy as np

    return tuple(
        np.frombuffer(o, dtype=np.dtype(s.dtype).newbyteorder("<")).astype(s.dtype).reshape(s.shape)
        for o, s in zip(outs, compiled.outputs, strict=True)
    )


def run_model(
    model: str | Path,
    board: str | Path | BoardProfile,
    inputs: Any,
    workdir: Path,
    *,
    seed: int = 0,
    timeout: float = 60.0,
    optimize: str = "balanced",
) -> TinyforgeRun:
    from tinyforge import api
    from tinyforge.run.verify import reference_outputs

    b = api.board(board)
    compiled = api.compile(model, b, optimize=optimize)
    data = _input_set(compiled, inputs, seed)
    records = data.records()
    if b.is_host:
        from tinyforge.run.host import build_host, run_host

        host_run = run_host(build_host(compiled, workdir / "host"), records, timeout=timeout)
        results, lines = host_run.results, tuple(host_run.stdout.splitlines())
        ipi = flash = ram = None
    else:
        from tinyforge.run.qemu import run_qemu

        built = api.build_firmware(compiled, b, workdir / b.name, records, force=True)
        qrun = run_qemu(b, built.elf, timeout=timeout)
        results, lines = qrun.results, qrun.lines
        ipi, flash, ram = (
            qrun.instructions_per_inference,
            built.sizes["flash_bytes"],
            built.sizes["ram_bytes"],
        )
    ref = reference_outputs(compiled, data)
    return TinyforgeRun(
        board=b.name,
        outputs=tuple(_shaped(compiled, r.outputs) for r in results),
        reference=tuple(_shaped(compiled, r) for r in ref),
        ticks=tuple(r.ticks for r in results),
        timer_hz=b.timer.hz,
        instructions_per_inference=ipi,
        flash_bytes=flash,
        ram_bytes=ram,
        lines=tuple(lines),
    )


@pytest.fixture
def tinyforge_run(tmp_path: Path) -> Callable[..., TinyforgeRun]:
    """Build and run a model on a board; see the module docstring."""

    def run(
        model: str | Path,
        board: str | Path | BoardProfile = DEFAULT_BOARD,
        inputs: Any = 1,
        *,
        seed: int = 0,
        timeout: float = 60.0,
        optimize: str = "balanced",
    ) -> TinyforgeRun:
        return run_model(
            model, board, inputs, tmp_path / "tinyforge", seed=seed, timeout=timeout, optimize=optimize
        )

    return run
