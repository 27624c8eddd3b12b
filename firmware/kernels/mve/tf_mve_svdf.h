/*
 * SVDF (int8 input/output, int16 state and time weights) with Helium (Cortex-M55): the feature
 * dot products 4 filters at a time with VMLADAVA.S8 (int8 weights packed as the matrix core's,
 * input offset in the bias), the time dot products 8 int16 at a time with VMLADAVA.S16 (tail
 * predicated), the state zero point folded into the per-unit bias. Parameters: tf_svdf_params_t
 * with its packed fields (tinyforge/kernels/ops/mve_svdf.py). Bit-exact with tf_svdf_s8.
 */
#ifndef TF_MVE_SVDF_H
#define TF_MVE_SVDF_H

#include <stdint.h>

#include "tf_svdf.h"

/* scratch: filters (rounded up to 4) int32 + kpad bytes */
void tf_mve_svdf_s8(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, int16_t *state, void *scratch);

#endif /* TF_MVE_SVDF_H */
