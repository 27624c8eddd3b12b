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
    int32_t left_shifts; /* 1 if some channel's multiplier has a left shift */
    const int8_t *weights; /* [ceil(c/8)][k_h * k_w][8], zero padded */
    const int32_t *qparams; /* [ceil(c/8)][bias', multiplier, left shift, -right shift][even 4, odd 4] */
} tf_mve_depthwise_conv2d_s8_params_t;

void tf_mve_depthwise_conv2d_s8(const tf_mve_depthwise_conv2d_s8_params_t *p, const int8_t *input, int8_t *output,
                                int8_t *scratch);

#endif /* TF_MVE_DEPTHWISE_H */
