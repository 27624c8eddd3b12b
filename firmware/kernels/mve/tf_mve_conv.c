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

/* Output pixels gathered (im2col) per call of the matrix core: the scratch holds this many rows. */
#define TF_MVE_CONV_ROWS 2

void tf_mve_conv2d_s8(const tf_mve_conv2d_s8_params_t *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
    const int32_t k = p->k_h * p->k_w * p->in_c;
    const int32_t image = p->in_h * p->in_w * p->in_c;
    const int32_t row = (k + 15) & ~15; /* im2col row stride */
    tf_mve_gemm_t g;
    int32_t b, oy, ox;
    g.k = k;
    g.out_c = p->out_c;
    g.left_shifts = p->left_shifts;
    g.output_offset = p->output_offset;
    g.act_min = p->act_min;
    g.act_max = p->act_max;
    g.weights = p->weights;
    g.qparams = p->qparams;
    if (!p->im2col) {
        /* 1x1 without padding: every output row of the image is one call, rows stride_w pixels apart */
        if (p->stride_h == 1 && p->stride_w == 1) {
            tf_mve_gemm_s8(&g, input, k, p->batches * p->out_h * p->out_w, output);
            return;
        }
        for (b = 0; b < p->batches; ++b) {
            for (oy = 0; oy < p->out_h; ++oy) {
                tf_mve_gemm_s8(&g, input + b * image + oy * p->stride_h * p->in_w * k, p->stride_w * k, p->out_w,
                               output);
                output += p->out_w * p->out_c;
            }
        }
        return;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * image;
        int32_t n = 0;
        for (oy = 0; oy < p->out_h; ++oy) {
            for (ox = 0; ox < p->out_w; ++ox) {
                tf_mve_im2col(p, in_b, oy, ox, scratch + n * row);
                if (++n == TF_MVE_CONV_ROWS) {
                    tf_mve_gemm_s8(&g, scratch, row, n, output);
                    output += n * p->out_c;
                    n = 0;
                }
            }
        }
        if (n) {
            tf_mve_gemm_s8(&g, scratch, row, n, output);
            output += n * p->out_c;
        }
    }
}
