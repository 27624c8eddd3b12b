/*
 * SVDF (int8 input/output, int16 state and time weights) for cores with the DSP extension: the
 * feature dot products run 4 filters at a time over the input expanded to int16 (SMLAD,
 * tf_dsp_mac.h) with the input offset and the requantization folded (tf_dsp_common.h); the time
 * dot products take the int16 state and weights two at a time (SMLAD), the state zero point
 * folded into the per-unit bias. Parameters: tf_svdf_params_t with its packed fields
 * (tinyforge/kernels/ops/dsp_svdf.py). Bit-exact with tf_svdf_s8.
 */
#ifndef TF_DSP_SVDF_H
#define TF_DSP_SVDF_H

#include <stdint.h>

#include "tf_svdf.h"

/* scratch: filters (rounded up to 4) int32 + 2 * kpad bytes */
void tf_dsp_svdf_s8(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, int16_t *state, void *scratch);

#endif /* TF_DSP_SVDF_H */
