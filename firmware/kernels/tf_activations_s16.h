/*
 * LOGISTIC and TANH with int16 input and output (zero points 0, output scale 2^-15), bit-exact
 * with TFLite Micro's reference int16 kernels: the input is rescaled so that +-2^17 spans
 * +-10.7 (x * multiplier >> shift, rounded), and sigmoid is interpolated in a 256-entry table of
 * sigmoid(i/24) in Q0.16 on its absolute value; tanh(x) = 2 * sigmoid(2x) - 1 uses the same
 * table with one bit less of the input. The table is computed at code generation
 * (tinyforge/kernels/ops/s16_activations.py) and shared by every layer. Safe in place.
 */
#ifndef TF_ACTIVATIONS_S16_H
#define TF_ACTIVATIONS_S16_H

#include <stdint.h>

typedef struct {
    int32_t input_multiplier; /* at most 32767 */
    int32_t input_shift; /* right shift, 0..31 */
    const uint16_t *table; /* 256 entries: sigmoid(i / 24) in Q0.16 */
    uint32_t size;
} tf_logistic_s16_params_t;

typedef tf_logistic_s16_params_t tf_tanh_s16_params_t;

void tf_logistic_s16(const tf_logistic_s16_params_t *p, const int16_t *input, int16_t *output);
void tf_tanh_s16(const tf_tanh_s16_params_t *p, const int16_t *input, int16_t *output);

#endif /* TF_ACTIVATIONS_S16_H */
