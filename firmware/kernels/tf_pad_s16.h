/*
 * PAD / PADV2 of an int16 tensor (up to TF_PAD_MAX_DIMS dimensions) with a constant value: the
 * output zero point for PAD, the constant_values tensor for PADV2 (as TFLite Micro). The params
 * are those of the int8 kernel (tf_pad.h).
 */
#ifndef TF_PAD_S16_H
#define TF_PAD_S16_H

#include <stdint.h>

#include "tf_pad.h"

typedef tf_pad_s8_params_t tf_pad_s16_params_t;

void tf_pad_s16(const tf_pad_s16_params_t *p, const int16_t *input, int16_t *output);

#endif /* TF_PAD_S16_H */
