/* CONV_2D int8 with the DSP extension: see tf_dsp_conv.h. */
#include "tf_dsp_conv.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"

/* 2 pixels x 2 channels over `pairs` x 8 taps: x = [chunk][pixel][2 words], w = [chunk][channel][2
 * words], a chunk being 4 taps as int16 lanes (k0, k2), (k1, k3). Per chunk one LDM (both pixels),
 * two LDRD (one per channel) and 8 SMLAD: 11 instructions for 16 MACs. */
TF_INLINE const int32_t *tf_dsp_mac_2x2(const int32_t *x, const int32_t *w, int32_t pairs, int32_t *acc00,
                                        int32_t *acc01, int32_t *acc10, int32_t *acc11)
{
    int32_t a00 = *acc00, a01 = *acc01, a10 = *acc10, a11 = *acc11;
#if TF_DSP_NATIVE
    /* LDM needs ascending registers: the two pixels' 4 taps go to r8..r11 */
    register int32_t x0a __asm__("r8");
    register int32_t x0b __asm__("r9");
    register int32_t x1a __asm__("r10");
    register int32_t x1b __asm__("r11");
    int32_t wa, wb;
    __asm__(
        "1:\n\t"
        "ldmia %[x]!, {r8-r11}\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "smlad %[a00], r8, %[wa], %[a00]\n\t"
        "smlad %[a00], r9, %[wb], %[a00]\n\t"
        "smlad %[a10], r10, %[wa], %[a10]\n\t"
        "smlad %[a10], r11, %[wb], %[a10]\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "smlad %[a01], r8, %[wa], %[a01]\n\t"
        "smlad %[a01], r9, %[wb], %[a01]\n\t"
        "smlad %[a11], r10, %[wa], %[a11]\n\t"
        "smlad %[a11], r11, %[wb], %[a11]\n\t"
        "ldmia %[x]!, {r8-r11}\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "smlad %[a00], r8, %[wa], %[a00]\n\t"
        "smlad %[a00], r9, %[wb], %[a00]\n\t"
        "smlad %[a10], r10, %[wa], %[a10]\n\t"
        "smlad %[a10], r11, %[wb], %[a10]\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "smlad %[a01], r8, %[wa], %[a01]\n\t"
        "smlad %[a01], r9, %[wb], %[a01]\n\t"
        "smlad %[a11], r10, %[wa], %[a11]\n\t"
        "smlad %[a11], r11, %[wb], %[a11]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [x] "+r"(x), [w] "+r"(w),
          [n] "+r"(pairs), [wa] "=&r"(wa), [wb] "=&r"(wb), "=&r"(x0a), "=&r"(x0b), "=&r"(x1a), "=&r"(x1b)
        :
        : "cc", "memory");
#else
    for (; pairs > 0; --pairs) {
        int32_t c;
        for (c = 0; c < 2; ++c) {
            a00 = tf_smlad(x[0], w[0], a00);
            a00 = tf_smlad(x[1], w[1], a00);
            a01 = tf_smlad(x[0], w[2], a01);
            a01 = tf_smlad(x[1], w[3], a01);
            a10 = tf_smlad(x[2], w[0], a10);
            a10 = tf_smlad(x[3], w[1], a10);
            a11 = tf_smlad(x[2], w[2], a11);
            a11 = tf_smlad(x[3], w[3], a11);
            x += 4;
            w += 4;
        }
    }
#endif
    *acc00 = a00;
    *acc01 = a01;
    *acc10 = a10;
    *acc11 = a11;
    return w;
}

/* The same with int8 weights (boards with little flash): w = [chunk][channel][1 word of 4 int8],
 * unpacked by SXTB16 into the lanes of x. 15 instructions for 16 MACs. */
TF_INLINE const int32_t *tf_dsp_mac_2x2_w8(const int32_t *x, const int32_t *w, int32_t pairs, int32_t *acc00,
                                           int32_t *acc01, int32_t *acc10, int32_t *acc11)
{
    int32_t a00 = *acc00, a01 = *acc01, a10 = *acc10, a11 = *acc11;
#if TF_DSP_NATIVE
    register int32_t x0a __asm__("r8");
    register int32_t x0b __asm__("r9");
    register int32_t x1a __asm__("r10");
    register int32_t x1b __asm__("r11");
    int32_t we, wo;
    __asm__(
        "1:\n\t"
        "ldmia %[x]!, {r8-r11}\n\t"
        "ldr %[wo], [%[w]], #4\n\t"
        "sxtb16 %[we], %[wo]\n\t"
        "sxtb16 %[wo], %[wo], ror #8\n\t"
        "smlad %[a00], r8, %[we], %[a00]\n\t"
        "smlad %[a00], r9, %[wo], %[a00]\n\t"
        "smlad %[a10], r10, %[we], %[a10]\n\t"
        "smlad %[a10], r11, %[wo], %[a10]\n\t"
        "ldr %[wo], [%[w]], #4\n\t"
        "sxtb16 %[we], %[wo]\n\t"
        "sxtb16 %[wo], %[wo], ror #8\n\t"
        "smlad %[a01], r8, %[we], %[a01]\n\t"
        "smlad %[a01], r9, %[wo], %[a01]\n\t"
        "smlad %[a11], r10, %[we], %[a11]\n\t"
        "smlad %[a11], r11, %[wo], %[a11]\n\t"
        "ldmia %[x]!, {r8-r11}\n\t"
        "ldr %[wo], [%[w]], #4\n\t"
        "sxtb16 %[we], %[wo]\n\t"
        "sxtb16 %[wo], %[wo], ror #8\n\t"
        "smlad %[a00], r8, %[we], %[a00]\n\t"
        "smlad %[a00], r9, %[wo], %[a00]\n\t"
        "smlad %[a10], r10, %[we], %[a10]\n\t"
        "smlad %[a10], r11, %[wo], %[a10]\n\t"
        "ldr %[wo], [%[w]], #4\n\t"
        "sxtb16 %[we], %[wo]\n\t"
        "sxtb16 %[wo], %[wo], ror #8\n\t"
        "smlad %[a01], r8, %[we], %[a01]\n\t"
        "smlad %[a01], r9, %[wo], %[a01]\n\t"
        "smlad %[a11], r10, %[we], %[a11]\n\t"
        "smlad %[a11], r11, %[wo], %[a11]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [x] "+r"(x), [w] "+r"(w),
          [n] "+r"(pairs), [we] "=&r"(we), [wo] "=&r"(wo), "=&r"(x0a), "=&r"(x0b), "=&r"(x1a), "=&r"(x1b)
        :
        : "cc", "memory");
#else
    for (; pairs > 0; --pairs) {
        int32_t c;
        for (c = 0; c < 2; ++c) {
            const int32_t w0e = tf_sxtb16((uint32_t)w[0]), w0o = tf_sxtb16_ror8((uint32_t)w[0]);
            const int32_t w1e = tf_sxtb16((uint32_t)w[1]), w1o = tf_sxtb16_ror8((uint32_t)w[1]);
            a00 = tf_smlad(x[0], w0e, a00);
            a00 = tf_smlad(x[1], w0o, a00);
            a01 = tf_smlad(x[0], w1e, a01);
            a01 = tf_smlad(x[1], w1o, a01);
            a10 = tf_smlad(x[2], w0e, a10);
            a10 = tf_smlad(x[3], w0o, a10);
            a11 = tf_smlad(x[2], w1e, a11);
            a11 = tf_smlad(x[3], w1o, a11);
            x += 4;
            w += 2;
        }
    }
#endif
    *acc00 = a00;
    *acc01 = a01;
    *acc10 = a10;
    *acc11 = a11;
    return w;
}

/* 2 pixels x all channels (out_c even, activation range all of int8): requantized and stored;
 * `fast`: without the rounding correction (tf_dsp_common.h). */
TF_INLINE void tf_dsp_conv_block_full(const int32_t *x, const int32_t *w, const int32_t *q, int32_t pairs,
                                      int32_t out_c, int8_t *out0, int8_t *out1, int fast, int w8)
{
    const int32_t *q_end = q + 4 * out_c;
    do {
        int32_t a00 = q[0];
        int32_t a01 = q[1];
        int32_t a10 = a00;
        int32_t a11 = a01;
        if (w8) {
            w = tf_dsp_mac_2x2_w8(x, w, pairs, &a00, &a01, &a10, &a11);
            a00 *= 2; /* int8 weights are not scaled by 2: double the sum instead (dsp_conv.py) */
            a01 *= 2;
            a10 *= 2;
            a11 *= 2;
        } else {
            w = tf_dsp_mac_2x2(x, w, pairs, &a00, &a01, &a10, &a11);
        }
        {
            const int32_t m0 = q[2], m1 = q[3], k0 = q[4], k1 = q[5], r0 = q[6], r1 = q[7];
            const int32_t v00 = fast ? tf_dsp_requant_fast(a00, m0, k0, r0) : tf_ssat8(tf_dsp_requant(a00, m0, k0, r0));
            const int32_t v10 = fast ? tf_dsp_requant_fast(a10, m0, k0, r0) : tf_ssat8(tf_dsp_requant(a10, m0, k0, r0));
            const int32_t v01 = fast ? tf_dsp_requant_fast(a01, m1, k1, r1) : tf_ssat8(tf_dsp_requant(a01, m1, k1, r1));
            const int32_t v11 = fast ? tf_dsp_requant_fast(a11, m1, k1, r1) : tf_ssat8(tf_dsp_requant(a11, m1, k1, r1));
            out0[0] = (int8_t)v00;
            out0[1] = (int8_t)v01;
            out1[0] = (int8_t)v10;
            out1[1] = (int8_t)v11;
        }
        out0 += 2;
        out1 += 2;
        q += 8;
    } while (q != q_end);
}

/* 2 pixels x all channels, any out_c and activation range. */
static void tf_dsp_conv_block(const int32_t *x, const int32_t *w, const int32_t *q, int32_t pairs, int32_t out_c,
                              int8_t *out0, int8_t *out1, int32_t act_min, int32_t act_max, int w8)
{
    int32_t oc;
    for (oc = 0; oc < out_c; oc += 2) {
        int32_t a00 = q[0];
        int32_t a01 = q[1];
        int32_t a10 = a00;
        int32_t a11 = a01;
        if (w8) {
            w = tf_dsp_mac_2x2_w8(x, w, pairs, &a00, &a01, &a10, &a11);
            a00 *= 2;
            a01 *= 2;
            a10 *= 2;
            a11 *= 2;
        } else {
            w = tf_dsp_mac_2x2(x, w, pairs, &a00, &a01, &a10, &a11);
        }
        out0[oc] = tf_dsp_clamp(tf_dsp_requant(a00, q[2], q[4], q[6]), act_min, act_max);
        out1[oc] = tf_dsp_clamp(tf_dsp_requant(a10, q[2], q[4], q[6]), act_min, act_max);
        if (oc + 1 < out_c) {
            out0[oc + 1] = tf_dsp_clamp(tf_dsp_requant(a01, q[3], q[5], q[7]), act_min, act_max);
            out1[oc + 1] = tf_dsp_clamp(tf_dsp_requant(a11, q[3], q[5], q[7]), act_min, act_max);
        }
        q += 8;
    }
}

/* 8 int8 at a time (kpad is a multiple of 8) into the [chunk][pixel][2 words] buffer */
TF_INLINE void tf_dsp_expand_pairs(const int8_t *src, int32_t n, int32_t *dst)
{
    do {
        const uint32_t w0 = (uint32_t)tf_ld32(src), w1 = (uint32_t)tf_ld32(src + 4);
        dst[0] = tf_sxtb16(w0);
        dst[1] = tf_sxtb16_ror8(w0);
        dst[4] = tf_sxtb16(w1);
        dst[5] = tf_sxtb16_ror8(w1);
        dst += 8;
        src += 8;
    } while (--n);
}

TF_INLINE void tf_dsp_copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4) {
        const int32_t v = tf_ld32(src);
        memcpy(dst, &v, sizeof v);
        dst += 4;
        src += 4;
    }
    if (n & 2) {
        dst[0] = src[0];
        dst[1] = src[1];
        dst += 2;
        src += 2;
    }
    if (n & 1) {
        dst[0] = src[0];
    }
}

TF_INLINE void tf_dsp_fill_bytes(int8_t *dst, uint32_t v4, int32_t n)
{
    for (; n >= 4; n -= 4) {
        memcpy(dst, &v4, sizeof v4);
        dst += 4;
    }
    if (n & 2) {
        dst[0] = (int8_t)v4;
        dst[1] = (int8_t)v4;
        dst += 2;
    }
    if (n & 1) {
        dst[0] = (int8_t)v4;
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
    int32_t ky = 0, kx, i;
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
        for (i = p->k_h * p->k_w * words; i < (p->kpad >> 2); ++i) {
            dst[0] = pad_pair;
            dst[1] = pad_pair;
            dst += 4;
        }
        return;
    }
    {
        /* small in_c: the row in natural tap order as int8 (runs of taps inside the image copied
         * a word at a time), then expanded */
        int8_t *r = row;
        const uint32_t pad4 = (uint32_t)(uint8_t)p->pad_value * 0x01010101u;
        const int32_t run = p->k_w * in_c;
        if (p->dil_w == 1 && y0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h && x0 >= 0 &&
            x0 + p->k_w <= p->in_w) {
            /* inside the image: k_h runs of k_w * in_c bytes */
            const int8_t *src = in_b + (y0 * p->in_w + x0) * in_c;
            const int32_t src_step = p->dil_h * p->in_w * in_c;
            for (ky = p->k_h; ky > 0; --ky) {
                tf_dsp_copy_bytes(r, src, run);
                r += run;
                src += src_step;
            }
            ky = p->k_h;
        }
        for (; ky < p->k_h; ++ky) {
            const int32_t iy = y0 + ky * p->dil_h;
            if (iy < 0 || iy >= p->in_h) {
                tf_dsp_fill_bytes(r, pad4, run);
            } else if (p->dil_w == 1) {
                const int32_t kx_lo = x0 < 0 ? TF_MIN(-x0, p->k_w) : 0;
                const int32_t kx_hi = TF_MAX(TF_MIN(p->k_w, p->in_w - x0), kx_lo);
                tf_dsp_fill_bytes(r, pad4, kx_lo * in_c);
                tf_dsp_copy_bytes(r + kx_lo * in_c, in_b + (iy * p->in_w + x0 + kx_lo) * in_c, (kx_hi - kx_lo) * in_c);
                tf_dsp_fill_bytes(r + kx_hi * in_c, pad4, (p->k_w - kx_hi) * in_c);
            } else {
                for (kx = 0; kx < p->k_w; ++kx) {
                    const int32_t ix = x0 + kx * p->dil_w;
                    if (ix >= 0 && ix < p->in_w) {
                        tf_dsp_copy_bytes(r + kx * in_c, in_b + (iy * p->in_w + ix) * in_c, in_c);
                    } else {
                        tf_dsp_fill_bytes(r + kx * in_c, pad4, in_c);
                    }
                }
            }
            r += run;
        }
        tf_dsp_fill_bytes(r, pad4, (int32_t)(row + p->kpad - r));
        tf_dsp_expand_pairs(row, p->kpad >> 3, dst);
    }
}

void tf_dsp_conv_s8(const tf_dsp_conv_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    int32_t *xbuf = (int32_t *)scratch;
    int8_t *row = (int8_t *)(xbuf + p->kpad);
    const int32_t npix = p->out_h * p->out_w;
    const int32_t chunks = p->kpad >> 2;
    const int full = p->act_min == -128 && p->act_max == 127 && (p->out_c & 1) == 0;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 &&
                       p->pad_w == 0 && (p->in_c & 7) == 0; /* kpad == in_c: no reading past a pixel */
    int32_t b, pix;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = output + b * npix * p->out_c;
        for (pix = 0; pix < npix; pix += 2) {
            const int32_t pix1 = pix + 1 < npix ? pix + 1 : pix;
            if (direct) {
                tf_dsp_expand_pairs(in_b + pix * p->in_c, chunks >> 1, xbuf);
                tf_dsp_expand_pairs(in_b + pix1 * p->in_c, chunks >> 1, xbuf + 2);
            } else {
                tf_dsp_conv_fill(p, in_b, pix, xbuf, row);
                tf_dsp_conv_fill(p, in_b, pix1, xbuf + 2, row);
            }
            int8_t *const o0 = out_b + pix * p->out_c;
            int8_t *const o1 = out_b + pix1 * p->out_c;
            if (full && p->fast && !p->int8_weights) {
                tf_dsp_conv_block_full(xbuf, p->weights, p->qparams, chunks >> 1, p->out_c, o0, o1, 1, 0);
            } else if (full && p->fast) {
                tf_dsp_conv_block_full(xbuf, p->weights, p->qparams, chunks >> 1, p->out_c, o0, o1, 1, 1);
            } else if (full && !p->int8_weights) {
                tf_dsp_conv_block_full(xbuf, p->weights, p->qparams, chunks >> 1, p->out_c, o0, o1, 0, 0);
            } else {
                tf_dsp_conv_block(xbuf, p->weights, p->qparams, chunks >> 1, p->out_c, o0, o1, p->act_min,
                                  p->act_max, p->int8_weights);
            }
        }
    }
}
