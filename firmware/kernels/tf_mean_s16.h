/*
 * MEAN of an int16 tensor over a set of axes, bit-exact with TFLite Micro's reference: as the
 * int8 kernel (tf_mean.h, the same params), with int16 values and output range.
 */
#ifndef TF_MEAN_S16_H
#define TF_MEAN_S16_H

#include <stdint.h>

#include "tf_mean.h"

typedef tf_mean_s8_params_t tf_mean_s16_params_t;

void tf_mean_s16(const tf_mean_s16_params_t *p, const int16_t *input, int16_t *output);

#endif /* TF_MEAN_S16_H */
