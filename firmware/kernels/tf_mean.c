/* MEAN int8 reference kernel (and the loop the int16 one shares): see tf_mean.h. */
#include "tf_mean.h"

#include "tf_common.h"

/* Advances idx over shape[0..n) (last fastest) and returns the change of the element offset. */
static int32_t tf_mean_step(int32_t n, const int32_t *shape, const int32_t *strides, int32_t *idx)
{
    int32_t d;
    int32_t delta = 0;
    for (d = n - 1; d >= 0; --d) {
        ++idx[d];
        delta += strides[d];
        if (idx[d] < shape[d]) {
            return delta;
        }
        delta -= strides[d] * shape[d];
        idx[d] = 0;
    }
    return delta;
}

void tf_mean_run(const tf_mean_s8_params_t *p, const void *input, int wide, void *output)
{
    const int8_t *in8 = (const int8_t *)input;
    const int16_t *in16 = (const int16_t *)input;
    int32_t kept_idx[TF_MEAN_MAX_DIMS] = {0};
    int32_t base = 0;
    int32_t o;
    for (o = 0; o < p->out_size; ++o) {
        int32_t red_idx[TF_MEAN_MAX_DIMS] = {0};
        int32_t off = base;
        uint32_t sum = 0; /* wraps like the reference's int32 sum */
        int32_t r;
        int32_t v;
        for (r = 0; r < p->count; ++r) {
            sum += (uint32_t)(wide ? (int32_t)in16[off] : (int32_t)in8[off]);
            off += tf_mean_step(p->n_red, p->red_shape, p->red_strides, red_idx);
        }
        v = tf_multiply_by_quantized_multiplier((int32_t)(sum - (uint32_t)p->input_zp * (uint32_t)p->count),
                                                p->multiplier, (int)p->shift) +
            p->output_zp;
        if (wide) {
            ((int16_t *)output)[o] = (int16_t)tf_clamp(v, INT16_MIN, INT16_MAX);
        } else {
            ((int8_t *)output)[o] = (int8_t)tf_clamp(v, INT8_MIN, INT8_MAX);
        }
        base += tf_mean_step(p->n_kept, p->kept_shape, p->kept_strides, kept_idx);
    }
}

void tf_mean_s8(const tf_mean_s8_params_t *p, const int8_t *input, int8_t *output)
{
    tf_mean_run(p, input, 0, output);
}
