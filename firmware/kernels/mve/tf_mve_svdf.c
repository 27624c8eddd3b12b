/* SVDF with Helium: see tf_mve_svdf.h. */
#include "tf_mve_svdf.h"

#include "tf_common.h"
#include "tf_requant.h"
#include "tf_mve_common.h"

/* sum of w[m] * s[m] over m < n, 8 int16 products per VMLADAVA (the last one tail predicated) */
TF_MVE_INLINE int32_t dot16(const int16_t *s, const int16_t *w, int32_t n, int32_t acc)
{
    while (n > 0) {
        const mve_pred16_t lanes = vctp16q((uint32_t)n);
        acc = vmladavaq_p_s16(acc, vldrhq_z_s16(s, lanes), vldrhq_z_s16(w, lanes), lanes);
        s += 8;
        w += 8;
        n -= 8;
    }
    return acc;
}

void tf_mve_svdf_s8(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, int16_t *state, void *scratch)
{
    const int32_t F = p->filters, M = p->memory, I = p->input_size, n = p->batches * F * M;
    const int16_t *wt = (const int16_t *)p->weights_time;
    int32_t *acc = (int32_t *)scratch;
    int8_t *x = (int8_t *)(acc + ((F + 3) & ~3));
    int32_t b, f, u, r, k;
    if (n > 1) { /* a forward copy 16 bytes at a time reads each chunk before it is overwritten */
        tf_mve_copy((int8_t *)state, (const int8_t *)(state + 1), 2 * (n - 1));
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *w = (const int8_t *)p->packed_feature;
        const int32_t *q = p->feature_q;
        int16_t *st = state + b * F * M;
        tf_mve_copy(x, input + b * I, I);
        tf_mve_fill(x + I, vdupq_n_s8(0), p->kpad - I);
        for (f = 0; f < F; f += 4) {
            int32_t a0 = q[4 * f], a1 = q[4 * f + 4], a2 = q[4 * f + 8], a3 = q[4 * f + 12];
            for (k = 0; k < p->kpad; k += 16) {
                const int8x16_t xv = vldrbq_s8(x + k);
                a0 = vmladavaq_s8(a0, xv, vldrbq_s8(w));
                a1 = vmladavaq_s8(a1, xv, vldrbq_s8(w + 16));
                a2 = vmladavaq_s8(a2, xv, vldrbq_s8(w + 32));
                a3 = vmladavaq_s8(a3, xv, vldrbq_s8(w + 48));
                w += 64;
            }
            acc[f] = a0;
            acc[f + 1] = a1;
            acc[f + 2] = a2;
            acc[f + 3] = a3;
        }
        for (f = 0; f < F; ++f) {
            const int32_t *qf = q + 4 * f;
            /* saturate, add the zero point, narrow wrapping (the tflite_micro reference) */
            const int32_t v = p->state_zero_point + tf_clamp(tf_requant_fast(acc[f], qf[1], qf[2]), -32768, 32767);
            st[f * M + M - 1] = (int16_t)(((v + 32768) & 0xFFFF) - 32768);
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
