"""`tinyforge convert` without TensorFlow: data loading and its errors, format detection, .tflite
classification (int8 pass-through, hybrid refusal), report metrics, and TensorFlow staying out of
every command that does not convert."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import INT8_MODELS, shared_model
from tinyforge import api
from tinyforge.cli import main
from tinyforge.errors import ModelError, UsageError
from tinyforge.model.calib import InputSpec, load_labels, load_samples, synthetic_samples
from tinyforge.model.load import detect_format, int8_violations, tflite_kind
from tinyforge.model.reference import dequantize, quantize_input
from tinyforge.model.report import compare
from tinyforge.model.tflite import read_tflite

IMG = InputSpec("image", (1, 8, 8, 1), "float32")
TWO = (InputSpec("a", (1, 4), "float32"), InputSpec("b", (1, 2, 3), "float32"))


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "(hint: " in lines[0], err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


# ---- calibration data ------------------------------------------------------------------------


def test_npy_samples_and_float64_cast(tmp_path: Path) -> None:
    x = np.random.default_rng(0).random((5, 8, 8, 1))
    np.save(tmp_path / "c.npy", x)
    s = load_samples(tmp_path / "c.npy", [IMG])
    assert s.count == 5 and s.arrays[0].dtype == np.float32
    np.testing.assert_array_equal(s.sample(3)[0], x[3:4].astype(np.float32))


@pytest.mark.parametrize(
    ("array", "needles"),
    [
        (np.zeros((4, 8, 8), np.float32), ["shape (4, 8, 8)", "'image' expects (N, 8, 8, 1)"]),
        (np.zeros((4, 8, 8, 1), np.int64), ["dtype int64", "floating point"]),
        (np.zeros((0, 8, 8, 1), np.float32), ["no samples"]),
        (np.full((2, 8, 8, 1), np.nan, np.float32), ["NaN"]),
        (np.array([["a"] * 64]).reshape(1, 8, 8, 1), ["not numeric"]),
    ],
)
def test_bad_npy(tmp_path: Path, array: np.ndarray, needles: list[str]) -> None:
    np.save(tmp_path / "c.npy", array)
    with pytest.raises(UsageError) as exc:
        load_samples(tmp_path / "c.npy", [IMG])
    for n in needles:
        assert n in exc.value.message
    assert exc.value.hint or "NaN" in exc.value.message or "no samples" in exc.value.message


def test_npz_by_name_and_by_order(tmp_path: Path) -> None:
    a, b = np.ones((3, 4), np.float32), np.zeros((3, 2, 3), np.float32)
    np.savez(tmp_path / "named.npz", b=b, a=a)
    s = load_samples(tmp_path / "named.npz", TWO)
    assert s.arrays[0].shape == (3, 4) and s.arrays[1].shape == (3, 2, 3)
    np.savez(tmp_path / "ordered.npz", a, b)
    s = load_samples(tmp_path / "ordered.npz", TWO)
    np.testing.assert_array_equal(s.arrays[0], a)
    np.savez(tmp_path / "wrong.npz", x=a)
    with pytest.raises(UsageError, match="holds arrays"):
        load_samples(tmp_path / "wrong.npz", TWO)
    np.savez(tmp_path / "counts.npz", a=a, b=b[:2])
    with pytest.raises(UsageError, match="different sample counts"):
        load_samples(tmp_path / "counts.npz", TWO)
    np.save(tmp_path / "one.npy", a)
    with pytest.raises(UsageError, match="single-input"):
        load_samples(tmp_path / "one.npy", TWO)


def test_folder_of_samples_and_batches(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.random((6, 8, 8, 1)).astype(np.float32)
    np.save(tmp_path / "0_batch.npy", x[:4])
    np.save(tmp_path / "1_sample.npy", x[4, :, :, :])  # one sample without batch axis
    np.save(tmp_path / "2_sample.npy", x[5:6])
    s = load_samples(tmp_path, [IMG])
    np.testing.assert_array_equal(s.arrays[0], x)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no .npy files"):
        load_samples(tmp_path / "empty", [IMG])


def test_missing_and_unknown_data(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_samples(tmp_path / "nope.npy", [IMG])
    (tmp_path / "d.csv").write_text("1,2\n")
    with pytest.raises(UsageError, match="unknown data format"):
        load_samples(tmp_path / "d.csv", [IMG])


def test_labels(tmp_path: Path) -> None:
    np.save(tmp_path / "l.npy", np.arange(4).reshape(4, 1))
    assert load_labels(tmp_path / "l.npy", 4).tolist() == [0, 1, 2, 3]
    with pytest.raises(UsageError, match="4 labels for 5"):
        load_labels(tmp_path / "l.npy", 5)
    np.save(tmp_path / "f.npy", np.zeros(4, np.float32))
    with pytest.raises(UsageError, match="expected integers"):
        load_labels(tmp_path / "f.npy", 4)
    np.save(tmp_path / "oh.npy", np.eye(4, dtype=np.int64))
    with pytest.raises(UsageError, match=r"shape \(4, 4\)"):
        load_labels(tmp_path / "oh.npy", 4)


def test_synthetic_is_seeded() -> None:
    a, b = synthetic_samples([IMG]), synthetic_samples([IMG])
    assert a.synthetic and a.count == 64
    np.testing.assert_array_equal(a.arrays[0], b.arrays[0])


# ---- formats and .tflite classification -------------------------------------------------------


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format(shared_model("ad01.h5")) == "h5"
    assert detect_format(shared_model("kws_ref_model_savedmodel")) == "savedmodel"
    assert detect_format(shared_model("ad01_int8.tflite")) == "tflite"
    with pytest.raises(ModelError, match="no such file"):
        detect_format(tmp_path / "x.keras")
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07onnx")
    with pytest.raises(ModelError, match="unknown model format '.onnx'"):
        detect_format(tmp_path / "m.onnx")
    (tmp_path / "bad.keras").write_text("not a zip")
    with pytest.raises(ModelError, match="not a valid .keras"):
        detect_format(tmp_path / "bad.keras")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelError, match="not a SavedModel"):
        detect_format(tmp_path / "folder")


@pytest.mark.parametrize("key", sorted(INT8_MODELS))
def test_shared_int8_models_pass_through(key: str, tmp_path: Path) -> None:
    path = shared_model(INT8_MODELS[key])
    g = read_tflite(path).graph
    assert tflite_kind(g) == "int8" and int8_violations(g) == []
    out, result = api.ensure_int8_tflite(path)
    assert out == path and result is None
    res = api.convert(path, tmp_path / "copy.tflite")
    assert res.converter.startswith("none") and (tmp_path / "copy.tflite").read_bytes() == path.read_bytes()


def test_hybrid_model_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_model("kws_ref_model_float32.tflite")
    assert tflite_kind(read_tflite(path).graph) == "hybrid"
    with pytest.raises(ModelError, match="hybrid"):
        api.ensure_int8_tflite(path)
    code, _out, err = run_cli(["convert", str(path)], capsys)
    assert_one_line_error(code, err, "hybrid (dynamic-range)", "TFLM cannot run hybrid", "--calib")


def test_cli_missing_and_unknown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _o, err = run_cli(["convert", str(tmp_path / "missing.keras")], capsys)
    assert_one_line_error(code, err, "missing.keras: no such file")
    (tmp_path / "model.pt").write_bytes(b"\x80\x02torch")
    code, _o, err = run_cli(["convert", str(tmp_path / "model.pt")], capsys)
    assert_one_line_error(code, err, "unknown model format '.pt'", ".keras", "SavedModel")
    (tmp_path / "trunc.tflite").write_bytes(shared_model("ad01_int8.tflite").read_bytes()[:400])
    code, _o, err = run_cli(["convert", str(tmp_path / "trunc.tflite")], capsys)
    assert code != 0 and err.startswith("error: ") and "Traceback" not in err


def test_int8_with_calib_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "c.npy", np.zeros((2, 640), np.float32))
    code, _o, err = run_cli(
        ["convert", str(shared_model("ad01_int8.tflite")), "--calib", str(tmp_path / "c.npy")], capsys
    )
    assert_one_line_error(code, err, "already int8")


def test_cli_json_pass_through(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run_cli(["convert", str(shared_model("kws_ref_model.tflite")), "--json"], capsys)
    assert code == 0
    d = json.loads(out)
    assert d["converter"].startswith("none") and d["inputs"][0]["shape"] == [1, 49, 10, 1]
    assert d["sha256"] == "aeea436800704fce17b17292e4412630ad856e9d777c044c64ef748a880bd0ae"


# ---- report arithmetic, against plain numpy -----------------------------------------------------


def test_compare_matches_numpy() -> None:
    rng = np.random.default_rng(3)
    f = rng.random((50, 10)).astype(np.float32)
    q = (f + rng.normal(0, 0.05, f.shape)).astype(np.float32)
    q[0] = 0.0  # one sample with a zero int8 vector: cosine 0 there
    labels = rng.integers(0, 10, 50)
    rep = compare([f], [q], ["y"], data="d", classifier=[True], labels=labels, labels_source="l")
    m = rep.outputs[0]
    f64, q64 = f.astype(np.float64), q.astype(np.float64)
    cos = [
        a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) if np.any(b) else 0.0
        for a, b in zip(f64, q64, strict=True)
    ]
    assert m.cosine == pytest.approx(np.mean(cos), rel=1e-9)
    assert m.rmse == pytest.approx(float(np.sqrt(np.mean((f.astype(np.float64) - q) ** 2))), rel=1e-9)
    assert m.max_abs_error == pytest.approx(float(np.max(np.abs(f - q))), rel=1e-6)
    assert m.top1_agreement == pytest.approx(float(np.mean(f.argmax(1) == q.argmax(1))))
    assert rep.float_accuracy == pytest.approx(float(np.mean(f.argmax(1) == labels)))
    assert rep.int8_accuracy == pytest.approx(float(np.mean(q.argmax(1) == labels)))
    with pytest.raises(UsageError, match="classes"):
        compare([f], [q], ["y"], data="d", classifier=[True], labels=labels + 10, labels_source="l")
    reg = compare([f], [q], ["y"], data="d", classifier=[False])
    assert reg.outputs[0].top1_agreement is None and reg.float_accuracy is None


def test_quantize_rounds_half_away_from_zero() -> None:
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 1000.0, -1000.0], np.float32)
    assert quantize_input(x, 1.0, 0).tolist() == [1, 2, 3, -1, -3, 127, -128]
    assert dequantize(np.array([-128, 0, 127], np.int8), 0.5, -128).tolist() == [0.0, 64.0, 127.5]


# ---- TensorFlow stays out of everything that does not convert -----------------------------------

_PROBE = """
import importlib, sys
from tinyforge.cli import COMMANDS
for mod, _attr, _help in COMMANDS.values():
    try:
        importlib.import_module("tinyforge.cli." + mod)
    except ModuleNotFoundError:
        pass
import tinyforge.api as api
path, result = api.ensure_int8_tflite(sys.argv[1])
assert result is None
api.convert(sys.argv[1])
try:
    api.inspect(sys.argv[1])
except AttributeError:
    pass
print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras")))
"""


def test_no_tensorflow_without_conversion() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(shared_model("kws_ref_model.tflite"))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_help_does_not_import_tensorflow() -> None:
    code = "import sys\nfrom tinyforge.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    code += "print('tensorflow' in sys.modules, 'numpy' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout.strip().splitlines()[-1] == "False False"
