"""Stateful models as firmware in QEMU on the Cortex-M4 (mps2-an386: DSP kernels) and the
Cortex-M55 (mps3-an547: Helium kernels): LSTM and SVDF models bit-exact with the TFLM reference
over several invocations in a row (the state stays in the arena from one to the next), and their
LSTM/SVDF layers at least 0.25 MACs per instruction (QEMU -icount, deterministic).

The Helium kernels cannot run on the host, so the M55 also runs the LSTM/SVDF variants the host
property tests sweep (batch, time major, stacked, zero points, rank)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tinyforge import api

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

from _stateful_models import keras_lstm, retune_lstm, svdf_keyword_model, svdf_model  # noqa: E402

pytestmark = pytest.mark.emulator

BOARDS = {"mps2-an386": "tf_dsp_", "mps3-an547": "tf_mve_"}
FLOOR = 0.25  # MACs per instruction of every LSTM/SVDF layer
CLASSIFIER = {"units": 32, "steps": 16, "features": 20, "dense": 6, "seed": 12}


@pytest.fixture(scope="module")
def lstm_cache(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = getattr(request.config, "cache", None)
    return Path(store.mkdir("tinyforge-lstm")) if store is not None else tmp_path_factory.mktemp("lstm")


def _model(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    return path


def _check(model: Path, board: str, tmp_path: Path, inputs: int = 6, optimize: str = "balanced") -> None:
    compiled = api.compile(api.load_int8_model(model), board, optimize=optimize)
    stateful = [lay for lay in compiled.layers if lay.op.kind in ("UNIDIRECTIONAL_SEQUENCE_LSTM", "SVDF")]
    assert stateful and all(lay.call.function.startswith(BOARDS[board]) for lay in stateful), [
        lay.call.function for lay in stateful
    ]
    rep = api.test_emulator(
        model, board, inputs=inputs, seed=4, workdir=tmp_path / "test", timeout=120, optimize=optimize
    )
    assert rep.inputs == inputs
    assert rep.bit_exact and rep.mismatched_bytes == 0, rep.first_mismatch


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_lstm_classifier(board: str, lstm_cache: Path, tmp_path: Path) -> None:
    model = _model(tmp_path, "lstm", keras_lstm(CLASSIFIER, lstm_cache))
    _check(model, board, tmp_path)
    bench = api.bench(model, board, layers=True, workdir=tmp_path / "bench")
    assert bench.bit_exact
    (lstm,) = [lay for lay in bench.layers if lay.op == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert lstm.macs_per_instruction is not None and lstm.macs_per_instruction >= FLOOR, lstm


# The M4's DSP SVDF widens the feature weights to int16: taken with --optimize speed only.
SVDF_OPTIMIZE = {"mps2-an386": "speed", "mps3-an547": "balanced"}


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_svdf_keyword_model(board: str, tmp_path: Path) -> None:
    model = _model(tmp_path, "kw", svdf_keyword_model(seed=1))
    _check(model, board, tmp_path, inputs=10, optimize=SVDF_OPTIMIZE[board])
    wide = _model(tmp_path, "svdf", svdf_model(1, 40, 64, 1, 16, seed=4, input_zp=5))
    bench = api.bench(wide, board, layers=True, workdir=tmp_path / "bench", optimize=SVDF_OPTIMIZE[board])
    assert bench.bit_exact
    (svdf,) = bench.layers
    assert svdf.macs_per_instruction is not None and svdf.macs_per_instruction >= FLOOR, svdf


M55_LSTMS = {
    "batch2": ({"units": 5, "steps": 3, "features": 4, "batch": 2, "seed": 1}, {}),
    "time_major_batch2": (
        {"units": 5, "steps": 3, "features": 4, "batch": 2, "time_major": True, "seed": 3},
        {"cell_clip": 0.4},
    ),
    "stacked": ({"units": 4, "steps": 5, "features": 3, "stack": True, "seed": 5}, {"hidden_zp": 37}),
    "wide": ({"units": 20, "steps": 4, "features": 33, "seed": 13}, {"cell_power": -11}),
}


@pytest.mark.parametrize("name", sorted(M55_LSTMS))
def test_helium_lstm_variants(name: str, lstm_cache: Path, tmp_path: Path) -> None:
    spec, retune = M55_LSTMS[name]
    _check(
        _model(tmp_path, name, retune_lstm(keras_lstm(spec, lstm_cache), **retune)), "mps3-an547", tmp_path
    )


M55_SVDFS = {
    "rank2_batch2": dict(batches=2, in_size=33, units=13, rank=2, memory=9, seed=5, input_zp=-9, state_zp=7),
    "odd_memory": dict(batches=1, in_size=7, units=3, rank=3, memory=5, seed=6, output_zp=40),
    "long_memory": dict(batches=1, in_size=17, units=6, rank=1, memory=19, seed=7, input_zp=100),
    # the state saturates: its zero point is added after the clamp, with wraparound (the reference)
    "saturating": dict(batches=1, in_size=19, units=2, rank=3, memory=10, seed=862, input_zp=120, state_zp=5),
    "saturating_zp": dict(
        batches=2, in_size=24, units=4, rank=2, memory=6, seed=8, state_zp=-3000, headroom=0.2
    ),
}


@pytest.mark.parametrize("name", sorted(M55_SVDFS))
def test_helium_svdf_variants(name: str, tmp_path: Path) -> None:
    _check(_model(tmp_path, name, svdf_model(**M55_SVDFS[name])), "mps3-an547", tmp_path)
