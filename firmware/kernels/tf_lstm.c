/* UNIDIRECTIONAL_SEQUENCE_LSTM integer kernels: see tf_lstm.h. */
#include "tf_lstm.h"

#include "tf_common.h"
#include "tf_requant.h"

/* sigmoid(i / 24) in unsigned Q0.16 (65535 at the end), the LUT of TFLite's int16 sigmoid and
 * tanh (tanh(x) = 2 sigmoid(2x) - 1); interpolated linearly between entries. */
static const uint16_t k_sigmoid_lut[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
};

/* Saturate to int16: one SSAT where the core has it. */
TF_INLINE int32_t sat16(int32_t v)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    int32_t r;
    __asm__("ssat %0, #16, %1" : "=r"(r) : "r"(v));
    return r;
#else
    return tf_clamp(v, -32768, 32767);
#endif
}

TF_INLINE int16_t sigmoid(int32_t x)
{
    /* Q3.12 times 3: the LUT step 1/24 is 2^9 input units */
    const int32_t v = x * 3;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t hi = a >> 9;
    uint32_t r;
    if (hi >= 255u) {
        r = 0x7FFFu << 10;
    } else {
        const uint32_t lo = k_sigmoid_lut[hi];
        r = (lo << 9) + (a & 0x1FFu) * ((uint32_t)k_sigmoid_lut[hi + 1u] - lo);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    return (int16_t)(r >> 10);
}

TF_INLINE int16_t tanh_scaled(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    const int32_t v = (x * mult + round) >> shift;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t hi = a >> 8;
    int32_t r;
    if (hi >= 255u) {
        r = (int32_t)(0xFFFFu << 8);
    } else {
        const uint32_t lo = k_sigmoid_lut[hi];
        r = (int32_t)((lo << 8) + (a & 0xFFu) * ((uint32_t)k_sigmoid_lut[hi + 1u] - lo));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(r >> 8);
}

int16_t tf_lstm_sigmoid(int16_t x)
{
    return sigmoid(x);
}

int16_t tf_lstm_tanh(int16_t x, int32_t mult, int32_t shift)
{
    return tanh_scaled(x, mult, shift);
}

/* TFLite's MultiplyByQuantizedMultiplier for an int64 accumulator (16x8 kernels): the multiplier
 * rounded to 16 bits, one rounding shift. */
TF_INLINE int32_t requant64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total = 15 - shift;
    return (int32_t)((x * reduced + ((int64_t)1 << (total - 1))) >> total);
}

/* acc[r][n] = bias[n] + sum_c w[n][c] * (x[r][c] + x_offset) for the 4S rows of one of the two
 * weight matrices ([4][S][cols]): int32 accumulators, wrapping like TFLite's plain int32 sums. */
static void fc_s8(const int8_t *x, int32_t rows, int32_t cols, int32_t x_offset, const int8_t *w, int32_t n_out,
                  const int32_t *bias, int32_t *acc)
{
    int32_t r, n, c;
    for (r = 0; r < rows; ++r) {
        const int8_t *xr = x + r * cols;
        for (n = 0; n < n_out; ++n) {
            const int8_t *wn = w + n * cols;
            uint32_t a = bias ? (uint32_t)bias[n] : 0u;
            for (c = 0; c < cols; ++c) {
                a += (uint32_t)((int32_t)wn[c] * ((int32_t)xr[c] + x_offset));
            }
            acc[r * n_out + n] = (int32_t)a;
        }
    }
}

/* The same from an int16 operand (16x8): int64 accumulators, no input offset. */
static void fc_s16(const int16_t *x, int32_t rows, int32_t cols, const int8_t *w, int32_t n_out, const int64_t *bias,
                   int64_t *acc)
{
    int32_t r, n, c;
    for (r = 0; r < rows; ++r) {
        const int16_t *xr = x + r * cols;
        for (n = 0; n < n_out; ++n) {
            const int8_t *wn = w + n * cols;
            int64_t a = bias ? bias[n] : 0;
            for (c = 0; c < cols; ++c) {
                a += (int32_t)wn[c] * (int32_t)xr[c];
            }
            acc[r * n_out + n] = a;
        }
    }
}

/* Everything after the gate pre-activations pre[rows][4][S] (Q3.12), unit by unit (every gate
 * read the old hidden state, so the order is free): sigmoid or (cell gate) tanh to Q0.15, then
 * the cell state, the hidden state and the output. */
TF_INLINE void cell_update(const tf_lstm_params_t *p, const int16_t *pre, int32_t rows, int16_t *cell,
                           void *hidden, void *out, int is16)
{
    const int32_t S = p->state_dim;
    int32_t r, s;
    for (r = 0; r < rows; ++r) {
        const int16_t *pr = pre + r * 4 * S;
        for (s = 0; s < S; ++s) {
            const int32_t k = r * S + s;
            const int32_t ig = sigmoid(pr[s]);
            const int32_t fg = sigmoid(pr[S + s]);
            const int32_t cg = tanh_scaled(pr[2 * S + s], 3, 0);
            const int32_t og = sigmoid(pr[3 * S + s]);
            const int32_t kept = sat16(tf_requant_fast(fg * cell[k], p->forget_mult, p->forget_shift));
            const int32_t added = sat16(tf_requant_fast(ig * cg, p->update_mult, p->update_shift));
            int32_t c = sat16(kept + added), v;
            if (p->cell_clip >= 0) {
                c = tf_clamp(c, -p->cell_clip, p->cell_clip);
            }
            cell[k] = (int16_t)c;
            v = p->hidden_zero_point +
                tf_requant_fast(tanh_scaled(c, p->cell_tanh_mult, p->cell_tanh_shift) * og, p->hidden_mult, p->hidden_shift);
            v = tf_clamp(v, p->hidden_min, p->hidden_max);
            if (is16) {
                ((int16_t *)hidden)[k] = (int16_t)v;
                ((int16_t *)out)[k] = (int16_t)v;
            } else {
                ((int8_t *)hidden)[k] = (int8_t)v;
                ((int8_t *)out)[k] = (int8_t)v;
            }
        }
    }
}

void tf_lstm_cell_s8(const tf_lstm_params_t *p, const int16_t *pre, int32_t rows, int16_t *cell, int8_t *hidden,
                     int8_t *out)
{
    cell_update(p, pre, rows, cell, hidden, out, 0);
}

/* One time step for `rows` rows of x (rows x I) with their state h, c (rows x S); writes the new
 * state and y (rows x S, the new hidden state). Each gate's two FCs are requantized to Q3.12
 * separately, saturated, summed and saturated, as TFLite Micro's CalculateLstmGate. */
static void step(const tf_lstm_params_t *p, int is16, const void *x, void *h, int16_t *c, void *y, int32_t rows,
                 void *scratch)
{
    const int32_t I = p->input_dim, S = p->state_dim, n = 4 * S;
    int32_t k;
    if (is16) {
        int64_t *acc_x = (int64_t *)scratch, *acc_h = acc_x + rows * n;
        int16_t *pre = (int16_t *)(acc_h + rows * n);
        fc_s16((const int16_t *)x, rows, I, p->input_weights, n, (const int64_t *)p->bias, acc_x);
        fc_s16((const int16_t *)h, rows, S, p->recurrent_weights, n, 0, acc_h);
        for (k = 0; k < rows * n; ++k) {
            const int32_t g = (k % n) / S;
            pre[k] = (int16_t)sat16(sat16(requant64(acc_x[k], p->in_mult[g], p->in_shift[g])) +
                                    sat16(requant64(acc_h[k], p->rec_mult[g], p->rec_shift[g])));
        }
        cell_update(p, pre, rows, c, h, y, 1);
    } else {
        int32_t *acc_x = (int32_t *)scratch, *acc_h = acc_x + rows * n;
        int16_t *pre = (int16_t *)(acc_h + rows * n);
        fc_s8((const int8_t *)x, rows, I, p->input_offset, p->input_weights, n, (const int32_t *)p->bias, acc_x);
        fc_s8((const int8_t *)h, rows, S, p->hidden_offset, p->recurrent_weights, n, 0, acc_h);
        for (k = 0; k < rows * n; ++k) {
            const int32_t g = (k % n) / S;
            pre[k] = (int16_t)sat16(sat16(tf_requant_fast(acc_x[k], p->in_mult[g], p->in_shift[g])) +
                                    sat16(tf_requant_fast(acc_h[k], p->rec_mult[g], p->rec_shift[g])));
        }
        cell_update(p, pre, rows, c, h, y, 0);
    }
}

static void run(const tf_lstm_params_t *p, int is16, const void *input, void *output, void *hidden, int16_t *cell,
                void *scratch)
{
    const int32_t B = p->batches, T = p->time_steps, I = p->input_dim, S = p->state_dim;
    const int32_t es = is16 ? 2 : 1;
    const char *in = (const char *)input;
    char *out = (char *)output;
    char *h = (char *)hidden;
    int32_t b, t;
    if (p->time_major) { /* [T][B][.]: all batches advance together */
        for (t = 0; t < T; ++t) {
            step(p, is16, in + t * B * I * es, h, cell, out + t * B * S * es, B, scratch);
        }
        return;
    }
    for (b = 0; b < B; ++b) { /* [B][T][.]: one batch row after the other, each with its state */
        for (t = 0; t < T; ++t) {
            step(p, is16, in + (b * T + t) * I * es, h + b * S * es, cell + b * S, out + (b * T + t) * S * es, 1,
                 scratch);
        }
    }
}

void tf_lstm_s8(const tf_lstm_params_t *p, const int8_t *input, int8_t *output, int8_t *hidden, int16_t *cell,
                void *scratch)
{
    run(p, 0, input, output, hidden, cell, scratch);
}

void tf_lstm_s16(const tf_lstm_params_t *p, const int16_t *input, int16_t *output, int16_t *hidden,
                 int16_t *cell, void *scratch)
{
    run(p, 1, input, output, hidden, cell, scratch);
}
