/* ADD / SUB / MUL int16 reference kernels: see tf_elementwise_s16.h.
 * Without broadcasting each output element depends only on the same element of the inputs, so
 * the output may overwrite an input (in place). */
#include "tf_elementwise_s16.h"

#include "tf_common.h"

/* Element offsets of both inputs while the output is walked in row-major order. */
typedef struct {
    int32_t idx[TF_BCAST_MAX_DIMS];
    int32_t off1, off2;
} tf_s16_bcast_t;

static void tf_s16_bcast_init(tf_s16_bcast_t *it)
{
    int32_t d;
    for (d = 0; d < TF_BCAST_MAX_DIMS; ++d) {
        it->idx[d] = 0;
    }
    it->off1 = 0;
    it->off2 = 0;
}

static void tf_s16_bcast_next(tf_s16_bcast_t *it, int32_t ndims, const int32_t *shape, const int32_t *s1,
                              const int32_t *s2)
{
    int32_t d;
    if (ndims == 0) {
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

static void tf_add_sub_s16(const tf_add_s16_params_t *p, const int16_t *input1, const int16_t *input2,
                           int16_t *output, int subtract)
{
    const int16_t *a = p->const1 ? p->const1 : input1;
    const int16_t *b = p->const2 ? p->const2 : input2;
    tf_s16_bcast_t it;
    int32_t i;
    tf_s16_bcast_init(&it);
    for (i = 0; i < p->size; ++i) {
        const int32_t v1 = (int32_t)((uint32_t)(p->input1_offset + a[it.off1]) << p->left_shift);
        const int32_t v2 = (int32_t)((uint32_t)(p->input2_offset + b[it.off2]) << p->left_shift);
        const int32_t s1 = tf_multiply_by_quantized_multiplier(v1, p->input1_mult, (int)p->input1_shift);
        const int32_t s2 = tf_multiply_by_quantized_multiplier(v2, p->input2_mult, (int)p->input2_shift);
        const int32_t raw = subtract ? tf_sub_wrap(s1, s2) : tf_add_wrap(s1, s2);
        const int32_t out =
            tf_multiply_by_quantized_multiplier(raw, p->output_mult, (int)p->output_shift) + p->output_offset;
        output[i] = (int16_t)tf_clamp(out, p->act_min, p->act_max);
        tf_s16_bcast_next(&it, p->ndims, p->out_shape, p->in1_strides, p->in2_strides);
    }
}

void tf_add_s16(const tf_add_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output)
{
    tf_add_sub_s16(p, input1, input2, output, 0);
}

void tf_sub_s16(const tf_sub_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output)
{
    tf_add_sub_s16(p, input1, input2, output, 1);
}

void tf_mul_s16(const tf_mul_s16_params_t *p, const int16_t *input1, const int16_t *input2, int16_t *output)
{
    const int16_t *a = p->const1 ? p->const1 : input1;
    const int16_t *b = p->const2 ? p->const2 : input2;
    tf_s16_bcast_t it;
    int32_t i;
    tf_s16_bcast_init(&it);
    for (i = 0; i < p->size; ++i) {
        const int32_t v1 = p->input1_offset + a[it.off1];
        const int32_t v2 = p->input2_offset + b[it.off2];
        const int32_t out =
            tf_multiply_by_quantized_multiplier(v1 * v2, p->output_mult, (int)p->output_shift) + p->output_offset;
        output[i] = (int16_t)tf_clamp(out, p->act_min, p->act_max);
        tf_s16_bcast_next(&it, p->ndims, p->out_shape, p->in1_strides, p->in2_strides);
    }
}
