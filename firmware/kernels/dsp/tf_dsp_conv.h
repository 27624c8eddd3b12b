/*
 * CONV_2D int8 for cores with the DSP extension: im2col of two output pixels at a time into int16
 * (SXTB16), then a 2 pixels x 2 output channels block of SMLADs over int16 weights the packer
 * expanded and interleaved (tinyforge/kernels/ops/dsp_conv.py); on boards with little flash the
 * weights stay int8 and are unpacked in the inner loop. The input offset is folded into the
 * bias (padding reads the input zero point, which contributes 0), the requantization is folded as
 * described in tf_dsp_common.h. Bit-exact with tf_conv2d_s8 for the layers the packer accepts.
 */
#ifndef TF_DSP_CONV_H
#define TF_DSP_CONV_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t kpad;      /* k_h * k_w * in_c rounded up to a multiple of 8 */
    int32_t pad_value; /* the input zero point: padded taps read it and so contribute 0 */
    int32_t fast;      /* 1: activation range all of int8 and output zero point -128 (tf_dsp_common.h) */
    int32_t act_min, act_max;
    int32_t int8_weights; /* 0: int16 weights (scaled, see dsp.py); 1: int8 (boards with little flash) */
    const int32_t *weights; /* int16 pairs [out_c/2][kpad/4][2 channels][2 words], or int8
                             * [out_c/2][kpad/4][2 channels][1 word]; see dsp_conv.py */
    const int32_t *qparams; /* [out_c/2][8]: bias0 bias1 mult0 mult1 kq0 kq1 rshift0 rshift1 */
} tf_dsp_conv_s8_params_t;

/* scratch: 4 * kpad bytes (+ kpad bytes when in_c is not a multiple of 4) */
void tf_dsp_conv_s8(const tf_dsp_conv_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch);

#endif /* TF_DSP_CONV_H */
