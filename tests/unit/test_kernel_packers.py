"""The int8 kernel packers (tinyforge/kernels/ops: conv, fully_connected, pooling, softmax,
elementwise, mean, pad, concatenation): what they accept, the one-line reasons for what they
do not, and the numbers they hand the C kernels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinyforge.errors import UnsupportedOpError
from tinyforge.ir.graph import Graph, Op, Quantization, Tensor, freeze_options
from tinyforge.kernels.ops.portable.conv import conv2d_s8
from tinyforge.kernels.ops.portable.elementwise import broadcast_layout
from tinyforge.kernels.registry import ConstArray, Target, TensorArg, select, unsupported_reason
from tinyforge.model.tflite import read_tflite

# MACs of the MLPerf Tiny models, measured independently (../shared/ANCHORS.md)
ANCHOR_MACS = {"kws": 2_656_768, "resnet": 12_501_632, "vww": 7_489_664, "ad": 264_192}


def q(scale: float = 0.05, zp: int = 0) -> Quantization:
    return Quantization((scale,), (zp,))


def act(i: int, shape: tuple[int, ...], dtype: str = "int8", quant: Quantization | None = None) -> Tensor:
    return Tensor(i, f"t{i}", shape, dtype, quant or q(0.05, -3))


def const(i: int, values: np.ndarray, dtype: str, quant: Quantization | None = None) -> Tensor:
    arr = np.asarray(values)
    data = arr.astype(np.int8 if dtype == "int4" else dtype).tobytes()  # int4: raw bytes stand in
    return Tensor(i, f"c{i}", tuple(arr.shape), dtype, quant, data)


def graph_of(
    tensors: list[Tensor], kind: str, inputs: tuple[int, ...], outputs: tuple[int, ...], **opts
) -> Graph:
    op = Op(0, kind, inputs, outputs, freeze_options(opts), name="layer")
    return Graph(tuple(tensors), (op,), tuple(t.index for t in tensors if not t.is_constant)[:1], outputs)


def conv_graph(in_dtype: str = "int8", w_dtype: str = "int8", w_const: bool = True, **opts) -> Graph:
    w = np.ones((4, 3, 3, 2), dtype=np.int8)
    tensors = [
        act(0, (1, 8, 8, 2), in_dtype),
        const(1, w, w_dtype, Quantization((0.01,) * 4, (0,) * 4, 0))
        if w_const
        else act(1, (4, 3, 3, 2), "int8", Quantization((0.01,) * 4, (0,) * 4, 0)),
        const(2, np.arange(4), "int32"),
        act(3, (1, 8, 8, 4)),
    ]
    options = {
        "padding": "SAME",
        "stride_h": 1,
        "stride_w": 1,
        "dilation_h_factor": 1,
        "dilation_w_factor": 1,
        "activation": "RELU",
    }
    options.update(opts)
    return graph_of(tensors, "CONV_2D", (0, 1, 2), (3,), **options)


def test_conv_packs_per_channel_params() -> None:
    g = conv_graph()
    call = conv2d_s8(g, g.ops[0], Target())  # the reference packer (select() prefers tf_fast_conv_s8)
    p = dict(call.params)
    assert call.function == "tf_conv2d_s8" and call.params_type == "tf_conv2d_s8_params_t"
    assert (p["pad_h"], p["pad_w"], p["input_offset"], p["per_channel"]) == (1, 1, 3, 1)
    assert (p["act_min"], p["act_max"]) == (-3, 127)
    assert isinstance(p["out_mult"], ConstArray) and p["out_mult"].count == 4
    assert call.macs == 8 * 8 * 4 * 3 * 3 * 2
    assert call.args == (TensorArg(0, writable=False), TensorArg(3, writable=True))
    assert call.comment == "3x3 SAME 2->4 relu"


@pytest.mark.parametrize(
    ("graph", "reason"),
    [
        # an int16 input goes to the 16x8 kernel, whose reason is the one shown
        (
            conv_graph(in_dtype="int16"),
            "input has zero point -3; int16 activations must be symmetric (zero point 0)",
        ),
        (conv_graph(w_dtype="int4"), "weights are int4; the portable kernel takes int8 weights"),
        (conv_graph(w_const=False), "weights are not constant"),
        (conv_graph(activation="TANH"), "fused activation TANH is not supported"),
        (conv_graph(stride_h=2), "output size 8x8 does not match the padding (4x8)"),
    ],
)
def test_conv_rejections_have_one_line_reasons(graph: Graph, reason: str) -> None:
    assert unsupported_reason(graph, graph.ops[0]) == reason
    with pytest.raises(UnsupportedOpError) as exc:
        select(graph, graph.ops[0], Target())
    assert reason in exc.value.message and "\n" not in exc.value.message


def test_softmax_requires_the_tflm_output_quantization() -> None:
    tensors = [act(0, (1, 10)), act(1, (1, 10), quant=q(1 / 256, -128))]
    g = graph_of(tensors, "SOFTMAX", (0,), (1,), beta=1.0)
    call = select(g, g.ops[0], Target())
    assert dict(call.params)["depth"] == 10 and call.in_place == ((1, 0),)
    bad = graph_of([act(0, (1, 10)), act(1, (1, 10), quant=q(1 / 256, 0))], "SOFTMAX", (0,), (1,), beta=1.0)
    assert "scale 1/256 and zero point -128" in (unsupported_reason(bad, bad.ops[0]) or "")


def test_elementwise_broadcast_layout() -> None:
    assert broadcast_layout((1, 4, 4, 3), (1, 4, 4, 3), (1, 4, 4, 3))[0] == 0
    n, shape, s1, s2 = broadcast_layout((1, 5, 6, 4), (1, 1, 1, 4), (1, 5, 6, 4))  # type: ignore[misc]
    assert (n, shape[:3], s1[:3], s2[:3]) == (3, (5, 6, 4), (24, 4, 1), (0, 0, 1))
    n, shape, s1, s2 = broadcast_layout((5, 1, 4), (1, 5, 6, 1), (1, 5, 6, 4))  # type: ignore[misc]
    assert (n, shape[:3], s1[:3], s2[:3]) == (3, (5, 6, 4), (4, 0, 1), (6, 1, 0))
    assert broadcast_layout((), (1, 3), (1, 3))[:2] == (1, (3, 0, 0, 0, 0, 0))
    assert broadcast_layout((2, 3), (4, 3), (4, 3)) is None
    assert broadcast_layout((2,) * 7, (1,) * 7, (2,) * 7) is None


def test_add_with_constant_operand_and_in_place() -> None:
    tensors = [
        act(0, (1, 4, 4, 3)),
        const(1, np.arange(3).reshape(1, 1, 1, 3), "int8", q(0.1, 0)),
        act(2, (1, 4, 4, 3)),
    ]
    g = graph_of(tensors, "ADD", (0, 1), (2,), activation="NONE")
    call = select(g, g.ops[0], Target())
    p = dict(call.params)
    assert p["const1"] == 0 and isinstance(p["const2"], ConstArray)
    # the constant's pointer argument repeats the activation input
    assert call.args == (
        TensorArg(0, writable=False),
        TensorArg(0, writable=False),
        TensorArg(2, writable=True),
    )
    assert call.in_place == ()  # broadcast: not in place
    same = graph_of([act(0, (1, 4)), act(1, (1, 4)), act(2, (1, 4))], "SUB", (0, 1), (2,), activation="RELU6")
    assert select(same, same.ops[0], Target()).in_place == ((2, 0), (2, 1))
    both = graph_of(
        [const(0, np.zeros(3), "int8", q()), const(1, np.zeros(3), "int8", q()), act(2, (3,))],
        "MUL",
        (0, 1),
        (2,),
    )
    assert "both inputs are constant" in (unsupported_reason(both, both.ops[0]) or "")


def test_mean_accepts_at_most_two_axes() -> None:
    x = act(0, (1, 4, 4, 8))
    ok = graph_of(
        [x, const(1, np.array([1, 2]), "int32"), act(2, (1, 1, 1, 8))], "MEAN", (0, 1), (2,), keep_dims=True
    )
    p = dict(select(ok, ok.ops[0], Target()).params)
    assert (p["count"], p["n_kept"], p["kept_shape"][:2], p["red_strides"][:2]) == (16, 2, (1, 8), (32, 8))
    three = graph_of(
        [x, const(1, np.array([1, 2, 3]), "int32"), act(2, (1,))], "MEAN", (0, 1), (2,), keep_dims=False
    )
    assert unsupported_reason(three, three.ops[0]) == "reducing 3 axes; TFLM's MEAN reduces at most 2"


def test_pad_and_concat() -> None:
    pads = const(1, np.array([[0, 0], [1, 2], [0, 0], [3, 0]]), "int32")
    g = graph_of([act(0, (1, 2, 2, 2)), pads, act(2, (1, 5, 2, 5), quant=q(0.05, 7))], "PAD", (0, 1), (2,))
    p = dict(select(g, g.ops[0], Target()).params)
    assert (p["pad_before"][:4], p["pad_value"], p["out_size"]) == ((0, 1, 0, 3), 7, 50)
    ins = [act(i, (1, 2, i + 1)) for i in range(3)]
    g = graph_of([*ins, act(3, (1, 2, 6))], "CONCATENATION", (0, 1, 2), (3,), axis=-1, activation="NONE")
    call = select(g, g.ops[0], Target())
    assert dict(call.params)["in_chunk"] == (1, 2, 3, 0, 0, 0, 0, 0, 0, 0)
    assert len(call.args) == 11 and call.args[-1] == TensorArg(3, writable=True)
    many = [act(i, (1, 1)) for i in range(11)]
    g = graph_of(
        [*many, act(11, (1, 11))], "CONCATENATION", tuple(range(11)), (11,), axis=1, activation="NONE"
    )
    assert unsupported_reason(g, g.ops[0]) == "11 inputs; the kernel concatenates 1 to 10"


@pytest.mark.parametrize("model", sorted(ANCHOR_MACS))
def test_mlperf_macs_match_the_anchors(model: str, shared_models: dict[str, Path]) -> None:
    g = read_tflite(shared_models[model]).graph
    calls = [select(g, op, Target()) for op in g.ops if op.kind != "RESHAPE"]
    assert sum(c.macs for c in calls) == ANCHOR_MACS[model]
    assert all(c.comment for c in calls)
