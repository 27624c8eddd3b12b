/*
 * The ADD / SUB / MUL loops of tf_elementwise.h, written once for both element types:
 * tf_elementwise.c includes this file with TF_EW_T = int8_t and TF_EW_FN(name) = name##_s8,
 * tf_elementwise_s16.c with int16_t and name##_s16. A template, not an interface: no guard, nothing
 * declared. The broadcast walk (tf_bcast_*) is in tf_elementwise.h.
 * Without broadcasting each output element depends only on the same element of the inputs, so
 * the output may overwrite an input (in place).
 */
#include "tf_common.h"

static void TF_EW_FN(tf_add_sub)(const tf_add_params_t *p, const TF_EW_T *input1, const TF_EW_T *input2,
                                 TF_EW_T *output, int subtract)
{
    const TF_EW_T *a = p->const1 ? (const TF_EW_T *)p->const1 : input1;
    const TF_EW_T *b = p->const2 ? (const TF_EW_T *)p->const2 : input2;
    tf_bcast_iter_t it;
    int32_t i;
    tf_bcast_init(&it);
    for (i = 0; i < p->size; ++i) {
        const int32_t v1 = (int32_t)((uint32_t)(p->input1_offset + a[it.off1]) << p->left_shift);
        const int32_t v2 = (int32_t)((uint32_t)(p->input2_offset + b[it.off2]) << p->left_shift);
        const int32_t s1 = tf_multiply_by_quantized_multiplier(v1, p->input1_mult, (int)p->input1_shift);
        const int32_t s2 = tf_multiply_by_quantized_multiplier(v2, p->input2_mult, (int)p->input2_shift);
        const int32_t raw = subtract ? tf_sub_wrap(s1, s2) : tf_add_wrap(s1, s2);
        const int32_t out =
            tf_multiply_by_quantized_multiplier(raw, p->output_mult, (int)p->output_shift) + p->output_offset;
        output[i] = (TF_EW_T)tf_clamp(out, p->act_min, p->act_max);
        tf_bcast_next(&it, p->ndims, p->out_shape, p->in1_strides, p->in2_strides);
    }
}

void TF_EW_FN(tf_add)(const tf_add_params_t *p, const TF_EW_T *input1, const TF_EW_T *input2, TF_EW_T *output)
{
    TF_EW_FN(tf_add_sub)(p, input1, input2, output, 0);
}

void TF_EW_FN(tf_sub)(const tf_add_params_t *p, const TF_EW_T *input1, const TF_EW_T *input2, TF_EW_T *output)
{
    TF_EW_FN(tf_add_sub)(p, input1, input2, output, 1);
}

void TF_EW_FN(tf_mul)(const tf_mul_params_t *p, const TF_EW_T *input1, const TF_EW_T *input2, TF_EW_T *output)
{
    const TF_EW_T *a = p->const1 ? (const TF_EW_T *)p->const1 : input1;
    const TF_EW_T *b = p->const2 ? (const TF_EW_T *)p->const2 : input2;
    tf_bcast_iter_t it;
    int32_t i;
    tf_bcast_init(&it);
    for (i = 0; i < p->size; ++i) {
        const int32_t v1 = p->input1_offset + a[it.off1];
        const int32_t v2 = p->input2_offset + b[it.off2];
        const int32_t out =
            tf_multiply_by_quantized_multiplier(v1 * v2, p->output_mult, (int)p->output_shift) + p->output_offset;
        output[i] = (TF_EW_T)tf_clamp(out, p->act_min, p->act_max);
        tf_bcast_next(&it, p->ndims, p->out_shape, p->in1_strides, p->in2_strides);
    }
}
