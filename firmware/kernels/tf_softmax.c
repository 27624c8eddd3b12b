/* SOFTMAX int8 reference kernel: see tf_softmax.h. Safe to run in place (output == input). */
#include "tf_softmax.h"

#include "tf_common.h"

#define TF_SOFTMAX_DIFF_BITS 5 /* Q5.26 scaled input differences */
#define TF_SOFTMAX_ACCUM_BITS 12 /* Q12.19 sum of exponentials */

void tf_softmax_s8(const tf_softmax_s8_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t i, c;
    for (i = 0; i < p->outer; ++i) {
        const int8_t *in = input + i * p->depth;
        int8_t *out = output + i * p->depth;
        int32_t max_in_row = -128;
        int32_t sum_of_exps = 0;
        int32_t shifted_scale;
        int num_bits_over_unit;
        int exponent;
        for (c = 0; c < p->depth; ++c) {
            max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled =
                    tf_multiply_by_quantized_multiplier_gt_one(diff, p->input_multiplier, (int)p->input_left_shift);
                const int32_t e = tf_exp_on_negative_values(scaled, TF_SOFTMAX_DIFF_BITS);
                sum_of_exps = tf_add_wrap(sum_of_exps, tf_saturating_rounding_mul_by_pot(e, -TF_SOFTMAX_ACCUM_BITS));
            }
        }
        shifted_scale = tf_get_reciprocal(sum_of_exps, TF_SOFTMAX_ACCUM_BITS, &num_bits_over_unit);
        exponent = num_bits_over_unit + 31 - 8;
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)in[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled =
                    tf_multiply_by_quantized_multiplier_gt_one(diff, p->input_multiplier, (int)p->input_left_shift);
                const int32_t e = tf_exp_on_negative_values(scaled, TF_SOFTMAX_DIFF_BITS);
                const int32_t unsat =
                    tf_rounding_divide_by_pot(tf_sat_rounding_doubling_high_mul(shifted_scale, e), exponent);
                out[c] = (int8_t)tf_clamp(unsat - 128, -128, 127);
            } else {
                out[c] = -128;
            }
        }
    }
}
