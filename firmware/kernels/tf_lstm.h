/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM, integer: the standard (Keras) LSTM without peephole, projection,
 * CIFG or layer norm, as TFLite Micro's integer kernel computes it:
 *
 *   gate = act(FC_x(x_t) + FC_h(h_{t-1}))      FCs to int16 Q3.12, act: sigmoid (input, forget,
 *                                              output gates) or tanh (cell gate) to Q0.15
 *   c_t  = sat16(f * c_{t-1} + i * g)          int16 cell state of scale 2^p, optional clip
 *   h_t  = o * tanh(c_t)                       requantized to the hidden state's scale/zero point
 *
 * tf_lstm_s8: int8 activations and hidden state, int8 weights, int32 bias, int16 cell state.
 * tf_lstm_s16: int16 activations and hidden state ("16x8"), int8 weights, int64 bias.
 * The hidden and cell state live in the arena and carry over from one call to the next.
 */
#ifndef TF_LSTM_H
#define TF_LSTM_H

#include <stdint.h>

/* Gate order in every [4] array and in the weights: input, forget, cell, output (TFLite's). */
typedef struct {
    int32_t batches;    /* B */
    int32_t time_steps; /* T */
    int32_t input_dim;  /* I */
    int32_t state_dim;  /* S */
    int32_t time_major; /* input/output laid out [T][B][.] instead of [B][T][.] */
    int32_t input_offset;  /* -input zero point (0 for s16) */
    int32_t hidden_offset; /* -hidden state zero point: the recurrent FC's input offset */
    const int8_t *input_weights;     /* [4][S][I] */
    const int8_t *recurrent_weights; /* [4][S][S] */
    const void *bias;                /* [4][S]: int32_t (s8) or int64_t (s16) */
    int32_t in_mult[4];
    int32_t in_shift[4]; /* input FC accumulator -> Q3.12 */
    int32_t rec_mult[4];
    int32_t rec_shift[4]; /* recurrent FC accumulator -> Q3.12 */
    int32_t forget_mult, forget_shift; /* forget gate (Q0.15) x cell -> cell */
    int32_t update_mult, update_shift; /* input gate x cell gate (Q0.15 x Q0.15) -> cell */
    int32_t hidden_mult, hidden_shift; /* tanh(cell) x output gate (Q0.15 x Q0.15) -> hidden */
    int32_t hidden_zero_point;
    int32_t hidden_min, hidden_max;          /* the hidden state type's range */
    int32_t cell_tanh_mult, cell_tanh_shift; /* tanh input: (c * mult + round) >> shift */
    int32_t cell_clip;                       /* quantized cell clip; -1: none */
    /* DSP/Helium kernels only (firmware/kernels/dsp, mve): the four gates' weights as one [4S][.]
     * matrix per operand, packed in the order their inner loops read them and padded to kx / kh,
     * the offsets folded into the biases (bias + input_offset * row sums; the DSP kernel's also
     * scaled for its folded requantization), and per row n < 4S the constants that take the
     * accumulator to Q3.12 (q_x, q_h [4S][3]; dsp: multiplier, rounding constant, right shift of
     * tf_dsp_requant; mve: multiplier, left shift, -right shift). */
    int32_t kx, kh;
    int32_t packed_w8;    /* dsp: 1 when the packed weights stay int8 (boards with little flash) */
    const void *packed_x; /* [4S][kx] */
    const void *packed_h; /* [4S][kh] */
    const int32_t *bias_x; /* [4S] */
    const int32_t *bias_h; /* [4S] */
    const int32_t *q_x;
    const int32_t *q_h;
} tf_lstm_params_t;

/* Scratch: 2 * rows * 4S accumulators (int32 for s8, int64 for s16) and rows * 4S int16 gate
 * pre-activations, rows = B when time_major else 1. */
void tf_lstm_s8(const tf_lstm_params_t *p, const int8_t *input, int8_t *output, int8_t *hidden, int16_t *cell,
                void *scratch);
void tf_lstm_s16(const tf_lstm_params_t *p, const int16_t *input, int16_t *output, int16_t *hidden,
                 int16_t *cell, void *scratch);

/* The step after the gate pre-activations (for the DSP/Helium kernels): pre [rows][4][S] holds
 * each gate's saturated FC(x) + FC(h) in Q3.12; updates cell and hidden [rows][S] and writes the
 * new hidden state to out. */
void tf_lstm_cell_s8(const tf_lstm_params_t *p, const int16_t *pre, int32_t rows, int16_t *cell, int8_t *hidden,
                     int8_t *out);

/* The int16 sigmoid / tanh of TFLite's integer LSTM (shared 256-entry LUT, linear interpolation):
 * sigmoid of a Q3.12 input to Q0.15; tanh of (x * mult + round) >> shift to Q0.15. */
int16_t tf_lstm_sigmoid(int16_t x);
int16_t tf_lstm_tanh(int16_t x, int32_t mult, int32_t shift);

#endif /* TF_LSTM_H */
