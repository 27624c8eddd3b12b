/*
 * ADD, SUB and MUL on int8 tensors (and int16 ones, tf_elementwise_s16.h, with the same params)
 * with numpy-style broadcasting (up to TF_BCAST_MAX_DIMS dimensions) and fused activation clamps.
 * Bit-exact with TFLite Micro's reference kernels: ADD/SUB rescale both inputs to a common scale
 * with `left_shift` extra bits (20 for int8) before summing; MUL multiplies the zero-point-
 * corrected values and requantizes once.
 *
 * Broadcasting: `ndims` == 0 means both inputs have the output's shape (a flat loop); otherwise
 * the output is walked over out_shape[0..ndims) and each input advances by its own element
 * strides (0 along broadcast dimensions). A constant input is read from const1/const2 (non-NULL)
 * instead of the corresponding pointer argument.
 */
#ifndef TF_ELEMENTWISE_H
#define TF_ELEMENTWISE_H

#include <stdint.h>

#include "tf_common.h"

#define TF_BCAST_MAX_DIMS 6

typedef struct {
    int32_t size; /* output elements */
    int32_t ndims;
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
    const void *const1; /* int8_t or int16_t, as the kernel's tensors */
    const void *const2;
} tf_add_params_t;

typedef tf_add_params_t tf_add_s8_params_t;
typedef tf_add_params_t tf_sub_s8_params_t;

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
    const void *const1;
    const void *const2;
} tf_mul_params_t;

typedef tf_mul_params_t tf_mul_s8_params_t;

/* Walks the output in row-major order and tracks the matching input element offsets. */
typedef struct {
    int32_t idx[TF_BCAST_MAX_DIMS];
    int32_t off1, off2;
} tf_bcast_iter_t;

TF_INLINE void tf_bcast_init(tf_bcast_iter_t *it)
{
    int32_t d;
    for (d = 0; d < TF_BCAST_MAX_DIMS; ++d) {
        it->idx[d] = 0;
    }
    it->off1 = 0;
    it->off2 = 0;
}

TF_INLINE void tf_bcast_next(tf_bcast_iter_t *it, int32_t ndims, const int32_t *shape, const int32_t *s1,
                             const int32_t *s2)
{
    int32_t d;
    if (ndims == 0) { /* same shapes: one flat index */
        ++it->off1;
        ++it->off2;
        return;
    }
    for (d = ndims - 1; d >= 0; --d) {
        ++it->idx[d];
        it->off1 += s1[d];
        it->off2 += s2[d];
        if (it->idx[d] < shape[d]) {
            return;
        }
        it->off1 -= s1[d] * shape[d];
        it->off2 -= s2[d] * shape[d];
        it->idx[d] = 0;
    }
}

void tf_add_s8(const tf_add_s8_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void tf_sub_s8(const tf_sub_s8_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void tf_mul_s8(const tf_mul_s8_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* TF_ELEMENTWISE_H */
