/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations) with Helium (Cortex-M55): per time step and row,
 * the four gates' weights ([4S][kx] and [4S][kh], int8, offsets folded into the bias) run as two
 * matrix-vector products 4 rows at a time with VMLADAVA.S8 (16 MACs per instruction), the gate
 * pre-activations are requantized to Q3.12 4 lanes at a time (tf_mve_common.h, bit-exact with
 * the scalar requantization), then the shared cell/hidden update of tf_lstm.c (tf_lstm_cell_s8).
 * Parameters: tf_lstm_params_t with its packed fields (tinyforge/kernels/ops/mve_lstm.py).
 * Bit-exact with tf_lstm_s8.
 */
#ifndef TF_MVE_LSTM_H
#define TF_MVE_LSTM_H

#include <stdint.h>

#include "tf_lstm.h"

/* scratch: 2 * rows * 4S int32 + rows * 4S int16 + max(kx, kh) bytes (rows = B if time major) */
void tf_mve_lstm_s8(const tf_lstm_params_t *p, const int8_t *input, int8_t *output, int8_t *hidden, int16_t *cell,
                    void *scratch);

#endif /* TF_MVE_LSTM_H */
