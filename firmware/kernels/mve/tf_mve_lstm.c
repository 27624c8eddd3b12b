/* UNIDIRECTIONAL_SEQUENCE_LSTM int8 with Helium: see tf_mve_lstm.h. */
#include "tf_mve_lstm.h"

#include "tf_mve_common.h"

/* acc[n] = bias[n] + w[n] . x for n < n_out (a multiple of 4); w = [n_out/4][kpad/16][4][16] */
static void matvec(const int8_t *x, const int8_t *w, int32_t kpad, const int32_t *bias, int32_t n_out,
                   int32_t *acc)
{
    int32_t n, k;
    for (n = 0; n < n_out; n += 4) {
        int32_t a0 = bias[n], a1 = bias[n + 1], a2 = bias[n + 2], a3 = bias[n + 3];
        for (k = 0; k < kpad; k += 16) {
            const int8x16_t xv = vldrbq_s8(x + k);
            a0 = vmladavaq_s8(a0, xv, vldrbq_s8(w));
            a1 = vmladavaq_s8(a1, xv, vldrbq_s8(w + 16));
            a2 = vmladavaq_s8(a2, xv, vldrbq_s8(w + 32));
            a3 = vmladavaq_s8(a3, xv, vldrbq_s8(w + 48));
            w += 64;
        }
        acc[n] = a0;
        acc[n + 1] = a1;
        acc[n + 2] = a2;
        acc[n + 3] = a3;
    }
}

/* n int8 values, zero padded to kpad */
static void load_row(int8_t *dst, const int8_t *src, int32_t n, int32_t kpad)
{
    tf_mve_copy(dst, src, n);
    tf_mve_fill(dst + n, vdupq_n_s8(0), kpad - n);
}

/* pre = sat16(sat16(requant(ax)) + sat16(requant(ah))), 4 lanes at a time; q = [3][n] planar:
 * multiplier, left shift, -right shift */
static void gates(const int32_t *ax, const int32_t *ah, const int32_t *qx, const int32_t *qh, int32_t n,
                  int16_t *pre)
{
    const int32x4_t lo = vdupq_n_s32(-32768), hi = vdupq_n_s32(32767);
    int32_t k;
    for (k = 0; k < n; k += 4) {
        int32x4_t vx = tf_mve_mul_by_quantized_multiplier(vldrwq_s32(ax + k), vldrwq_s32(qx + k),
                                                          vldrwq_s32(qx + n + k), vldrwq_s32(qx + 2 * n + k));
        int32x4_t vh = tf_mve_mul_by_quantized_multiplier(vldrwq_s32(ah + k), vldrwq_s32(qh + k),
                                                          vldrwq_s32(qh + n + k), vldrwq_s32(qh + 2 * n + k));
        vx = vminq_s32(vmaxq_s32(vx, lo), hi);
        vh = vminq_s32(vmaxq_s32(vh, lo), hi);
        vstrhq_s32(pre + k, vminq_s32(vmaxq_s32(vaddq_s32(vx, vh), lo), hi));
    }
}

void tf_mve_lstm_s8(const tf_lstm_params_t *p, const int8_t *input, int8_t *output, int8_t *hidden, int16_t *cell,
                    void *scratch)
{
    const int32_t B = p->batches, T = p->time_steps, I = p->input_dim, S = p->state_dim, n = 4 * S;
    const int32_t rows = p->time_major ? B : 1;
    int32_t *acc_x = (int32_t *)scratch;
    int32_t *acc_h = acc_x + rows * n;
    int16_t *pre = (int16_t *)(acc_h + rows * n);
    int8_t *xbuf = (int8_t *)(pre + rows * n);
    int32_t b, t, r;
    for (b = 0; b < (p->time_major ? 1 : B); ++b) {
        for (t = 0; t < T; ++t) {
            const int32_t first = p->time_major ? t * B : b * T + t;
            int8_t *h = hidden + (p->time_major ? 0 : b * S);
            int16_t *c = cell + (p->time_major ? 0 : b * S);
            for (r = 0; r < rows; ++r) {
                load_row(xbuf, input + (first + r) * I, I, p->kx);
                matvec(xbuf, (const int8_t *)p->packed_x, p->kx, p->bias_x, n, acc_x + r * n);
                load_row(xbuf, h + r * S, S, p->kh);
                matvec(xbuf, (const int8_t *)p->packed_h, p->kh, p->bias_h, n, acc_h + r * n);
                gates(acc_x + r * n, acc_h + r * n, p->q_x, p->q_h, n, pre + r * n);
            }
            tf_lstm_cell_s8(p, pre, rows, c, h, output + first * S);
        }
    }
}
