/* DEPTHWISE_CONV_2D int8 with the DSP extension: see tf_dsp_depthwise.h. */
#include "tf_dsp_depthwise.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"

typedef struct {
    int32_t bias, mult, kq, rshift;
    int32_t fast, act_min, act_max;
} tf_dsp_dw_q_t;

TF_INLINE int8_t tf_dsp_dw_out(int32_t acc, const tf_dsp_dw_q_t *q)
{
    return tf_dsp_clamp(tf_dsp_requant(acc, q->mult, q->kq, q->rshift), q->act_min, q->act_max);
}

/* 3x3, stride 1, no dilation: the accumulators of one output row, two outputs at a time from
 * plane columns ox..ox+3 of three rows. w25 = (w[2], w[5]) in one word. */
TF_NOINLINE void tf_dsp_dw_row_3x3_s1(const int16_t *r0, int32_t pw, const int32_t *w, int32_t w25, int32_t bias,
                                    int32_t *acc, int32_t pairs)
{
    const int16_t *r1 = r0 + pw;
    const int16_t *r2 = r1 + pw;
    const int32_t w01 = w[0], w34 = w[2], w67 = w[4], w8 = w[5];
    do {
        int32_t a0 = bias, a1 = bias, x;
        x = tf_ld32(r0);
        a0 = tf_smlad(x, w01, a0);
        x = tf_ld32(r0 + 1);
        a1 = tf_smlad(x, w01, a1);
        x = tf_ld32(r0 + 2);
        a0 = tf_smlabb(x, w25, a0);
        a1 = tf_smlatb(x, w25, a1);
        x = tf_ld32(r1);
        a0 = tf_smlad(x, w34, a0);
        x = tf_ld32(r1 + 1);
        a1 = tf_smlad(x, w34, a1);
        x = tf_ld32(r1 + 2);
        a0 = tf_smlabt(x, w25, a0);
        a1 = tf_smlatt(x, w25, a1);
        x = tf_ld32(r2);
        a0 = tf_smlad(x, w67, a0);
        x = tf_ld32(r2 + 1);
        a1 = tf_smlad(x, w67, a1);
        x = tf_ld32(r2 + 2);
        a0 = tf_smlabb(x, w8, a0);
        a1 = tf_smlatb(x, w8, a1);
        acc[0] = a0;
        acc[1] = a1;
        acc += 2;
        r0 += 2;
        r1 += 2;
        r2 += 2;
    } while (--pairs);
}

/* 3x3, stride 2, no dilation: two outputs at a time from plane columns 2*ox..2*ox+5 */
TF_NOINLINE void tf_dsp_dw_row_3x3_s2(const int16_t *r0, int32_t pw, const int32_t *w, int32_t w25, int32_t bias,
                                    int32_t *acc, int32_t pairs)
{
    const int16_t *r1 = r0 + pw;
    const int16_t *r2 = r1 + pw;
    const int32_t w01 = w[0], w34 = w[2], w67 = w[4], w8 = w[5];
    do {
        int32_t a0 = bias, a1 = bias, x;
        x = tf_ld32(r0);
        a0 = tf_smlad(x, w01, a0);
        x = tf_ld32(r0 + 2);
        a0 = tf_smlabb(x, w25, a0);
        a1 = tf_smlad(x, w01, a1);
        x = tf_ld32(r0 + 4);
        a1 = tf_smlabb(x, w25, a1);
        x = tf_ld32(r1);
        a0 = tf_smlad(x, w34, a0);
        x = tf_ld32(r1 + 2);
        a0 = tf_smlabt(x, w25, a0);
        a1 = tf_smlad(x, w34, a1);
        x = tf_ld32(r1 + 4);
        a1 = tf_smlabt(x, w25, a1);
        x = tf_ld32(r2);
        a0 = tf_smlad(x, w67, a0);
        x = tf_ld32(r2 + 2);
        a0 = tf_smlabb(x, w8, a0);
        a1 = tf_smlad(x, w67, a1);
        x = tf_ld32(r2 + 4);
        a1 = tf_smlabb(x, w8, a1);
        acc[0] = a0;
        acc[1] = a1;
        acc += 2;
        r0 += 4;
        r1 += 4;
        r2 += 4;
    } while (--pairs);
}

/* rows x n accumulators (rows acc_pitch apart) -> the channel's outputs, `step` bytes apart */
TF_NOINLINE void tf_dsp_dw_requant(const int32_t *acc, int32_t rows, int32_t n, int32_t acc_pitch, int8_t *o,
                                   int32_t step, const tf_dsp_dw_q_t *q)
{
    const int32_t mult = q->mult, kq = q->kq, rshift = q->rshift;
    const int32_t skip = acc_pitch - n;
    if (q->fast) {
        const int32_t step2 = 2 * step;
        do {
            const int32_t *end = acc + (n & ~1);
            while (acc != end) {
                const int32_t a0 = acc[0], a1 = acc[1];
                o[0] = (int8_t)tf_dsp_requant_fast(a0, mult, kq, rshift);
                o[step] = (int8_t)tf_dsp_requant_fast(a1, mult, kq, rshift);
                o += step2;
                acc += 2;
            }
            if (n & 1) {
                *o = (int8_t)tf_dsp_requant_fast(*acc++, mult, kq, rshift);
                o += step;
            }
            acc += skip;
        } while (--rows);
    } else {
        const int32_t act_min = q->act_min, act_max = q->act_max;
        do {
            const int32_t *end = acc + n;
            do {
                *o = tf_dsp_clamp(tf_dsp_requant(*acc++, mult, kq, rshift), act_min, act_max);
                o += step;
            } while (acc != end);
            acc += skip;
        } while (--rows);
    }
}

/* A 3x3 channel. Stride 1: the plane is exactly out_w + 2 wide, so one pass over it, as if it were
 * one long row, gives every output (and two unused ones per row). Stride 2: row by row. */
static void tf_dsp_dw_3x3(const tf_dsp_depthwise_s8_params_t *p, const int16_t *plane, const int32_t *w,
                          const tf_dsp_dw_q_t *q, int8_t *out, int32_t *acc)
{
    const int32_t pw = p->plane_w;
    const int32_t w25 = (int32_t)(((uint32_t)w[1] & 0xffffu) | ((uint32_t)w[3] << 16));
    int32_t pitch;
    if (p->stride_w == 1) {
        tf_dsp_dw_row_3x3_s1(plane, pw, w, w25, q->bias, acc, ((p->out_h - 1) * pw + p->out_w + 1) >> 1);
        pitch = pw;
    } else {
        const int32_t pairs = (p->out_w + 1) >> 1;
        int32_t oy;
        pitch = 2 * pairs;
        for (oy = 0; oy < p->out_h; ++oy) {
            tf_dsp_dw_row_3x3_s2(plane + 2 * oy * pw, pw, w, w25, q->bias, acc + oy * pitch, pairs);
        }
    }
    tf_dsp_dw_requant(acc, p->out_h, p->out_w, pitch, out, p->out_c, q);
}

/* any kernel, stride and dilation: one output at a time, one multiply per tap */
static void tf_dsp_dw_general(const tf_dsp_depthwise_s8_params_t *p, const int16_t *plane, const int32_t *w,
                              const tf_dsp_dw_q_t *q, int8_t *out)
{
    const int32_t row_pairs = (p->k_w + 1) >> 1;
    int32_t oy, ox, ky, kx;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            int32_t acc = q->bias;
            for (ky = 0; ky < p->k_h; ++ky) {
                const int16_t *r = plane + (oy * p->stride_h + ky * p->dil_h) * p->plane_w + ox * p->stride_w;
                const int32_t *wr = w + ky * row_pairs;
                for (kx = 0; kx < p->k_w; ++kx) {
                    const int32_t pair = wr[kx >> 1];
                    acc += (int32_t)r[kx * p->dil_w] * ((kx & 1) ? tf_hi16(pair) : tf_lo16(pair));
                }
            }
            out[(oy * p->out_w + ox) * p->out_c] = tf_dsp_dw_out(acc, q);
        }
    }
}

/* Input channel `ic` into the plane (rows/columns the outputs read; the border keeps pad_value). */
TF_NOINLINE void tf_dsp_dw_gather(const tf_dsp_depthwise_s8_params_t *p, const int8_t *in_b, int32_t ic,
                                  int16_t *plane)
{
    const int32_t y_lo = p->pad_h > 0 ? 0 : -p->pad_h;
    const int32_t y_hi = TF_MIN(p->in_h, p->plane_h - p->pad_h);
    const int32_t x_lo = p->pad_w > 0 ? 0 : -p->pad_w;
    const int32_t x_hi = TF_MIN(p->in_w, p->plane_w - p->pad_w);
    const int32_t c = p->in_c, c2 = 2 * c, c3 = 3 * c, c4 = 4 * c;
    const int32_t n = x_hi - x_lo;
    const int32_t src_skip = (p->in_w - n) * c;
    const int32_t dst_skip = p->plane_w - n;
    const int8_t *src = in_b + (y_lo * p->in_w + x_lo) * c + ic;
    int16_t *dst = plane + (y_lo + p->pad_h) * p->plane_w + x_lo + p->pad_w;
    int32_t rows = y_hi - y_lo;
    if (rows <= 0 || n <= 0) {
        return;
    }
    do {
        int16_t *const end = dst + n;
        int32_t i;
        for (i = n & 3; i > 0; --i) {
            *dst++ = *src;
            src += c;
        }
        while (dst != end) {
            dst[0] = src[0];
            dst[1] = src[c];
            dst[2] = src[c2];
            dst[3] = src[c3];
            dst += 4;
            src += c4;
        }
        src += src_skip;
        dst += dst_skip;
    } while (--rows);
}

void tf_dsp_depthwise_s8(const tf_dsp_depthwise_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    int16_t *plane = (int16_t *)scratch;
    const int32_t cells = p->plane_h * p->plane_w;
    int32_t *acc = (int32_t *)scratch + ((cells + 5) >> 1);
    const int k3 = p->k_h == 3 && p->k_w == 3 && p->dil_h == 1 && p->dil_w == 1;
    const int s1 = k3 && p->stride_h == 1 && p->stride_w == 1;
    const int s2 = k3 && p->stride_h == 2 && p->stride_w == 2;
    const int32_t wstride = p->k_h * ((p->k_w + 1) >> 1);
    int32_t b, ic, m, i;
    tf_dsp_dw_q_t q;
    q.fast = p->fast;
    q.act_min = p->act_min;
    q.act_max = p->act_max;
    for (i = 0; i < cells + 4; ++i) { /* 4 more: the last pair of a stride-1 pass reads past the plane */
        plane[i] = (int16_t)p->pad_value;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = output + b * p->out_h * p->out_w * p->out_c;
        for (ic = 0; ic < p->in_c; ++ic) {
            tf_dsp_dw_gather(p, in_b, ic, plane);
            for (m = 0; m < p->depth_mult; ++m) {
                const int32_t oc = ic * p->depth_mult + m;
                const int32_t *w = p->weights + oc * wstride;
                q.bias = p->qparams[4 * oc];
                q.mult = p->qparams[4 * oc + 1];
                q.kq = p->qparams[4 * oc + 2];
                q.rshift = p->qparams[4 * oc + 3];
                if (s1 || s2) {
                    tf_dsp_dw_3x3(p, plane, w, &q, out_b + oc, acc);
                } else {
                    tf_dsp_dw_general(p, plane, w, &q, out_b + oc);
                }
            }
        }
    }
}
