/* LOGISTIC / TANH int16 reference kernels: see tf_activations_s16.h. */
#include "tf_activations_s16.h"

/* The rescaled input: (x * multiplier + round) >> shift, in int32. */
static int32_t tf_s16_act_input(int16_t x, const tf_logistic_s16_params_t *p)
{
    const int32_t round = p->input_shift > 0 ? (int32_t)1 << (p->input_shift - 1) : 0;
    return ((int32_t)x * p->input_multiplier + round) >> p->input_shift;
}

void tf_logistic_s16(const tf_logistic_s16_params_t *p, const int16_t *input, int16_t *output)
{
    uint32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = tf_s16_act_input(input[i], p);
        const uint32_t a = v < 0 ? (uint32_t)0 - (uint32_t)v : (uint32_t)v;
        const uint32_t uh = a >> 9; /* table step: 2^9 of the rescaled input */
        uint32_t result;
        if (uh >= 255u) {
            result = 0x7FFFu << 10;
        } else {
            const uint32_t ua = p->table[uh];
            const uint32_t ub = p->table[uh + 1u];
            result = (ua << 9) + (a & 0x1FFu) * (ub - ua);
        }
        /* sigmoid(-x) = 1 - sigmoid(x); back from Q0.25 to Q0.15 */
        result = v >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1u;
        output[i] = (int16_t)(result >> 10);
    }
}

void tf_tanh_s16(const tf_tanh_s16_params_t *p, const int16_t *input, int16_t *output)
{
    uint32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t v = tf_s16_act_input(input[i], p);
        const uint32_t a = v < 0 ? (uint32_t)0 - (uint32_t)v : (uint32_t)v;
        const uint32_t uh = a >> 8; /* sigmoid(2x): half the step of LOGISTIC */
        int32_t result;
        if (uh >= 255u) {
            result = (int32_t)(0xFFFFu << 8);
        } else {
            const uint32_t ua = p->table[uh];
            const uint32_t ub = p->table[uh + 1u];
            result = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua));
        }
        /* 2 * sigmoid - 1, and tanh(-x) = -tanh(x); back from Q0.24 to Q0.15 (floor) */
        result = v >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(result >> 8);
    }
}
