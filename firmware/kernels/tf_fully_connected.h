/*
 * FULLY_CONNECTED, int8 activations and weights [out_depth][accum_depth], int32 bias,
 * per-tensor or per-channel requantization. Bit-exact with TFLite Micro's reference
 * FullyConnected / FullyConnectedPerChannel.
 */
#ifndef TF_FULLY_CONNECTED_H
#define TF_FULLY_CONNECTED_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t accum_depth;
    int32_t out_depth;
    int32_t input_offset; /* -input zero point */
    int32_t filter_offset; /* -weights zero point (per-tensor only; 0 when per-channel) */
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t per_channel;
    const int8_t *weights;
    const int32_t *bias; /* [out_depth] or NULL */
    const int32_t *out_mult;
    const int32_t *out_shift;
} tf_fully_connected_s8_params_t;

void tf_fully_connected_s8(const tf_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_FULLY_CONNECTED_H */
