/*
 * FULLY_CONNECTED for Cortex-M55 with Helium: int8 activations, int8 weights with zero point 0,
 * per-tensor or per-channel requantization. Bit-exact with TFLite Micro's reference kernel.
 * Each batch row is a row of the Helium matrix core (tf_mve_gemm.h); the input offset is folded
 * into the bias.
 */
#ifndef TF_MVE_FULLY_CONNECTED_H
#define TF_MVE_FULLY_CONNECTED_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t accum_depth;
    int32_t out_depth;
    int32_t output_offset;
    int32_t act_min, act_max;
    int32_t left_shifts; /* 1 if some channel's shift is >= 0: the general requantization (tf_mve_gemm.h) */
    const int8_t *weights; /* packed, see tf_mve_gemm.h; k = accum_depth */
    const int32_t *qparams; /* packed bias' / multiplier / shifts, see tf_mve_gemm.h */
} tf_mve_fully_connected_s8_params_t;

void tf_mve_fully_connected_s8(const tf_mve_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_MVE_FULLY_CONNECTED_H */
