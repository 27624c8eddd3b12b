/*
 * ADD, SUB and MUL on int16 tensors (the 16x8 scheme) with numpy-style broadcasting (up to
 * TF_BCAST_MAX_DIMS dimensions, see tf_elementwise.h) and fused activation clamps. Bit-exact with
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

typedef struct {
    int32_t size; /* output elements */
    int32_t ndims; /* 0: same shapes */
    int32_t out_shape[TF_BCAST_MAX_DIMS];
    int32_t in1_strides[TF_BCAST_MAX_DIMS];
    int32_t in2_strides[TF_BCAST_MAX_DIMS];
    int32_t input1_offset, input2_offset; /* -zero points */
    int32_t output_offset;
    int32_t left_shift;
    int32_t input1_mult, input1_shift;
    int32_t input2_mult, input2_shift;
    int32_t output_mult, output_shift;
    int32_t act_min, act_max;
    const int16_t *const1;
    const int16_t *const2;
} tf_add_s16_params_t;

typedef tf_add_s16_params_t tf_sub_s16_params_t;

typedef struct {
    int32_t size;
    int32_t ndims;
    int32_t out_shape[TF_BCAST_MAX_DIMS];
    int32_t in1_strides[TF_BCAST_MAX_DIMS];
    int32_t in2_strides[TF_BCAST_MAX_DIMS];
    int32_t input1_offset, input2_offset;
    int32_t output_offset;
    int32_t output_mult, output_shift;
    int32_t act_min, act_max;
    const int16_t *const1;
    const int16_t *const2;
} tf_mul_s16_params_t;

void tf_add_s16(const tf_add_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output);
void tf_sub_s16(const tf_sub_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output);
void tf_mul_s16(const tf_mul_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output);

#endif /* TF_ELEMENTWISE_S16_H */
