/* Faster portable CONV_2D / FULLY_CONNECTED / DEPTHWISE_CONV_2D: see tf_fast_conv.h. */
#include "tf_fast_conv.h"

#include "tf_common.h"
#include "tf_requant.h"

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

/* acc (input offset already in the bias) to int8: tf_requantize's result for multipliers >= 0 */
TF_INLINE int8_t tf_fast_out(int32_t acc, int32_t mult, int32_t shift, int32_t out_off, int32_t lo, int32_t hi)
{
    return (int8_t)tf_clamp(tf_requant_fast(acc, mult, shift) + out_off, lo, hi);
}

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

/* Output pixel `pix`'s patch copied to buf: taps in filter order, in_c bytes each, the zero point
 * where a tap falls in the padding. */
static void tf_fast_patch(const tf_fast_conv_s8_params_t *p, const int8_t *in, int32_t pix, int8_t *buf)
{
    const int32_t oy = pix / p->out_w, ox = pix - oy * p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int32_t c = p->in_c;
    int32_t ky, kx, k;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t y = y0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t x = x0 + kx * p->dil_w;
            if (y < 0 || y >= p->in_h || x < 0 || x >= p->in_w) {
                for (k = 0; k < c; ++k) {
                    buf[k] = (int8_t)p->pad_value;
                }
            } else {
                const int8_t *src = in + (y * p->in_w + x) * c;
                for (k = 0; k < c; ++k) {
                    buf[k] = src[k];
                }
            }
            buf += c;
        }
    }
}

/* Requantize and store the 4 channels oc.. of one pixel (fewer at the end of the channels). */
static void tf_fast_store(const tf_fast_conv_s8_params_t *p, int8_t *out, int32_t oc, const int32_t *acc)
{
    const int32_t *bias = p->bias + oc, *mult = p->out_mult + oc, *shift = p->out_shift + oc;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t j;
    out += oc;
    if (oc + 4 <= p->out_c) {
        out[0] = tf_fast_out(acc[0] + bias[0], mult[0], shift[0], off, lo, hi);
        out[1] = tf_fast_out(acc[1] + bias[1], mult[1], shift[1], off, lo, hi);
        out[2] = tf_fast_out(acc[2] + bias[2], mult[2], shift[2], off, lo, hi);
        out[3] = tf_fast_out(acc[3] + bias[3], mult[3], shift[3], off, lo, hi);
        return;
    }
    for (j = 0; oc + j < p->out_c; ++j) {
        out[j] = tf_fast_out(acc[j] + bias[j], mult[j], shift[j], off, lo, hi);
    }
}

void tf_fast_conv_s8(const tf_fast_conv_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t npix = p->out_h * p->out_w;
    const int8_t pad = (int8_t)p->pad_value;
    const int8_t *tap0[TF_FAST_MAX_TAPS], *tap1[TF_FAST_MAX_TAPS];
    int8_t patch0[TF_FAST_PATCH], patch1[TF_FAST_PATCH];
    /* what the inner loops see: ntaps runs of depth bytes (one run of the whole patch for im2col) */
    const int32_t ntaps = (p->direct || p->im2col) ? 1 : p->k_h * p->k_w;
    const int32_t depth = p->im2col ? p->k_h * p->k_w * p->in_c : p->in_c;
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
            } else if (p->im2col) {
                tf_fast_patch(p, in_b, pix, patch0);
                tap0[0] = patch0;
                tap1[0] = patch0;
                if (two) {
                    tf_fast_patch(p, in_b, pix + 1, patch1);
                    tap1[0] = patch1;
                }
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
                        for (k = depth; k >= 2; k -= 2) {
                            TF_FAST_MAC8(1, 1);
                            TF_FAST_MAC8(1, 1);
                        }
                        if (k) {
                            TF_FAST_MAC8(1, 1);
                        }
                    } else {
                        const int32_t i0 = x0 != &pad, i1 = x1 != &pad;
                        for (k = depth; k > 0; --k) {
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

/* Four channels c..c+3 of one output pixel: n taps at x[i] + c, weights at w + wo[i]; `pad` taps
 * (in the padding) read the zero point instead. */
TF_INLINE void tf_fast_dw4(const tf_fast_dw_s8_params_t *p, const int8_t *const *x, const int32_t *wo, int32_t n,
                           const int32_t *po, int32_t pad, int32_t c, int8_t *out)
{
    const int8_t *wc = p->weights + c;
    int32_t s0 = p->bias[c], s1 = p->bias[c + 1], s2 = p->bias[c + 2], s3 = p->bias[c + 3];
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int8_t *xi = x[i] + c;
        const int8_t *w = wc + wo[i];
        s0 += (int32_t)w[0] * xi[0];
        s1 += (int32_t)w[1] * xi[1];
        s2 += (int32_t)w[2] * xi[2];
        s3 += (int32_t)w[3] * xi[3];
    }
    if (pad) {
        const int32_t zp = p->pad_value;
        int32_t u0 = 0, u1 = 0, u2 = 0, u3 = 0;
        for (i = 0; i < pad; ++i) {
            const int8_t *w = wc + po[i];
            u0 += w[0];
            u1 += w[1];
            u2 += w[2];
            u3 += w[3];
        }
        s0 += u0 * zp, s1 += u1 * zp, s2 += u2 * zp, s3 += u3 * zp;
    }
    {
        /* all four before the first store: an int8 store may alias *p, which would reload it */
        const int32_t *mult = p->out_mult + c, *shift = p->out_shift + c;
        const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
        const int8_t o0 = tf_fast_out(s0, mult[0], shift[0], off, lo, hi);
        const int8_t o1 = tf_fast_out(s1, mult[1], shift[1], off, lo, hi);
        const int8_t o2 = tf_fast_out(s2, mult[2], shift[2], off, lo, hi);
        const int8_t o3 = tf_fast_out(s3, mult[3], shift[3], off, lo, hi);
        out[c] = o0;
        out[c + 1] = o1;
        out[c + 2] = o2;
        out[c + 3] = o3;
    }
}

void tf_fast_dw_s8(const tf_fast_dw_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t ch = p->in_c;
    const int8_t *x[TF_FAST_MAX_TAPS]; /* the taps inside the image: input pixel, weight offset */
    int32_t wo[TF_FAST_MAX_TAPS], po[TF_FAST_MAX_TAPS]; /* weight offsets of those, of the padded ones */
    int32_t b, oy, ox, ky, kx, c, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * ch;
        int8_t *out = output + b * p->out_h * p->out_w * ch;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t n = 0, pad = 0, t = 0;
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t y = y0 + ky * p->dil_h;
                    for (kx = 0; kx < p->k_w; ++kx, t += ch) {
                        const int32_t xx = x0 + kx * p->dil_w;
                        if (y < 0 || y >= p->in_h || xx < 0 || xx >= p->in_w) {
                            po[pad++] = t;
                        } else {
                            x[n] = in_b + (y * p->in_w + xx) * ch;
                            wo[n++] = t;
                        }
                    }
                }
                for (c = 0; c + 4 <= ch; c += 4) {
                    tf_fast_dw4(p, x, wo, n, po, pad, c, out);
                }
                for (; c < ch; ++c) {
                    int32_t s = p->bias[c];
                    for (i = 0; i < n; ++i) {
                        s += (int32_t)p->weights[wo[i] + c] * x[i][c];
                    }
                    for (i = 0; i < pad; ++i) {
                        s += (int32_t)p->weights[po[i] + c] * p->pad_value;
                    }
                    out[c] = tf_fast_out(s, p->out_mult[c], p->out_shift[c], p->output_offset, p->act_min,
                                         p->act_max);
                }
                out += ch;
            }
        }
    }
}
