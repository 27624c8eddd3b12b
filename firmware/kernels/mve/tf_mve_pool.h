/*
 * AVERAGE_POOL_2D for Cortex-M55 with Helium: the portable kernel's parameters (tf_pool.h),
 * windows of at most 256 elements. Bit-exact with TFLite Micro's reference kernel: 8 channels at
 * a time, the window summed in int16 lanes (|sum| <= 256 * 128 = 2^15, and only -2^15 reaches
 * the bound), then per channel TFLM's rounded division by the count of elements inside the image.
 */
#ifndef TF_MVE_POOL_H
#define TF_MVE_POOL_H

#include <stdint.h>

#include "tf_pool.h"

#define TF_MVE_AVG_POOL_MAX_WINDOW 256

void tf_mve_avg_pool_s8(const tf_avg_pool_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_MVE_POOL_H */
