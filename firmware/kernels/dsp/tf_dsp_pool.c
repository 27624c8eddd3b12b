/* AVERAGE_POOL_2D int8 with the DSP extension: see tf_dsp_pool.h. */
#include "tf_dsp_pool.h"

#include "tf_acle.h"
#include "tf_common.h"

TF_INLINE int8_t tf_dsp_avg(int32_t sum, int32_t count, int32_t act_min, int32_t act_max)
{
    const int32_t v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return (int8_t)tf_clamp(v, act_min, act_max);
}

void tf_dsp_avg_pool_s8(const tf_dsp_avg_pool_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t c = p->channels;
    int32_t b, oy, ox, g, y, x;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t y_lo = TF_MAX(0, y0), y_hi = TF_MIN(p->in_h, y0 + p->k_h);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t x_lo = TF_MAX(0, x0), x_hi = TF_MIN(p->in_w, x0 + p->k_w);
                const int32_t count = (y_hi - y_lo) * (x_hi - x_lo);
                int8_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * c;
                for (g = 0; g < c; g += 4) {
                    int32_t even = 0, odd = 0; /* lanes: channels g, g+2 and g+1, g+3 */
                    for (y = y_lo; y < y_hi; ++y) {
                        const int8_t *px = in_b + (y * p->in_w + x_lo) * c + g;
                        for (x = x_lo; x < x_hi; ++x) {
                            const uint32_t w = (uint32_t)tf_ld32(px);
                            even = tf_sxtab16(even, w);
                            odd = tf_sxtab16_ror8(odd, w);
                            px += c;
                        }
                    }
                    if (count == 0) { /* the reference rejects such a window; never emitted by converters */
                        out[g] = out[g + 1] = out[g + 2] = out[g + 3] = 0;
                        continue;
                    }
                    out[g] = tf_dsp_avg(tf_lo16(even), count, p->act_min, p->act_max);
                    out[g + 1] = tf_dsp_avg(tf_lo16(odd), count, p->act_min, p->act_max);
                    out[g + 2] = tf_dsp_avg(tf_hi16(even), count, p->act_min, p->act_max);
                    out[g + 3] = tf_dsp_avg(tf_hi16(odd), count, p->act_min, p->act_max);
                }
            }
        }
    }
}
