/* SVDF integer reference kernels: see tf_svdf.h. */
#include "tf_svdf.h"

#include <string.h>

#include "tf_common.h"
#include "tf_requant.h"

/* buf[0 .. n-by-1] = buf[by .. n-1], 4 bytes at a time through a register (newlib-nano's
 * memmove goes byte by byte) */
static void shift_down(uint8_t *buf, size_t n, size_t by)
{
    size_t i = 0;
    for (; i + 4 <= n - by; i += 4) {
        uint32_t t;
        memcpy(&t, buf + i + by, 4);
        memcpy(buf + i, &t, 4);
    }
    for (; i < n - by; ++i) {
        buf[i] = buf[i + by];
    }
}

/* The shared body; `s16` is a compile-time constant in each caller, so each gets its own code. */
TF_INLINE void svdf(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, void *state, int s16)
{
    const int32_t F = p->filters, M = p->memory, I = p->input_size, n = p->batches * F * M;
    const int32_t lo = s16 ? -32768 : -128, hi = s16 ? 32767 : 127;
    int16_t *st16 = (int16_t *)state;
    int8_t *st8 = (int8_t *)state;
    const int16_t *wt16 = (const int16_t *)p->weights_time;
    const int8_t *wt8 = (const int8_t *)p->weights_time;
    int32_t b, f, u, r, m, c;

    /* drop the oldest value: the whole buffer moves one element left (each filter's newest slot
     * is written below) */
    if (n > 1) {
        shift_down((uint8_t *)state, (size_t)n * (s16 ? 2u : 1u), s16 ? 2u : 1u);
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * I;
        for (f = 0; f < F; ++f) {
            const int8_t *w = p->weights_feature + f * I;
            const int32_t at = (b * F + f) * M + M - 1;
            int32_t acc = 0, v;
            for (c = 0; c < I; ++c) {
                acc += (int32_t)w[c] * ((int32_t)x[c] + p->input_offset);
            }
            /* as the tflite_micro reference: clamp, then add the zero point and narrow (wrapping) */
            v = p->state_zero_point + tf_clamp(tf_requant_fast(acc, p->feature_mult, p->feature_shift), lo, hi);
            if (s16) {
                st16[at] = (int16_t)(((v + 32768) & 0xFFFF) - 32768);
            } else {
                st8[at] = (int8_t)(((v + 128) & 0xFF) - 128);
            }
        }
    }
    for (b = 0; b < p->batches; ++b) {
        for (u = 0; u < p->units; ++u) {
            /* int32 sums wrap as the reference's plain int32 additions */
            uint32_t sum = p->bias ? (uint32_t)p->bias[u] : 0u;
            for (r = 0; r < p->rank; ++r) {
                f = u * p->rank + r;
                for (m = 0; m < M; ++m) {
                    const int32_t at = (b * F + f) * M + m;
                    const int32_t s = (s16 ? (int32_t)st16[at] : (int32_t)st8[at]) - p->state_zero_point;
                    const int32_t w = s16 ? (int32_t)wt16[f * M + m] : (int32_t)wt8[f * M + m];
                    sum += (uint32_t)((int64_t)w * s);
                }
            }
            output[b * p->units + u] = (int8_t)tf_clamp(
                p->output_zero_point + tf_requant_fast((int32_t)sum, p->output_mult, p->output_shift), -128, 127);
        }
    }
}

void tf_svdf_s8(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, int16_t *state)
{
    svdf(p, input, output, state, 1);
}

void tf_svdf_s8_state8(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, int8_t *state)
{
    svdf(p, input, output, state, 0);
}
