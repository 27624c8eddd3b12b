/* 16x8 CONV_2D / FULLY_CONNECTED / DEPTHWISE_CONV_2D with the DSP extension: see tf_dsp_conv_s16.h. */
#include "tf_dsp_conv_s16.h"

#include <string.h>

#include "tf_dsp_common.h"
#include "tf_s16_common.h"

/* The inline assembly needs the register allocation of an optimised build (gcc at -O0 cannot
 * place its operands); unoptimised builds take the C loops, which compute the same sums. */
#if TF_DSP_NATIVE && defined(__OPTIMIZE__)
#define TF_DSP_S16_ASM 1
#else
#define TF_DSP_S16_ASM 0
#endif

/* 4-tap groups per exact int32 run (TF_S16_CHUNK taps at most) */
#define TF_DSP_S16_GROUPS (TF_S16_CHUNK / 4)

/* ---- requantization ----------------------------------------------------------------------------- */

/* Output channel `oc` from the exact sum of its products (see the header). */
TF_INLINE int16_t tf_dsp_s16_req(int64_t sum, int32_t oc, int32_t acc64, const int64_t *bias64,
                                 const int32_t *bias32, const int32_t *mult, const int32_t *shift, int32_t act_min,
                                 int32_t act_max)
{
    int32_t v;
    if (acc64) {
        v = (int32_t)((sum * mult[oc] + bias64[oc]) >> shift[oc]);
    } else {
        const uint32_t a = (uint32_t)(uint64_t)sum + (bias32 ? (uint32_t)bias32[oc] : 0u);
        v = tf_multiply_by_quantized_multiplier((int32_t)a, mult[oc], (int)shift[oc]);
    }
    return (int16_t)tf_clamp(v, act_min, act_max);
}

/* The same for an int32 sum. With acc64 == 2 the packer has scaled multiplier and folded bias by
 * 2^(32 - shift), so the requantized value is the high word of one SMLAL (no 64-bit shift). */
TF_INLINE int16_t tf_dsp_s16_req32(int32_t sum, int32_t oc, int32_t acc64, const int64_t *bias64,
                                   const int32_t *bias32, const int32_t *mult, const int32_t *shift,
                                   int32_t act_min, int32_t act_max)
{
    int32_t v;
    if (acc64 == 2) {
        v = (int32_t)((uint64_t)((int64_t)sum * mult[oc] + bias64[oc]) >> 32);
    } else if (acc64) {
        v = (int32_t)(((int64_t)sum * mult[oc] + bias64[oc]) >> shift[oc]);
    } else {
        const uint32_t a = (uint32_t)sum + (bias32 ? (uint32_t)bias32[oc] : 0u);
        v = tf_multiply_by_quantized_multiplier((int32_t)a, mult[oc], (int)shift[oc]);
    }
    return (int16_t)tf_clamp(v, act_min, act_max);
}

/* acc64 == 2: the high word of sum * mult + kb, clamped */
TF_INLINE int16_t tf_dsp_s16_hiword(int32_t sum, int32_t mult, int64_t kb, int32_t act_min, int32_t act_max)
{
    const int32_t v = (int32_t)((uint64_t)((int64_t)sum * mult + kb) >> 32);
    return (int16_t)tf_clamp(v, act_min, act_max);
}

/* ---- inner products ------------------------------------------------------------------------------- */

/* 2 channels x 2 pixels over `groups` 4-tap groups: w holds per group the 4 weight bytes of channel
 * a then of channel b, x per group the words (px0 t0t1, px1 t0t1, px0 t2t3, px1 t2t3).
 * s = (a.px0, a.px1, b.px0, b.px1), exact int32 sums for groups <= TF_DSP_S16_GROUPS. */
TF_NOINLINE void tf_dsp_s16_mac2x2(const int8_t *w, const int32_t *x, int32_t groups, int32_t *s)
{
    int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
    if (groups <= 0) {
        s[0] = s[1] = s[2] = s[3] = 0;
        return;
    }
#if TF_DSP_S16_ASM
    {
        int32_t wa, wb, x0, x1, t;
        __asm__ volatile(
            "1:\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "ldrd %[x0], %[x1], [%[x]], #8\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "smlad %[a00], %[t], %[x0], %[a00]\n\t"
            "smlad %[a01], %[t], %[x1], %[a01]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "smlad %[a10], %[t], %[x0], %[a10]\n\t"
            "smlad %[a11], %[t], %[x1], %[a11]\n\t"
            "ldrd %[x0], %[x1], [%[x]], #8\n\t"
            "sxtb16 %[t], %[wa], ror #8\n\t"
            "smlad %[a00], %[t], %[x0], %[a00]\n\t"
            "smlad %[a01], %[t], %[x1], %[a01]\n\t"
            "sxtb16 %[t], %[wb], ror #8\n\t"
            "smlad %[a10], %[t], %[x0], %[a10]\n\t"
            "smlad %[a11], %[t], %[x1], %[a11]\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w] "+r"(w), [x] "+r"(x),
              [n] "+r"(groups), [wa] "=&r"(wa), [wb] "=&r"(wb), [x0] "=&r"(x0), [x1] "=&r"(x1), [t] "=&r"(t)
            :
            : "cc", "memory");
    }
#else
    for (; groups > 0; --groups) {
        const uint32_t wa = (uint32_t)tf_ld32(w);
        const uint32_t wb = (uint32_t)tf_ld32(w + 4);
        int32_t t = tf_sxtb16(wa);
        a00 = tf_smlad(t, x[0], a00);
        a01 = tf_smlad(t, x[1], a01);
        t = tf_sxtb16(wb);
        a10 = tf_smlad(t, x[0], a10);
        a11 = tf_smlad(t, x[1], a11);
        t = tf_sxtb16_ror8(wa);
        a00 = tf_smlad(t, x[2], a00);
        a01 = tf_smlad(t, x[3], a01);
        t = tf_sxtb16_ror8(wb);
        a10 = tf_smlad(t, x[2], a10);
        a11 = tf_smlad(t, x[3], a11);
        w += 8;
        x += 4;
    }
#endif
    s[0] = a00;
    s[1] = a01;
    s[2] = a10;
    s[3] = a11;
}

/* 4 channels x 1 pixel: w holds per group the 4 weight bytes of channels a, b, c, d; x per group
 * the words (t0t1, t2t3). s = (a, b, c, d). */
TF_NOINLINE void tf_dsp_s16_mac4x1(const int8_t *w, const int32_t *x, int32_t groups, int32_t *s)
{
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    if (groups <= 0) {
        s[0] = s[1] = s[2] = s[3] = 0;
        return;
    }
#if TF_DSP_S16_ASM
    {
        int32_t wa, wb, x0, x1, t;
        __asm__ volatile(
            "1:\n\t"
            "ldrd %[x0], %[x1], [%[x]], #8\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "smlad %[a0], %[t], %[x0], %[a0]\n\t"
            "sxtb16 %[t], %[wa], ror #8\n\t"
            "smlad %[a0], %[t], %[x1], %[a0]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "smlad %[a1], %[t], %[x0], %[a1]\n\t"
            "sxtb16 %[t], %[wb], ror #8\n\t"
            "smlad %[a1], %[t], %[x1], %[a1]\n\t"
            "ldrd %[wa], %[wb], [%[w]], #8\n\t"
            "sxtb16 %[t], %[wa]\n\t"
            "smlad %[a2], %[t], %[x0], %[a2]\n\t"
            "sxtb16 %[t], %[wa], ror #8\n\t"
            "smlad %[a2], %[t], %[x1], %[a2]\n\t"
            "sxtb16 %[t], %[wb]\n\t"
            "smlad %[a3], %[t], %[x0], %[a3]\n\t"
            "sxtb16 %[t], %[wb], ror #8\n\t"
            "smlad %[a3], %[t], %[x1], %[a3]\n\t"
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w), [x] "+r"(x), [n] "+r"(groups),
              [wa] "=&r"(wa), [wb] "=&r"(wb), [x0] "=&r"(x0), [x1] "=&r"(x1), [t] "=&r"(t)
            :
            : "cc", "memory");
    }
#else
    for (; groups > 0; --groups) {
        int32_t *acc[4];
        int32_t c;
        acc[0] = &a0;
        acc[1] = &a1;
        acc[2] = &a2;
        acc[3] = &a3;
        for (c = 0; c < 4; ++c) {
            const uint32_t wc = (uint32_t)tf_ld32(w + 4 * c);
            *acc[c] = tf_smlad(tf_sxtb16(wc), x[0], *acc[c]);
            *acc[c] = tf_smlad(tf_sxtb16_ror8(wc), x[1], *acc[c]);
        }
        w += 16;
        x += 2;
    }
#endif
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
}

/* ---- gathering the taps ----------------------------------------------------------------------------- */

/* The taps of output pixel `px` in weight order [k_h][k_w][in_c], zeros outside the image and
 * from `taps` up to `taps4`. Without dilation along x the taps of one filter row are one run of
 * the input: one copy per row. */
static void tf_dsp_s16_im2col(const tf_dsp_conv_s16_params_t *p, const int16_t *in_b, int32_t px, int16_t *col)
{
    const int32_t y0 = (px / p->out_w) * p->stride_h - p->pad_h;
    const int32_t x0 = (px % p->out_w) * p->stride_w - p->pad_w;
    const int32_t row = p->k_w * p->in_c;
    int16_t *c = col;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky, c += row) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            memset(c, 0, (size_t)row * sizeof(int16_t));
        } else if (p->dil_w == 1) {
            const int32_t lo = x0 < 0 ? -x0 : 0; /* first kx inside */
            const int32_t hi = x0 + p->k_w > p->in_w ? p->in_w - x0 : p->k_w; /* kx end inside */
            if (hi <= lo) {
                memset(c, 0, (size_t)row * sizeof(int16_t));
                continue;
            }
            memset(c, 0, (size_t)(lo * p->in_c) * sizeof(int16_t));
            memcpy(c + lo * p->in_c, in_b + (iy * p->in_w + x0 + lo) * p->in_c,
                   (size_t)((hi - lo) * p->in_c) * sizeof(int16_t));
            memset(c + hi * p->in_c, 0, (size_t)((p->k_w - hi) * p->in_c) * sizeof(int16_t));
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = x0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    memset(c + kx * p->in_c, 0, (size_t)p->in_c * sizeof(int16_t));
                } else {
                    memcpy(c + kx * p->in_c, in_b + (iy * p->in_w + ix) * p->in_c, (size_t)p->in_c * sizeof(int16_t));
                }
            }
        }
    }
    memset(c, 0, (size_t)(p->taps4 - p->taps) * sizeof(int16_t));
}

/* The first pixel's taps, contiguous: straight from the input for a 1x1, stride 1, unpadded
 * convolution (pixel px reads input pixel px), else gathered into `tmp`. */
static const int16_t *tf_dsp_s16_taps(const tf_dsp_conv_s16_params_t *p, const int16_t *in_b, int32_t px,
                                      int16_t *tmp)
{
    if (p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 && p->pad_w == 0) {
        return in_b + px * p->in_c;
    }
    tf_dsp_s16_im2col(p, in_b, px, tmp);
    return tmp;
}

/* Word j of a tap vector of `taps` values (zero beyond it): taps 2j and 2j + 1. */
TF_INLINE int32_t tf_dsp_s16_word(const int16_t *v, int32_t j, int32_t taps)
{
    if (2 * j + 1 < taps) {
        return tf_ld32(v + 2 * j);
    }
    return 2 * j < taps ? (int32_t)(uint16_t)v[2 * j] : 0;
}

/* ---- the convolution ----------------------------------------------------------------------------- */

void tf_dsp_conv_s16(const tf_dsp_conv_s16_params_t *p, const int16_t *input, int16_t *output, void *scratch)
{
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t words = p->taps4 / 2;
    const int32_t groups = p->taps4 / 4;
    const int32_t group_bytes = 4 * p->block;
    int32_t *const xs = (int32_t *)scratch; /* the packed taps: 2 * taps4 int16 */
    int16_t *const tmp0 = (int16_t *)scratch + 2 * p->taps4;
    int16_t *const tmp1 = tmp0 + p->taps4;
    int32_t b, px, oc, j;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->in_h * p->in_w * p->in_c;
        int16_t *out_b = output + b * pixels * p->out_c;
        for (px = 0; px < pixels; px += (p->block == 2 ? 2 : 1)) {
            const int32_t pair = p->block == 2 && px + 1 < pixels;
            const int16_t *v0 = tf_dsp_s16_taps(p, in_b, px, tmp0);
            if (p->block == 2) {
                const int16_t *v1 = pair ? tf_dsp_s16_taps(p, in_b, px + 1, tmp1) : v0;
                const int32_t full = p->taps / 2; /* words wholly inside the taps */
                for (j = 0; j < full; ++j) { /* interleave the two pixels word by word */
                    xs[2 * j] = tf_ld32(v0 + 2 * j);
                    xs[2 * j + 1] = tf_ld32(v1 + 2 * j);
                }
                for (; j < words; ++j) {
                    xs[2 * j] = tf_dsp_s16_word(v0, j, p->taps);
                    xs[2 * j + 1] = tf_dsp_s16_word(v1, j, p->taps);
                }
            } else {
                const int32_t full = p->taps / 2;
                for (j = 0; j < full; ++j) {
                    xs[j] = tf_ld32(v0 + 2 * j);
                }
                for (; j < words; ++j) {
                    xs[j] = tf_dsp_s16_word(v0, j, p->taps);
                }
            }
            for (oc = 0; oc < p->out_c; oc += p->block) {
                const int8_t *w = p->weights + (oc / p->block) * groups * group_bytes;
                const int32_t n = p->out_c - oc < p->block ? p->out_c - oc : p->block;
                int16_t *out = out_b + px * p->out_c + oc;
                int32_t k;
                if (groups <= TF_DSP_S16_GROUPS) {
                    int32_t s[4];
                    if (p->block == 2) {
                        tf_dsp_s16_mac2x2(w, xs, groups, s);
                        out[0] = tf_dsp_s16_req32(s[0], oc, p->acc64, p->bias64, p->bias32, p->out_mult,
                                                  p->out_shift, p->act_min, p->act_max);
                        if (n > 1) {
                            out[1] = tf_dsp_s16_req32(s[2], oc + 1, p->acc64, p->bias64, p->bias32, p->out_mult,
                                                      p->out_shift, p->act_min, p->act_max);
                        }
                        if (pair) {
                            out[p->out_c] = tf_dsp_s16_req32(s[1], oc, p->acc64, p->bias64, p->bias32, p->out_mult,
                                                             p->out_shift, p->act_min, p->act_max);
                            if (n > 1) {
                                out[p->out_c + 1] = tf_dsp_s16_req32(s[3], oc + 1, p->acc64, p->bias64, p->bias32,
                                                                     p->out_mult, p->out_shift, p->act_min,
                                                                     p->act_max);
                            }
                        }
                    } else {
                        tf_dsp_s16_mac4x1(w, xs, groups, s);
                        for (k = 0; k < n; ++k) {
                            out[k] = tf_dsp_s16_req32(s[k], oc + k, p->acc64, p->bias64, p->bias32, p->out_mult,
                                                      p->out_shift, p->act_min, p->act_max);
                        }
                    }
                } else { /* long sums: exact int32 runs added in int64 */
                    int64_t t[4] = {0, 0, 0, 0};
                    int32_t g;
                    for (g = 0; g < groups; g += TF_DSP_S16_GROUPS) {
                        const int32_t run = groups - g < TF_DSP_S16_GROUPS ? groups - g : TF_DSP_S16_GROUPS;
                        int32_t s[4];
                        if (p->block == 2) {
                            tf_dsp_s16_mac2x2(w + g * group_bytes, xs + 4 * g, run, s);
                        } else {
                            tf_dsp_s16_mac4x1(w + g * group_bytes, xs + 2 * g, run, s);
                        }
                        for (k = 0; k < 4; ++k) {
                            t[k] += s[k];
                        }
                    }
                    if (p->block == 2) {
                        out[0] = tf_dsp_s16_req(t[0], oc, p->acc64, p->bias64, p->bias32, p->out_mult, p->out_shift,
                                                p->act_min, p->act_max);
                        if (n > 1) {
                            out[1] = tf_dsp_s16_req(t[2], oc + 1, p->acc64, p->bias64, p->bias32, p->out_mult,
                                                    p->out_shift, p->act_min, p->act_max);
                        }
                        if (pair) {
                            out[p->out_c] = tf_dsp_s16_req(t[1], oc, p->acc64, p->bias64, p->bias32, p->out_mult,
                                                           p->out_shift, p->act_min, p->act_max);
                            if (n > 1) {
                                out[p->out_c + 1] = tf_dsp_s16_req(t[3], oc + 1, p->acc64, p->bias64, p->bias32,
                                                                   p->out_mult, p->out_shift, p->act_min, p->act_max);
                            }
                        }
                    } else {
                        for (k = 0; k < n; ++k) {
                            out[k] = tf_dsp_s16_req(t[k], oc + k, p->acc64, p->bias64, p->bias32, p->out_mult,
                                                    p->out_shift, p->act_min, p->act_max);
                        }
                    }
                }
            }
        }
    }
}

/* ---- depthwise ------------------------------------------------------------------------------------ */

/* The range [*lo, *hi) of filter indices k with 0 <= origin + k * dil < size. */
static void tf_dsp_s16_window(int32_t origin, int32_t k, int32_t dil, int32_t size, int32_t *lo, int32_t *hi)
{
    int32_t a = 0;
    int32_t e = k;
    while (a < k && origin + a * dil < 0) {
        ++a;
    }
    while (e > a && origin + (e - 1) * dil >= size) {
        --e;
    }
    *lo = a;
    *hi = e;
}

/* The first n (a multiple of 4) channels of one output pixel whose window inside the image is
 * `rows` x `cols` taps from x (input, channel 0) starting at filter tap `t0` (ky0 * k_w + kx0):
 * 4 channels per step from the blocked weights (exact int32 sums: at most TF_S16_CHUNK taps),
 * requantized and stored to out. */
TF_NOINLINE void tf_dsp_s16_dw_pixel(const tf_dsp_depthwise_conv2d_s16_params_t *p, const int16_t *x, int32_t t0,
                                     int32_t rows, int32_t cols, int16_t *out, int32_t n)
{
    const int32_t C = p->channels;
    const int32_t taps = p->k_h * p->k_w;
    const int32_t x_col = p->dil_w * C;
    const int32_t x_row = p->dil_h * p->in_w * C - cols * x_col;
    const int32_t w_row = (p->k_w - cols) * 4;
    const int32_t acc64 = p->acc64;
    int32_t c, r, k, j;
    for (c = 0; c < n; c += 4) {
        const int16_t *xp = x + c;
        const int16_t *wp = p->weights4 + (c / 4 * taps + t0) * 4; /* this group's taps, 4 values each */
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        int32_t a[4];
        int32_t window_rows = rows;
#if TF_DSP_S16_ASM
        if (rows == 3 && cols == 3 && p->k_w == 3 && (C & 1) == 0) {
            /* a whole 3x3 window (the common case): the 9 taps in a row, no loop */
            int32_t x01, x23, w01, w23;
            const int16_t *xq = xp;
            const int16_t *wq = wp;
#define TF_DSP_S16_TAP(next_x)                                                                     \
    "ldrd %[x01], %[x23], [%[xp]]\n\t"                                                            \
    "ldrd %[w01], %[w23], [%[wp]], #8\n\t"                                                        \
    "add %[xp], %[xp], " next_x "\n\t"                                                            \
    "smlabb %[a0], %[x01], %[w01], %[a0]\n\t"                                                      \
    "smlatt %[a1], %[x01], %[w01], %[a1]\n\t"                                                      \
    "smlabb %[a2], %[x23], %[w23], %[a2]\n\t"                                                      \
    "smlatt %[a3], %[x23], %[w23], %[a3]\n\t"
            __asm__ volatile(TF_DSP_S16_TAP("%[xs]") TF_DSP_S16_TAP("%[xs]") TF_DSP_S16_TAP("%[xr]")
                                 TF_DSP_S16_TAP("%[xs]") TF_DSP_S16_TAP("%[xs]") TF_DSP_S16_TAP("%[xr]")
                                     TF_DSP_S16_TAP("%[xs]") TF_DSP_S16_TAP("%[xs]") TF_DSP_S16_TAP("%[xr]")
                             : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(xq),
                               [wp] "+r"(wq), [x01] "=&r"(x01), [x23] "=&r"(x23), [w01] "=&r"(w01),
                               [w23] "=&r"(w23)
                             : [xs] "r"(x_col * 2), [xr] "r"((x_col + x_row) * 2)
                             : "memory");
#undef TF_DSP_S16_TAP
            window_rows = 0; /* done: skip the loop below for this channel group */
        }
#endif
        for (r = 0; r < window_rows; ++r) {
#if TF_DSP_S16_ASM
            if (cols > 0 && (C & 1) == 0) { /* word-aligned channel groups: LDRD */
                int32_t x01, x23, w01, w23;
                int32_t left = cols;
                __asm__ volatile(
                    "1:\n\t"
                    "ldrd %[x01], %[x23], [%[xp]]\n\t"
                    "ldrd %[w01], %[w23], [%[wp]], #8\n\t"
                    "add %[xp], %[xp], %[xs]\n\t"
                    "smlabb %[a0], %[x01], %[w01], %[a0]\n\t"
                    "smlatt %[a1], %[x01], %[w01], %[a1]\n\t"
                    "smlabb %[a2], %[x23], %[w23], %[a2]\n\t"
                    "smlatt %[a3], %[x23], %[w23], %[a3]\n\t"
                    "subs %[n], %[n], #1\n\t"
                    "bne 1b\n\t"
                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xp] "+r"(xp), [wp] "+r"(wp),
                      [n] "+r"(left), [x01] "=&r"(x01), [x23] "=&r"(x23), [w01] "=&r"(w01), [w23] "=&r"(w23)
                    : [xs] "r"(x_col * 2)
                    : "cc", "memory");
                xp += x_row;
                wp += w_row;
                continue;
            }
#endif
            for (k = 0; k < cols; ++k) {
                const int32_t x01 = tf_ld32(xp);
                const int32_t x23 = tf_ld32(xp + 2);
                const int32_t w01 = tf_ld32(wp);
                const int32_t w23 = tf_ld32(wp + 2);
                a0 = tf_smlabb(x01, w01, a0);
                a1 = tf_smlatt(x01, w01, a1);
                a2 = tf_smlabb(x23, w23, a2);
                a3 = tf_smlatt(x23, w23, a3);
                xp += x_col;
                wp += 4;
            }
            xp += x_row;
            wp += w_row;
        }
        if (acc64 == 2) {
            const int32_t *m = p->out_mult + c;
            const int64_t *kb = p->bias64 + c;
            const int32_t lo = p->act_min;
            const int32_t hi = p->act_max;
            out[c] = tf_dsp_s16_hiword(a0, m[0], kb[0], lo, hi);
            out[c + 1] = tf_dsp_s16_hiword(a1, m[1], kb[1], lo, hi);
            out[c + 2] = tf_dsp_s16_hiword(a2, m[2], kb[2], lo, hi);
            out[c + 3] = tf_dsp_s16_hiword(a3, m[3], kb[3], lo, hi);
        } else {
            a[0] = a0;
            a[1] = a1;
            a[2] = a2;
            a[3] = a3;
            for (j = 0; j < 4; ++j) {
                out[c + j] = tf_dsp_s16_req32(a[j], c + j, acc64, p->bias64, p->bias32, p->out_mult, p->out_shift,
                                              p->act_min, p->act_max);
            }
        }
    }
}

/* Depth multiplier > 1: all output channels of one pixel, in pairs (oc, oc + 1) of the same input
 * channel when the multiplier is even (SMLABB/SMLABT against the pair of weights), else one by one.
 * x and w point at channel 0 of the window's first tap in the input and the weights. */
TF_NOINLINE void tf_dsp_s16_dw_pixel_mult(const tf_dsp_depthwise_conv2d_s16_params_t *p, const int16_t *x,
                                          const int16_t *w, int32_t rows, int32_t cols, int16_t *out)
{
    const int32_t C = p->channels;
    const int32_t x_col = p->dil_w * p->in_c;
    const int32_t x_row = p->dil_h * p->in_w * p->in_c - cols * x_col;
    const int32_t w_row = (p->k_w - cols) * C;
    const int32_t step = (p->depth_mult & 1) ? 1 : 2;
    int32_t oc, r, k;
    for (oc = 0; oc < C; oc += step) {
        const int16_t *xp = x + oc / p->depth_mult;
        const int16_t *wp = w + oc;
        int32_t a0 = 0, a1 = 0;
        for (r = 0; r < rows; ++r) {
            for (k = 0; k < cols; ++k) {
                const int32_t xv = *xp;
                if (step == 2) {
                    const int32_t wv = tf_ld32(wp);
                    a0 = tf_smlabb(xv, wv, a0);
                    a1 = tf_smlabt(xv, wv, a1);
                } else {
                    a0 += xv * *wp;
                }
                xp += x_col;
                wp += C;
            }
            xp += x_row;
            wp += w_row;
        }
        out[oc] = tf_dsp_s16_req32(a0, oc, p->acc64, p->bias64, p->bias32, p->out_mult, p->out_shift, p->act_min,
                                   p->act_max);
        if (step == 2) {
            out[oc + 1] = tf_dsp_s16_req32(a1, oc + 1, p->acc64, p->bias64, p->bias32, p->out_mult, p->out_shift,
                                           p->act_min, p->act_max);
        }
    }
}

void tf_dsp_depthwise_conv2d_s16(const tf_dsp_depthwise_conv2d_s16_params_t *p, const int16_t *input,
                                 int16_t *output)
{
    const int32_t C = p->channels;
    const int32_t in_c = p->in_c;
    int32_t b, oy, ox, c;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->in_h * p->in_w * in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t ky0, ky1;
            tf_dsp_s16_window(y0, p->k_h, p->dil_h, p->in_h, &ky0, &ky1);
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int16_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * C;
                const int16_t *xs = in_b;
                const int16_t *ws = p->weights;
                int32_t kx0, kx1, rows, cols;
                tf_dsp_s16_window(x0, p->k_w, p->dil_w, p->in_w, &kx0, &kx1);
                rows = ky1 - ky0;
                cols = kx1 - kx0;
                if (rows > 0 && cols > 0) {
                    xs = in_b + ((y0 + ky0 * p->dil_h) * p->in_w + (x0 + kx0 * p->dil_w)) * in_c;
                    ws = p->weights + (ky0 * p->k_w + kx0) * C;
                } else { /* no tap inside the image: the sums are 0 */
                    rows = cols = 0;
                }
                if (p->depth_mult != 1) {
                    tf_dsp_s16_dw_pixel_mult(p, xs, ws, rows, cols, out);
                    continue;
                }
                c = C & ~3;
                if (c > 0) {
                    tf_dsp_s16_dw_pixel(p, xs, rows > 0 ? ky0 * p->k_w + kx0 : 0, rows, cols, out, c);
                }
                for (; c < C; ++c) {
                    int32_t a = 0;
                    int32_t r, k;
                    for (r = 0; r < rows; ++r) {
                        for (k = 0; k < cols; ++k) {
                            a += (int32_t)xs[(r * p->dil_h * p->in_w + k * p->dil_w) * C + c] *
                                 ws[(r * p->k_w + k) * C + c];
                        }
                    }
                    out[c] = tf_dsp_s16_req32(a, c, p->acc64, p->bias64, p->bias32, p->out_mult, p->out_shift,
                                              p->act_min, p->act_max);
                }
            }
        }
    }
}
