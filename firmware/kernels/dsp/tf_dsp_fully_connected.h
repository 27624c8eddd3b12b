/*
 * FULLY_CONNECTED int8 for cores with the DSP extension: 4 output channels at a time take SMLADs
 * over the input row as int16 pairs (expanded once per row into the scratch, or, `lean`, unpacked
 * in the inner loop so that the layer needs no scratch) and the model's int8 weights, reordered by
 * the packer (tinyforge/kernels/ops/dsp/fully_connected.py) so that one LDM gives the 4 channels'
 * next 4 weights, two channels in a word (the second offset by 128: one SXTB16 per 4 MACs); with
 * `--optimize speed` the weights are widened to int16 at build time instead (`wide`). The input offset and the weights' zero point
 * are folded into bias and weights; requantization as in tf_dsp_common.h. A row's blocks run in one
 * assembly function (`run`, the block constants in the weight stream) except for int8 weights with
 * per-channel constants (C block loops). Bit-exact with tf_fully_connected_s8 for the layers the
 * packer accepts.
 */
#ifndef TF_DSP_FULLY_CONNECTED_H
#define TF_DSP_FULLY_CONNECTED_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t accum_depth;
    int32_t kpad; /* accum_depth rounded up to a multiple of 8 */
    int32_t out_depth;
    int32_t out_zp;
    int32_t fast; /* 1: activation range all of int8 and output zero point -128 (tf_dsp_common.h) */
    int32_t act_min, act_max;
    int32_t wide;        /* 1: int16 weights and qparams (--optimize speed); 0: int8 weights */
    int32_t xdouble;     /* int8 weights, not lean: 1 doubles the expanded row, 0 doubles the sums */
    int32_t per_channel; /* int8 weights: one multiplier per output channel (else one for all) */
    int32_t lean;        /* 1: no scratch, the row is unpacked in the inner loop (accum_depth % 8 == 0) */
    const int32_t *weights; /* int8: [out_depth/4][kpad/4][2 channel pairs][2 words] (two channels'
                             * weights per word, tf_dsp_fc_w8_body); wide: int16 pairs
                             * [out_depth/4][kpad/8][4 channels][4 words] (inputs (0, 2), (1, 3),
                             * (4, 6), (5, 7)); with the block constants: see `run` */
    const int32_t *bias;    /* int8, run -1: per output channel, accumulator start << 5 | right shift */
    const int32_t *mult;    /* int8: the multipliers (per channel, or one) */
    const uint8_t *rshift;  /* int8: 0, or the right shifts when `bias` holds the starts unpacked
                             * (a start of 26 bits or more) */
    int32_t run;     /* >= 0: the block constants are in the weight stream and the rows go to the
                      * assembly run `run` (tf_dsp_fully_connected.c, TF_DSP_FC_VARIANTS): int8
                      * weights with one multiplier and right shift (`mult[0]`, `rshift1`):
                      * [block][start[4], the block's weights]; wide: [block][bias[4], weights,
                      * 0x01010101, mult[4], kq[4], rshift[4]]. -1: the layout above (int8, per channel). */
    int32_t rshift1; /* run, int8 weights: the right shift of every channel */
} tf_dsp_fully_connected_s8_params_t;

/* scratch: 2 * kpad bytes (none when lean) */
void tf_dsp_fully_connected_s8(const tf_dsp_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output,
                               void *scratch);

#endif /* TF_DSP_FULLY_CONNECTED_H */
