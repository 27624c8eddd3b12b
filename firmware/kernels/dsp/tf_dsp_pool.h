/*
 * AVERAGE_POOL_2D int8 for cores with the DSP extension: four channels at a time, summed in 16-bit
 * lanes with SXTAB16 (the packer, tinyforge/kernels/ops/dsp_pooling.py, takes channel counts that
 * are a multiple of 4 and windows of at most 256 pixels, so the lanes cannot overflow). Same
 * parameters and bit-exact results as tf_avg_pool_s8 (tf_pool.h).
 */
#ifndef TF_DSP_POOL_H
#define TF_DSP_POOL_H

#include <stdint.h>

#include "tf_pool.h"

typedef tf_pool_s8_params_t tf_dsp_avg_pool_s8_params_t;

void tf_dsp_avg_pool_s8(const tf_dsp_avg_pool_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_DSP_POOL_H */
