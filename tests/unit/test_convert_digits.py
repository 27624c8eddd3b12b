"""`tinyforge convert` end to end on the committed digits example (a Keras 3 CNN): int8 model valid
for TFLM, report numbers equal to an independent numpy + tflite_micro computation, float vs int8
accuracy within 1 point, deterministic bytes, float I/O, float .tflite input, bad data errors.

Imports TensorFlow (a few seconds); conversions are cached per module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinyforge import api
from tinyforge.cli import main
from tinyforge.errors import UnsupportedOpError, UsageError
from tinyforge.model.calib import load_samples, synthetic_samples
from tinyforge.model.load import from_keras_model, import_tensorflow, int8_violations, predict
from tinyforge.model.quantize import quantize
from tinyforge.model.reference import run_tflm
from tinyforge.model.tflite import read_tflite
from tinyforge.resources import examples_dir

DIGITS = examples_dir() / "digits"
MODEL, CALIB, EVAL, LABELS = (
    DIGITS / n for n in ("digits.keras", "calib.npy", "eval.npy", "eval_labels.npy")
)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("digits")


@pytest.fixture(scope="module")
def int8(out_dir: Path) -> Any:
    return api.convert(MODEL, out_dir / "digits_int8.tflite", calib=CALIB, eval_data=EVAL, labels=LABELS)


@pytest.fixture(scope="module")
def float_io(out_dir: Path) -> Any:
    return api.convert(
        MODEL, out_dir / "digits_fio.tflite", calib=CALIB, eval_data=EVAL, labels=LABELS, io="float"
    )


def test_example_files_are_small() -> None:
    total = sum(p.stat().st_size for p in DIGITS.iterdir() if p.is_file())
    assert total < 200_000, total


def test_int8_model_is_full_integer_batch1(int8: Any) -> None:
    assert int8.loader.startswith("keras 3") and int8.converter.startswith("TFLiteConverter")
    g = read_tflite(int8.output).graph
    assert int8_violations(g) == []
    kinds = Counter(op.kind for op in g.ops)
    # Flatten stays one RESHAPE with a constant shape: no dynamic-batch shape arithmetic
    assert not {"SHAPE", "PACK", "GATHER", "STRIDED_SLICE", "QUANTIZE", "DEQUANTIZE"} & set(kinds)
    assert kinds["CONV_2D"] == 2 and kinds["FULLY_CONNECTED"] == 1
    inp, out = g.tensors[g.inputs[0]], g.tensors[g.outputs[0]]
    assert (inp.shape, inp.dtype, out.shape, out.dtype) == ((1, 8, 8, 1), "int8", (1, 10), "int8")
    conv = next(op for op in g.ops if op.kind == "CONV_2D")
    assert g.tensors[conv.inputs[1]].quant.per_channel  # per-channel conv weights
    assert g.tensors[conv.inputs[2]].dtype == "int32"
    assert (
        int8.inputs[0].scale == pytest.approx(inp.quant.scale[0])
        and int8.inputs[0].zero_point == inp.quant.zero_point[0]
    )


def test_accuracy_within_one_point(int8: Any) -> None:
    rep = int8.report
    assert rep.samples == 360 and rep.interpreter == "tflite_micro"
    assert rep.float_accuracy >= 0.97
    assert abs(rep.float_accuracy - rep.int8_accuracy) <= 0.01


def test_report_matches_independent_computation(int8: Any) -> None:
    import keras
    from tflite_micro.python.tflite_micro import runtime

    x, y = np.load(EVAL), np.load(LABELS)
    f = np.asarray(keras.saving.load_model(MODEL).predict(x, verbose=0), np.float64)
    g = read_tflite(int8.output).graph
    qi, qo = g.tensors[g.inputs[0]].quant, g.tensors[g.outputs[0]].quant
    interp = runtime.Interpreter.from_file(int8.output)
    q = []
    for sample in x:
        xq = np.clip(np.floor(sample / np.float32(qi.scale[0]) + 0.5) + qi.zero_point[0], -128, 127)
        interp.set_input(xq.astype(np.int8)[np.newaxis], 0)
        interp.invoke()
        q.append((interp.get_output(0).astype(np.float64)[0] - qo.zero_point[0]) * qo.scale[0])
    q = np.array(q)
    m = int8.report.outputs[0]
    cos = np.mean(np.sum(f * q, 1) / (np.linalg.norm(f, axis=1) * np.linalg.norm(q, axis=1)))
    assert m.cosine == pytest.approx(cos, abs=1e-6)
    assert m.rmse == pytest.approx(np.sqrt(np.mean((f - q) ** 2)), rel=1e-4)
    assert m.max_abs_error == pytest.approx(np.max(np.abs(f - q)), rel=1e-4)
    assert m.top1_agreement == pytest.approx(np.mean(f.argmax(1) == q.argmax(1)))
    assert int8.report.float_accuracy == pytest.approx(np.mean(f.argmax(1) == y))
    assert int8.report.int8_accuracy == pytest.approx(np.mean(q.argmax(1) == y))


def test_deterministic_bytes_and_clean_json(int8: Any, out_dir: Path) -> None:
    again = api.convert(MODEL, out_dir / "again.tflite", calib=CALIB, report=False)
    assert again.sha256 == int8.sha256
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "tinyforge", "convert", str(MODEL), "-o", str(out_dir / "cli.tflite"),
         "--calib", str(CALIB), "--eval", str(EVAL), "--labels", str(LABELS), "--json"],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)  # nothing but JSON on stdout, despite TensorFlow's chatter
    assert d["sha256"] == int8.sha256
    assert d["report"]["int8_accuracy"] == pytest.approx(int8.report.int8_accuracy)
    assert set(d["timings"]) == {"load", "quantize", "report"}


def test_float_io(float_io: Any, int8: Any) -> None:
    g = read_tflite(float_io.output).graph
    assert int8_violations(g) == []
    assert g.tensors[g.inputs[0]].dtype == "float32" and g.tensors[g.outputs[0]].dtype == "float32"
    assert g.ops[0].kind == "QUANTIZE" and g.ops[-1].kind == "DEQUANTIZE"
    assert abs(float_io.report.int8_accuracy - int8.report.int8_accuracy) <= 0.01


def test_ensure_int8_tflite(out_dir: Path, int8: Any) -> None:
    path, res = api.ensure_int8_tflite(MODEL, CALIB, output=out_dir / "ensured.tflite")
    assert res is not None and path == out_dir / "ensured.tflite" and res.sha256 == int8.sha256
    path2, res2 = api.ensure_int8_tflite(path)
    assert (path2, res2) == (path, None)


def test_default_output_and_synthetic_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(MODEL, tmp_path / "digits.keras")
    code, out, err = run_cli(["convert", str(tmp_path / "digits.keras")], capsys)
    assert code == 0, err
    assert (tmp_path / "digits_int8.tflite").is_file()
    assert "warning: no --calib data" in err and "--calib" in err
    assert "cosine" in out and "synthetic" in out


@pytest.mark.parametrize(
    ("make", "flag", "needles"),
    [
        (lambda: np.zeros((4, 8, 8), np.float32), "--calib", ["shape (4, 8, 8)", "expects (N, 8, 8, 1)"]),
        (lambda: np.zeros((4, 8, 8, 1), np.int32), "--calib", ["dtype int32", "floating point"]),
        (lambda: np.zeros((3, 64), np.float32), "--eval", ["--eval", "shape (3, 64)"]),
        (lambda: np.zeros((7,), np.int64), "--labels", ["7 labels for 128"]),
    ],
)
def test_bad_data_cli(
    make: Any, flag: str, needles: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "d.npy", make())
    args = ["convert", str(MODEL), "-o", str(tmp_path / "o.tflite"), "--calib", str(CALIB)]
    args = (
        args[:-2] + [flag, str(tmp_path / "d.npy")]
        if flag == "--calib"
        else args + [flag, str(tmp_path / "d.npy")]
    )
    code, _out, err = run_cli(args, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err
    for n in needles:
        assert n in lines[0]
    assert not (tmp_path / "o.tflite").exists()  # data is checked before anything is written


# ---- layers that cannot become int8 ------------------------------------------------------------


def _dense_model(layer: Any) -> Any:
    import keras

    inp = keras.Input((16,), name="x")
    x = keras.layers.Dense(8, name="fc1")(inp)
    return keras.Model(inp, keras.layers.Dense(4, name="fc2")(layer(x)))


def test_unquantizable_layer_is_named() -> None:
    import keras

    tf = import_tensorflow()
    fm = from_keras_model(
        _dense_model(keras.layers.Lambda(lambda t: tf.math.cumsum(t, axis=-1), name="my_cumsum"))
    )
    with pytest.raises(UnsupportedOpError) as exc:
        quantize(fm, synthetic_samples(fm.inputs, 4))
    assert "layer 'my_cumsum'" in exc.value.message and "CUMSUM" in exc.value.message


def test_recurrent_loop_is_named() -> None:
    import keras

    inp = keras.Input((5, 4), name="seq")
    fm = from_keras_model(keras.Model(inp, keras.layers.LSTM(8, name="my_lstm")(inp)))
    with pytest.raises(UnsupportedOpError) as exc:
        quantize(fm, synthetic_samples(fm.inputs, 4))
    assert "layer 'my_lstm' (LSTM)" in exc.value.message and "unroll=True" in (exc.value.hint or "")


def test_two_inputs_two_outputs_keep_their_order(tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(0)
    a, b = keras.Input((6,), name="a"), keras.Input((3,), name="b")
    h = keras.layers.Dense(8, activation="relu", name="h")(keras.layers.Concatenate(name="cat")([a, b]))
    model = keras.Model([a, b], [keras.layers.Dense(2, name="y2")(h), keras.layers.Dense(5, name="y5")(h)])
    fm = from_keras_model(model)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "c.npz", b=rng.random((32, 3), np.float32), a=rng.random((32, 6), np.float32))
    samples = load_samples(tmp_path / "c.npz", fm.inputs)
    qm = quantize(fm, samples)
    f, q = predict(fm, samples), run_tflm(qm.data, samples)
    assert [o.shape for o in f] == [o.shape for o in q] == [(32, 2), (32, 5)]
    for fo, qo in zip(f, q, strict=True):
        assert np.max(np.abs(fo - qo)) < 0.1 * (np.max(np.abs(fo)) + 1e-6) + 0.05


# ---- float .tflite input (ai-edge-quantizer) -----------------------------------------------------


@pytest.fixture(scope="module")
def float_tflite(out_dir: Path) -> Path:
    import keras
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    tf = import_tensorflow()
    model = keras.saving.load_model(MODEL)
    fn = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec([1, 8, 8, 1], tf.float32, name="image")
    )
    path = out_dir / "digits_float.tflite"
    path.write_bytes(
        tf.lite.TFLiteConverter.from_concrete_functions([convert_variables_to_constants_v2(fn)]).convert()
    )
    return path


def test_float_tflite_is_quantized(float_tflite: Path, out_dir: Path, int8: Any) -> None:
    res = api.convert(float_tflite, out_dir / "aeq.tflite", calib=CALIB, eval_data=EVAL, labels=LABELS)
    assert res.converter.startswith("ai-edge-quantizer") and res.source_format == "tflite"
    assert int8_violations(read_tflite(res.output).graph) == []
    assert abs(res.report.float_accuracy - int8.report.float_accuracy) < 1e-9
    assert abs(res.report.int8_accuracy - res.report.float_accuracy) <= 0.01
    with pytest.raises(UsageError, match="--io float"):
        api.convert(float_tflite, out_dir / "x.tflite", calib=CALIB, io="float")


def test_plain_savedmodel_signature(tmp_path: Path) -> None:
    """A SavedModel that holds no Keras model converts through its serving signature."""
    tf = import_tensorflow()

    class Linear(tf.Module):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            self.w = tf.Variable(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="feat")])
        def __call__(self, feat: Any) -> Any:
            return {"probs": tf.nn.softmax(tf.matmul(feat, self.w))}

    module = Linear()
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"serving_default": module.__call__})
    res = api.convert(tmp_path / "sm", tmp_path / "sm.tflite")
    assert res.loader.startswith("tf.saved_model") and res.inputs[0].shape == (1, 4)
    assert res.report.outputs[0].name == "probs" and res.report.outputs[0].cosine > 0.999
