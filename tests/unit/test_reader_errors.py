"""The .tflite reader on bad input: missing, not a flatbuffer, truncated, several subgraphs, broken
quantization, and a fuzz run over mutated copies of the four shared int8 models. Every failure must
be a ModelError (one line, exit code 2 on the CLI); nothing else may escape and nothing may hang."""

from __future__ import annotations

import copy
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

from tinyforge.cli import main
from tinyforge.errors import ModelError
from tinyforge.model.tflite import parse_tflite, read_tflite

SEED = 20240229
MUTANTS_PER_MODEL = 300  # 1,200 in all
HANG_SECONDS = 30.0  # a guard against a parser that loops, not a timing assertion


# ---- helpers -------------------------------------------------------------------------------------


def repack(model: schema.ModelT) -> bytes:
    """Serialize an object-API model back to .tflite bytes."""
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def unpack(data: bytes) -> schema.ModelT:
    return schema.ModelT.InitFromPackedBuf(bytearray(data), 0)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


@contextmanager
def deadline(seconds: float, what: str):
    """Fail (instead of hanging the suite) if the block runs longer than `seconds`."""

    def on_alarm(signum, frame):
        raise TimeoutError(f"{what} still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def weight_ranges(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges of the constant buffers (weights) inside the flatbuffer."""
    model = schema.Model.GetRootAs(data, 0)
    ranges = []
    for i in range(model.BuffersLength()):
        tab = model.Buffers(i)._tab
        field = tab.Offset(4)  # Buffer.data
        if field and tab.VectorLen(field) > 64:
            start = tab.Vector(field)
            ranges.append((start, start + tab.VectorLen(field)))
    return ranges


def structural_offsets(data: bytes) -> np.ndarray:
    """Offsets outside the weight buffers: tables, vectors of offsets, shapes, quantization, names.
    Mutating weights only changes numbers; mutating these exercises the parser."""
    mask = np.ones(len(data), dtype=bool)
    for a, b in weight_ranges(data):
        mask[a:b] = False
    return np.flatnonzero(mask)


INTERESTING_WORDS = (0, 1, 2, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)


def mutate(rng: random.Random, data: bytes, offsets: np.ndarray) -> tuple[str, bytes]:
    """One mutant: byte flips, a truncation, or overwritten 4-byte words (mostly on structure)."""
    d = bytearray(data)

    def pick() -> int:
        if rng.random() < 0.9:
            return int(offsets[rng.randrange(len(offsets))])
        return rng.randrange(len(d))

    kind = rng.choice(("flip", "flip", "word", "word", "truncate"))
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            d[pick()] ^= rng.randint(1, 255)
    elif kind == "word":
        for _ in range(rng.randint(1, 3)):
            at = min(pick() & ~3, len(d) - 4)
            word = rng.choice((*INTERESTING_WORDS, len(d), len(d) - 4, rng.getrandbits(32)))
            d[at : at + 4] = word.to_bytes(4, "little")
    else:
        d = d[: rng.randrange(len(d))]
    return kind, bytes(d)


@pytest.fixture(scope="module")
def model_bytes(shared_models) -> dict[str, bytes]:
    return {key: path.read_bytes() for key, path in sorted(shared_models.items())}


# ---- specific bad inputs -------------------------------------------------------------------------


def test_missing_file(tmp_path, capsys):
    path = tmp_path / "nope.tflite"
    with pytest.raises(ModelError) as exc:
        read_tflite(path)
    assert str(exc.value) == f"{path}: no such file"
    code, out, err = cli(capsys, "inspect", str(path))
    assert code == 2 and out == ""
    assert assert_one_error_line(err) == f"error: {path}: no such file (hint: check the path)"


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ModelError, match=r": is a folder, not a \.tflite file$"):
        read_tflite(tmp_path)


def test_not_a_flatbuffer(tmp_path, capsys):
    path = tmp_path / "notes.tflite"
    path.write_text("these are my notes, not a model\n" * 4)
    with pytest.raises(ModelError) as exc:
        read_tflite(path)
    assert str(exc.value) == f"{path}: not a TFLite flatbuffer (no 'TFL3' identifier)"
    code, _, err = cli(capsys, "inspect", str(path))
    assert code == 2
    assert_one_error_line(err)


@pytest.mark.parametrize("size", [0, 3, 7])
def test_too_short(size):
    with pytest.raises(ModelError) as exc:
        parse_tflite(b"TFL3TFL3"[:size], "tiny.tflite")
    assert str(exc.value) == f"tiny.tflite: not a TFLite model (file is {size} bytes)"


def test_keras_file_renamed(tmp_path, shared_models):
    """An HDF5 (.h5) file given a .tflite name: not a flatbuffer."""
    h5 = shared_models["kws"].parent / "ad01.h5"
    path = tmp_path / "ad01.tflite"
    path.write_bytes(h5.read_bytes()[:4096])
    with pytest.raises(ModelError, match=r"no 'TFL3' identifier"):
        read_tflite(path)


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.9, 0.9999])
def test_truncated(tmp_path, model_bytes, fraction, capsys):
    data = model_bytes["kws"]
    cut = data[: max(8, int(len(data) * fraction))]
    path = tmp_path / "cut.tflite"
    path.write_bytes(cut)
    with pytest.raises(ModelError) as exc:
        read_tflite(path)
    assert str(exc.value).startswith(f"{path}: ")
    assert "truncated" in str(exc.value)
    code, _, err = cli(capsys, "inspect", str(path))
    assert code == 2
    assert_one_error_line(err)


def test_repack_round_trip_is_still_valid(model_bytes):
    """Control for the tests below: unpack + repack alone gives a model that reads the same."""
    original = parse_tflite(model_bytes["kws"], "kws")
    again = parse_tflite(repack(unpack(model_bytes["kws"])), "kws-repacked")
    assert [op.kind for op in again.graph.ops] == [op.kind for op in original.graph.ops]
    assert [t.shape for t in again.graph.tensors] == [t.shape for t in original.graph.tensors]


def test_several_subgraphs(tmp_path, model_bytes, capsys):
    """A second subgraph nothing runs is left out; one the main graph runs (here through an IF op)
    is refused, naming the op and the subgraph."""
    model = unpack(model_bytes["ad"])
    second = copy.deepcopy(model.subgraphs[0])
    second.name = b"second"
    model.subgraphs.append(second)
    path = tmp_path / "two_subgraphs.tflite"
    path.write_bytes(repack(model))
    loaded = read_tflite(path)
    assert loaded.info.num_subgraphs == 2
    assert [op.kind for op in loaded.graph.ops] == [
        op.kind for op in parse_tflite(model_bytes["ad"]).graph.ops
    ]

    sg = model.subgraphs[0]
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.IF
    model.operatorCodes.append(code)
    op = schema.OperatorT()
    op.opcodeIndex = len(model.operatorCodes) - 1
    op.inputs, op.outputs = [sg.inputs[0], sg.inputs[0]], [sg.outputs[0]]
    op.builtinOptionsType = schema.BuiltinOptions.IfOptions
    op.builtinOptions = schema.IfOptionsT()
    op.builtinOptions.thenSubgraphIndex, op.builtinOptions.elseSubgraphIndex = 1, 1
    sg.operators.insert(0, op)
    path = tmp_path / "if.tflite"
    path.write_bytes(repack(model))
    with pytest.raises(ModelError) as exc:
        read_tflite(path)
    assert str(exc.value).startswith(
        f"{path}: op 0 IF of the main graph runs subgraph 1 ('second', 10 ops: FULLY_CONNECTED) "
        "as its then_subgraph_index"
    )
    assert exc.value.hint == "export the model without IF/WHILE (a fixed graph), then convert it"
    code, _, err = cli(capsys, "inspect", str(path))
    assert code == 2
    assert_one_error_line(err)


def test_no_subgraph(model_bytes):
    model = unpack(model_bytes["ad"])
    model.subgraphs = []
    with pytest.raises(ModelError, match=r"^nosg: the model has no subgraph$"):
        parse_tflite(repack(model), "nosg")


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), -0.5, 0.0])
def test_invalid_activation_scale(model_bytes, scale):
    """A broken scale on a computed tensor is refused by the reader, not found later by a kernel."""
    model = unpack(model_bytes["ad"])
    sg = model.subgraphs[0]
    out = sg.operators[0].outputs[0]
    sg.tensors[out].quantization.scale = np.array([scale], dtype=np.float32)
    with pytest.raises(ModelError, match=r"^bad: tensor \d+ \(.*\) has an invalid quantization scale"):
        parse_tflite(repack(model), "bad")


def test_operator_refers_to_missing_tensor(model_bytes):
    model = unpack(model_bytes["ad"])
    sg = model.subgraphs[0]
    sg.operators[2].inputs = np.array([len(sg.tensors) + 5, 1, 2], dtype=np.int32)
    with pytest.raises(
        ModelError, match=rf"^m: operator 2 \(FULLY_CONNECTED\) refers to tensor {len(sg.tensors) + 5} of"
    ):
        parse_tflite(repack(model), "m")


# ---- fuzz ----------------------------------------------------------------------------------------


def test_fuzz_mutants_raise_only_model_error(model_bytes):
    rng = random.Random(SEED)
    outcome: Counter[str] = Counter()
    slowest = (0.0, "")
    for key, data in model_bytes.items():
        offsets = structural_offsets(data)
        assert 0 < len(offsets) < len(data)
        for n in range(MUTANTS_PER_MODEL):
            kind, mutant = mutate(rng, data, offsets)
            label = f"{key} mutant {n} ({kind}, seed {SEED})"
            start = time.perf_counter()
            with deadline(HANG_SECONDS, label):
                try:
                    parse_tflite(mutant, label)
                    outcome["parsed"] += 1
                except ModelError as exc:
                    outcome["ModelError"] += 1
                    assert "\n" not in exc.render()
                    assert exc.message.startswith(label + ": ")
                # any other exception fails the test with its traceback
            elapsed = time.perf_counter() - start
            slowest = max(slowest, (elapsed, label))
    total = sum(outcome.values())
    assert total == 4 * MUTANTS_PER_MODEL >= 1000
    # the mutations must actually hurt: a good share rejected, and some survive (harmless edits)
    assert outcome["ModelError"] > total // 4, outcome
    assert outcome["parsed"] > 0, outcome
    print(f"fuzz: {dict(outcome)}; slowest {slowest[0] * 1000:.1f} ms ({slowest[1]})")


def test_fuzz_mutants_through_the_real_cli(tmp_path, model_bytes):
    """A handful of rejected mutants through `python -m tinyforge inspect`: exit 2, one error
    line, no traceback."""
    rng = random.Random(SEED + 1)
    chosen: list[Path] = []
    for key, data in model_bytes.items():
        offsets = structural_offsets(data)
        while True:
            kind, mutant = mutate(rng, data, offsets)
            try:
                parse_tflite(mutant, "probe")
            except ModelError:
                break
        path = tmp_path / f"{key}_{kind}.tflite"
        path.write_bytes(mutant)
        chosen.append(path)
    for path in chosen:
        res = subprocess.run(
            [sys.executable, "-m", "tinyforge", "inspect", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 2, (path, res.returncode, res.stderr)
        assert res.stdout == ""
        line = assert_one_error_line(res.stderr)
        assert line.startswith(f"error: {path}: ")


def test_fuzz_survivors_through_inspect(tmp_path, model_bytes):
    """Mutants the reader accepts (a changed shape, option or scale) must not crash what comes
    after it: `inspect` (stats, kernel selection, memory plan) gives a report or a TinyforgeError."""
    from tinyforge import api
    from tinyforge.errors import TinyforgeError

    rng = random.Random(SEED + 2)
    outcome: Counter[str] = Counter()
    keys = sorted(model_bytes)
    offsets = {k: structural_offsets(model_bytes[k]) for k in keys}
    while sum(outcome.values()) < 40:
        key = keys[sum(outcome.values()) % len(keys)]
        kind, mutant = mutate(rng, model_bytes[key], offsets[key])
        try:
            parse_tflite(mutant, "probe")
        except ModelError:
            continue
        path = tmp_path / f"survivor_{sum(outcome.values())}_{key}_{kind}.tflite"
        path.write_bytes(mutant)
        with deadline(60, str(path)):
            try:
                api.inspect(path)
                outcome["report"] += 1
            except TinyforgeError as exc:
                outcome[type(exc).__name__] += 1
                assert "\n" not in exc.render()
    assert outcome["report"] > 0, outcome
