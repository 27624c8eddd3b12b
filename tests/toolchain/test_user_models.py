"""Models users bring beyond full-int8 CNNs (issue 12), made with TensorFlow's converter
(tests/toolchain/_tf_models.py), compiled for the host and compared byte for byte with TFLM:
float I/O, sparse (pruned) weights, float16 weight files, several subgraphs, a dynamic-batch
Flatten, a layer the calibration data leave constant; and what `test`/`build`/`convert` may write.

Sparse models: TFLM has no DENSIFY kernel and reads a sparse FULLY_CONNECTED weight buffer as if
it were dense, so tinyforge's reference is TFLM on the densified model, and the densification is
checked against LiteRT (ai_edge_litert) running the original sparse file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import _tf_models as tfm
import numpy as np
import pytest
from _fw_models import float_edge_inputs, float_edges

from tinyforge import api
from tinyforge.cli import main
from tinyforge.errors import ModelError, UsageError
from tinyforge.model.tflite import read_tflite

pytestmark = pytest.mark.toolchain


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """name -> model path, each built once per module on first use."""
    root = tmp_path_factory.mktemp("user_models")
    cache: dict[str, Path] = {}
    builders = {
        "flatten_dynamic": lambda p: tfm.flatten_dynamic(p),
        "float_io": lambda p: tfm.float_io(p, root),
        "sparse_block": lambda p: tfm.sparse_int8(p, "block"),
        "sparse_random": lambda p: tfm.sparse_int8(p, "random"),
        "sparse_float": lambda p: tfm.sparse_float(p),
        "float16": lambda p: tfm.float16(p),
        "two_signatures": lambda p: tfm.two_signatures(p),
        "pruning_wrapper": lambda p: tfm.pruning_wrapper(p),
    }

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = builders[name](root / f"{name}.tflite")
        return cache[name]

    return get


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def litert(data: bytes, inputs: list[np.ndarray]) -> list[bytes]:
    """LiteRT's reference kernels (no delegate) on each input."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=data, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    out = []
    for x in inputs:
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        out.append(it.get_tensor(it.get_output_details()[0]["index"]).tobytes())
    return out


def int8_inputs(path: Path, n: int = 16) -> list[np.ndarray]:
    g = read_tflite(path).graph
    shape = g.tensor(g.inputs[0]).shape
    rng = np.random.default_rng(3)
    return [rng.integers(-128, 128, size=shape).astype(np.int8) for _ in range(n)]


# ---- item 7: inspect and compile run the same passes ---------------------------------------------


def test_dynamic_batch_flatten_inspects_like_it_compiles(models: Any, tmp_path: Path) -> None:
    path = models("flatten_dynamic")
    kinds = [op.kind for op in read_tflite(path).graph.ops]
    assert {"SHAPE", "PACK", "STRIDED_SLICE", "RESHAPE"} <= set(kinds)
    rep = api.inspect(path)
    assert rep["unsupported"] == [] and "problem" not in rep
    folded = {lay["op"] for lay in rep["layers"] if lay["folded"]}
    assert {"SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"} <= folded
    compiled = api.compile(path)
    assert rep["memory"]["arena_bytes"] == compiled.stats.arena_bytes
    assert [op.kind for op in compiled.graph.ops] == ["CONV_2D", "FULLY_CONNECTED"]
    assert api.test_host(path, inputs=8, workdir=tmp_path).bit_exact


# ---- item 1: float I/O ---------------------------------------------------------------------------


def test_float_io_model_runs_bit_exact_on_host(models: Any, tmp_path: Path) -> None:
    path = models("float_io")
    g = read_tflite(path).graph
    assert g.tensor(g.inputs[0]).dtype == "float32" and g.tensor(g.outputs[0]).dtype == "float32"
    compiled = api.compile(path)
    assert compiled.inputs[0].dtype == "float32" and compiled.outputs[0].dtype == "float32"
    header = compiled.project.files["model.h"].decode()
    assert "#define MODEL_INPUT0_TYPE float" in header and "#define MODEL_OUTPUT0_TYPE float" in header
    # the edge QUANTIZE/DEQUANTIZE run on the device, as float kernels
    functions = [lay.call.function for lay in compiled.layers]
    assert functions[0] == "tf_quantize_f32_s8" and functions[-1] == "tf_dequantize_s8_f32"
    rep = api.test_host(path, inputs=20, seed=2, workdir=tmp_path / "run")
    assert rep.bit_exact and rep.mismatched_bytes == 0
    # float inputs from a file are fed as they are; int8 ones are refused for a float input
    x = np.random.default_rng(0).normal(size=(5, *compiled.inputs[0].shape)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    rep = api.test_host(path, input_file=tmp_path / "x.npy", workdir=tmp_path / "file")
    assert rep.bit_exact and rep.inputs == 5
    np.save(tmp_path / "q.npy", x.astype(np.int8))
    with pytest.raises(UsageError, match="float32 input"):
        api.test_host(path, input_file=tmp_path / "q.npy")


def test_float_edges_quantize_and_dequantize_bit_exact(tmp_path: Path) -> None:
    """Ties, one ulp off ties, signed zeros, subnormals and saturation through float QUANTIZE and
    DEQUANTIZE, compared as float bytes."""
    path = float_edges(tmp_path / "edges.tflite")
    np.save(tmp_path / "x.npy", float_edge_inputs())
    rep = api.test_host(path, input_file=tmp_path / "x.npy", workdir=tmp_path / "w", sanitize=True)
    assert rep.bit_exact and rep.inputs == 3


# ---- item 2: sparse tensors ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sparse_block", "sparse_random"])
def test_sparse_int8_densified_bit_exact(kind: str, models: Any, tmp_path: Path) -> None:
    path = models(kind)
    raw = path.read_bytes()
    loaded = read_tflite(path)
    assert len(loaded.info.densified) == 2 and loaded.info.size_bytes == len(raw)
    assert "DENSIFY" not in {op.kind for op in loaded.graph.ops}
    rep = api.inspect(path)
    assert rep["unsupported"] == [] and len(rep["densified"]) == 2
    out = api.test_host(path, inputs=20, workdir=tmp_path)
    assert out.bit_exact  # against TFLM on the densified model
    xs = int8_inputs(path)
    if kind == "sparse_random":
        # a DENSIFY op: LiteRT densifies at run time, then runs its dense kernel; with our dense
        # weights instead it gives the same bytes
        assert litert(raw, xs) == litert(loaded.data, xs)
    else:
        # FULLY_CONNECTED reads the 1x16 block-sparse weights itself (LiteRT's sparse kernel):
        # TFLM on our dense weights gives the same bytes
        from tinyforge.model.reference import run_reference

        ours = [r.outputs[0] for r in run_reference(loaded.data, [[x] for x in xs])]
        assert ours == litert(raw, xs)


def test_densify_folds_the_op_and_keeps_values(models: Any) -> None:
    """Every weight of the densified tensors equals LiteRT's own densification (read back as the
    DENSIFY op's output tensor)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    path = models("sparse_random")
    it = Interpreter(
        model_path=str(path),
        experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], np.zeros((1, 64), np.int8))
    it.invoke()
    g = read_tflite(path).graph
    fcs = [op for op in g.ops if op.kind == "FULLY_CONNECTED"]
    for op in fcs:
        w = g.tensor(op.inputs[1])
        assert np.array_equal(w.array(), it.get_tensor(op.inputs[1]))
        assert np.count_nonzero(w.array()) < 0.3 * w.num_elements  # really pruned


# ---- items 2 and 3: float sparse and float16 files through convert -----------------------------


@pytest.mark.parametrize("kind", ["sparse_float", "float16"])
def test_float_file_with_sparse_or_float16_weights_converts(kind: str, models: Any, tmp_path: Path) -> None:
    path = models(kind)
    res = api.convert(path, tmp_path / "int8.tflite", report=True)
    assert res.converter.startswith("ai-edge-quantizer")
    assert ("float16" if kind == "float16" else "sparse") in res.loader
    assert res.report.outputs[0].cosine > 0.9
    assert api.test_host(res.output, inputs=10, workdir=tmp_path / "run").bit_exact


# ---- item 4: several subgraphs -------------------------------------------------------------------


def test_unused_second_subgraph_is_left_out(models: Any, tmp_path: Path) -> None:
    path = models("two_signatures")
    loaded = read_tflite(path)
    assert loaded.info.num_subgraphs == 2
    assert api.inspect(path)["subgraphs"] == 2
    assert api.test_host(path, inputs=8, workdir=tmp_path).bit_exact


def test_pruning_wrapper_initializer_is_named(models: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = models("pruning_wrapper")
    with pytest.raises(ModelError) as err:
        read_tflite(path)
    msg = err.value.message
    assert "op 0 CALL_ONCE" in msg and "subgraph 1 ('NoOp'" in msg and "resource variables" in msg
    assert "IF/WHILE" not in msg and "strip_pruning" in (err.value.hint or "")
    code, _out, err = cli(["inspect", str(path)], capsys)
    line = err.strip()
    assert code != 0 and line.startswith("error: ") and "subgraph 1" in line and "\n" not in line


# ---- item 6: convert produces what TFLM prepares, or nothing ----------------------------------------


def test_degenerate_output_range_is_repaired(tmp_path: Path) -> None:
    src, calib = tfm.dead_layer(tmp_path / "dead.keras", tmp_path)
    res = api.convert(src, tmp_path / "dead.tflite", calib=calib)
    assert any("output scale" in w and "constant" in w for w in res.warnings), res.warnings
    from tinyforge.model.reference import prepare_problem

    assert prepare_problem(Path(res.output).read_bytes()) is None
    assert api.test_host(res.output, inputs=10, workdir=tmp_path / "run").bit_exact


def test_unpreparable_conversion_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the repair, TFLM cannot prepare the model: convert fails naming the check and
    pointing at the calibration data, and leaves no file."""
    from tinyforge.model import convert as conversion

    src, calib = tfm.dead_layer(tmp_path / "dead.keras", tmp_path)
    monkeypatch.setattr(conversion, "repair_degenerate_ranges", lambda data: (data, ()))
    out = tmp_path / "bad.tflite"
    with pytest.raises(ModelError) as err:
        api.convert(src, out, calib=calib)
    assert "cannot be prepared by tflite_micro" in err.value.message and "scale_diff" in err.value.message
    assert "no int8 kernel" not in (err.value.hint or "") and "calibrat" in (err.value.hint or "")
    assert not out.exists() and list(tmp_path.glob("*.tflite")) == []


# ---- item 5: nothing written beside the user's file ----------------------------------------------


def test_implicit_conversion_writes_nothing_beside_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((12,)), keras.layers.Dense(6, activation="relu"), keras.layers.Dense(3)]
    )
    user = tmp_path / "user"
    user.mkdir()
    src = user / "net.keras"
    model.save(src)
    mine = user / "net_int8.tflite"
    mine.write_bytes(b"the user's own file")
    np.save(user / "calib.npy", np.random.default_rng(0).normal(size=(32, 12)).astype(np.float32))
    before = sorted(p.name for p in user.iterdir())

    code, out, err = cli(["test", str(src), "--inputs", "4", "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["bit_exact"] and report["model"] == str(src)
    assert report["conversion"]["calibration"] == "synthetic" and report["conversion"]["kept_at"] is None
    assert "note:" in err and "64 random samples" in err and "not saved" in err

    rep = api.test_host(src, inputs=4, calib=user / "calib.npy")
    assert rep.extra["conversion"]["calibration"] == str(user / "calib.npy")
    assert sorted(p.name for p in user.iterdir()) == before
    assert mine.read_bytes() == b"the user's own file"

    # convert itself writes beside the source by default, but never over a file without --force
    code, _out, err = cli(["convert", str(src)], capsys)
    assert code != 0 and "already exists" in err and "--force" in err
    assert mine.read_bytes() == b"the user's own file"
    code, _out, err = cli(["convert", str(src), "--force", "--calib", str(user / "calib.npy")], capsys)
    assert code == 0, err
    assert read_tflite(mine).graph.ops


def test_first_mismatch_says_so_when_no_layer_differs(
    shared_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outputs that differ while every layer matches (here: a doctored reference output) still get
    a first_mismatch, saying where the difference must lie."""
    from tinyforge.run import verify

    real = verify.reference_outputs

    def doctored(compiled: Any, inputs: Any) -> list[tuple[bytes, ...]]:
        out = real(compiled, inputs)
        first = bytes([out[0][0][0] ^ 1]) + out[0][0][1:]
        return [(first, *out[0][1:]), *out[1:]]

    monkeypatch.setattr(verify, "reference_outputs", doctored)
    rep = api.test_host(shared_models["ad"], inputs=2, workdir=tmp_path)
    assert not rep.bit_exact and rep.mismatched_bytes == 1
    m = rep.first_mismatch
    assert m is not None and m["position"] == -1 and "every layer's output equals" in m["note"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
