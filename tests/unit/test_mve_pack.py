"""Build-time packing of the Helium kernels (tinyforge/kernels/ops/mve/pack.py): weight layouts, the folded
bias, the split shifts, the depthwise lane order, the ADD tables, and which layers the Helium
packers turn down (with the reason)."""

from __future__ import annotations

import numpy as np

from tinyforge.kernels.ops.mve import pack


def test_gemm_weights_are_blocks_of_4_filters_by_16_byte_chunks() -> None:
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 128, (6, 21))
    packed = pack.pack_gemm(w, None, 0, [(1 << 30, -3)])
    assert packed.weights.shape == (2, 2, 4, 16) and packed.weights.dtype == np.int8
    for f in range(8):
        for k in range(32):
            want = w[f, k] if f < 6 and k < 21 else 0
            assert packed.weights[f // 4, k // 16, f % 4, k % 16] == want


def test_folded_bias_adds_the_input_offset_times_the_weight_sums_and_wraps() -> None:
    w = np.array([[1, 2, 3], [-127, -127, -127], [0, 0, 0]])
    got = pack.folded_bias(np.array([10, 2**31 - 1, -5]), w, 128)
    assert got.tolist() == [10 + 128 * 6, 2**31 - 1 - 128 * 381, -5]
    wrapped = pack.folded_bias(np.array([2**31 - 1]), np.array([[1]]), 1)
    assert wrapped.tolist() == [-(2**31)]  # the accumulator wraps the same way on the M55


def test_qparams_hold_bias_multiplier_and_split_shifts_per_block() -> None:
    w = np.ones((5, 3), dtype=np.int64)
    pairs = [(1 << 30, 2), (1 << 30, 0), (1 << 30, -1), (1 << 30, -31), (1 << 30, 5)]
    packed = pack.pack_gemm(w, np.arange(5), -2, pairs)
    q = packed.qparams
    assert q.shape == (2, 4, 4) and packed.left_shifts == 1
    assert q[0, 0].tolist() == [0 - 6, 1 - 6, 2 - 6, 3 - 6] and q[1, 0].tolist() == [4 - 6, 0, 0, 0]
    assert q[0, 2].tolist() == [2, 0, 0, 0] and q[0, 3].tolist() == [0, 0, -1, -31]
    assert q[1, 2, 0] == 5 and q[1, 1].tolist() == [1 << 30, 0, 0, 0]
    # every channel shifting right: no left shift table, the fast requantization
    per_tensor = pack.pack_gemm(w, None, 0, [(1 << 30, -4)])
    assert per_tensor.qparams.shape == (2, 3, 4) and per_tensor.left_shifts == 0
    assert per_tensor.qparams[:, 2].reshape(-1)[:5].tolist() == [-4] * 5
    # a shift of 0 needs the general one (its rounding fix-up only where the right shift is not 0)
    assert pack.pack_gemm(w, None, 0, [(1 << 30, 0)]).left_shifts == 1


def test_depthwise_constants_follow_the_even_odd_lane_order() -> None:
    w = np.arange(10 * 9).reshape(10, 9) % 100 - 50
    packed = pack.pack_depthwise(w, np.arange(10) * 1000, 0, [(1 << 30, -c) for c in range(10)])
    assert packed.weights.shape == (2, 9, 8)
    assert packed.weights[1, 4, 1] == w[9, 4] and packed.weights[1, 4, 2] == 0
    bias, rsh = packed.qparams[0, 0], packed.qparams[0, 3]
    assert bias.tolist() == [0, 2000, 4000, 6000, 1000, 3000, 5000, 7000]
    assert rsh.tolist() == [0, -2, -4, -6, -1, -3, -5, -7]


def test_depthwise_reasons() -> None:
    assert pack.depthwise_reason(np.array([[-127, 127]]), 9) is None
    assert "-128" in (pack.depthwise_reason(np.array([[-128]]), 9) or "")
    assert "taps" in (pack.depthwise_reason(np.array([[1]]), 65) or "")


def test_gemm_variant_is_the_shape_of_the_dot_products_the_requantization_and_the_last_block() -> None:
    def bit(k: int, shift: int = -3, out_c: int = 4) -> int:
        macro, bits = pack.gemm_variant(pack.pack_gemm(np.ones((out_c, k)), None, 0, [(1 << 30, shift)]))
        assert macro == "TF_MVE_GEMM_VARIANTS"
        return bits

    # tf_mve_shape: 1 a first full chunk of 16, 2 an odd number of full chunks after it, 4 two or
    # more after it (pairs), 8 a partial last chunk; 16 the general requantization; 32 out_c % 4
    ks = (8, 16, 21, 32, 40, 48, 64, 72, 144)
    assert [bit(k) for k in ks] == [1 << s for s in (8, 1, 9, 3, 11, 5, 7, 15, 5)]
    assert bit(64, 2) == 1 << 23 and bit(8, 0) == 1 << 24 and bit(16, -1, 6) == 1 << 33


def test_dw_variant_is_the_copy_with_or_without_left_shifts() -> None:
    w = np.ones((8, 9))
    right = pack.pack_depthwise(w, None, 0, [(1 << 30, -2)] * 8)
    left = pack.pack_depthwise(w, None, 0, [(1 << 30, -2)] * 7 + [(1 << 30, 1)])
    # the direct 3x3 path of 8/16/32/64 channels
    assert pack.dw_variant(right, 8) == ("TF_MVE_DW_VARIANTS", 0x5)
    assert [pack.dw_variant(right, c)[1] for c in (16, 32, 64)] == [0x9, 0x11, 0x21]
    assert pack.dw_variant(left, 64)[1] == 0x22
    # a channel shifted by 0: the copy without left shifts rounds as if all shifted right
    assert pack.pack_depthwise(w, None, 0, [(1 << 30, -2)] * 7 + [(1 << 30, 0)]).left_shifts == 1
    # other counts and dilation along rows: the gathered path (bit 17), with its partial last
    # group (bit 7) for counts not a multiple of 16
    assert [pack.dw_variant(right, c)[1] for c in (48, 128)] == [0x20001] * 2
    assert pack.dw_variant(left, 128)[1] == 0x20002
    assert [pack.dw_variant(right, c)[1] for c in (7, 24, 33)] == [0x20081] * 3
    assert pack.dw_variant(right, 64, dil_w=2)[1] == 0x20001
    # other filter sizes (not sent to this kernel by the packer): bit 16
    assert pack.dw_variant(right, 48, (5, 5))[1] == 0x30001


def test_depthwise_accumulators_near_the_int32_limits_take_the_copy_with_left_shifts() -> None:
    """The copy without left shifts narrows to int16 before adding the zero point: a layer whose
    folded bias plus 128 sum |w| may come within 256 of the int32 limits takes the other copy."""
    w = np.full((8, 9), 127)
    reach = 128 * 127 * 9
    bias = np.zeros(8, dtype=np.int64)
    bias[3] = 2**31 - 257 - reach
    assert pack.pack_depthwise(w, bias, 0, [(1 << 30, -2)] * 8).left_shifts == 0
    bias[3] += 1
    assert pack.pack_depthwise(w, bias, 0, [(1 << 30, -2)] * 8).left_shifts == 1
    bias[3] = -bias[3]
    assert pack.pack_depthwise(w, bias, 0, [(1 << 30, -2)] * 8).left_shifts == 1


def test_depthwise_scratch_holds_three_padded_rows_on_the_direct_path() -> None:
    # KWS: 3 x 64 zero points, then 3 rows of (5 - 1) + 3 columns of 64 channels
    assert pack.depthwise_scratch(64, (3, 3), 5, 1, 1) == 192 + 3 * 7 * 64
    assert pack.depthwise_scratch(8, (3, 3), 1, 1, 1) == 32 + 144  # the gathered block is larger
    assert pack.depthwise_scratch(48, (3, 3), 5, 1, 1) == 144 + 3 * 144  # not a direct count
    assert pack.depthwise_scratch(64, (3, 3), 5, 1, 2) == 192 + 4 * 144  # dilation along x
    assert pack.depthwise_scratch(64, (5, 5), 5, 1, 1) == 192


def test_depthwise_in_place_on_the_direct_path_with_padded_rows() -> None:
    def ok(c: int, shape: tuple[int, int, int, int], out: tuple[int, int], **kw: tuple[int, int]) -> bool:
        stride, dil, pad = kw.get("stride", (1, 1)), kw.get("dil", (1, 1)), kw.get("pad", (1, 1))
        return pack.depthwise_in_place(c, kw.get("kernel", (3, 3)), shape, out, stride, dil, pad)

    assert ok(64, (1, 25, 5, 64), (25, 5))  # KWS: SAME, stride 1
    assert ok(16, (1, 48, 48, 16), (24, 24), stride=(2, 2), pad=(0, 0))  # SAME stride 2, right pad
    assert not ok(64, (1, 5, 5, 64), (3, 3), pad=(0, 0))  # VALID: rows read in place
    assert not ok(48, (1, 5, 5, 48), (5, 5))  # the gathered path
    assert not ok(64, (1, 9, 5, 64), (9, 5), dil=(2, 1))  # rows read twice
    assert not ok(64, (2, 5, 5, 64), (5, 5))  # batches
    assert not ok(64, (1, 5, 5, 64), (5, 5), kernel=(5, 5))


def _plane(kernel: tuple[int, int], stride: tuple[int, int], shift: int = -3) -> pack.PlanePack:
    k_h, k_w = kernel
    w = np.arange(4 * k_h * k_w).reshape(4, k_h * k_w) % 200 - 100
    return pack.pack_plane(w, None, 5, [(1 << 30, shift)], (6, 5), kernel, stride, (1, 1))


def test_plane_lanes_path_takes_few_taps_small_strides_and_any_shift() -> None:
    assert pack.lanes_taps(3, 1, [(1 << 30, -1)] * 4) == 3
    assert pack.lanes_taps(6, 4, [(1 << 30, -1)]) == 6
    assert pack.lanes_taps(7, 1, [(1 << 30, -1)]) == 0  # too many taps for the registers
    assert pack.lanes_taps(3, 5, [(1 << 30, -1)]) == 0  # more phases than the kernel keeps
    # channels without a right shift (a shift of 0, a left shift) take the loop without rounding
    assert pack.lanes_taps(3, 1, [(1 << 30, -1), (1 << 30, 0)]) == 3
    assert pack.lanes_taps(3, 1, [(1 << 30, 2)]) == 3
    assert pack.lanes_taps(3, 1, [(1 << 30, 31)]) == 3
    assert pack.lanes_taps(3, 1, [(1 << 30, 32)]) == 0  # weights and bias shift as uint32
    # a 3x1 kernel is transposed: 5 plane rows (output columns) of 6 outputs, 3 taps along them;
    # stride 2 along them: two phases
    pp = _plane((3, 1), (2, 1))
    assert (pp.transpose, pp.lanes, pp.phases, pp.plane_h, pp.plane_w) == (True, 3, 2, 5, 13)
    assert pp.weights.shape == (4, 3)  # [out_c][taps], plane coordinates
    # rows of two phases of ceil(13 / 2) = 7 bytes; the (dilated) 16-byte loads' slack
    assert pp.scratch_bytes(1) == 112 == -(-(5 * 14 + 16 + 16) // 16) * 16
    assert pack.plane_variant(pp) == ("TF_MVE_DW_VARIANTS", 1 << (8 + 3 - 1))
    wide = _plane((3, 3), (1, 1))  # 9 taps: segments of 16
    assert (wide.lanes, wide.phases, wide.weights.shape) == (0, 1, (4, 3, 16))
    assert pack.plane_variant(wide) == ("TF_MVE_DW_VARIANTS", 0x40)
    assert _plane((2, 3), (1, 1), shift=1).lanes == 6
    # lanes weights: the taps row by row in plane coordinates (transposed for 3x2)
    w = np.arange(24).reshape(4, 6) % 200 - 100
    assert (_plane((2, 3), (1, 1)).weights == w).all()
    assert (_plane((3, 2), (1, 1)).weights == w.reshape(4, 3, 2).transpose(0, 2, 1).reshape(4, 6)).all()


def test_variant_defines_or_the_bits_of_every_call_per_macro() -> None:
    from tinyforge.kernels.registry import KernelCall, variant_defines

    def call(*variants: tuple[str, int]) -> KernelCall:
        return KernelCall("f", "", (), (), variants=variants)

    calls = [call(("TF_B", 8)), call(("TF_A", 1)), call(), call(("TF_B", 0x80), ("TF_A", 1))]
    assert variant_defines(calls) == ("TF_A=0x1", "TF_B=0x88")
    assert variant_defines([call()]) == ()


def test_column_pixels_fill_the_budget_with_an_even_run_or_the_whole_row() -> None:
    # 3x3 over 32 channels (96-byte columns) in 2,304 bytes: 24 columns, 22 pixels at stride 1
    assert pack.column_pixels(40, 1, 3, 96, 2304) == 22
    assert pack.column_pixels(20, 1, 3, 96, 2304) == 20  # the whole row fits
    assert pack.column_pixels(40, 2, 3, 96, 2304) == 10  # (n - 1) * 2 + 3 <= 24 -> 11, even
    assert pack.column_pixels(40, 1, 3, 96, 100) == 1  # never none


def test_conv_variant_names_how_the_convolution_reads_its_receptive_fields() -> None:
    assert pack.conv_variant(0, 0, 1, 64) == ("TF_MVE_CONV_VARIANTS", 0)  # unpadded 1x1: in place
    assert pack.conv_variant(8, 0, 3, 3)[1] == 1  # im2col rows
    assert pack.conv_variant(8, 10, 3, 16)[1] == 2  # column buffer by copies
    assert [pack.conv_variant(8, 10, kh, c)[1] for kh, c in ((10, 1), (3, 3), (3, 12))] == [4, 4, 4]
    assert pack.conv_variant(8, 10, 18, 1)[1] == 2  # 1 channel, 18 rows: offsets past 255


def _lanes(shifts: list[int], kernel: tuple[int, int] = (3, 1)) -> pack.PlanePack:
    k_h, k_w = kernel
    w = np.arange(len(shifts) * k_h * k_w).reshape(len(shifts), k_h * k_w) % 200 - 100
    pairs = [(1 << 30, s) for s in shifts]
    return pack.pack_plane(w, None, 5, pairs, (6, 5), kernel, (1, 1), (1, 1))


def test_plane_variant_of_the_lanes_path_is_the_kinds_of_shift_its_channels_have() -> None:
    """Bit 8 + t - 1: some channel shifts right; bit 18 + t - 1: some channel does not (a shift of 0
    or a left shift: weights and bias shifted once, no rounding step). Models without such channels
    do not link that copy."""
    right, left = 1 << (8 + 3 - 1), 1 << (18 + 3 - 1)
    assert pack.plane_variant(_lanes([-1, -5, -31])) == ("TF_MVE_DW_VARIANTS", right)
    assert pack.plane_variant(_lanes([0, 3]))[1] == left
    assert pack.plane_variant(_lanes([-2, 0]))[1] == right | left
    assert pack.plane_variant(_lanes([1, -2, 2]))[1] == right | left
    six = _lanes([4, -1], (2, 3))
    assert six.lanes == 6 and pack.plane_variant(six)[1] == (1 << 13) | (1 << 23)
    one = _lanes([0], (1, 1))
    assert one.lanes == 1 and pack.plane_variant(one)[1] == 1 << 18
    # the table keeps the split shifts: the kernel picks each channel's loop by its right shift
    pp = _lanes([2, -3, 0])
    assert pp.qparams[:, 2].tolist() == [2, 0, 0] and pp.qparams[:, 3].tolist() == [0, -3, 0]
    assert pp.left_shifts == 1 and _lanes([0, -1]).left_shifts == 0
