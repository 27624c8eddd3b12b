"""Stateful ops against TFLite Micro: UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF, compiled by tinyforge
for the host and compared byte for byte with the `tflite_micro` reference interpreter.

Every model runs several invocations in a row on both sides, so each output also depends on the
state (hidden/cell state, SVDF memory) the previous ones left in the arena; the reset tests call
`model_reset_state()` between sequences. LSTMs come from `tf_keras.layers.LSTM(units,
unroll=False)` through TF's converter (full int8, representative dataset; cached on disk), then
retuned at the flatbuffer level (cell clip, cell scale, hidden quantization) and rewritten as
16x8; SVDFs are written with the schema as TFLM's keyword models build them. Hypothesis runs
derandomized with fixed budgets, so every run checks the same cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from _props import fixed
from _stateful_models import keras_lstm, lstm_16x8, retune_lstm, svdf_model
from hypothesis import given
from hypothesis import strategies as st
from opmodels import Lab, random_inputs

from tinyforge.kernels.registry import Target

pytestmark = pytest.mark.toolchain

INVOCATIONS = 6  # per model: the state carries over from each to the next


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return Lab(tmp_path_factory.mktemp("stateful"))


@pytest.fixture(scope="module")
def lstm_cache(cache_dir: Callable[[str], Path]) -> Path:
    return cache_dir("tinyforge-lstm")


def run_with_reset(lab: Lab, data: bytes, records: list[list[np.ndarray]], every: int) -> tuple[list, list]:
    """(ours, TFLM's) outputs of the records in a row, the state reset before records every, 2 every..."""
    from tinyforge.compiler import compile_model
    from tinyforge.model.reference import run_reference
    from tinyforge.model.tflite import parse_tflite
    from tinyforge.run.host import build_host, run_host

    lab.count += 1
    compiled = compile_model(parse_tflite(data, "<reset>"), name=f"r{lab.count}")
    compiled = replace(compiled, project=replace(compiled.project, kernel_sources=tuple(lab.kernels.objects)))
    raw = [b"".join(np.ascontiguousarray(a).tobytes() for a in rec) for rec in records]
    build = build_host(compiled, lab.root / f"r{lab.count}", opt="-O1")
    ours = [r.outputs for r in run_host(build, raw, reset_every=every).results]
    ref = [r.outputs for r in run_reference(data, records, reset_every=every)]
    return ours, ref


def check_reset(lab: Lab, data: bytes) -> None:
    seq = random_inputs(data, 3, seed=11)
    ours, ref = run_with_reset(lab, data, seq + seq, every=3)
    assert ours == ref
    assert ours[:3] == ours[3:]  # after the reset the sequence starts over
    carried, ref_carried = run_with_reset(lab, data, seq + seq, every=0)
    assert carried == ref_carried
    assert carried[3:] != carried[:3], "the state did not carry over"


# ---- SVDF --------------------------------------------------------------------------------------


@fixed(30)
@given(
    batches=st.integers(1, 3),
    in_size=st.integers(1, 40),
    units=st.integers(1, 12),
    rank=st.integers(1, 3),
    memory=st.integers(1, 12),
    input_zp=st.integers(-128, 127),
    output_zp=st.integers(-128, 127),
    state_zp=st.sampled_from([0, 0, 0, 9, -3000]),
    headroom=st.sampled_from([4.0, 1.0, 0.2]),
    seed=st.integers(0, 1000),
)
def test_svdf_int16_state(
    lab, batches, in_size, units, rank, memory, input_zp, output_zp, state_zp, headroom, seed
) -> None:
    data = svdf_model(
        batches,
        in_size,
        units,
        rank,
        memory,
        seed=seed,
        input_zp=input_zp,
        output_zp=output_zp,
        state_zp=state_zp,
        headroom=headroom,
    )
    lab.exact(data, inputs=INVOCATIONS, seed=seed, expect="tf_svdf_s8")


@fixed(12)
@given(
    in_size=st.integers(1, 24),
    units=st.integers(1, 6),
    rank=st.integers(1, 2),
    memory=st.integers(1, 8),
    state_zp=st.integers(-20, 20),
    headroom=st.sampled_from([4.0, 0.5]),
    seed=st.integers(0, 1000),
)
def test_svdf_int8_state(lab, in_size, units, rank, memory, state_zp, headroom, seed) -> None:
    data = svdf_model(
        1, in_size, units, rank, memory, seed=seed, state_dtype="int8", state_zp=state_zp, headroom=headroom
    )
    lab.exact(data, inputs=INVOCATIONS, seed=seed, expect="tf_svdf_s8_state8")


def test_svdf_state_zero_point_and_activation_as_tflm(lab: Lab) -> None:
    """The state zero point is added after the saturation and the sum narrowed with wraparound,
    and the fused RELU is not applied by TFLM's integer kernel: both as the reference does (the
    first model saturates its state, so adding the zero point first would differ)."""
    lab.exact(svdf_model(1, 19, 2, 3, 10, seed=862, input_zp=120, state_zp=5), inputs=INVOCATIONS)
    lab.exact(svdf_model(1, 10, 4, 1, 6, seed=3, state_zp=37, headroom=0.3), inputs=INVOCATIONS)
    out = lab.exact(svdf_model(2, 10, 4, 2, 6, seed=4, activation=1, output_zp=20), inputs=INVOCATIONS)
    below = [b for rec in out.reference for b in np.frombuffer(rec[0], np.int8) if b < 20]
    assert below, "the reference applied RELU after all; the test no longer checks anything"


def test_svdf_reset(lab: Lab) -> None:
    check_reset(lab, svdf_model(2, 16, 8, 2, 10, seed=7))


# ---- LSTM (TF's converter) ---------------------------------------------------------------------

LSTM_SPECS = {
    "basic": {"units": 8, "steps": 5, "features": 4},
    "batch2": {"units": 5, "steps": 3, "features": 4, "batch": 2, "seed": 1},
    "time_major": {"units": 6, "steps": 4, "features": 3, "time_major": True, "seed": 2},
    "time_major_batch2": {"units": 5, "steps": 3, "features": 4, "batch": 2, "time_major": True, "seed": 3},
    "last_step": {"units": 7, "steps": 6, "features": 5, "return_sequences": False, "seed": 4},
    "stacked": {"units": 4, "steps": 5, "features": 3, "stack": True, "seed": 5},
    "classifier": {"units": 16, "steps": 10, "features": 12, "dense": 4, "seed": 6},
    "one_unit": {"units": 1, "steps": 1, "features": 1, "seed": 7},
}


@pytest.mark.parametrize("name", sorted(LSTM_SPECS))
def test_lstm_from_converter(lab: Lab, lstm_cache: Path, name: str) -> None:
    data = keras_lstm(LSTM_SPECS[name], lstm_cache)
    lab.exact(data, inputs=INVOCATIONS, seed=len(name), expect="tf_lstm_s8")


@fixed(30)
@given(
    spec=st.sampled_from(["basic", "batch2", "time_major_batch2", "stacked"]),
    cell_clip=st.sampled_from([None, 0.0, 0.05, 0.4, 1.0, 3.0]),
    cell_power=st.sampled_from([None, -15, -14, -13, -12, -11, -10]),
    hidden_scale=st.one_of(st.none(), st.floats(0.001, 0.05)),
    hidden_zp=st.one_of(st.none(), st.integers(-100, 100)),
    seed=st.integers(0, 100),
)
def test_lstm_quantization_sweep(lab, lstm_cache, spec, cell_clip, cell_power, hidden_scale, hidden_zp, seed):
    base = keras_lstm(LSTM_SPECS[spec], lstm_cache)
    data = retune_lstm(
        base, cell_clip=cell_clip, cell_power=cell_power, hidden_scale=hidden_scale, hidden_zp=hidden_zp
    )
    lab.exact(data, inputs=INVOCATIONS, seed=seed, expect="tf_lstm_s8")


@pytest.mark.parametrize("name", ["basic", "time_major_batch2", "batch2"])
def test_lstm_16x8(lab: Lab, lstm_cache: Path, name: str) -> None:
    """int16 activations and hidden state, int8 weights, int64 biases (between int8 QUANTIZEs)."""
    data = lstm_16x8(keras_lstm(LSTM_SPECS[name], lstm_cache), seed=len(name))
    out = lab.exact(data, inputs=INVOCATIONS, seed=3, expect="tf_lstm_s16", layers=True)
    assert len(set(out.reference[:-1])) > 1


def test_lstm_reset(lab: Lab, lstm_cache: Path) -> None:
    check_reset(lab, keras_lstm(LSTM_SPECS["batch2"], lstm_cache))


def test_lstm_layer_outputs_match(lab: Lab, lstm_cache: Path) -> None:
    """With a DENSE after the LSTM, every layer's output (the LSTM's int8 sequence too) matches."""
    lab.exact(keras_lstm(LSTM_SPECS["classifier"], lstm_cache), inputs=3, layers=True)


# ---- the stateful model as a whole: plan, generated code, sanitizers -----------------------------


def test_state_buffers_are_never_shared(lstm_cache: Path) -> None:
    from tinyforge.compiler import compile_model
    from tinyforge.model.tflite import parse_tflite

    compiled = compile_model(parse_tflite(keras_lstm(LSTM_SPECS["stacked"], lstm_cache)))
    state = {t.index for t in compiled.graph.state_tensors()}
    assert len(state) == 4
    n = len(compiled.graph.ops)
    bufs = {b.tensor: b for b in compiled.plan.buffers}
    for s in state:
        assert (bufs[s].first, bufs[s].last) == (-1, n)
        lo, hi = compiled.plan.offsets[s], compiled.plan.offsets[s] + bufs[s].size
        for other in compiled.plan.buffers:
            if other.tensor == s:
                continue
            o_lo = compiled.plan.offsets[other.tensor]
            assert o_lo + other.size <= lo or o_lo >= hi, f"%{other.tensor} overlaps state %{s}"
    header = compiled.project.files["model.h"].decode()
    assert "#define MODEL_STATEFUL 1" in header and "void model_reset_state(void);" in header
    source = compiled.project.files["model.c"].decode()
    assert source.count("memset(g_arena + ") == 4  # the two states of each LSTM


def test_stateful_models_under_sanitizers(lstm_cache: Path, tmp_path: Path) -> None:
    """The LSTM and SVDF kernels run clean under ASan/UBSan (tinyforge test --sanitize)."""
    from tinyforge import api

    lstm = tmp_path / "lstm.tflite"
    lstm.write_bytes(retune_lstm(keras_lstm(LSTM_SPECS["time_major_batch2"], lstm_cache), cell_clip=0.5))
    svdf = tmp_path / "svdf.tflite"
    svdf.write_bytes(svdf_model(2, 20, 6, 2, 9, seed=9, input_zp=3))
    wide = tmp_path / "lstm16.tflite"
    wide.write_bytes(lstm_16x8(keras_lstm(LSTM_SPECS["batch2"], lstm_cache)))
    for model in (lstm, svdf, wide):
        rep = api.test_host(model, inputs=8, seed=2, sanitize=True, workdir=tmp_path / model.stem)
        assert rep.bit_exact, (model.name, rep.first_mismatch)


# ---- the DSP (M4/M7/M33) and Helium (M55) paths, on the host through their portable shims ---------

DSP = Target(cpu="cortex-m4", features=frozenset({"dsp"}))  # --optimize balanced: int8 weights
DSP_SPEED = Target(cpu="cortex-m4", features=frozenset({"dsp"}), optimize="speed")  # int16 weights


@pytest.fixture(scope="module")
def dsp_objects(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    """The kernel library with the DSP kernels (tf_acle.h's portable shim), compiled once."""
    from tinyforge import proc
    from tinyforge.codegen.cgen import kernel_sources
    from tinyforge.resources import firmware_dir
    from tinyforge.run.host import HOST_CFLAGS

    out = tmp_path_factory.mktemp("dsp_objects")
    objs = []
    for src in kernel_sources(frozenset({"dsp"})):
        obj = out / f"{src.parent.name}_{src.stem}.o"
        inc = ["-I", str(firmware_dir() / "kernels")]
        proc.run_tool(["gcc", "-O1", *HOST_CFLAGS, *inc, "-c", str(src), "-o", str(obj)], what="host gcc")
        objs.append(obj)
    return tuple(objs)


def exact_on(
    target: Target,
    data: bytes,
    work: Path,
    objects: tuple[Path, ...] | None = None,
    invocations: int = INVOCATIONS,
) -> list[str]:
    """The kernels `target` selects, built for the host (prebuilt `objects`, or every source under
    ASan/UBSan), run `invocations` times in a row against TFLM; returns the kernels used."""
    from tinyforge.compiler import compile_model
    from tinyforge.model.tflite import parse_tflite
    from tinyforge.run.host import build_host, run_host
    from tinyforge.run.verify import InputSet, compare

    compiled = compile_model(parse_tflite(data, "<target>"), target, name="m")
    if objects is not None:
        compiled = replace(compiled, project=replace(compiled.project, kernel_sources=objects))
    inputs = InputSet(tuple(tuple(rec) for rec in random_inputs(data, invocations, seed=5)))
    run = run_host(build_host(compiled, work, sanitize=objects is None, opt="-O1"), inputs.records())
    cmp = compare(compiled, inputs, [r.outputs for r in run.results])
    assert cmp.bit_exact, f"{cmp.mismatched_bytes} bytes differ in inferences {cmp.mismatched_inferences}"
    return [lay.call.function for lay in compiled.layers]


@pytest.mark.parametrize("name", ["basic", "batch2", "time_major_batch2", "classifier", "one_unit"])
def test_lstm_dsp_path(lstm_cache: Path, tmp_path: Path, dsp_objects, name: str) -> None:
    data = retune_lstm(keras_lstm(LSTM_SPECS[name], lstm_cache), cell_clip=0.7)
    assert "tf_dsp_lstm_s8" in exact_on(DSP_SPEED, data, tmp_path / "w16", dsp_objects)
    assert "tf_dsp_lstm_s8" in exact_on(DSP, data, tmp_path / "w8", dsp_objects)  # int8 weights


def test_dsp_paths_under_sanitizers(lstm_cache: Path, tmp_path: Path) -> None:
    data = keras_lstm(LSTM_SPECS["time_major_batch2"], lstm_cache)
    assert "tf_dsp_lstm_s8" in exact_on(DSP, data, tmp_path / "lstm")
    assert "tf_dsp_svdf_s8" in exact_on(
        DSP_SPEED, svdf_model(2, 21, 5, 2, 7, seed=3, input_zp=9), tmp_path / "svdf"
    )


@fixed(15)
@given(
    batches=st.integers(1, 2),
    in_size=st.integers(8, 40),
    units=st.integers(1, 10),
    rank=st.integers(1, 3),
    memory=st.integers(1, 12),
    input_zp=st.integers(-128, 127),
    state_zp=st.sampled_from([0, 0, 5, -300]),
    seed=st.integers(0, 1000),
)
def test_svdf_dsp_path(
    tmp_path_factory, dsp_objects, batches, in_size, units, rank, memory, input_zp, state_zp, seed
):
    data = svdf_model(batches, in_size, units, rank, memory, seed=seed, input_zp=input_zp, state_zp=state_zp)
    work = tmp_path_factory.mktemp("svdf_dsp")
    assert "tf_dsp_svdf_s8" in exact_on(DSP_SPEED, data, work, dsp_objects)  # int16 feature weights


def test_svdf_dsp_saturating_state(tmp_path: Path, dsp_objects) -> None:
    """The state saturates at both ends and has a zero point (added after the clamp, wrapping)."""
    data = svdf_model(1, 19, 2, 3, 10, seed=862, input_zp=120, state_zp=5)
    assert exact_on(DSP_SPEED, data, tmp_path, dsp_objects) == ["tf_dsp_svdf_s8"]
    assert exact_on(DSP, data, tmp_path / "w8", dsp_objects) == ["tf_svdf_s8"]  # int8 weights: portable


def test_svdf_dsp_fallback_is_exact(tmp_path: Path, dsp_objects) -> None:
    """A feature multiplier >= 0.5 leaves no right shift to fold: the portable kernel, still exact."""
    data = svdf_model(1, 1, 3, 1, 4, seed=2)
    assert exact_on(DSP_SPEED, data, tmp_path, dsp_objects) == ["tf_svdf_s8"]


def test_mismatch_localisation_replays_the_sequence(lstm_cache: Path, tmp_path: Path) -> None:
    """To name the first differing layer of inference k, a stateful model's reference replays
    inferences 0..k (the state they leave); compared with a fresh state, the LSTM would differ."""
    from tinyforge.compiler import compile_model
    from tinyforge.model.tflite import parse_tflite
    from tinyforge.run.host import build_host, run_host
    from tinyforge.run.verify import first_mismatching_layer

    data = keras_lstm(LSTM_SPECS["classifier"], lstm_cache)
    compiled = compile_model(parse_tflite(data, "<seq>"), name="seq")
    seq = [tuple(rec) for rec in random_inputs(data, 3, seed=8)]
    records = [b"".join(np.ascontiguousarray(a).tobytes() for a in rec) for rec in seq]
    layers = run_host(build_host(compiled, tmp_path, debug_layers=True), records).layers  # the last one's
    assert first_mismatching_layer(compiled, seq, layers) is None
    fresh = first_mismatching_layer(compiled, seq[-1:], layers)
    assert fresh is not None and fresh.kind == "UNIDIRECTIONAL_SEQUENCE_LSTM"
