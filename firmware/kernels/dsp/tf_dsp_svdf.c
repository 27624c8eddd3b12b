/* SVDF with the DSP extension: see tf_dsp_svdf.h. */
#include "tf_dsp_svdf.h"

#include "tf_acle.h"
#include "tf_requant.h"
#include "tf_dsp_common.h"
#include "tf_dsp_mac.h"

/* sum of w[m] * s[m] over m < n, two int16 products per SMLAD (wrapping int32 sums) */
TF_INLINE int32_t dot16(const int16_t *s, const int16_t *w, int32_t n, int32_t acc)
{
    int32_t m;
    for (m = 0; m + 4 <= n; m += 4) {
        acc = tf_smlad(tf_ld32(s + m), tf_ld32(w + m), acc);
        acc = tf_smlad(tf_ld32(s + m + 2), tf_ld32(w + m + 2), acc);
    }
    for (; m + 2 <= n; m += 2) {
        acc = tf_smlad(tf_ld32(s + m), tf_ld32(w + m), acc);
    }
    if (m < n) {
        acc = (int32_t)((uint32_t)acc + (uint32_t)((int32_t)s[m] * w[m]));
    }
    return acc;
}

/* state[0 .. n-2] = state[1 .. n-1] (n >= 1; the buffer is word aligned): unaligned word loads,
 * aligned word stores, four words per iteration (newlib-nano's memmove goes byte by byte) */
static void shift_left(int16_t *state, int32_t n)
{
    int32_t *dst = (int32_t *)(void *)state;
    const int16_t *src = state + 1;
    int32_t i = 0, words = (n - 1) >> 1;
    for (; i + 4 <= words; i += 4) {
        const int32_t a = tf_ld32(src + 2 * i), b = tf_ld32(src + 2 * i + 2);
        const int32_t c = tf_ld32(src + 2 * i + 4), d = tf_ld32(src + 2 * i + 6);
        dst[i] = a;
        dst[i + 1] = b;
        dst[i + 2] = c;
        dst[i + 3] = d;
    }
    for (; i < words; ++i) {
        dst[i] = tf_ld32(src + 2 * i);
    }
    if ((n - 1) & 1) {
        state[n - 2] = state[n - 1];
    }
}

void tf_dsp_svdf_s8(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, int16_t *state, void *scratch)
{
    const int32_t F = p->filters, M = p->memory, I = p->input_size, n = p->batches * F * M;
    const int16_t *wt = (const int16_t *)p->weights_time;
    int32_t *acc = (int32_t *)scratch;
    int32_t *x = acc + ((F + 3) & ~3);
    int32_t b, f, u, r, i;
    if (n > 1) {
        shift_left(state, n);
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * I;
        const int32_t *w = (const int32_t *)p->packed_feature;
        const int32_t *q = p->feature_q;
        int16_t *st = state + b * F * M;
        /* the row as int16 pairs, zero padded */
        tf_dsp_expand(in, I >> 2, x, 2);
        if (I & 3) {
            uint32_t tail = 0;
            for (i = I & ~3; i < I; ++i) {
                tail |= (uint32_t)(uint8_t)in[i] << (8 * (i & 3));
            }
            x[2 * (I >> 2)] = tf_sxtb16(tail);
            x[2 * (I >> 2) + 1] = tf_sxtb16_ror8(tail);
        }
        for (i = (I + 3) >> 2; i < (p->kpad >> 2); ++i) {
            x[2 * i] = 0;
            x[2 * i + 1] = 0;
        }
        for (f = 0; f < F; f += 4) {
            acc[f] = q[4 * f];
            acc[f + 1] = q[4 * f + 4];
            acc[f + 2] = q[4 * f + 8];
            acc[f + 3] = q[4 * f + 12];
            tf_dsp_mac_1x4(x, w, p->kpad >> 3, acc + f);
            w += 2 * p->kpad;
        }
        for (f = 0; f < F; ++f) {
            const int32_t *qf = q + 4 * f;
            const int32_t v = tf_dsp_requant(acc[f], qf[1], qf[2], qf[3]);
            /* saturate, add the zero point, narrow wrapping (the tflite_micro reference) */
            const int32_t z = p->state_zero_point + (v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
            st[f * M + M - 1] = (int16_t)(((z + 32768) & 0xFFFF) - 32768);
        }
        for (u = 0; u < p->units; ++u) {
            int32_t sum = p->time_bias[u];
            for (r = 0; r < p->rank; ++r) {
                f = u * p->rank + r;
                sum = dot16(st + f * M, wt + f * M, M, sum);
            }
            const int32_t y = p->output_zero_point + tf_requant_fast(sum, p->output_mult, p->output_shift);
            output[b * p->units + u] = (int8_t)tf_clamp(y, -128, 127);
        }
    }
}
