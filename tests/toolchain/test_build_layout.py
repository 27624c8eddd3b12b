"""`tinyforge build` then `tinyforge flash` need no extra flag on every board with a flash method:
the build is laid out where that method's loader starts applications, and flash's own checks
(board, app offset, vector table, image inside the flash) accept it, up to opening the port."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _fw_models import dense

from tinyforge import api
from tinyforge.errors import SerialPortError

FLASHABLE = [b.name for b in api.boards() if any(m.kind != "none" for m in b.flash_methods)]


def test_the_boards_with_a_flash_method() -> None:
    assert set(FLASHABLE) == {"mps2-an386", "netduinoplus2", "nucleo-f446re", "nucleo-l4r5zi"}


@pytest.mark.parametrize("board", FLASHABLE)
def test_build_is_laid_out_for_the_default_flash_method_and_flash_takes_it(
    board: str, tmp_path: Path
) -> None:
    model = dense(tmp_path / "dense.tflite", 32, 8)
    res = api.build(model, board, tmp_path / "b", inputs=1)
    lay = res.report["layout"]
    method = api.board(board).flash_methods[0]
    assert lay["method"] == method.kind and lay["app_offset"] == int(method.settings["app_offset"])
    assert (
        res.report["serve"] is True
        and json.loads((tmp_path / "b" / "report.json").read_text())["layout"] == lay
    )
    # every check before the port passes: the flash stops at the port that does not exist
    with pytest.raises(SerialPortError, match="no such serial port"):
        api.flash(tmp_path / "b", port="/dev/ttyNOPE0")


def test_an_image_laid_out_for_no_loader_is_refused_by_the_bench_flash(tmp_path: Path) -> None:
    from tinyforge.flash.image import ImageError

    model = dense(tmp_path / "dense.tflite", 32, 8)
    api.build(model, "mps2-an386", tmp_path / "b", inputs=1, app_offset=0)
    with pytest.raises(ImageError, match="built with --app-offset 0x0, but the stm32-uart bootloader") as err:
        api.flash(tmp_path / "b", port="/dev/ttyNOPE0")
    assert "rebuild it without --app-offset" in (err.value.hint or "")
