/*
 * DEPTHWISE_CONV_2D for Cortex-M55 with Helium: int8, depth multiplier 1, per-channel (or
 * per-tensor, expanded) requantization. Bit-exact with TFLite Micro's reference
 * DepthwiseConvPerChannel.
 *
 * 8 channels of one output pixel at a time: VLDRB.S16 widens 8 inputs and 8 weights to int16,
 * VMUL.I16 multiplies them exactly and two taps add up in int16 (the packer admits weights in
 * [-127, 127] only, so |x*w + x'*w'| <= 2 * 128 * 127 < 2^15); VMOVLB/VMOVLT widen each pair sum
 * into two int32x4 accumulators holding the even and the odd channels, which is the order of the
 * packed bias and requantization constants; narrowing restores channel order. The input offset
 * is folded into the bias; padded taps read `scratch`, in_c bytes of the input zero point.
 * scratch: 3 in_c bytes (rounded up to 16), then for 3x3 filters max(144 per 16 channels, on the
 * direct path (8/16/32/64 channels, dil_w 1) 3 ((out_w - 1) stride_w + 3) in_c) bytes.
 */
#ifndef TF_MVE_DEPTHWISE_H
#define TF_MVE_DEPTHWISE_H

#include <stdint.h>

#define TF_MVE_DW_MAX_TAPS 64

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c; /* in_c == out_c */
    int32_t out_h, out_w;
    int32_t k_h, k_w; /* k_h * k_w <= TF_MVE_DW_MAX_TAPS */
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* top/left padding */
    int32_t input_zp; /* the value of padding */
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t left_shifts; /* 1 if some channel shifts left or not at all (or may near int32's limits) */
    const int8_t *weights; /* [ceil(c/8)][k_h * k_w][8], zero padded */
    const int32_t *qparams; /* [ceil(c/8)][bias', multiplier, left shift, -right shift][even 4, odd 4] */
} tf_mve_depthwise_conv2d_s8_params_t;

void tf_mve_depthwise_conv2d_s8(const tf_mve_depthwise_conv2d_s8_params_t *p, const int8_t *input, int8_t *output,
                                int8_t *scratch);

/*
 * DEPTHWISE_CONV_2D of any other shape (kernel h x w, stride, dilation, depth multiplier), one
 * input channel at a time, as the DSP kernel: the channel is gathered (VLDRB gather loads) into an
 * int8 plane with its padding (the input zero point, which contributes 0: the input offset is in
 * the bias); the plane is the input transposed when the kernel is taller than wide, so that its
 * long side runs along plane rows. Each output channel of that input channel then takes one
 * VMLADAVA.S8 per segment (a kernel row, 16 taps at most; a dilation along the row is a gather
 * load), four outputs along a plane row requantized together (tf_mve_common.h) and stored with
 * one scatter store. Padding lanes of a segment have zero weights.
 */
#define TF_MVE_DWP_MAX_SEGS 64

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t transpose;        /* 1: plane rows are input columns */
    int32_t plane_h, plane_w; /* the plane's rows and columns */
    int32_t chunks;           /* segments per kernel row (16 taps each); kernel rows * chunks <= 64 */
    int32_t lanes;            /* 0, or the taps (<= TF_MVE_DWL_MAX_TAPS): the lanes path below */
    int32_t input_zp;
    int32_t output_offset;
    int32_t act_min, act_max;
    const int8_t *weights;   /* [out_c][kernel rows][chunks][16] in plane coordinates, zero padded;
                                with lanes [out_c][kernel rows][kernel columns] */
    const int32_t *qparams;  /* [out_c][bias', multiplier, left shift, -right shift] */
} tf_mve_dw_plane_s8_params_t;

/*
 * The lanes path (lanes != 0, for kernels of few taps): four outputs along a plane row in the four
 * int32 lanes of a vector; per tap one VLDRB.S32 of four plane bytes and one VMLA.S32 by the tap's
 * weight (a general register), then the four outputs are requantized together and scatter-stored.
 * A channel that shifts right rounds (VQRDMULH, the fix-up, VRSHL); one with a left shift or none
 * has its weights and bias shifted left instead (the same int32 accumulator modulo 2^32) and
 * takes VQRDMULH alone. The plane rows are split by the stride along them into
 * `stride` phases of ceil(plane_w / stride) bytes (phase f holds columns f, f + stride, ...), so that
 * the four inputs of a tap are adjacent at any stride. `weights` is then [out_c][taps] (plane
 * coordinates, row by row).
 */
#define TF_MVE_DWL_MAX_TAPS 6
#define TF_MVE_DWL_MAX_PHASES 4 /* the stride along plane rows */

/* scratch: the plane, plane_h * plane_w + 16 * (dilation along plane rows) + 16 bytes; with lanes
 * its rows are stride * ceil(plane_w / stride) bytes (the stride along plane rows) */
void tf_mve_dw_plane_s8(const tf_mve_dw_plane_s8_params_t *p, const int8_t *input, int8_t *output, int8_t *scratch);

#endif /* TF_MVE_DEPTHWISE_H */
