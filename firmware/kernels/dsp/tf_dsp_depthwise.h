/*
 * DEPTHWISE_CONV_2D int8 for cores with the DSP extension, one channel at a time: the channel's
 * input plane is gathered into an int16 buffer with its padding (which reads the input zero point,
 * contributing 0: the input offset is folded into the bias), then two horizontally adjacent outputs
 * at a time take one SMLAD per pair of taps (3x3 stride 1 and stride 2 have their own loops, other
 * shapes a general one). Requantization folded as in tf_dsp_common.h. Bit-exact with
 * tf_depthwise_conv2d_s8 for the layers the packer (tinyforge/kernels/ops/dsp_conv.py) accepts.
 */
#ifndef TF_DSP_DEPTHWISE_H
#define TF_DSP_DEPTHWISE_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t depth_mult;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t plane_h, plane_w; /* the int16 plane: input rows/columns -pad_h.. / -pad_w.., padded;
                               * 3x3 stride 1: exactly out_w + 2 wide (see tf_dsp_dw_3x3) */
    int32_t pad_value;        /* the input zero point */
    int32_t fast;             /* 1: activation range all of int8, output zero point -128 (tf_dsp_common.h) */
    int32_t act_min, act_max;
    const int32_t *weights; /* per output channel: k_h rows of (k_w+1)/2 int16 pairs (w[kx], w[kx+1]) */
    const int32_t *qparams; /* per output channel: bias, mult, kq, rshift */
} tf_dsp_depthwise_s8_params_t;

/* scratch: 2 * (plane_h * plane_w + 4) bytes rounded up to 4 (the plane), then 4 * out_h * max(plane_w,
 * out_w rounded up to even) (the accumulators); see dsp_conv.py dw_scratch_bytes */
void tf_dsp_depthwise_s8(const tf_dsp_depthwise_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch);

#endif /* TF_DSP_DEPTHWISE_H */
