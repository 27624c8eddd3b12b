/* AVERAGE_POOL_2D / MAX_POOL_2D int8 reference kernels: see tf_pool.h. */
#include "tf_pool.h"

#include "tf_common.h"

/* The part [*start, *end) of a k-wide window at `origin` that lies inside [0, size). */
static void tf_pool_window(int32_t origin, int32_t k, int32_t size, int32_t *start, int32_t *end)
{
    *start = TF_MAX(0, -origin);
    *end = TF_MIN(k, size - origin);
}

void tf_avg_pool_s8(const tf_avg_pool_s8_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t b, oy, ox, c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * p->channels;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            int32_t y_start, y_end;
            tf_pool_window(in_y0, p->k_h, p->in_h, &y_start, &y_end);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                int8_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->channels;
                int32_t x_start, x_end;
                tf_pool_window(in_x0, p->k_w, p->in_w, &x_start, &x_end);
                for (c = 0; c < p->channels; ++c) {
                    int32_t acc = 0;
                    int32_t count = 0;
                    int32_t ky, kx;
                    for (ky = y_start; ky < y_end; ++ky) {
                        for (kx = x_start; kx < x_end; ++kx) {
                            acc += in_b[((in_y0 + ky) * p->in_w + (in_x0 + kx)) * p->channels + c];
                            ++count;
                        }
                    }
                    if (count == 0) {
                        out[c] = 0; /* the reference rejects such a window; never emitted by converters */
                        continue;
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    out[c] = (int8_t)tf_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tf_max_pool_s8(const tf_max_pool_s8_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t b, oy, ox, c;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * p->channels;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            int32_t y_start, y_end;
            tf_pool_window(in_y0, p->k_h, p->in_h, &y_start, &y_end);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                int8_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->channels;
                int32_t x_start, x_end;
                tf_pool_window(in_x0, p->k_w, p->in_w, &x_start, &x_end);
                for (c = 0; c < p->channels; ++c) {
                    int32_t m = -128;
                    int32_t ky, kx;
                    for (ky = y_start; ky < y_end; ++ky) {
                        for (kx = x_start; kx < x_end; ++kx) {
                            const int32_t v = in_b[((in_y0 + ky) * p->in_w + (in_x0 + kx)) * p->channels + c];
                            m = v > m ? v : m;
                        }
                    }
                    out[c] = (int8_t)tf_clamp(m, p->act_min, p->act_max);
                }
            }
        }
    }
}
