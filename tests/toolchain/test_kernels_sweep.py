"""Parameter sweeps of the portable int8 kernels against the TFLM reference, on tiny int8 models
built with TensorFlow (tests/toolchain/_tiny_models.py): strides, SAME/VALID, dilation, groups,
depth multipliers, per-tensor and per-channel weights, keep_num_dims, broadcasting up to 5-D,
constant operands, fused activations, extreme scales and zero points, batches > 1.

Every op of every model is run through its C kernel on the reference's own input tensors, for
random int8 inputs and for inputs drawn from the calibration range, and must match byte for byte.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from _kernel_harness import (
    PART_A_OPS,
    case_for_op,
    check_layers,
    mismatch_report,
    random_inputs,
    reference_tensors,
    run_cases,
)
from _tiny_models import FC_PROBES, MODELS, PAIRS, build_model, patch_tensor_quant

from tinyforge.ir.graph import Graph
from tinyforge.kernels import packing as pk
from tinyforge.kernels import quant
from tinyforge.kernels.registry import unsupported_reason
from tinyforge.model.tflite import parse_tflite


@pytest.fixture(scope="session")
def tiny_models(cache_dir: Callable[[str], Path]) -> dict[str, bytes]:
    cache = cache_dir("tinyforge-tiny-models")
    return {name: build_model(spec, cache) for name, spec in MODELS.items()}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kernels_sweep")


def _calibration_inputs(graph: Graph, low: float, high: float, seed: int) -> list[np.ndarray]:
    """Float inputs from the representative range, quantized with the model's input parameters."""
    rng = np.random.default_rng(seed)
    out = []
    for i in graph.inputs:
        t = graph.tensor(i)
        assert t.quant is not None
        real = rng.uniform(low, high, size=t.shape)
        q = np.round(real / t.quant.scale[0]) + t.quant.zero_point[0]
        out.append(np.clip(q, -128, 127).astype(np.int8))
    return out


def _check(
    model: bytes, workdir: Path, tag: str, input_sets: list[list[np.ndarray]], *, sanitize: bool
) -> set[str]:
    graph = parse_tflite(model).graph
    rejected = [
        f"[{op.index}] {op.kind}: {r}"
        for op in graph.ops
        if op.kind in PART_A_OPS and (r := unsupported_reason(graph, op))
    ]
    assert not rejected, "kernels rejected converter output:\n" + "\n".join(rejected)
    check_layers(model, graph, input_sets, workdir, tag, sanitize=sanitize)
    return {op.kind for op in graph.ops if op.kind in PART_A_OPS}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sweep_bit_exact(name: str, tiny_models: dict[str, bytes], workdir: Path) -> None:
    spec, model = MODELS[name], tiny_models[name]
    graph = parse_tflite(model).graph
    input_sets = [random_inputs(graph, seed) for seed in (1, 2)]
    input_sets += [_calibration_inputs(graph, spec.low, spec.high, seed) for seed in (3, 4)]
    kinds = _check(model, workdir, f"sweep_{name}", input_sets, sanitize=False)
    if not spec.per_channel:  # the converter honoured the request: weights per tensor
        for op in graph.ops:
            if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
                w = graph.tensor(op.inputs[1])
                assert w.quant is not None and not w.quant.per_channel, (
                    f"[{op.index}] weights are per channel"
                )
    missing = set(spec.expect) - kinds
    assert not missing, (
        f"the converter produced no {sorted(missing)} in model {name}: the sweep would not cover it"
    )


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sweep_sanitizers(name: str, tiny_models: dict[str, bytes], workdir: Path) -> None:
    spec, model = MODELS[name], tiny_models[name]
    graph = parse_tflite(model).graph
    _check(
        model, workdir, f"asan_{name}", [_calibration_inputs(graph, spec.low, spec.high, 5)], sanitize=True
    )


def test_mean_with_equal_quantization(tiny_models: dict[str, bytes], workdir: Path) -> None:
    """MEAN where input and output share scale and zero point: still the requantizing path
    (a plain truncating sum / count differs from the reference)."""
    model = tiny_models["mean"]
    graph = parse_tflite(model).graph
    means = [op for op in graph.ops if op.kind == "MEAN"]
    assert means
    for op in means:
        src = graph.tensor(op.inputs[0])
        assert src.quant is not None
        model = patch_tensor_quant(model, op.outputs[0], src.quant.scale[0], src.quant.zero_point[0])
    graph = parse_tflite(model).graph
    inputs = [random_inputs(graph, 7), _calibration_inputs(graph, -1.0, 3.0, 8)]
    _check(model, workdir, "mean_same_quant", inputs, sanitize=True)


def _all_pairs() -> list[np.ndarray]:
    i = np.arange(65536)
    return [(i // 256 - 128).astype(np.int8).reshape(1, -1), (i % 256 - 128).astype(np.int8).reshape(1, -1)]


def _float32_derivation(s1: float, s2: float, so: float, left_shift: int = 20) -> quant.AddSubParams:
    """The ADD/SUB multipliers computed in float32 (as some TFLM sources write it): not the reference."""
    a, b, o = np.float32(s1), np.float32(s2), np.float32(so)
    twice_max = np.float32(2) * max(a, b)
    m1 = quant.quantize_multiplier_smaller_than_one_exp(float(np.float32(a / twice_max)))
    m2 = quant.quantize_multiplier_smaller_than_one_exp(float(np.float32(b / twice_max)))
    mo = quant.quantize_multiplier_smaller_than_one_exp(
        float(np.float32(twice_max / np.float32(np.float32(1 << left_shift) * o)))
    )
    return quant.AddSubParams(left_shift, *m1, *m2, *mo)


def _float32_mul(s1: float, s2: float, so: float) -> tuple[int, int]:
    return quant.quantize_multiplier(float(np.float32(np.float32(s1) * np.float32(s2))) / float(so))


def _mbqm(x: np.ndarray, mult: int, shift: int) -> np.ndarray:
    """MultiplyByQuantizedMultiplier on int64 arrays (double rounding, as tf_common.h)."""
    x = x.astype(np.int64) << max(shift, 0)
    ab = x * mult
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    q = ab + nudge
    hi = np.where(q >= 0, q // (1 << 31), -((-q) // (1 << 31)))
    rs = max(-shift, 0)
    mask = (1 << rs) - 1
    rem = hi & mask
    thr = (mask >> 1) + (hi < 0)
    return (hi >> rs) + (rem > thr)


def _simulate(
    pairs: list[np.ndarray], zp1: int, zp2: int, zpo: int, p: quant.AddSubParams, sub: bool
) -> np.ndarray:
    v1 = _mbqm((pairs[0].astype(np.int64) - zp1) << p.left_shift, p.input1_mult, p.input1_shift)
    v2 = _mbqm((pairs[1].astype(np.int64) - zp2) << p.left_shift, p.input2_mult, p.input2_shift)
    raw = v1 - v2 if sub else v1 + v2
    return np.clip(_mbqm(raw, p.output_mult, p.output_shift) + zpo, -128, 127)


def test_add_sub_mul_multiplier_derivation(cache_dir: Callable[[str], Path], workdir: Path) -> None:
    """ADD, SUB and MUL derive their rescaling multipliers in double. With scales where a float32
    derivation gives different outputs, every int8 pair (65536 of them) must match the reference
    with ours, and the float32 derivation must not (so the test discriminates)."""
    model = build_model(PAIRS, cache_dir("tinyforge-tiny-models"))
    graph = parse_tflite(model).graph
    a, b = graph.inputs
    add = next(op for op in graph.ops if op.kind == "ADD")
    sub = next(op for op in graph.ops if op.kind == "SUB")
    mul = next(op for op in graph.ops if op.kind == "MUL")
    zps = [graph.tensor(t).quant.zero_point[0] for t in (a, b, add.outputs[0], sub.outputs[0])]  # type: ignore[union-attr]
    pairs = _all_pairs()
    rng = np.random.default_rng(11)
    for _ in range(2000):  # scales where the two derivations give different ADD and SUB outputs
        s1, s2, s3, s4 = (float(np.float32(v)) for v in rng.uniform(0.005, 0.1, size=4))
        if not np.array_equal(
            _simulate(pairs, zps[0], zps[1], zps[2], quant.add_params(s1, s2, s3), False),
            _simulate(pairs, zps[0], zps[1], zps[2], _float32_derivation(s1, s2, s3), False),
        ):
            if not np.array_equal(
                _simulate(pairs, zps[0], zps[1], zps[3], quant.sub_params(s1, s2, s4), True),
                _simulate(pairs, zps[0], zps[1], zps[3], _float32_derivation(s1, s2, s4), True),
            ):
                break
    else:
        pytest.fail("found no scales where the float32 and double derivations differ")
    zp_mul = graph.tensor(mul.outputs[0]).quant.zero_point[0]  # type: ignore[union-attr]
    prod = (pairs[0].astype(np.int64) - zps[0]) * (pairs[1].astype(np.int64) - zps[1])
    for _ in range(5000):  # and an output scale where MUL's float32 scale product would differ
        s5 = float(np.float32(rng.uniform(0.1, 1.0)))
        ours_mul, alt_mul = quant.mul_multiplier(s1, s2, s5), _float32_mul(s1, s2, s5)
        if not np.array_equal(
            np.clip(_mbqm(prod, *ours_mul) + zp_mul, -128, 127),
            np.clip(_mbqm(prod, *alt_mul) + zp_mul, -128, 127),
        ):
            break
    else:
        pytest.fail("found no MUL scale where the float32 and double derivations differ")
    for t, s, zp in zip(
        (a, b, add.outputs[0], sub.outputs[0], mul.outputs[0]),
        (s1, s2, s3, s4, s5),
        (*zps, zp_mul),
        strict=True,
    ):
        model = patch_tensor_quant(model, t, s, zp)
    graph = parse_tflite(model).graph
    tensors = reference_tensors(model, pairs, list(range(len(graph.tensors))))
    cases, wants = [], []
    for op in (add, sub):
        so = s3 if op is add else s4
        case = case_for_op(graph, op, tensors)
        assert dict(case.call.params)["output_mult"] == quant.add_params(s1, s2, so).output_mult
        alt = _float32_derivation(s1, s2, so)
        alt_params = tuple(
            (k, getattr(alt, k)) if k in alt.__dataclass_fields__ else (k, v) for k, v in case.call.params
        )
        alt_case = case_for_op(graph, op, tensors)
        alt_case.call = dataclasses.replace(alt_case.call, params=alt_params)
        cases += [case, alt_case]
        wants += [tensors[op.outputs[0]]] * 2
    case = case_for_op(graph, mul, tensors)
    alt_case = case_for_op(graph, mul, tensors)
    alt_case.call = dataclasses.replace(
        alt_case.call,
        params=tuple(
            (k, dict(zip(("output_mult", "output_shift"), alt_mul, strict=True)).get(k, v))
            for k, v in case.call.params
        ),
    )
    cases += [case, alt_case]
    wants += [tensors[mul.outputs[0]]] * 2
    results = run_cases(cases, workdir, tag="pairs")
    outs = [r[c.call.args[-1].tensor] for c, r in zip(cases, results, strict=True)]  # type: ignore[union-attr]
    assert outs[0] == wants[0], mismatch_report("ADD", outs[0], wants[0])
    assert outs[1] != wants[1], "ADD: the float32 derivation also matched: the test does not discriminate"
    assert outs[2] == wants[2], mismatch_report("SUB", outs[2], wants[2])
    assert outs[3] != wants[3], "SUB: the float32 derivation also matched: the test does not discriminate"
    assert outs[4] == wants[4], mismatch_report("MUL", outs[4], wants[4])
    assert outs[5] != wants[5], "MUL: the float32 product also matched: the test does not discriminate"


@pytest.mark.parametrize("per_channel", [True, False], ids=["per_channel", "per_tensor"])
def test_fully_connected_multiplier_derivation(
    per_channel: bool, cache_dir: Callable[[str], Path], workdir: Path
) -> None:
    """FULLY_CONNECTED's multipliers: input_scale * filter_scale / output_scale in double. With an
    output scale where a float32 scale product changes some output, ours must match the
    reference and the float32 product must not."""
    model = build_model(FC_PROBES[per_channel], cache_dir("tinyforge-tiny-models"))
    graph = parse_tflite(model).graph
    fc = next(op for op in graph.ops if op.kind == "FULLY_CONNECTED")
    x_t, w_t, b_t, y_t = (graph.tensor(i) for i in (*fc.inputs, fc.outputs[0]))
    assert w_t.quant is not None and w_t.quant.per_channel == per_channel
    inputs = [random_inputs(graph, seed) for seed in (21, 22, 23)]
    x_zp, y_zp = x_t.quant.zero_point[0], y_t.quant.zero_point[0]  # type: ignore[union-attr]
    w = w_t.array().astype(np.int64)
    accs = [w @ (xs[0].astype(np.int64).T - x_zp) + b_t.array().astype(np.int64)[:, None] for xs in inputs]
    s_in, w_scales = x_t.quant.scale[0], list(w_t.quant.scale)  # type: ignore[union-attr]

    def outputs(pairs: list[tuple[int, int]]) -> list[np.ndarray]:
        res = []
        for acc in accs:
            if len(pairs) == 1:
                y = _mbqm(acc, *pairs[0])
            else:
                y = np.stack([_mbqm(acc[c], *pairs[c]) for c in range(acc.shape[0])])
            res.append(np.clip(y + y_zp, -128, 127))
        return res

    def float32_pairs(s_out: float) -> list[tuple[int, int]]:
        return [
            quant.quantize_multiplier(float(np.float32(np.float32(s_in) * np.float32(ws))) / s_out)
            for ws in w_scales
        ]

    def double_pairs(s_out: float) -> list[tuple[int, int]]:
        if per_channel:
            return quant.conv_multipliers(s_in, w_scales, s_out)
        return [quant.fc_multiplier(s_in, w_scales[0], s_out)]

    rng = np.random.default_rng(5)
    for _ in range(3000):
        s_out = float(np.float32(y_t.quant.scale[0] * rng.uniform(0.5, 2.0)))  # type: ignore[union-attr]
        if any(
            not np.array_equal(a, b)
            for a, b in zip(outputs(double_pairs(s_out)), outputs(float32_pairs(s_out)), strict=True)
        ):
            break
    else:
        pytest.fail("found no output scale where the float32 and double products differ")
    model = patch_tensor_quant(model, fc.outputs[0], s_out, y_zp)
    graph = parse_tflite(model).graph
    cases, wants = [], []
    for xs in inputs:
        tensors = reference_tensors(model, xs, list(range(len(graph.tensors))))
        case = case_for_op(graph, fc, tensors)
        alt = float32_pairs(s_out)
        alt_case = case_for_op(graph, fc, tensors)
        alt_arrays = {
            "out_mult": pk.const_array(fc, "out_mult", [m for m, _ in alt], "int32_t"),
            "out_shift": pk.const_array(fc, "out_shift", [s for _, s in alt], "int32_t"),
        }
        alt_case.call = dataclasses.replace(
            alt_case.call, params=tuple((k, alt_arrays.get(k, v)) for k, v in case.call.params)
        )
        cases += [case, alt_case]
        wants += [tensors[fc.outputs[0]]] * 2
    results = run_cases(cases, workdir, tag=f"fc_probe_{per_channel}")
    got = [r[fc.outputs[0]] for r in results]
    for i in range(0, len(got), 2):
        assert got[i] == wants[i], mismatch_report("FULLY_CONNECTED", got[i], wants[i])
    assert any(got[i + 1] != wants[i + 1] for i in range(0, len(got), 2)), (
        "the float32 product also matched: the test does not discriminate"
    )
