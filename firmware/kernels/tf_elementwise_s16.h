/*
 * ADD, SUB and MUL on int16 tensors (the 16x8 scheme) with numpy-style broadcasting (see
 * tf_elementwise.h for broadcasting and the params) and fused activation clamps. Bit-exact with
 * TFLite Micro's reference kernels for int16:
 *   ADD/SUB  both inputs rescaled to twice the larger input scale with 15 extra bits
 *            (left_shift = 15, where int8 uses 20), summed in int32, rescaled to the output
 *   MUL      (in1 - zp1) * (in2 - zp2) requantized once (TFLM requires zero points of 0)
 * A constant input is read from const1/const2 (non-NULL) instead of its pointer argument.
 */
#ifndef TF_ELEMENTWISE_S16_H
#define TF_ELEMENTWISE_S16_H

#include <stdint.h>

#include "tf_elementwise.h"

typedef tf_add_params_t tf_add_s16_params_t;
typedef tf_add_params_t tf_sub_s16_params_t;
typedef tf_mul_params_t tf_mul_s16_params_t;

void tf_add_s16(const tf_add_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output);
void tf_sub_s16(const tf_sub_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output);
void tf_mul_s16(const tf_mul_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output);

#endif /* TF_ELEMENTWISE_S16_H */
