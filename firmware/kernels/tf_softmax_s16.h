/*
 * SOFTMAX with int16 input and output (output scale 1/32768, zero point 0), bit-exact with
 * TFLite Micro's reference SoftmaxInt16: per row, exp(x - max) comes from a 513-entry table over
 * [-10, 0] (the difference is first rescaled so that [-65535, 0] spans it), 1/sum from a table of
 * 1/(1 + x) over [0, 1]; both tables are computed at code generation as TFLM's Prepare computes
 * them (tinyforge/kernels/ops/s16_activations.py) and sit in flash, shared by every layer.
 * Safe to run in place (output == input).
 */
#ifndef TF_SOFTMAX_S16_H
#define TF_SOFTMAX_S16_H

#include <stdint.h>

typedef struct {
    int32_t outer; /* rows */
    int32_t depth; /* elements per row (the last dimension) */
    int32_t input_multiplier;
    int32_t input_shift;
    const int16_t *exp_lut; /* 513 entries */
    const int16_t *one_over_one_plus_x_lut; /* 513 entries */
} tf_softmax_s16_params_t;

void tf_softmax_s16(const tf_softmax_s16_params_t *p, const int16_t *input, int16_t *output);

#endif /* TF_SOFTMAX_S16_H */
