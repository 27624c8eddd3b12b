/*
 * AVERAGE_POOL_2D and MAX_POOL_2D on int16 NHWC tensors (input and output share scale and zero
 * point). Bit-exact with TFLite Micro's reference int16 AveragePool / MaxPool: the window is
 * clipped to the image, the int32 average divides by the clipped count rounding half away from
 * zero. The params are those of the int8 kernels (tf_pool.h).
 */
#ifndef TF_POOL_S16_H
#define TF_POOL_S16_H

#include <stdint.h>

#include "tf_pool.h"

typedef tf_pool_s8_params_t tf_avg_pool_s16_params_t;
typedef tf_pool_s8_params_t tf_max_pool_s16_params_t;

void tf_avg_pool_s16(const tf_avg_pool_s16_params_t *p, const int16_t *input, int16_t *output);
void tf_max_pool_s16(const tf_max_pool_s16_params_t *p, const int16_t *input, int16_t *output);

#endif /* TF_POOL_S16_H */
