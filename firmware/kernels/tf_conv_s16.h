/*
 * The "16x8" convolutions: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with int16 activations
 * (zero point 0), int8 weights and an int64 or int32 bias. Bit-exact with TFLite Micro's
 * reference kernels (ConvPerChannel / DepthwiseConvPerChannel / FullyConnected for int16):
 *
 *   acc64 = 1  int64 accumulator (int64 bias, or none): requantized with the Q31 multiplier
 *              rounded to Q15 (tf_mul_by_quantized_multiplier64)
 *   acc64 = 0  int32 accumulator (int32 bias), wrapping like the reference's int32 sums:
 *              requantized with the gemmlowp-style tf_multiply_by_quantized_multiplier
 *
 * then clamped to [act_min, act_max]. Per-channel multipliers (`per_channel` = 1) or one for all.
 * Products are summed in int32 runs of at most TF_S16_CHUNK terms, which are exact, so the int64
 * path pays for 64-bit additions only once per run.
 */
#ifndef TF_CONV_S16_H
#define TF_CONV_S16_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t filter_in_c; /* in_c / groups */
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
    int32_t per_channel;
    int32_t acc64;
    const int8_t *weights; /* [out_c][k_h][k_w][filter_in_c] */
    const int64_t *bias64; /* [out_c] when acc64, else NULL */
    const int32_t *bias32; /* [out_c] when !acc64, else NULL */
    const int32_t *out_mult;
    const int32_t *out_shift;
} tf_conv2d_s16_params_t;

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
    int32_t per_channel;
    int32_t acc64;
    const int8_t *weights; /* [k_h][k_w][out_c] */
    const int64_t *bias64;
    const int32_t *bias32;
    const int32_t *out_mult;
    const int32_t *out_shift;
} tf_depthwise_conv2d_s16_params_t;

typedef struct {
    int32_t batches;
    int32_t accum_depth;
    int32_t out_depth;
    int32_t act_min, act_max;
    int32_t per_channel;
    int32_t acc64;
    const int8_t *weights; /* [out_depth][accum_depth] */
    const int64_t *bias64;
    const int32_t *bias32;
    const int32_t *out_mult;
    const int32_t *out_shift;
} tf_fully_connected_s16_params_t;

void tf_conv2d_s16(const tf_conv2d_s16_params_t *p, const int16_t *input, int16_t *output);
void tf_depthwise_conv2d_s16(const tf_depthwise_conv2d_s16_params_t *p, const int16_t *input, int16_t *output);
void tf_fully_connected_s16(const tf_fully_connected_s16_params_t *p, const int16_t *input, int16_t *output);

#endif /* TF_CONV_S16_H */
