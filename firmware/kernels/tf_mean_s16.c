/* MEAN int16 reference kernel: see tf_mean_s16.h. */
#include "tf_mean_s16.h"

#include "tf_common.h"

/* Advances idx over shape[0..n) (last fastest) and returns the change of the element offset. */
static int32_t tf_mean_s16_step(int32_t n, const int32_t *shape, const int32_t *strides, int32_t *idx)
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

void tf_mean_s16(const tf_mean_s16_params_t *p, const int16_t *input, int16_t *output)
{
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
            sum += (uint32_t)(int32_t)input[off];
            off += tf_mean_s16_step(p->n_red, p->red_shape, p->red_strides, red_idx);
        }
        v = tf_multiply_by_quantized_multiplier((int32_t)(sum - (uint32_t)p->input_zp * (uint32_t)p->count),
                                                p->multiplier, (int)p->shift) +
            p->output_zp;
        output[o] = (int16_t)tf_clamp(v, INT16_MIN, INT16_MAX);
        base += tf_mean_s16_step(p->n_kept, p->kept_shape, p->kept_strides, kept_idx);
    }
}
