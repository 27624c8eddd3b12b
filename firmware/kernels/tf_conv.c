/* CONV_2D int8 reference kernel: see tf_conv.h. */
#include "tf_conv.h"

#include "tf_common.h"

void tf_conv2d_s8(const tf_conv2d_s8_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t groups = p->in_c / p->filter_in_c;
    const int32_t filters_per_group = p->out_c / groups;
    const int32_t filter_size = p->k_h * p->k_w * p->filter_in_c;
    int32_t b, oy, ox, oc;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + (int32_t)b * p->in_h * p->in_w * p->in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int32_t ch0 = (oc / filters_per_group) * p->filter_in_c;
                    const int8_t *w_oc = p->weights + oc * filter_size;
                    const int32_t q = p->per_channel ? oc : 0;
                    int32_t acc = 0;
                    int32_t ky, kx, ic;
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t in_y = in_y0 + p->dil_h * ky;
                        if (in_y < 0 || in_y >= p->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t in_x = in_x0 + p->dil_w * kx;
                            const int8_t *px;
                            const int8_t *w;
                            if (in_x < 0 || in_x >= p->in_w) {
                                continue;
                            }
                            px = in_b + (in_y * p->in_w + in_x) * p->in_c + ch0;
                            w = w_oc + (ky * p->k_w + kx) * p->filter_in_c;
                            for (ic = 0; ic < p->filter_in_c; ++ic) {
                                acc += (int32_t)w[ic] * ((int32_t)px[ic] + p->input_offset);
                            }
                        }
                    }
                    if (p->bias) {
                        acc += p->bias[oc];
                    }
                    output[((b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc] =
                        tf_requantize(acc, p->out_mult[q], (int)p->out_shift[q], p->output_offset, p->act_min,
                                      p->act_max);
                }
            }
        }
    }
}
