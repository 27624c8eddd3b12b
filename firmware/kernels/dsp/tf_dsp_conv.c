/* CONV_2D int8 with the DSP extension: see tf_dsp_conv.h. */
#include "tf_dsp_conv.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"

/* 2 pixels x 2 channels over `chunks` groups of 4 taps; x: [chunk][pixel][2 words] */
static void tf_dsp_conv_block(const int32_t *x, const int32_t *w, const int32_t *q, int32_t chunks, int32_t out_c,
                              int8_t *out0, int8_t *out1, int full, int32_t act_min, int32_t act_max)
{
    int32_t oc;
    for (oc = 0; oc < out_c; oc += 2) {
        int32_t a00 = q[0];
        int32_t a01 = q[1];
        int32_t a10 = q[0];
        int32_t a11 = q[1];
        const int32_t *xp = x;
        int32_t n = chunks;
        if (n & 1) {
            const int32_t x0a = xp[0], x0b = xp[1], w0a = w[0], w0b = w[1], w1a = w[2], w1b = w[3];
            const int32_t x1a = xp[2], x1b = xp[3];
            a00 = tf_smlad(x0a, w0a, a00);
            a00 = tf_smlad(x0b, w0b, a00);
            a01 = tf_smlad(x0a, w1a, a01);
            a01 = tf_smlad(x0b, w1b, a01);
            a10 = tf_smlad(x1a, w0a, a10);
            a10 = tf_smlad(x1b, w0b, a10);
            a11 = tf_smlad(x1a, w1a, a11);
            a11 = tf_smlad(x1b, w1b, a11);
            xp += 4;
            w += 4;
        }
        for (n >>= 1; n > 0; --n) {
            int32_t x0a = xp[0], x0b = xp[1], w0a = w[0], w0b = w[1], w1a = w[2], w1b = w[3];
            int32_t x1a = xp[2], x1b = xp[3];
            a00 = tf_smlad(x0a, w0a, a00);
            a00 = tf_smlad(x0b, w0b, a00);
            a01 = tf_smlad(x0a, w1a, a01);
            a01 = tf_smlad(x0b, w1b, a01);
            a10 = tf_smlad(x1a, w0a, a10);
            a10 = tf_smlad(x1b, w0b, a10);
            a11 = tf_smlad(x1a, w1a, a11);
            a11 = tf_smlad(x1b, w1b, a11);
            x0a = xp[4];
            x0b = xp[5];
            w0a = w[4];
            w0b = w[5];
            w1a = w[6];
            w1b = w[7];
            x1a = xp[6];
            x1b = xp[7];
            a00 = tf_smlad(x0a, w0a, a00);
            a00 = tf_smlad(x0b, w0b, a00);
            a01 = tf_smlad(x0a, w1a, a01);
            a01 = tf_smlad(x0b, w1b, a01);
            a10 = tf_smlad(x1a, w0a, a10);
            a10 = tf_smlad(x1b, w0b, a10);
            a11 = tf_smlad(x1a, w1a, a11);
            a11 = tf_smlad(x1b, w1b, a11);
            xp += 8;
            w += 8;
        }
        {
            const int32_t v00 = tf_dsp_requant(a00, q[2], q[4], q[6]);
            const int32_t v10 = tf_dsp_requant(a10, q[2], q[4], q[6]);
            out0[oc] = tf_dsp_clamp(v00, full, act_min, act_max);
            out1[oc] = tf_dsp_clamp(v10, full, act_min, act_max);
            if (oc + 1 < out_c) {
                const int32_t v01 = tf_dsp_requant(a01, q[3], q[5], q[7]);
                const int32_t v11 = tf_dsp_requant(a11, q[3], q[5], q[7]);
                out0[oc + 1] = tf_dsp_clamp(v01, full, act_min, act_max);
                out1[oc + 1] = tf_dsp_clamp(v11, full, act_min, act_max);
            }
        }
        q += 8;
    }
}

/* One pixel's im2col row, expanded to int16 pairs at dst[0..1], dst[4..5], ... (stride 4 words). */
static void tf_dsp_conv_fill(const tf_dsp_conv_s8_params_t *p, const int8_t *in_b, int32_t pix, int32_t *dst,
                             int8_t *row)
{
    const int32_t oy = pix / p->out_w;
    const int32_t ox = pix - oy * p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int32_t in_c = p->in_c;
    int32_t ky, kx, i;
    if ((in_c & 3) == 0) {
        const uint32_t pad4 = (uint32_t)(uint8_t)p->pad_value * 0x01010101u;
        const int32_t pad_pair = tf_sxtb16(pad4);
        const int32_t words = in_c >> 2;
        for (ky = 0; ky < p->k_h; ++ky) {
            const int32_t iy = y0 + ky * p->dil_h;
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = x0 + kx * p->dil_w;
                if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                    dst = tf_dsp_expand(in_b + (iy * p->in_w + ix) * in_c, words, dst, 4);
                } else {
                    for (i = 0; i < words; ++i) {
                        dst[0] = pad_pair;
                        dst[1] = pad_pair;
                        dst += 4;
                    }
                }
            }
        }
        return;
    }
    {
        int8_t *r = row;
        const int8_t pad = (int8_t)p->pad_value;
        for (ky = 0; ky < p->k_h; ++ky) {
            const int32_t iy = y0 + ky * p->dil_h;
            const int iy_in = iy >= 0 && iy < p->in_h;
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = x0 + kx * p->dil_w;
                if (iy_in && ix >= 0 && ix < p->in_w) {
                    const int8_t *src = in_b + (iy * p->in_w + ix) * in_c;
                    for (i = 0; i < in_c; ++i) {
                        r[i] = src[i];
                    }
                } else {
                    for (i = 0; i < in_c; ++i) {
                        r[i] = pad;
                    }
                }
                r += in_c;
            }
        }
        while (r < row + p->k4) {
            *r++ = pad;
        }
        tf_dsp_expand(row, p->k4 >> 2, dst, 4);
    }
}

void tf_dsp_conv_s8(const tf_dsp_conv_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    int32_t *xbuf = (int32_t *)scratch;
    int8_t *row = (int8_t *)(xbuf + p->k4);
    const int32_t npix = p->out_h * p->out_w;
    const int32_t chunks = p->k4 >> 2;
    const int full = p->act_min == -128 && p->act_max == 127;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 &&
                       p->pad_w == 0 && (p->in_c & 3) == 0;
    int32_t b, pix;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = output + b * npix * p->out_c;
        for (pix = 0; pix < npix; pix += 2) {
            const int32_t pix1 = pix + 1 < npix ? pix + 1 : pix;
            if (direct) {
                tf_dsp_expand(in_b + pix * p->in_c, chunks, xbuf, 4);
                tf_dsp_expand(in_b + pix1 * p->in_c, chunks, xbuf + 2, 4);
            } else {
                tf_dsp_conv_fill(p, in_b, pix, xbuf, row);
                tf_dsp_conv_fill(p, in_b, pix1, xbuf + 2, row);
            }
            tf_dsp_conv_block(xbuf, p->weights, p->qparams, chunks, p->out_c, out_b + pix * p->out_c,
                              out_b + pix1 * p->out_c, full, p->act_min, p->act_max);
        }
    }
}
