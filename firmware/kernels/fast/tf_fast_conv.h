/*
 * Faster portable int8 kernels (plain C99, any core): CONV_2D (groups 1) and FULLY_CONNECTED as
 * one matrix multiply, DEPTHWISE_CONV_2D (depth multiplier 1). The packer
 * (tinyforge/kernels/ops/fast/conv.py) folds the input offset into the bias
 * (bias + in_off * sum(w)), so inner loops are pure int8 x int8 MACs; padded taps read the input
 * zero point, which contributes exactly zero. Requantization is tf_requant_fast (tf_requant.h:
 * the same results for the non-negative multipliers QuantizeMultiplier gives). Bit-exact with the
 * reference kernels.
 */
#ifndef TF_FAST_CONV_H
#define TF_FAST_CONV_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t direct; /* 1: each output pixel's patch is its input pixel (1x1, stride 1, no padding) */
    int32_t im2col; /* 1: copy each pixel's patch (k_h*k_w*in_c <= TF_FAST_PATCH bytes) to the stack first */
    int32_t pad_value; /* input zero point */
    int32_t output_offset;
    int32_t act_min, act_max;
    const int8_t *weights; /* [out_c/4 rounded up][k_h*k_w*in_c][4] */
    const int32_t *bias; /* [out_c], input offset folded in */
    const int32_t *out_mult; /* [out_c] */
    const int32_t *out_shift; /* [out_c] */
} tf_fast_conv_s8_params_t;

#define TF_FAST_PATCH 288 /* bytes of one pixel's copied patch (two on the stack) */

/* k_h * k_w <= 64 (two tap pointer tables on the stack); no scratch. Filters with few input
 * channels (im2col) run over a copied patch, so the inner loop does not restart at every tap. */
void tf_fast_conv_s8(const tf_fast_conv_s8_params_t *p, const int8_t *input, int8_t *output);

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c; /* out_c == in_c */
    int32_t out_h, out_w;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t pad_value; /* input zero point */
    int32_t output_offset;
    int32_t act_min, act_max;
    const int8_t *weights; /* [k_h][k_w][in_c] as in the model */
    const int32_t *bias; /* [in_c], input offset folded in */
    const int32_t *out_mult; /* [in_c] */
    const int32_t *out_shift; /* [in_c] */
} tf_fast_dw_s8_params_t;

/* k_h * k_w <= 64; no scratch */
void tf_fast_dw_s8(const tf_fast_dw_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_FAST_CONV_H */
