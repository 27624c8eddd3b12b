"""Per-model kernel variants (KernelCall.variants -> registry.variant_defines): a Cortex-M55 build
compiles the Helium matrix core (firmware/kernels/mve/tf_mve_gemm.c) with
-DTF_MVE_GEMM_VARIANTS=<the instances its layers use>, so only those are linked; the define is
given to that file alone (the object cache keys only it by the model) and the generated Makefile
gives it the same way (tests/toolchain/test_firmware_build.py rebuilds an M55 binary with it).
The 3x3 depthwise kernel (tf_mve_depthwise.c) does the same with -DTF_MVE_DW_VARIANTS (its copy
with or without per-channel left shifts, its direct 3x3 paths per channel count, the gathered
path's partial group), and so does the plane kernel of the same file (its segment path, its lanes
path per tap count, with and without the rounding of right shifts). The emulator tier runs such builds bit-exact
(tests/emulator/test_mve_kernels.py); a variant left out would leave the layer's output unwritten."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _fw_models import dense

from tinyforge import api

BOARD = "mps3-an547"
GEMM = "lib/kernels/mve/tf_mve_gemm.c"
DW = "lib/kernels/mve/tf_mve_depthwise.c"
KWS = Path(__file__).parents[1] / "data" / "mlperf-tiny" / "kws_ref_model.tflite"


def _symbol_size(elf: Path, name: str) -> int:
    out = subprocess.run(
        ["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = [int(line.split()[1], 16) for line in out.splitlines() if line.endswith(f" {name}")]
    assert len(sizes) == 1, out
    return sizes[0]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[int, api.BuildResult]:
    """One FULLY_CONNECTED layer whose dot products are 64 long (four full chunks of 16: the first,
    an odd one and a pair, variant bit 7) and 40 long (two full chunks and a tail: bit 11)."""
    d = tmp_path_factory.mktemp("variants")
    return {k: api.build(dense(d / f"dense{k}.tflite", k, 8), BOARD, d / f"b{k}", inputs=1) for k in (64, 40)}


@pytest.mark.parametrize(("k", "bits"), [(64, "0x80"), (40, "0x800")])
def test_the_matrix_core_gets_the_models_variants_alone(
    builds: dict[int, api.BuildResult], k: int, bits: str
) -> None:
    makefile = (builds[k].directory / "Makefile").read_text()
    lines = [line for line in makefile.splitlines() if "TF_MVE_GEMM_VARIANTS" in line]
    assert lines == [f"build/{GEMM}.o: CFLAGS += -DTF_MVE_GEMM_VARIANTS={bits}"]
    # one instance of the 36
    assert _symbol_size(builds[k].elf, "tf_mve_gemm_s8") < 2500


def test_two_models_link_different_instances(builds: dict[int, api.BuildResult]) -> None:
    """The cached object of one model is not reused for the other's variant."""
    sizes = {k: _symbol_size(b.elf, "tf_mve_gemm_s8") for k, b in builds.items()}
    assert sizes[64] != sizes[40]


def test_the_depthwise_kernel_links_one_copy_for_kws(tmp_path: Path) -> None:
    """KWS's 3x3 depthwise layers (64 channels, no left shifts) link one copy of the kernel with one
    direct path and no gathered path (9.6 KB with everything compiled in, 1.3 KB so)."""
    b = api.build(KWS, BOARD, tmp_path / "kws", inputs=1)
    lines = [
        line for line in (b.directory / "Makefile").read_text().splitlines() if "TF_MVE_DW_VARIANTS" in line
    ]
    assert len(lines) == 1 and lines[0].startswith(f"build/{DW}.o: CFLAGS += -DTF_MVE_DW_VARIANTS=0x")
    assert lines[0].rsplit("=", 1)[1] == "0x21"  # no left shifts, 64 channels: the direct path of 64 alone
    assert _symbol_size(b.elf, "tf_mve_depthwise_conv2d_s8") < 2000
    # the generated Makefile passes the same define: it rebuilds the same binary
    copy = tmp_path / "copy"
    shutil.copytree(b.directory, copy, ignore=shutil.ignore_patterns("build", "firmware.*"))
    res = subprocess.run(
        ["make", "-s", "-C", str(copy), "firmware.bin"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr
    assert (copy / "firmware.bin").read_bytes() == b.bin.read_bytes()  # type: ignore[union-attr]


def _time_filters(
    path: Path, taps: tuple[int, ...], mult: float | None = None, per_channel: bool = True
) -> Path:
    sys.path.insert(0, str(Path(__file__).parents[1] / "emulator"))
    from _mve_models import Gauntlet

    g = Gauntlet(seed=3)
    g.input("t", (1, 20, 1, 8), 0.05, -128)
    for k in taps:
        g.depthwise("t", k, 1, act="RELU", mult=mult, per_channel=per_channel, wmax=1 if mult else 127)
    return g.write(path)


def _plane_build(path: Path, d: Path, bits: str) -> int:
    b = api.build(path, BOARD, d, inputs=1)
    makefile = (b.directory / "Makefile").read_text()
    lines = [line for line in makefile.splitlines() if "TF_MVE_DW_VARIANTS" in line]
    assert lines == [f"build/{DW}.o: CFLAGS += -DTF_MVE_DW_VARIANTS={bits}"]
    return _symbol_size(b.elf, "tf_mve_dw_plane_s8")


def test_the_plane_kernel_links_only_the_paths_of_its_layers(tmp_path: Path) -> None:
    """3x1 time filters take the lanes path of 3 taps alone (bit 8 + 3 - 1); a 9x1 one adds the
    segment path (bit 6)."""
    sizes = {}
    for taps, bits in (((3,), "0x400"), ((3, 9), "0x440")):
        name = "_".join(map(str, taps))
        sizes[bits] = _plane_build(_time_filters(tmp_path / f"t{name}.tflite", taps), tmp_path / name, bits)
    assert sizes["0x400"] < 1600 < sizes["0x440"] < 4000  # everything: 4.6 KB


def test_the_convolution_links_the_way_kws_reads_its_first_layer(tmp_path: Path) -> None:
    """KWS's first layer (1 input channel, 10x4 at stride 2) builds column buffers by scatter stores
    (TF_MVE_CONV_VARIANTS bit 2); its 1x1 layers read in place: neither the im2col rows nor the
    copying column buffer are linked."""
    b = api.build(KWS, BOARD, tmp_path / "kws", inputs=1)
    lines = [
        line for line in (b.directory / "Makefile").read_text().splitlines() if "TF_MVE_CONV_VARIANTS" in line
    ]
    assert lines == ["build/lib/kernels/mve/tf_mve_conv.c.o: CFLAGS += -DTF_MVE_CONV_VARIANTS=0x4"]
    assert _symbol_size(b.elf, "tf_mve_conv2d_s8") < 1500


def test_channels_without_right_shifts_link_the_lanes_copy_without_rounding(tmp_path: Path) -> None:
    """A 3x1 layer whose channels shift left or not at all links the lanes path's copy without
    rounding (bit 18 + 3 - 1) alone; mixed with right-shifting channels, both copies."""
    sizes = {}
    for name, mult, per_channel, bits in (("left", 3.0, False, "0x100000"), ("mixed", 1.5, True, "0x100400")):
        model = _time_filters(tmp_path / f"{name}.tflite", (3,), mult, per_channel)
        sizes[name] = _plane_build(model, tmp_path / name, bits)
    # each copy about 1.3 KB with the layer loop and the gather; both 1.5 KB
    assert sizes["left"] < sizes["mixed"] < 1600
