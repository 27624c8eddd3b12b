/*
 * FULLY_CONNECTED int8 for cores with the DSP extension: each input row expanded once to int16
 * (SXTB16), then 4 output channels at a time take SMLADs over int16 weights the packer expanded
 * and interleaved (tinyforge/kernels/ops/dsp_fully_connected.py); on boards with little flash the
 * weights stay int8 and are unpacked in the inner loop. The input offset and the weights'
 * zero point are folded into bias and weights; requantization as in tf_dsp_common.h. Bit-exact
 * with tf_fully_connected_s8 for the layers the packer accepts.
 */
#ifndef TF_DSP_FULLY_CONNECTED_H
#define TF_DSP_FULLY_CONNECTED_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t accum_depth;
    int32_t kpad; /* accum_depth rounded up to a multiple of 8 */
    int32_t out_depth;
    int32_t fast; /* 1: activation range all of int8 and output zero point -128 (tf_dsp_common.h) */
    int32_t act_min, act_max;
    int32_t int8_weights;   /* 0: int16 weights (scaled, see dsp.py); 1: int8 (boards with little flash) */
    const int32_t *weights; /* int16 pairs [out_depth/4][kpad/4][4 channels][2 words], or int8
                             * [out_depth/4][kpad/4][4 channels][1 word] */
    const int32_t *qparams; /* [out_depth/4][16]: bias[4], mult[4], kq[4], rshift[4] */
} tf_dsp_fully_connected_s8_params_t;

/* scratch: 2 * kpad bytes */
void tf_dsp_fully_connected_s8(const tf_dsp_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output,
                               void *scratch);

#endif /* TF_DSP_FULLY_CONNECTED_H */
