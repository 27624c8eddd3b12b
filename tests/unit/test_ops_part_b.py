"""Packers of the activation, quantize and layout kernels: constants TFLM would compute, kernel
choice, in-place flags, and the one-line reasons for what they reject (no compiler, no reference:
the byte-exact checks are in tests/toolchain/test_ops_property.py)."""

from __future__ import annotations

import math

import numpy as np

from tinyforge.ir.graph import Graph, Op, Quantization, Tensor, freeze_options
from tinyforge.kernels.ops.portable import activations, layout
from tinyforge.kernels.registry import ScratchArg, Target, select, supported_ops, unsupported_reason

PART_B_OPS = {
    "RELU", "RELU6", "RELU_N1_TO_1", "LEAKY_RELU", "LOGISTIC", "TANH", "HARD_SWISH", "QUANTIZE",
    "DEQUANTIZE", "STRIDED_SLICE", "TRANSPOSE", "RESHAPE", "SQUEEZE", "EXPAND_DIMS",
}  # fmt: skip


def q(scale: float, zp: int = 0) -> Quantization:
    return Quantization((scale,), (zp,))


def graph(
    kind: str, tensors: list[Tensor], inputs: tuple[int, ...], outputs: tuple[int, ...], **opts: object
) -> tuple[Graph, Op]:
    op = Op(0, kind, inputs, outputs, freeze_options(opts), name="x")
    g = Graph(tuple(tensors), (op,), tuple(i for i in inputs if not tensors[i].is_constant), outputs)
    return g, op


def unary(
    kind: str, shape: tuple[int, ...], qi: Quantization, qo: Quantization, dtype: str = "int8", **opts: object
) -> tuple[Graph, Op]:
    return graph(
        kind, [Tensor(0, "in", shape, dtype, qi), Tensor(1, "out", shape, dtype, qo)], (0,), (1,), **opts
    )


def const(index: int, values: list[int]) -> Tensor:
    arr = np.asarray(values, np.int32)
    return Tensor(index, f"c{index}", arr.shape, "int32", None, arr.tobytes())


def reason(g: Graph, op: Op) -> str:
    why = unsupported_reason(g, op)
    assert why is not None, "expected a rejection"
    assert "\n" not in why and len(why) < 200
    return why


def params(g: Graph, op: Op) -> dict[str, object]:
    return dict(select(g, op, Target()).params)


def test_all_part_b_ops_are_registered() -> None:
    assert PART_B_OPS <= set(supported_ops())


# ---- constants --------------------------------------------------------------------------------------


def test_relu_rescales_and_clamps_at_the_output_zero_point() -> None:
    g, op = unary("RELU", (1, 8), q(0.5, 3), q(0.0625 * 0.625, -5))
    p = params(g, op)
    assert (p["multiplier"], p["shift"]) == (round(0.8 * 2**31), 4)  # 12.8 = 0.8 * 2^4
    assert (p["in_zp"], p["out_zp"], p["act_min"], p["act_max"]) == (3, -5, -5, 127)
    assert select(g, op, Target()).in_place == ((1, 0),)


def test_relu_n1_to_1_clamps_to_plus_minus_one() -> None:
    g, op = unary("RELU_N1_TO_1", (4,), q(0.05, 3), q(0.01, -2))
    p = params(g, op)
    assert (p["act_min"], p["act_max"]) == (-102, 98)


def test_relu6_clamps_in_the_input_domain_like_tflm() -> None:
    g, op = unary("RELU6", (4,), q(0.05, 3), q(0.5, 0))
    call = select(g, op, Target())
    assert call.function == "tf_clamp_s8"
    assert dict(call.params)["lower"] == 3 and dict(call.params)["upper"] == 123  # 3 + round(6 / 0.05)
    g, op = unary("RELU6", (4,), q(0.01, 100), q(0.5, 0))
    assert params(g, op)["upper"] == 127  # quantize(6.0) saturates


def test_leaky_relu_multipliers_use_float32_products() -> None:
    g, op = unary("LEAKY_RELU", (4,), q(0.1, 0), q(0.05, 0), alpha=0.2)
    p = params(g, op)
    assert (p["mult_identity"], p["shift_identity"]) == (1 << 30, 2)  # 2.0
    real = float(np.float32(np.float32(np.float32(0.1) * np.float32(0.2)) / np.float32(0.05)))
    frac, exp = math.frexp(real)
    assert p["shift_alpha"] == exp and abs(p["mult_alpha"] - frac * 2**31) <= 1


def test_sigmoid_params_follow_frexp_of_scale_times_2_pow_27() -> None:
    p = activations.sigmoid_params(0.0625, -3)  # 2^-4 * 2^27 = 2^23 -> q = 0.5, shift 24
    assert p == {
        "in_zp": -3,
        "radius": math.floor(15 * 2**27 / 2**24),
        "multiplier": 1 << 30,
        "left_shift": 24,
    }


def test_hard_swish_int16_multipliers() -> None:
    p = activations.hard_swish_params(0.1, 0, 0.05, 0)
    assert p["out_exponent"] <= 0 and 0 < p["out_multiplier"] < 1 << 15
    assert 0 < p["reluish_multiplier"] < 1 << 15
    assert activations.downscale_int32_to_int16_multiplier((1 << 31) - 1) == (1 << 15) - 1
    assert activations.downscale_int32_to_int16_multiplier(1 << 30) == 1 << 14


def test_big_sigmoid_tensors_use_the_scratch_lookup_table() -> None:
    small = select(*unary("TANH", (1, 100), q(0.05), q(1 / 128)), Target())
    big = select(*unary("TANH", (1, 1000), q(0.05), q(1 / 128)), Target())
    assert small.function == "tf_tanh_s8" and small.scratch_bytes == 0
    assert big.function == "tf_tanh_s8_lut" and big.scratch_bytes == 256
    assert isinstance(big.args[-1], ScratchArg)
    assert big.params_type == "tf_tanh_s8_params_t"


def test_quantize_kinds_pick_the_matching_kernel() -> None:
    cases = {
        ("int8", "int8"): "tf_requantize_s8_s8",
        ("int8", "int16"): "tf_requantize_s8_s16",
        ("int16", "int8"): "tf_requantize_s16_s8",
        ("uint8", "int8"): "tf_requantize_u8_s8",
        ("float32", "int8"): "tf_quantize_f32_s8",
    }
    for (a, b), fn in cases.items():
        g, op = graph(
            "QUANTIZE",
            [
                Tensor(0, "in", (3,), a, None if a == "float32" else q(0.1, 0)),
                Tensor(1, "out", (3,), b, q(0.2, 1)),
            ],
            (0,),
            (1,),
        )
        call = select(g, op, Target())
        assert call.function == fn
        assert [arg.ctype for arg in call.args] == [
            {"float32": "float", "uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t"}[t] for t in (a, b)
        ]
        assert bool(call.in_place) == (a in ("int8", "uint8") and b in ("int8", "uint8"))
    g, op = graph(
        "DEQUANTIZE",
        [Tensor(0, "in", (3,), "int8", q(0.1, 2)), Tensor(1, "out", (3,), "float32")],
        (0,),
        (1,),
    )
    call = select(g, op, Target())
    assert call.function == "tf_dequantize_s8_f32" and dict(call.params) == {
        "scale": float(np.float32(0.1)),
        "zero_point": 2,
        "size": 3,
    }


# ---- layout index arithmetic -------------------------------------------------------------------------


def test_merge_axes_drops_units_and_fuses_contiguous_runs() -> None:
    assert layout.merge_axes([2, 3, 4], [12, 4, 1]) == ([24], [1])
    assert layout.merge_axes([2, 1, 3], [7, 99, 2]) == ([2, 3], [7, 2])
    assert layout.merge_axes([4, 3], [1, 4]) == ([4, 3], [1, 4])  # a real transpose stays


def test_resolve_strided_slice_masks_and_negative_indices() -> None:
    axes = layout.resolve_strided_slice((5, 6), [-2, 10], [0, -7], [-1, -2], 0, 2, 0)
    assert [(a.start, a.stop, a.count) for a in axes] == [(3, 0, 3), (5, -1, 3)]
    axes = layout.resolve_strided_slice((5, 6), [1, -1], [0, 0], [1, 1], 1, 0, 2)
    assert [(a.start, a.stop, a.count, a.shrink) for a in axes] == [(0, 0, 0, False), (5, 6, 1, True)]


def test_strided_slice_packs_a_start_offset_and_merged_steps() -> None:
    t = [
        Tensor(0, "in", (4, 6), "int8", q(0.1)),
        const(1, [1, 0]),
        const(2, [3, 6]),
        const(3, [1, 1]),
        Tensor(4, "out", (2, 6), "int8", q(0.1)),
    ]
    g, op = graph("STRIDED_SLICE", t, (0, 1, 2, 3), (4,))
    p = params(g, op)
    assert p["start"] == 6 and p["count"] == (1, 1, 1, 1, 12) and p["step"] == (0, 0, 0, 0, 1)


def test_transpose_packs_permuted_strides() -> None:
    t = [
        Tensor(0, "in", (2, 3, 4), "int8", q(0.1)),
        const(1, [2, 0, 1]),
        Tensor(2, "out", (4, 2, 3), "int8", q(0.1)),
    ]
    g, op = graph("TRANSPOSE", t, (0, 1), (2,))
    p = params(g, op)
    assert p["count"] == (1, 1, 1, 1, 4, 6) and p["step"] == (0, 0, 0, 0, 1, 4)


# ---- rejections ----------------------------------------------------------------------------------------


def test_rejections_say_why_in_one_line() -> None:
    assert "zero point -128" in reason(*unary("LOGISTIC", (4,), q(0.1), q(1 / 256, 0)))
    # int16 TANH is the 16x8 kernel's: its reason, not the int8 kernel's "only int8"
    assert "2^-15" in reason(*unary("TANH", (4,), q(0.1), q(1 / 128), dtype="int16"))
    assert "TFLM rejects" in reason(*unary("HARD_SWISH", (4,), q(1.0), q(0.001)))
    g, op = graph(
        "QUANTIZE", [Tensor(0, "in", (3,), "float32"), Tensor(1, "out", (3,), "uint8", q(0.1))], (0,), (1,)
    )
    assert "float32 -> uint8" in reason(g, op)
    pc = Quantization((0.1, 0.2), (0, 0), 0)
    g, op = graph(
        "QUANTIZE", [Tensor(0, "in", (2,), "int8", pc), Tensor(1, "out", (2,), "int8", q(0.1))], (0,), (1,)
    )
    assert "per channel" in reason(g, op)
    t = [
        Tensor(0, "in", (4, 6), "int8", q(0.1)),
        const(1, [0, 0]),
        const(2, [4, 6]),
        const(3, [1, 1]),
        Tensor(4, "out", (1, 4, 6), "int8", q(0.1)),
    ]
    g, op = graph("STRIDED_SLICE", t, (0, 1, 2, 3), (4,), new_axis_mask=1)
    assert "new-axis" in reason(g, op)
    t[3] = const(3, [1, 0])
    g, op = graph("STRIDED_SLICE", t, (0, 1, 2, 3), (4,))
    assert "stride is zero" in reason(g, op)
    t = [Tensor(0, "in", (2, 3), "int8", q(0.1)), const(1, [0, 0]), Tensor(2, "out", (3, 2), "int8", q(0.1))]
    g, op = graph("TRANSPOSE", t, (0, 1), (2,))
    assert "not a permutation" in reason(g, op)
    g, op = graph(
        "RESHAPE",
        [Tensor(0, "in", (2, 3), "int8", q(0.1)), Tensor(1, "out", (7,), "int8", q(0.1))],
        (0,),
        (1,),
    )
    assert "bytes" in reason(g, op)
    data = np.zeros((2, 3), np.int8).tobytes()
    g, op = graph(
        "RESHAPE",
        [Tensor(0, "in", (2, 3), "int8", q(0.1), data), Tensor(1, "out", (6,), "int8", q(0.1))],
        (0,),
        (1,),
    )
    assert "constant" in reason(g, op)
