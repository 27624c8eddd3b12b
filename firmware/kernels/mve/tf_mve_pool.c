/* AVERAGE_POOL_2D with Helium: see tf_mve_pool.h. */
#include "tf_mve_pool.h"

#include "tf_common.h"
#include "tf_mve_common.h"

/* Sum over a window of `rows` x `cols` pixels (from in, `line` bytes per row) of 8 channels, or
 * of the `lanes` of them with `partial`. */
TF_MVE_INLINE int16x8_t tf_mve_pool_sum(const int8_t *in, int32_t line, int32_t channels, int32_t rows, int32_t cols,
                                        int partial, mve_pred16_t lanes)
{
    int16x8_t acc = vdupq_n_s16(0);
    int32_t y, x;
    for (y = 0; y < rows; ++y) {
        const int8_t *px = in;
        for (x = 0; x < cols; ++x) {
            acc = vaddq_s16(acc, partial ? vldrbq_z_s16(px, lanes) : vldrbq_s16(px));
            px += channels;
        }
        in += line;
    }
    return acc;
}

void tf_mve_avg_pool_s8(const tf_avg_pool_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t channels = p->channels;
    const int32_t line = p->in_w * channels;
    const int32_t act_min = p->act_min, act_max = p->act_max;
    int16_t sums[8];
    int32_t b, oy, ox, c, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * line;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t ys = TF_MAX(0, -y0), ye = TF_MIN(p->k_h, p->in_h - y0);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t xs = TF_MAX(0, -x0), xe = TF_MIN(p->k_w, p->in_w - x0);
                const int32_t count = (ye - ys) * (xe - xs);
                const int8_t *win = in_b + (y0 + ys) * line + (x0 + xs) * channels;
                for (c = 0; c < channels; c += 8) {
                    const int32_t n = TF_MIN(8, channels - c);
                    if (n == 8) {
                        vst1q_s16(sums, tf_mve_pool_sum(win + c, line, channels, ye - ys, xe - xs, 0, 0));
                    } else {
                        vst1q_s16(sums, tf_mve_pool_sum(win + c, line, channels, ye - ys, xe - xs, 1,
                                                        vctp16q((uint32_t)n)));
                    }
                    for (i = 0; i < n; ++i) {
                        int32_t acc = sums[i];
                        if (count == 0) {
                            acc = 0; /* the reference rejects such a window; never emitted by converters */
                        } else {
                            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                        }
                        output[c + i] = (int8_t)TF_MIN(TF_MAX(acc, act_min), act_max);
                    }
                }
                output += channels;
            }
        }
    }
}
