/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations) for cores with the DSP extension: per time step
 * and row, the input and the hidden state are expanded to int16 once (SXTB16), the four gates'
 * weights ([4S][kx] and [4S][kh]) run as two matrix-vector products 4 rows at a time (SMLAD,
 * tf_dsp_mac.h) with the offsets folded into the bias and the requantization to Q3.12 folded
 * into SMMLAR (tf_dsp_common.h), then the shared cell/hidden update of tf_lstm.c
 * (tf_lstm_cell_s8). Parameters: tf_lstm_params_t with its packed fields (the packer is
 * tinyforge/kernels/ops/dsp_lstm.py). Bit-exact with tf_lstm_s8.
 */
#ifndef TF_DSP_LSTM_H
#define TF_DSP_LSTM_H

#include <stdint.h>

#include "tf_lstm.h"

/* scratch: 2 * rows * 4S int32 accumulators + rows * 4S int16 + 2 * max(kx, kh) bytes
 * (rows = B when time major, else 1) */
void tf_dsp_lstm_s8(const tf_lstm_params_t *p, const int8_t *input, int8_t *output, int8_t *hidden, int16_t *cell,
                    void *scratch);

#endif /* TF_DSP_LSTM_H */
