/*
 * CONV_2D, int8 activations, int8 weights (OHWI), int32 bias, per-channel or per-tensor
 * requantization. Bit-exact with TFLite Micro's reference ConvPerChannel (groups, dilation).
 */
#ifndef TF_CONV_H
#define TF_CONV_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t filter_in_c; /* in_c / groups */
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w; /* top/left padding */
    int32_t input_offset; /* -input zero point */
    int32_t output_offset; /* output zero point */
    int32_t act_min, act_max;
    int32_t per_channel; /* 1: out_mult/out_shift have out_c entries, 0: one entry */
    const int8_t *weights; /* [out_c][k_h][k_w][filter_in_c] */
    const int32_t *bias; /* [out_c] or NULL */
    const int32_t *out_mult;
    const int32_t *out_shift;
} tf_conv2d_s8_params_t;

void tf_conv2d_s8(const tf_conv2d_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_CONV_H */
