/*
 * CONV_2D int8 for cores with the DSP extension: im2col of two output pixels at a time into int16
 * (SXTB16), then a 2 pixels x 2 output channels block of SMLADs. The weights are those of the
 * model, reordered by the packer (tinyforge/kernels/ops/dsp_conv.py) so that one LDRD gives two
 * channels' next 4 taps, and unpacked in the inner loop (SXTB16 and SXTB16 ROR #8); with
 * `--optimize speed` they are widened to int16 at build time instead (`wide`). The input offset is
 * folded into the bias (padding reads the input zero point, which contributes 0), the
 * requantization is folded as described in tf_dsp_common.h. Bit-exact with tf_conv2d_s8 for the
 * layers the packer accepts.
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
    int32_t out_zp;    /* the output zero point (int8 weights: the rounding constant is made from it) */
    int32_t fast;      /* 1: activation range all of int8 and output zero point -128 (tf_dsp_common.h) */
    int32_t act_min, act_max;
    int32_t wide;        /* 1: int16 weights with the constants in their stream (--optimize speed); 0: int8 */
    int32_t xdouble;     /* int8 weights: 1 doubles the im2col values, 0 doubles the sums */
    int32_t wexpand;     /* int8 weights: 1 expands them (doubled) to int16 in the scratch once per
                          * call and runs the int16-weight blocks (neither values nor sums doubled) */
    int32_t few; /* in_c not a multiple of 4, no column dilation, 0 < k_w * in_c % 4 and k_h * that <= 4: the
                  * taps in the order each kernel row's whole words, then the rows' leftover bytes in
                  * one chunk (dsp/conv.py tap_order) */
    int32_t per_channel; /* int8 weights: one multiplier per output channel (else one for all) */
    const int32_t *weights; /* int8: [out_c/2][kpad/4][2 channels][1 word]; wide: per channel pair
                             * start0 start1 start0 start1, int16 pairs [kpad/4][2 channels][2 words],
                             * mult0 mult1 kq0 kq1 rshift0 rshift1 (the last pair's rshift1 | 256);
                             * see dsp/conv.py */
    const int32_t *bias;    /* int8: per output channel, accumulator start << 5 | right shift;
                             * wide: unused (in the weight stream) */
    const int32_t *mult;    /* int8: the multipliers (per channel, or one) */
    const uint8_t *rshift;  /* int8: 0, or the right shifts when `bias` holds the starts unpacked
                             * (a start of 26 bits or more) */
} tf_dsp_conv_s8_params_t;

/* scratch: 4 * kpad bytes (+ kpad bytes when in_c is not a multiple of 4: the im2col row is gathered
 * as int8 first) (+ 16 bytes per output channel, rounded up to even, for int8 weights: their constants
 * decoded once per call) (+ 2 * kpad bytes per output channel, rounded up to even, with wexpand: the
 * weights as int16) */
void tf_dsp_conv_s8(const tf_dsp_conv_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch);

#endif /* TF_DSP_CONV_H */
