/*
 * DEPTHWISE_CONV_2D int8 for cores with the DSP extension, any kernel size, stride, dilation and
 * depth multiplier, one input channel at a time:
 *  - the channel's input is gathered into an int16 plane with its padding (which reads the input
 *    zero point and so contributes 0: the input offset is folded into the bias). The plane is the
 *    input transposed when the kernel is taller than wide (k x 1 time filters), so that the
 *    kernel's long side runs along the plane's rows; a dilation along the rows (stride 1) is
 *    gathered as interleaved phases, so that the taps of one output are adjacent;
 *  - each output channel of that input channel (depth multiplier) expands its int8 weights (the
 *    model's, reordered per channel by tinyforge/kernels/ops/dsp_conv.py) to int16 pairs, doubled;
 *  - outputs are computed two at a time along the plane's rows with one SMLAD per pair of taps
 *    (3x3 has loops of its own), and requantized as they are produced (tf_dsp_common.h).
 * The direct path (`direct`, depth multiplier 1 and a multiple of 4 channels) has no plane: four
 * channels at a time, one input word per tap unpacked with SXTAB16 (the input offset added, so
 * that an output at the border just skips its padded taps), SMLABB / SMLATT against the doubled
 * weights of the four channels, and four outputs requantized into one word store; the bias is
 * unfolded from the input offset at run time (start + 2 * zp * sum of the weights).
 * Bit-exact with tf_depthwise_conv2d_s8 for the layers the packer accepts.
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
    int32_t transpose; /* 1: the plane is the input transposed (plane rows are input columns) */
    int32_t phases;    /* the dilation along plane rows, gathered as interleaved phases (1: none) */
    int32_t plane_h, plane_w; /* the plane's rows and columns (phases: plane_w = phases * phase_w) */
    int32_t planes;           /* 4: four input channels gathered at once into four planes (else 1) */
    int32_t pad_value;        /* the input zero point */
    int32_t out_zp;
    int32_t fast; /* 1: activation range all of int8, output zero point -128 (tf_dsp_common.h) */
    int32_t act_min, act_max;
    int32_t per_channel;    /* one multiplier per output channel (else one for all) */
    const int8_t *weights;  /* per output channel: k_h * k_w int8 taps, row-major in plane coordinates
                             * (transposed with the plane) */
    const int32_t *bias;    /* per output channel: accumulator start << 5 | right shift */
    const int32_t *mult;    /* the multipliers (per channel, or one) */
    const uint8_t *rshift;  /* int8: 0, or the right shifts when `bias` holds the starts unpacked
                             * (a start of 26 bits or more) */
    int32_t direct; /* 1: the channel-last path (depth multiplier 1, in_c % 4 == 0): `weights` in the
                     * model's order [ky][kx][channel], no plane, no scratch */
    int32_t shift;  /* the direct path: 0, or S of the shift runs (tf_dsp_depthwise.c tf_dw4_shift_setup:
                     * the packer's choice, conv.py direct_shift) */
} tf_dsp_depthwise_s8_params_t;

/* scratch: `planes` planes, 2 * (plane_h * plane_w + 4) bytes rounded up to 4 each, then the expanded
 * weights, 4 * (kernel rows * ((kernel columns + 1) / 2)) bytes in plane coordinates; see
 * dsp_conv.py dw_scratch_bytes */
void tf_dsp_depthwise_s8(const tf_dsp_depthwise_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch);

/* the direct path (`direct` 1; its own entry point, so that models without it do not link it);
 * no scratch */
typedef tf_dsp_depthwise_s8_params_t tf_dsp_depthwise_direct_s8_params_t;
void tf_dsp_depthwise_direct_s8(const tf_dsp_depthwise_direct_s8_params_t *p, const int8_t *input, int8_t *output,
                                void *scratch);

#endif /* TF_DSP_DEPTHWISE_H */
