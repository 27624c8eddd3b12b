/* Faster portable CONV_2D / FULLY_CONNECTED / DEPTHWISE_CONV_2D: see tf_fast_conv.h. */
#include "tf_fast_conv.h"

#include "tf_common.h"

#define TF_FAST_MAX_TAPS 64

/* One input channel of the 4 output channels x 2 pixels block: weights w[0..3], inputs *x0, *x1
 * (advanced by i0, i1: 0 on the zero-point byte of a padded tap). */
#define TF_FAST_MAC8(i0, i1)                                                                                       \
    do {                                                                                                           \
        const int32_t v0 = *x0, v1 = *x1;                                                                          \
        int32_t wv = w[0];                                                                                         \
        x0 += (i0);                                                                                                \
        x1 += (i1);                                                                                                \
        s00 += wv * v0;                                                                                            \
        s10 += wv * v1;                                                                                            \
        wv = w[1];                                                                                                 \
        s01 += wv * v0;                                                                                            \
        s11 += wv * v1;                                                                                            \
        wv = w[2];                                                                                                 \
        s02 += wv * v0;                                                                                            \
        s12 += wv * v1;                                                                                            \
        wv = w[3];                                                                                                 \
        s03 += wv * v0;                                                                                            \
        s13 += wv * v1;                                                                                            \
        w += 4;                                                                                                    \
    } while (0)

/* The input pixel of each filter tap of output pixel `pix`, or `pad` (one zero-point byte, read
with stride 0) where the tap falls in the padding. */
static void tf_fast_taps(const tf_fast_conv_s8_params_t *p, const int8_t *in, int32_t pix, const int8_t *pad,
                         const int8_t **tap)
{
    const int32_t oy = pix / p->out_w, ox = pix - oy * p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            *tap++ = (y < 0 || y >= p->in_h || x < 0 || x >= p->in_w) ? pad : in + (y * p->in_w + x) * p->in_c;
        }
    }
}

static void tf_fast_store(const tf_fast_conv_s8_params_t *p, int8_t *out, int32_t oc, const int32_t *acc)
{
    int32_t j;
    for (j = 0; j < 4 && oc + j < p->out_c; ++j) {
        out[oc + j] = tf_requantize(acc[j] + p->bias[oc + j], p->out_mult[oc + j], (int)p->out_shift[oc + j],
                                    p->output_offset, p->act_min, p->act_max);
    }
}

void tf_fast_conv_s8(const tf_fast_conv_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t ntaps = p->k_h * p->k_w;
    const int32_t npix = p->out_h * p->out_w;
    const int8_t pad = (int8_t)p->pad_value;
    const int8_t *tap0[TF_FAST_MAX_TAPS], *tap1[TF_FAST_MAX_TAPS];
    int32_t b, pix, oc, k, t;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = output + b * npix * p->out_c;
        for (pix = 0; pix < npix; pix += 2) {
            const int32_t two = pix + 1 < npix;
            const int8_t *w = p->weights;
            int8_t *out0 = out_b + pix * p->out_c;
            if (p->direct) {
                tap0[0] = in_b + pix * p->in_c;
                tap1[0] = two ? tap0[0] + p->in_c : tap0[0];
            } else {
                tf_fast_taps(p, in_b, pix, &pad, tap0);
                tf_fast_taps(p, in_b, two ? pix + 1 : pix, &pad, tap1);
            }
            for (oc = 0; oc < p->out_c; oc += 4) {
                int32_t r0[4], r1[4];
                int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
                for (t = 0; t < ntaps; ++t) {
                    const int8_t *x0 = tap0[t], *x1 = tap1[t];
                    if (x0 != &pad && x1 != &pad) {
                        for (k = p->in_c; k > 0; --k) {
                            TF_FAST_MAC8(1, 1);
                        }
                    } else {
                        const int32_t i0 = x0 != &pad, i1 = x1 != &pad;
                        for (k = p->in_c; k > 0; --k) {
                            TF_FAST_MAC8(i0, i1);
                        }
                    }
                }
                r0[0] = s00, r0[1] = s01, r0[2] = s02, r0[3] = s03;
                r1[0] = s10, r1[1] = s11, r1[2] = s12, r1[3] = s13;
                tf_fast_store(p, out0, oc, r0);
                if (two) {
                    tf_fast_store(p, out0 + p->out_c, oc, r1);
                }
            }
        }
    }
}

void tf_fast_dw_s8(const tf_fast_dw_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t ch = p->in_c;
    const int8_t *tap[TF_FAST_MAX_TAPS];
    int32_t b, oy, ox, ky, kx, c, t;
    const int32_t ntaps = p->k_h * p->k_w;
    const int32_t zp = p->pad_value;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * ch;
        int8_t *out = output + b * p->out_h * p->out_w * ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                t = 0;
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t y = y0 + ky * p->dil_h;
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t x = x0 + kx * p->dil_w;
                        tap[t++] = (y < 0 || y >= p->in_h || x < 0 || x >= p->in_w) ? 0 : in_b + (y * p->in_w + x) * ch;
                    }
                }
                for (c = 0; c + 4 <= ch; c += 4) {
                    int32_t s0 = p->bias[c], s1 = p->bias[c + 1], s2 = p->bias[c + 2], s3 = p->bias[c + 3];
                    const int8_t *w = p->weights + c;
                    for (t = 0; t < ntaps; ++t) {
                        if (tap[t]) {
                            const int8_t *x = tap[t] + c;
                            s0 += (int32_t)w[0] * x[0];
                            s1 += (int32_t)w[1] * x[1];
                            s2 += (int32_t)w[2] * x[2];
                            s3 += (int32_t)w[3] * x[3];
                        } else {
                            s0 += (int32_t)w[0] * zp;
                            s1 += (int32_t)w[1] * zp;
                            s2 += (int32_t)w[2] * zp;
                            s3 += (int32_t)w[3] * zp;
                        }
                        w += ch;
                    }
                    out[c] = tf_requantize(s0, p->out_mult[c], (int)p->out_shift[c], p->output_offset, p->act_min,
                                           p->act_max);
                    out[c + 1] = tf_requantize(s1, p->out_mult[c + 1], (int)p->out_shift[c + 1], p->output_offset,
                                               p->act_min, p->act_max);
                    out[c + 2] = tf_requantize(s2, p->out_mult[c + 2], (int)p->out_shift[c + 2], p->output_offset,
                                               p->act_min, p->act_max);
                    out[c + 3] = tf_requantize(s3, p->out_mult[c + 3], (int)p->out_shift[c + 3], p->output_offset,
                                               p->act_min, p->act_max);
                }
                for (; c < ch; ++c) {
                    int32_t s = p->bias[c];
                    const int8_t *w = p->weights + c;
                    for (t = 0; t < ntaps; ++t) {
                        s += (int32_t)w[0] * (tap[t] ? tap[t][c] : zp);
                        w += ch;
                    }
                    out[c] = tf_requantize(s, p->out_mult[c], (int)p->out_shift[c], p->output_offset, p->act_min,
                                           p->act_max);
                }
                out += ch;
            }
        }
    }
}
