/* UNIDIRECTIONAL_SEQUENCE_LSTM int8 with the DSP extension: see tf_dsp_lstm.h. */
#include "tf_dsp_lstm.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"
#include "tf_dsp_mac.h"

/* x saturated to int16 */
TF_INLINE int32_t ssat16(int32_t x)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    return __ssat(x, 16);
#else
    return x < -32768 ? -32768 : (x > 32767 ? 32767 : x);
#endif
}

/* n int8 values as int16 lane pairs (tf_dsp_expand's order), zero padded to kpad (multiple of 4) */
static void expand_row(const int8_t *src, int32_t n, int32_t kpad, int32_t *dst)
{
    int32_t i;
    tf_dsp_expand(src, n >> 2, dst, 2);
    if (n & 3) {
        uint32_t tail = 0;
        for (i = n & ~3; i < n; ++i) {
            tail |= (uint32_t)(uint8_t)src[i] << (8 * (i & 3));
        }
        dst[2 * (n >> 2)] = tf_sxtb16(tail);
        dst[2 * (n >> 2) + 1] = tf_sxtb16_ror8(tail);
    }
    for (i = (n + 3) >> 2; i < (kpad >> 2); ++i) {
        dst[2 * i] = 0;
        dst[2 * i + 1] = 0;
    }
}

/* acc[n] = bias[n] + w[n] . x for the n_out (multiple of 4) rows of a packed weight stream */
TF_NOINLINE void matvec(const int32_t *x, const int32_t *w, int32_t kpad, int32_t w8, const int32_t *bias,
                        int32_t n_out, int32_t *acc)
{
    int32_t n;
    for (n = 0; n < n_out; n += 4) {
        acc[n] = bias[n];
        acc[n + 1] = bias[n + 1];
        acc[n + 2] = bias[n + 2];
        acc[n + 3] = bias[n + 3];
        if (w8) {
            tf_dsp_mac_1x4_w8(x, w, kpad >> 2, acc + n);
            w += kpad;
        } else {
            tf_dsp_mac_1x4(x, w, kpad >> 3, acc + n);
            w += 2 * kpad;
        }
    }
}

/* Q3.12 pre-activations: each FC requantized (folded form), saturated, summed, saturated */
TF_NOINLINE void gates(const int32_t *ax, const int32_t *ah, const int32_t *qx, const int32_t *qh, int32_t n,
                       int32_t w8, int16_t *pre)
{
    int32_t k;
    for (k = 0; k < n; ++k) {
        const int32_t a = w8 ? 2 * ax[k] : ax[k], b = w8 ? 2 * ah[k] : ah[k];
        const int32_t vx = ssat16(tf_dsp_requant(a, qx[0], qx[1], qx[2]));
        const int32_t vh = ssat16(tf_dsp_requant(b, qh[0], qh[1], qh[2]));
        pre[k] = (int16_t)ssat16(vx + vh);
        qx += 3;
        qh += 3;
    }
}

void tf_dsp_lstm_s8(const tf_lstm_params_t *p, const int8_t *input, int8_t *output, int8_t *hidden, int16_t *cell,
                    void *scratch)
{
    const int32_t B = p->batches, T = p->time_steps, I = p->input_dim, S = p->state_dim, n = 4 * S;
    const int32_t rows = p->time_major ? B : 1;
    int32_t *acc_x = (int32_t *)scratch;
    int32_t *acc_h = acc_x + rows * n;
    int16_t *pre = (int16_t *)(acc_h + rows * n);
    int32_t *xbuf = (int32_t *)(pre + rows * n + ((rows * n) & 1));
    int32_t b, t, r;
    for (b = 0; b < (p->time_major ? 1 : B); ++b) {
        for (t = 0; t < T; ++t) {
            /* the step's rows: all B batches (time major) or batch b */
            const int32_t first = p->time_major ? t * B : b * T + t;
            int8_t *h = hidden + (p->time_major ? 0 : b * S);
            int16_t *c = cell + (p->time_major ? 0 : b * S);
            for (r = 0; r < rows; ++r) {
                expand_row(input + (first + r) * I, I, p->kx, xbuf);
                matvec(xbuf, (const int32_t *)p->packed_x, p->kx, p->packed_w8, p->bias_x, n, acc_x + r * n);
                expand_row(h + r * S, S, p->kh, xbuf);
                matvec(xbuf, (const int32_t *)p->packed_h, p->kh, p->packed_w8, p->bias_h, n, acc_h + r * n);
                gates(acc_x + r * n, acc_h + r * n, p->q_x, p->q_h, n, p->packed_w8, pre + r * n);
            }
            tf_lstm_cell_s8(p, pre, rows, c, h, output + first * S);
        }
    }
}
