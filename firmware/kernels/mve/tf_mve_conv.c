/* CONV_2D with Helium: see tf_mve_conv.h. */
#include "tf_mve_conv.h"

#include "tf_mve_common.h"
#include "tf_mve_gemm.h"

/* The ways of reading receptive fields a model's layers use (tinyforge/kernels/ops/mve/pack.py
 * conv_variant passes them): bit 0 im2col rows, bit 1 the column buffer by copies, bit 2 the
 * column buffer by scatter stores (under 16 channels); an unpadded 1x1 reads in place. Without
 * the define every way is compiled. */
#ifndef TF_MVE_CONV_VARIANTS
#define TF_MVE_CONV_VARIANTS 7
#endif

/* The layer's geometry in locals (the im2col stores could alias the params struct). */
typedef struct {
    int32_t in_h, in_w, in_c, k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
    int32_t row_bytes; /* k_w * in_c */
    int32_t line; /* in_w * in_c */
} tf_mve_geom_t;

/* `rows` rows of n bytes, `step` bytes apart in src, to rows `dstep` bytes apart in dst. */
TF_MVE_INLINE void tf_mve_copy_rows(int8_t *dst, const int8_t *src, int32_t rows, int32_t n, int32_t step,
                                    int32_t dstep)
{
    if (n <= 16) {
        /* one predicated load and store per row, in a low-overhead loop */
        __asm__ volatile("dls lr, %[rows]\n"
                         "1:\n\t"
                         "vctp.8 %[n]\n\t"
                         "vpstt\n\t"
                         "vldrbt.u8 q0, [%[s]]\n\t"
                         "vstrbt.8 q0, [%[d]]\n\t"
                         "add %[s], %[step]\n\t"
                         "add %[d], %[dstep]\n\t"
                         "le lr, 1b"
                         : [s] "+r"(src), [d] "+r"(dst)
                         : [rows] "r"(rows), [n] "r"(n), [step] "r"(step), [dstep] "r"(dstep)
                         : "q0", "p0", "lr", "memory");
        return;
    }
    /* a tail-predicated loop per row (WLSTP/LETP: the last chunk only moves n % 16 bytes) */
    __asm__ volatile("1:\n\t"
                     "mov r1, %[s]\n\t"
                     "mov r2, %[d]\n\t"
                     "wlstp.8 lr, %[n], 3f\n"
                     "2:\n\t"
                     "vldrb.u8 q0, [r1], #16\n\t"
                     "vstrb.8 q0, [r2], #16\n\t"
                     "letp lr, 2b\n"
                     "3:\n\t"
                     "add %[s], %[step]\n\t"
                     "add %[d], %[dstep]\n\t"
                     "subs %[rows], #1\n\t"
                     "bne 1b"
                     : [s] "+r"(src), [d] "+r"(dst), [rows] "+r"(rows)
                     : [n] "r"(n), [step] "r"(step), [dstep] "r"(dstep)
                     : "r1", "r2", "q0", "lr", "cc", "memory");
}

/* The receptive field of output pixel (oy, ox) of image `in_b`, in OHWI weight order; padding
 * is the input zero point. */
TF_MVE_INLINE void tf_mve_im2col(const tf_mve_geom_t *g, const int8_t *in_b, int32_t oy, int32_t ox, int8x16_t zp,
                                 int8_t *dst)
{
    const int32_t y0 = oy * g->stride_h - g->pad_h;
    const int32_t x0 = ox * g->stride_w - g->pad_w;
    const int32_t y_end = y0 + (g->k_h - 1) * g->dil_h;
    int32_t ky, kx;
    if (g->dil_w == 1 && x0 >= 0 && x0 + g->k_w <= g->in_w && y0 >= 0 && y_end < g->in_h) {
        /* inside the image: k_h contiguous rows */
        tf_mve_copy_rows(dst, in_b + y0 * g->line + x0 * g->in_c, g->k_h, g->row_bytes, g->dil_h * g->line,
                         g->row_bytes);
        return;
    }
    /* at an edge: the zero point everywhere, then the taps inside the image (without dilation
     * along x, one run of columns kx0..kx1 per row) */
    tf_mve_fill(dst, zp, g->k_h * g->row_bytes);
    {
        int32_t kx0 = 0, kx1 = g->k_w;
        while (kx0 < kx1 && x0 + kx0 * g->dil_w < 0) {
            ++kx0;
        }
        while (kx1 > kx0 && x0 + (kx1 - 1) * g->dil_w >= g->in_w) {
            --kx1;
        }
        for (ky = 0; ky < g->k_h; ++ky, dst += g->row_bytes) {
            const int32_t iy = y0 + ky * g->dil_h;
            const int8_t *row;
            if (iy < 0 || iy >= g->in_h || kx0 >= kx1) {
                continue;
            }
            row = in_b + iy * g->line + x0 * g->in_c;
            if (g->dil_w == 1) {
                tf_mve_copy(dst + kx0 * g->in_c, row + kx0 * g->in_c, (kx1 - kx0) * g->in_c);
            } else {
                for (kx = kx0; kx < kx1; ++kx) {
                    tf_mve_copy(dst + kx * g->in_c, row + kx * g->dil_w * g->in_c, g->in_c);
                }
            }
        }
    }
}

/* n bytes of v at `rows` places `dstep` bytes apart (rows >= 1). */
TF_MVE_INLINE void tf_mve_fill_rows(int8_t *dst, int8x16_t v, int32_t rows, int32_t n, int32_t dstep)
{
    do {
        tf_mve_fill(dst, v, n);
        dst += dstep;
    } while (--rows);
}

/* Whether tf_mve_columns scatters input rows: fewer than 16 channels, offsets within a byte. */
TF_MVE_INLINE int tf_mve_scatters(const tf_mve_geom_t *g)
{
    return g->in_c < 16 && (16 / g->in_c - 1) * g->k_h * g->in_c + g->in_c <= 256;
}

/* Byte i of a 16-byte load of an input row (in_c channels per column) goes to column i / in_c,
 * channel i % in_c of the column buffer. */
static uint8x16_t tf_mve_column_offsets(const tf_mve_geom_t *g)
{
    uint8_t o[16];
    int32_t i;
    for (i = 0; i < 16; ++i) {
        o[i] = (uint8_t)((i / g->in_c) * g->k_h * g->in_c + i % g->in_c);
    }
    return vldrbq_u8(o);
}

/* The column buffer of input columns x0 .. x0 + cols - 1 for output row oy: column j holds the
 * k_h taps of input column x0 + j, (ky, channel) order (k_h * in_c bytes); padding is the zero
 * point. Pixel ox's receptive field in (kx, ky, channel) order is then contiguous. */
TF_MVE_INLINE void tf_mve_columns(const tf_mve_geom_t *g, const int8_t *in_b, int32_t oy, int32_t x0, int32_t cols,
                                  int8x16_t zp, uint8x16_t offs, int8_t *dst)
{
    const int32_t cb = g->k_h * g->in_c;
    const int32_t xa = x0 < 0 ? 0 : x0; /* first and end input columns inside the image */
    const int32_t xb = x0 + cols > g->in_w ? g->in_w : x0 + cols;
    int32_t ky;
    if ((TF_MVE_CONV_VARIANTS & 4) && tf_mve_scatters(g)) {
        /* few channels: each input row's run of columns is loaded m = 16 / in_c columns at a time
         * and scattered to their slots (offs, tf_mve_column_offsets); the rest of the buffer is
         * the zero point */
        const int32_t m = 16 / g->in_c;
        int32_t j;
        tf_mve_fill(dst, zp, cols * cb);
        if (xa >= xb) {
            return;
        }
        for (ky = 0; ky < g->k_h; ++ky) {
            const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dil_h;
            const int8_t *src;
            if (iy < 0 || iy >= g->in_h) {
                continue;
            }
            src = in_b + iy * g->line + xa * g->in_c;
            for (j = xa - x0; j < xb - x0; j += m, src += m * g->in_c) {
                const int32_t n = xb - x0 - j < m ? xb - x0 - j : m;
                const mve_pred16_t p = vctp8q((uint32_t)(n * g->in_c));
                vstrbq_scatter_offset_p_s8(dst + j * cb + ky * g->in_c, offs, vldrbq_z_s8(src, p), p);
            }
        }
        return;
    }
    if (!(TF_MVE_CONV_VARIANTS & 2)) {
        return;
    }
    for (ky = 0; ky < g->k_h; ++ky, dst += g->in_c) {
        const int32_t iy = oy * g->stride_h - g->pad_h + ky * g->dil_h;
        if (iy < 0 || iy >= g->in_h || xa >= xb) {
            tf_mve_fill_rows(dst, zp, cols, g->in_c, cb);
            continue;
        }
        if (xa > x0) {
            tf_mve_fill_rows(dst, zp, xa - x0, g->in_c, cb);
        }
        tf_mve_copy_rows(dst + (xa - x0) * cb, in_b + iy * g->line + xa * g->in_c, xb - xa, g->in_c, g->in_c, cb);
        if (xb < x0 + cols) {
            tf_mve_fill_rows(dst + (xb - x0) * cb, zp, x0 + cols - xb, g->in_c, cb);
        }
    }
}

void tf_mve_conv2d_s8(const tf_mve_conv2d_s8_params_t *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const int32_t k = p->k_h * p->k_w * p->in_c;
    const int32_t image = p->in_h * p->in_w * p->in_c;
    const int32_t row = (k + 15) & ~15; /* im2col row stride */
    const int32_t rows = p->im2col; /* pixels per matrix-core call */
    const int32_t out_h = p->out_h, out_w = p->out_w, out_c = p->out_c, batches = p->batches;
    const int8x16_t zp = vdupq_n_s8((int8_t)p->input_zp);
    tf_mve_gemm_t g;
    tf_mve_geom_t geo;
    int32_t b, oy, ox;
    g.k = k;
    g.out_c = out_c;
    g.general = p->left_shifts;
    g.output_offset = p->output_offset;
    g.act_min = p->act_min;
    g.act_max = p->act_max;
    g.weights = p->weights;
    g.qparams = p->qparams;
    if (!rows) {
        /* 1x1 without padding: the rows are read in place, one call per output row of the image */
        if (p->stride_h == 1 && p->stride_w == 1) {
            tf_mve_gemm_s8(&g, input, k, batches * out_h * out_w, output);
            return;
        }
        for (b = 0; b < batches; ++b) {
            for (oy = 0; oy < out_h; ++oy) {
                tf_mve_gemm_s8(&g, input + b * image + oy * p->stride_h * p->in_w * k, p->stride_w * k, out_w,
                               output);
                output += out_w * out_c;
            }
        }
        return;
    }
    geo.in_h = p->in_h;
    geo.in_w = p->in_w;
    geo.in_c = p->in_c;
    geo.k_h = p->k_h;
    geo.k_w = p->k_w;
    geo.stride_h = p->stride_h;
    geo.stride_w = p->stride_w;
    geo.dil_h = p->dil_h;
    geo.dil_w = p->dil_w;
    geo.pad_h = p->pad_h;
    geo.pad_w = p->pad_w;
    geo.row_bytes = p->k_w * p->in_c;
    geo.line = p->in_w * p->in_c;
    if ((TF_MVE_CONV_VARIANTS & 6) && p->columns) {
        /* output rows in runs of `columns` pixels from a column buffer, no im2col rows */
        const int32_t cb = p->k_h * p->in_c;
        const uint8x16_t offs = tf_mve_scatters(&geo) ? tf_mve_column_offsets(&geo) : vdupq_n_u8(0);
        for (b = 0; b < batches; ++b) {
            const int8_t *in_b = input + b * image;
            for (oy = 0; oy < out_h; ++oy) {
                for (ox = 0; ox < out_w; ox += p->columns) {
                    const int32_t n = out_w - ox < p->columns ? out_w - ox : p->columns;
                    tf_mve_columns(&geo, in_b, oy, ox * p->stride_w - p->pad_w, (n - 1) * p->stride_w + p->k_w, zp,
                                   offs, scratch);
                    tf_mve_gemm_s8(&g, scratch, p->stride_w * cb, n, output);
                    output += n * out_c;
                }
            }
        }
        return;
    }
    if (!(TF_MVE_CONV_VARIANTS & 1)) {
        return;
    }
    for (b = 0; b < batches; ++b) {
        const int8_t *in_b = input + b * image;
        int8_t *dst = scratch;
        int32_t n = 0;
        for (oy = 0; oy < out_h; ++oy) {
            for (ox = 0; ox < out_w; ++ox) {
                tf_mve_im2col(&geo, in_b, oy, ox, zp, dst);
                dst += row;
                if (++n == rows) {
                    tf_mve_gemm_s8(&g, scratch, row, n, output);
                    output += n * out_c;
                    dst = scratch;
                    n = 0;
                }
            }
        }
        if (n) {
            tf_mve_gemm_s8(&g, scratch, row, n, output);
            output += n * out_c;
        }
    }
}
