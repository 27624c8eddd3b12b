/*
 * SOFTMAX over the last dimension, int8 in -> int8 out (output scale 1/256, zero point -128).
 * TFLite Micro's reference fixed-point algorithm: input differences scaled to Q5.26, exp via
 * gemmlowp's exp_on_negative_values, sum in Q12.19, reciprocal by Newton-Raphson.
 */
#ifndef TF_SOFTMAX_H
#define TF_SOFTMAX_H

#include <stdint.h>

typedef struct {
    int32_t outer; /* product of all dimensions but the last */
    int32_t depth; /* last dimension */
    int32_t input_multiplier; /* beta * input_scale * 2^26, quantized (> 1) */
    int32_t input_left_shift;
    int32_t diff_min; /* differences below this contribute exp() = 0 */
} tf_softmax_s8_params_t;

void tf_softmax_s8(const tf_softmax_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_SOFTMAX_H */
