/*
 * ADD / SUB int8 of two same-shaped tensors for cores with the DSP extension. Each input's
 * rescaling depends only on its int8 value, so the packer (tinyforge/kernels/ops/dsp_elementwise.py)
 * tabulates it: table[v & 0xff] = 2 * MultiplyByQuantizedMultiplier((v + offset) << left_shift, ...)
 * (negated for SUB's second input); the sum is requantized as in tf_dsp_common.h. Bit-exact with
 * tf_add_s8 / tf_sub_s8 for the layers the packer accepts. The output may overwrite an input.
 * With `--optimize size` the tables are not in flash: the kernel computes them into its scratch
 * (2 KB) from the input parameters below.
 */
#ifndef TF_DSP_ADD_H
#define TF_DSP_ADD_H

#include <stdint.h>

typedef struct {
    int32_t size;
    int32_t mult, kq, rshift;
    int32_t fast; /* 1: activation range all of int8 and output zero point -128 (tf_dsp_common.h) */
    int32_t act_min, act_max;
    const int32_t *table1; /* [256], indexed by the input byte as unsigned; 0: computed into the scratch */
    const int32_t *table2;
    /* for tables computed at run time: input offsets, left shift, multipliers and shifts, and the sign
     * of the second input (-1 for SUB) */
    int32_t offset1, offset2, left_shift, mult1, shift1, mult2, shift2, sign2;
} tf_dsp_add_s8_params_t;

/* scratch: 2048 bytes when table1 is 0, else none */
void tf_dsp_add_s8(const tf_dsp_add_s8_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                   void *scratch);

#endif /* TF_DSP_ADD_H */
