/*
 * DSP-extension kernels (Cortex-M4/M7/M33/M55) for the 16x8 convolutions: int16 activations,
 * int8 weights, int64 or int32 bias. Bit-exact with tf_conv_s16.c (TFLite Micro's reference).
 *
 * tf_dsp_conv_s16: CONV_2D (groups 1) and FULLY_CONNECTED (a 1x1 convolution over the rows) as
 * a matrix multiply. The taps of each output pixel (im2col, zeros for padded taps, rounded up to a
 * multiple of 4 with zeros) are copied to `scratch`; then a block of output channels x pixels is
 * summed with SMLAD, the int16 inputs taken two at a time. The int8 weights stay int8: each group
 * of 4 taps of a channel is stored (w0, w2, w1, w3), so SXTB16 and SXTB16 ROR #8 give the pairs
 * (w0, w1) and (w2, w3), and the groups of the `block` channels of a step are interleaved:
 *   block 2: 2 channels x 2 pixels per step (the pixels' taps interleaved word by word)
 *   block 4: 4 channels x 1 pixel (layers with one output pixel: FULLY_CONNECTED with one row)
 * The channel count is padded to a multiple of `block` with zero weights.
 *
 * tf_dsp_depthwise_conv2d_s16: DEPTHWISE_CONV_2D, weights stored as int16 [k_h][k_w][channels].
 * Depth multiplier 1: 4 channels per step (SMLABB/SMLATT on channel pairs; a whole 3x3 window
 * without a loop); a larger one: the output channels of one input channel in pairs (SMLABB/SMLABT).
 *
 * The int32 SMLAD sums are exact for runs of up to TF_S16_CHUNK taps (longer sums are split and
 * added in int64); the int32-bias path wraps them, as TFLM's int32 accumulator does.
 *
 * Requantization, per output channel (always one value per channel here):
 *   acc64 = 1  out = (sum * out_mult + bias64) >> out_shift, with out_mult the Q31 multiplier
 *              rounded to Q15, out_shift = 15 - shift and bias64 = bias * out_mult + 2^(out_shift-1):
 *              TFLM's int64 MultiplyByQuantizedMultiplier of (sum + bias), folded by the packer
 *   acc64 = 2  the same with out_mult and bias64 scaled by 2^(32 - out_shift) (when that fits):
 *              out = the high word of sum * out_mult + bias64 (one SMLAL); only for sums that fit
 *              int32 (the kernels use acc64 = 1 for longer ones)
 *   acc64 = 0  out = tf_multiply_by_quantized_multiplier(sum + bias32, out_mult, out_shift)
 * then the clamp to [act_min, act_max]. (The high word of x * 2^(32 - s) is the low word of
 * x >> s, which is what TFLM's cast to int32 keeps, as long as x * 2^(32 - s) fits int64.)
 */
#ifndef TF_DSP_CONV_S16_H
#define TF_DSP_CONV_S16_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t taps; /* k_h * k_w * in_c */
    int32_t taps4; /* taps rounded up to a multiple of 4 */
    int32_t block; /* 2: 2 channels x 2 pixels, 4: 4 channels x 1 pixel */
    int32_t act_min, act_max;
    int32_t acc64;
    const int8_t *weights; /* [out_c / block][taps4 / 4][block][4], see above */
    const int64_t *bias64; /* folded: bias * out_mult + rounding, per channel (acc64) */
    const int32_t *bias32; /* per channel (!acc64), or NULL */
    const int32_t *out_mult;
    const int32_t *out_shift;
} tf_dsp_conv_s16_params_t;

typedef struct {
    int32_t batches;
    int32_t in_h, in_w, in_c;
    int32_t channels; /* output channels: in_c * depth_mult */
    int32_t depth_mult;
    int32_t out_h, out_w;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t dil_h, dil_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
    int32_t acc64;
    const int16_t *weights; /* [k_h][k_w][channels] */
    const int16_t *weights4; /* depth multiplier 1: [channels / 4][k_h * k_w][4] (whole groups of 4) */
    const int64_t *bias64; /* as tf_dsp_conv_s16_params_t */
    const int32_t *bias32;
    const int32_t *out_mult;
    const int32_t *out_shift;
} tf_dsp_depthwise_conv2d_s16_params_t;

/* scratch: 2 * taps4 int16 */
void tf_dsp_conv_s16(const tf_dsp_conv_s16_params_t *p, const int16_t *input, int16_t *output, void *scratch);
void tf_dsp_depthwise_conv2d_s16(const tf_dsp_depthwise_conv2d_s16_params_t *p, const int16_t *input,
                                 int16_t *output);

#endif /* TF_DSP_CONV_S16_H */
