/*
 * DEPTHWISE_CONV_2D, int8, any depth multiplier and dilation, weights [1][k_h][k_w][out_c],
 * int32 bias, per-channel or per-tensor requantization. Bit-exact with TFLite Micro's reference
 * DepthwiseConvPerChannel.
 */
#ifndef TF_DEPTHWISE_H
#define TF_DEPTHWISE_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c; /* out_c = in_c * depth_mult */
    int32_t depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t input_offset;
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t per_channel;
    const int8_t *weights; /* [k_h][k_w][out_c] */
    const int32_t *bias; /* [out_c] or NULL */
    const int32_t *out_mult;
    const int32_t *out_shift;
} tf_depthwise_conv2d_s8_params_t;

void tf_depthwise_conv2d_s8(const tf_depthwise_conv2d_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_DEPTHWISE_H */
