/* AVERAGE_POOL_2D / MAX_POOL_2D int16 reference kernels: see tf_pool_s16.h. */
#include "tf_pool_s16.h"

#include "tf_common.h"

void tf_avg_pool_s16(const tf_avg_pool_s16_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t b, oy, ox, c;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->in_h * p->in_w * p->channels;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            const int32_t y_start = TF_MAX(0, -in_y0);
            const int32_t y_end = TF_MIN(p->k_h, p->in_h - in_y0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t x_start = TF_MAX(0, -in_x0);
                const int32_t x_end = TF_MIN(p->k_w, p->in_w - in_x0);
                const int32_t count = (y_end - y_start) * (x_end - x_start);
                int16_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->channels;
                for (c = 0; c < p->channels; ++c) {
                    int32_t acc = 0;
                    int32_t ky, kx;
                    if (y_end <= y_start || x_end <= x_start) {
                        out[c] = 0; /* the reference rejects such a window; never emitted by converters */
                        continue;
                    }
                    for (ky = y_start; ky < y_end; ++ky) {
                        const int16_t *row = in_b + ((in_y0 + ky) * p->in_w + in_x0) * p->channels + c;
                        for (kx = x_start; kx < x_end; ++kx) {
                            acc += row[kx * p->channels];
                        }
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    out[c] = (int16_t)tf_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tf_max_pool_s16(const tf_max_pool_s16_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t b, oy, ox, c;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->in_h * p->in_w * p->channels;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            const int32_t y_start = TF_MAX(0, -in_y0);
            const int32_t y_end = TF_MIN(p->k_h, p->in_h - in_y0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                const int32_t x_start = TF_MAX(0, -in_x0);
                const int32_t x_end = TF_MIN(p->k_w, p->in_w - in_x0);
                int16_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->channels;
                for (c = 0; c < p->channels; ++c) {
                    int32_t m = INT16_MIN;
                    int32_t ky, kx;
                    for (ky = y_start; ky < y_end; ++ky) {
                        const int16_t *row = in_b + ((in_y0 + ky) * p->in_w + in_x0) * p->channels + c;
                        for (kx = x_start; kx < x_end; ++kx) {
                            const int32_t v = row[kx * p->channels];
                            m = v > m ? v : m;
                        }
                    }
                    out[c] = (int16_t)tf_clamp(m, p->act_min, p->act_max);
                }
            }
        }
    }
}
