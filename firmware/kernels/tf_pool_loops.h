/*
 * The AVERAGE_POOL_2D / MAX_POOL_2D loops of tf_pool.h, written once for both element types:
 * tf_pool.c includes this file with TF_POOL_T = int8_t, TF_POOL_LOWEST = INT8_MIN and
 * TF_POOL_FN(name) = name##_s8, tf_pool_s16.c with the int16 ones. A template, not an interface:
 * no guard, nothing declared.
 */
#include "tf_common.h"

void TF_POOL_FN(tf_avg_pool)(const tf_pool_s8_params_t *p, const TF_POOL_T *input, TF_POOL_T *output)
{
    int32_t b, oy, ox, c;
    for (b = 0; b < p->batches; ++b) {
        const TF_POOL_T *in_b = input + b * p->in_h * p->in_w * p->channels;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            const int32_t y_start = TF_MAX(0, -in_y0);
            const int32_t y_end = TF_MIN(p->k_h, p->in_h - in_y0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t x_start = TF_MAX(0, -in_x0);
                const int32_t x_end = TF_MIN(p->k_w, p->in_w - in_x0);
                const int32_t count = (y_end - y_start) * (x_end - x_start);
                TF_POOL_T *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->channels;
                for (c = 0; c < p->channels; ++c) {
                    int32_t acc = 0;
                    int32_t ky, kx;
                    if (y_end <= y_start || x_end <= x_start) {
                        out[c] = 0; /* the reference rejects such a window; never emitted by converters */
                        continue;
                    }
                    for (ky = y_start; ky < y_end; ++ky) {
                        const TF_POOL_T *row = in_b + ((in_y0 + ky) * p->in_w + in_x0) * p->channels + c;
                        for (kx = x_start; kx < x_end; ++kx) {
                            acc += row[kx * p->channels];
                        }
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    out[c] = (TF_POOL_T)tf_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

void TF_POOL_FN(tf_max_pool)(const tf_pool_s8_params_t *p, const TF_POOL_T *input, TF_POOL_T *output)
{
    int32_t b, oy, ox, c;
    for (b = 0; b < p->batches; ++b) {
        const TF_POOL_T *in_b = input + b * p->in_h * p->in_w * p->channels;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            const int32_t y_start = TF_MAX(0, -in_y0);
            const int32_t y_end = TF_MIN(p->k_h, p->in_h - in_y0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t x_start = TF_MAX(0, -in_x0);
                const int32_t x_end = TF_MIN(p->k_w, p->in_w - in_x0);
                TF_POOL_T *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->channels;
                for (c = 0; c < p->channels; ++c) {
                    int32_t m = TF_POOL_LOWEST;
                    int32_t ky, kx;
                    for (ky = y_start; ky < y_end; ++ky) {
                        const TF_POOL_T *row = in_b + ((in_y0 + ky) * p->in_w + in_x0) * p->channels + c;
                        for (kx = x_start; kx < x_end; ++kx) {
                            const int32_t v = row[kx * p->channels];
                            m = v > m ? v : m;
                        }
                    }
                    out[c] = (TF_POOL_T)tf_clamp(m, p->act_min, p->act_max);
                }
            }
        }
    }
}
