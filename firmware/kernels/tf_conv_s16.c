/* CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED 16x8 reference kernels: see tf_conv_s16.h. */
#include "tf_conv_s16.h"

#include "tf_common.h"
#include "tf_s16_common.h"

/* Sum of w[i] * x[i] for n terms, exact: int32 runs of at most TF_S16_CHUNK terms. */
static int64_t tf_s16_dot(const int8_t *w, const int16_t *x, int32_t n)
{
    int64_t total = 0;
    while (n > 0) {
        const int32_t run = n < TF_S16_CHUNK ? n : TF_S16_CHUNK;
        int32_t acc = 0;
        int32_t i;
        for (i = 0; i < run; ++i) {
            acc += (int32_t)w[i] * (int32_t)x[i];
        }
        total += acc;
        w += run;
        x += run;
        n -= run;
    }
    return total;
}

void tf_conv2d_s16(const tf_conv2d_s16_params_t *p, const int16_t *input, int16_t *output)
{
    const int32_t groups = p->in_c / p->filter_in_c;
    const int32_t filters_per_group = p->out_c / groups;
    const int32_t filter_size = p->k_h * p->k_w * p->filter_in_c;
    int32_t b, oy, ox, oc;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->in_h * p->in_w * p->in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                int16_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int32_t ch0 = (oc / filters_per_group) * p->filter_in_c;
                    const int8_t *w_oc = p->weights + oc * filter_size;
                    int64_t acc = 0;
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
                            acc += tf_s16_dot(w_oc + (ky * p->k_w + kx) * p->filter_in_c,
                                              in_b + (in_y * p->in_w + in_x) * p->in_c + ch0, p->filter_in_c);
                        }
                    }
                    out[oc] = tf_s16_requantize(acc, oc, p->acc64, p->per_channel, p->bias64, p->bias32, p->out_mult,
                                            p->out_shift, p->act_min, p->act_max);
                }
            }
        }
    }
}

void tf_depthwise_conv2d_s16(const tf_depthwise_conv2d_s16_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t b, oy, ox, ic, m;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in_b = input + b * p->in_h * p->in_w * p->in_c;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t in_y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t in_x0 = ox * p->stride_w - p->pad_w;
                int16_t *out = output + ((b * p->out_h + oy) * p->out_w + ox) * p->out_c;
                for (ic = 0; ic < p->in_c; ++ic) {
                    for (m = 0; m < p->depth_mult; ++m) {
                        const int32_t oc = m + ic * p->depth_mult;
                        int64_t acc = 0;
                        int32_t run = 0; /* exact int32 partial sum of at most TF_S16_CHUNK taps */
                        int32_t taps = 0;
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
                                run += (int32_t)p->weights[(ky * p->k_w + kx) * p->out_c + oc] *
                                       (int32_t)in_b[(in_y * p->in_w + in_x) * p->in_c + ic];
                                if (++taps == TF_S16_CHUNK) {
                                    acc += run;
                                    run = 0;
                                    taps = 0;
                                }
                            }
                        }
                        acc += run;
                        out[oc] = tf_s16_requantize(acc, oc, p->acc64, p->per_channel, p->bias64, p->bias32,
                                                p->out_mult, p->out_shift, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
}

void tf_fully_connected_s16(const tf_fully_connected_s16_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t b, oc;
    for (b = 0; b < p->batches; ++b) {
        const int16_t *in = input + b * p->accum_depth;
        for (oc = 0; oc < p->out_depth; ++oc) {
            const int64_t acc = tf_s16_dot(p->weights + oc * p->accum_depth, in, p->accum_depth);
            output[b * p->out_depth + oc] = tf_s16_requantize(acc, oc, p->acc64, p->per_channel, p->bias64, p->bias32,
                                                          p->out_mult, p->out_shift, p->act_min, p->act_max);
        }
    }
}
