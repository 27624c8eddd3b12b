/*
 * AVERAGE_POOL_2D and MAX_POOL_2D, int8 NHWC (input and output share scale and zero point).
 * Bit-exact with TFLite Micro's reference integer AveragePool / MaxPool: the window is clipped to
 * the image, the average divides by the clipped count rounding half away from zero.
 */
#ifndef TF_POOL_H
#define TF_POOL_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w;
    int32_t channels;
    int32_t out_h, out_w;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
} tf_pool_s8_params_t;

typedef tf_pool_s8_params_t tf_avg_pool_s8_params_t;
typedef tf_pool_s8_params_t tf_max_pool_s8_params_t;

void tf_avg_pool_s8(const tf_avg_pool_s8_params_t *p, const int8_t *input, int8_t *output);
void tf_max_pool_s8(const tf_max_pool_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_POOL_H */
