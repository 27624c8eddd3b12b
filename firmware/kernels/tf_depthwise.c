/* DEPTHWISE_CONV_2D int8 reference kernel: see tf_depthwise.h. */
#include "tf_depthwise.h"

#include "tf_common.h"

void tf_depthwise_conv2d_s8(const tf_depthwise_conv2d_s8_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t b, oy, ox, ic, m;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + (int32_t)b * p->in_h * p->in_w * p->in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                int8_t *out_px = output + ((b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (ic = 0; ic < p->in_c; ++ic) {
                    for (m = 0; m < p->depth_mult; ++m) {
                        const int32_t oc = m + ic * p->depth_mult;
                        const int32_t q = p->per_channel ? oc : 0;
                        int32_t acc = 0;
                        int32_t ky, kx;
                        for (ky = 0; ky < p->k_h; ++ky) {
                            const int32_t in_y = in_y0 + p->dil_h * ky;
                            if (in_y < 0 || in_y >= p->in_h) {
                                continue;
                            }
                            for (kx = 0; kx < p->k_w; ++kx) {
                                const int32_t in_x = in_x0 + p->dil_w * kx;
                                if (in_x < 0 || in_x >= p->in_w) {
                                    continue;
                                }
                                acc += (int32_t)p->weights[(ky * p->k_w + kx) * p->out_c + oc] *
                                       ((int32_t)in_b[(in_y * p->in_w + in_x) * p->in_c + ic] + p->input_offset);
                            }
                        }
                        if (p->bias) {
                            acc += p->bias[oc];
                        }
                        out_px[oc] = tf_requantize(acc, p->out_mult[q], (int)p->out_shift[q], p->output_offset,
                                                   p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}
