/* CONV_2D with Helium: see tf_mve_conv.h. */
#include "tf_mve_conv.h"

#include "tf_mve_common.h"
#include "tf_mve_gemm.h"

/* The receptive field of output pixel (oy, ox) of image `in_b`, in OHWI weight order. */
static void tf_mve_im2col(const tf_mve_conv2d_s8_params_t *p, const int8_t *in_b, int32_t oy, int32_t ox,
                          int8_t *dst)
{
    const int8x16_t zp = vdupq_n_s8((int8_t)p->input_zp);
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int32_t row_bytes = p->k_w * p->in_c;
    const int32_t contiguous = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = y0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            tf_mve_fill(dst, zp, row_bytes);
        } else if (contiguous) {
            tf_mve_copy(dst, in_b + (iy * p->in_w + x0) * p->in_c, row_bytes);
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = x0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    tf_mve_fill(dst + kx * p->in_c, zp, p->in_c);
                } else {
                    tf_mve_copy(dst + kx * p->in_c, in_b + (iy * p->in_w + ix) * p->in_c, p->in_c);
                }
            }
        }
        dst += row_bytes;
    }
}

/* Walks the output pixels in order: batch, row, column. */
typedef struct {
    int32_t b, oy, ox;
} tf_mve_pixel_t;

TF_MVE_INLINE void tf_mve_pixel_next(const tf_mve_conv2d_s8_params_t *p, tf_mve_pixel_t *px)
{
    if (++px->ox == p->out_w) {
        px->ox = 0;
        if (++px->oy == p->out_h) {
            px->oy = 0;
            ++px->b;
        }
    }
}

/* The input row of a 1x1 convolution without padding. */
TF_MVE_INLINE const int8_t *tf_mve_row_1x1(const tf_mve_conv2d_s8_params_t *p, const int8_t *input,
                                           const tf_mve_pixel_t *px)
{
    return input + ((px->b * p->in_h + px->oy * p->stride_h) * p->in_w + px->ox * p->stride_w) * p->in_c;
}

void tf_mve_conv2d_s8(const tf_mve_conv2d_s8_params_t *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const int32_t k = p->k_h * p->k_w * p->in_c;
    const int32_t pixels = p->batches * p->out_h * p->out_w;
    const int32_t image = p->in_h * p->in_w * p->in_c;
    const int32_t row = (k + 15) & ~15; /* im2col row stride */
    tf_mve_gemm_t g;
    tf_mve_pixel_t px = {0, 0, 0};
    int32_t n;
    g.k = k;
    g.out_c = p->out_c;
    g.left_shifts = p->left_shifts;
    g.output_offset = p->output_offset;
    g.act_min = p->act_min;
    g.act_max = p->act_max;
    g.weights = p->weights;
    g.qparams = p->qparams;
    if (!p->im2col && p->stride_h == 1 && p->stride_w == 1) {
        /* rows are consecutive in memory */
        for (n = 0; n + 1 < pixels; n += 2) {
            tf_mve_gemm_s8_rows2(&g, input + n * k, input + (n + 1) * k, output + n * p->out_c,
                                 output + (n + 1) * p->out_c);
        }
        if (n < pixels) {
            tf_mve_gemm_s8_row(&g, input + n * k, output + n * p->out_c);
        }
        return;
    }
    for (n = 0; n + 1 < pixels; n += 2) {
        tf_mve_pixel_t px1 = px;
        const int8_t *x0, *x1;
        tf_mve_pixel_next(p, &px1);
        if (p->im2col) {
            tf_mve_im2col(p, input + px.b * image, px.oy, px.ox, scratch);
            tf_mve_im2col(p, input + px1.b * image, px1.oy, px1.ox, scratch + row);
            x0 = scratch;
            x1 = scratch + row;
        } else {
            x0 = tf_mve_row_1x1(p, input, &px);
            x1 = tf_mve_row_1x1(p, input, &px1);
        }
        tf_mve_gemm_s8_rows2(&g, x0, x1, output + n * p->out_c, output + (n + 1) * p->out_c);
        px = px1;
        tf_mve_pixel_next(p, &px);
    }
    if (n < pixels) {
        const int8_t *x0;
        if (p->im2col) {
            tf_mve_im2col(p, input + px.b * image, px.oy, px.ox, scratch);
            x0 = scratch;
        } else {
            x0 = tf_mve_row_1x1(p, input, &px);
        }
        tf_mve_gemm_s8_row(&g, x0, output + n * p->out_c);
    }
}
