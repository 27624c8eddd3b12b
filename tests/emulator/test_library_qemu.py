"""Issue 14 acceptance for the model library: `tinyforge export` for a board, a user's CMake
project OUTSIDE the export folder (its own main.c, the board's start-up code, linker script and
UART driver) that add_subdirectory()s it, cross-compiled with arm-none-eabi-gcc through the
export's toolchain file, run in QEMU: every output byte equals the tflite_micro reference,
through model_invoke() and through model_input()/model_run()/model_output()."""

from __future__ import annotations

from pathlib import Path

import pytest
from _library_app import build_app, parse_run, write_app
from conftest import shared_model

from tinyforge import api, proc
from tinyforge.model.reference import run_reference
from tinyforge.toolchain.library import TOOLCHAIN_FILE
from tinyforge.toolchain.qemu_cmd import qemu_argv

# KWS on the M4 (DSP kernels), AD on the M55 (Helium kernels)
CASES = {"kws-an386": ("kws_ref_model.tflite", "mps2-an386"), "ad-an547": ("ad01_int8.tflite", "mps3-an547")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_user_firmware_with_the_library_runs_bit_exact(case: str, tmp_path: Path) -> None:
    proc.find_tool("cmake")
    model, board_name = CASES[case]
    board = api.board(board_name)
    res = api.export(shared_model(model), board, tmp_path / "vendor" / "model-lib")
    compiled = res.compiled
    inputs = api.make_inputs(compiled, 5, seed=7)
    app = write_app(
        tmp_path / "app", res.directory, inputs.records(), sum(o.nbytes for o in compiled.outputs), board
    )
    assert not app.resolve().is_relative_to(res.directory)  # the user's code is not in the export
    elf = build_app(app, tmp_path / "build", toolchain_file=res.directory / TOOLCHAIN_FILE)

    # the static library holds exactly the exported sources' objects
    archive = tmp_path / "build" / "tinyforge_model" / "libtinyforge_model.a"
    members = proc.run_tool(["arm-none-eabi-ar", "t", str(archive)], what="ar").stdout.split()
    assert sorted(members) == sorted(Path(s).name + ".obj" for s in res.report["sources"])

    run = proc.run_tool(qemu_argv(board, elf), timeout=120, what="QEMU")
    copied, in_place = parse_run(run.stdout, len(inputs))
    reference = [b"".join(r.outputs) for r in run_reference(compiled.source.data, inputs.arrays)]
    assert copied == reference
    assert in_place == reference
    assert run.returncode == 0  # bsp_exit(0) through semihosting
