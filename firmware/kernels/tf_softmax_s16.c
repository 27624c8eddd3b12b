/* SOFTMAX int16 reference kernel: see tf_softmax_s16.h. */
#include "tf_softmax_s16.h"

#include "tf_common.h"
#include "tf_s16_common.h"

void tf_softmax_s16(const tf_softmax_s16_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t i, c;
    for (i = 0; i < p->outer; ++i) {
        const int16_t *in = input + i * p->depth;
        int16_t *out = output + i * p->depth; /* first holds exp(x - max) in Q0.15 */
        int32_t max_in_row = INT16_MIN;
        int32_t sum_of_exps = 0; /* Q16.15 */
        int headroom_plus_one, right_shift;
        int32_t shifted_sum;
        int16_t reciprocal;
        int64_t round;
        for (c = 0; c < p->depth; ++c) {
            max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
        }
        for (c = 0; c < p->depth; ++c) {
            /* [-65535, 0] of the rescaled difference spans the table's [-10, 0] */
            const int32_t scaled = tf_multiply_by_quantized_multiplier((int32_t)in[c] - max_in_row,
                                                                       p->input_multiplier, (int)p->input_shift);
            const int16_t e = tf_lut_lookup_s16((int16_t)tf_clamp(scaled + 32767, INT16_MIN, INT16_MAX), p->exp_lut);
            out[c] = e;
            sum_of_exps += e;
        }
        /* 1 / sum: the sum normalised to [1, 2) as a Q1.15 value, recentred for the 1/(1 + x) table */
        headroom_plus_one = tf_clz32((uint32_t)sum_of_exps);
        shifted_sum = (int32_t)((((int64_t)sum_of_exps << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        reciprocal = tf_lut_lookup_s16(
            (int16_t)tf_clamp(shifted_sum - ((1 << 15) + (1 << 16)), INT16_MIN, INT16_MAX), p->one_over_one_plus_x_lut);
        right_shift = 31 - headroom_plus_one;
        round = (int64_t)1 << (right_shift - 1);
        for (c = 0; c < p->depth; ++c) {
            const int32_t result = (int32_t)(((int64_t)out[c] * (int64_t)reciprocal + round) >> right_shift);
            out[c] = (int16_t)tf_clamp(result, 0, INT16_MAX);
        }
    }
}
