/*
 * CONV_2D for Cortex-M55 with Helium: int8 activations, int8 weights, per-channel (or per-tensor,
 * expanded) requantization, groups == 1. Bit-exact with TFLite Micro's reference ConvPerChannel.
 *
 * Every output pixel is one row of the Helium matrix core (tf_mve_gemm.h): a 1x1 convolution
 * without padding reads its rows in place. Without dilation along x (and stride_w <= k_w), a run
 * of `columns` pixels of an output row reads a column buffer in `scratch`: the input columns it
 * covers, each with its k_h taps stacked ((ky, channel) order, k_h * in_c bytes), so a pixel's
 * receptive field in (kx, ky, channel) order is contiguous and columns are copied once per output
 * row instead of k_w times per pixel. Otherwise the receptive fields of `im2col` pixels at a time
 * are copied into `scratch` (im2col x round_up(k, 16) bytes). Padding is the input zero point,
 * which contributes nothing once the input offset is folded into the bias.
 */
#ifndef TF_MVE_CONV_H
#define TF_MVE_CONV_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* top/left padding */
    int32_t input_zp; /* the value of padding */
    int32_t output_offset; /* output zero point */
    int32_t act_min, act_max;
    int32_t left_shifts; /* 1 if some channel's shift is >= 0: the general requantization (tf_mve_gemm.h) */
    int32_t im2col; /* 0: 1x1 without padding, rows read in place; else pixels per im2col batch */
    int32_t columns; /* > 0: pixels per column buffer (weights in (kx, ky, channel) order); 0: im2col */
    const int8_t *weights; /* packed, see tf_mve_gemm.h; k = k_h * k_w * in_c */
    const int32_t *qparams; /* packed bias' / multiplier / shifts, see tf_mve_gemm.h */
} tf_mve_conv2d_s8_params_t;

void tf_mve_conv2d_s8(const tf_mve_conv2d_s8_params_t *p, const int8_t *input, int8_t *output, int8_t *scratch);

#endif /* TF_MVE_CONV_H */
