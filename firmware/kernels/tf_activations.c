/*
 * int8 activation kernels (see tf_activations.h). The arithmetic reproduces TFLite Micro's
 * reference kernels operation by operation, including their int16 and fixed-point rounding.
 */
#include "tf_activations.h"

#include "tf_common.h"

static int8_t relu_one(const tf_relu_s8_params_t *p, int8_t v)
{
    const int32_t r = p->out_zp + tf_multiply_by_quantized_multiplier((int32_t)v - p->in_zp, p->multiplier,
                                                                      (int)p->shift);
    return (int8_t)tf_clamp(r, p->act_min, p->act_max);
}

void tf_clamp_s8(const tf_clamp_s8_params_t *p, const int8_t *in, int8_t *out)
{
    uint32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = (int8_t)tf_clamp(in[i], p->lower, p->upper);
    }
}

static int8_t leaky_relu_one(const tf_leaky_relu_s8_params_t *p, int8_t v)
{
    const int32_t x = (int32_t)v - p->in_zp;
    int32_t r;
    if (x >= 0) {
        r = tf_multiply_by_quantized_multiplier(x, p->mult_identity, (int)p->shift_identity);
    } else {
        r = tf_multiply_by_quantized_multiplier(x, p->mult_alpha, (int)p->shift_alpha);
    }
    return (int8_t)tf_clamp(p->out_zp + r, -128, 127);
}

/* ---- logistic and tanh: gemmlowp fixed point, input Q4.27, result Q0.31 --------------------- */

/* (1 - a) / (1 + a) for a Q0 value a in [0, 1): Newton-Raphson division in Q2. Result Q0. */
static int32_t one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t half_denominator = tf_rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;
    const int32_t constant_neg_32_over_17 = -1010580540;
    const int32_t f2_one = 1 << 29;
    int32_t x = tf_add_wrap(constant_48_over_17,
                            tf_sat_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17));
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = tf_sat_rounding_doubling_high_mul(half_denominator, x);
        const int32_t one_minus = tf_sub_wrap(f2_one, half_denominator_times_x);
        x = tf_add_wrap(x, tf_saturating_rounding_mul_by_pot(tf_sat_rounding_doubling_high_mul(x, one_minus), 2));
    }
    return tf_saturating_rounding_mul_by_pot(tf_sub_wrap(x, f2_one), 2);
}

/* logistic(x) for a Q4.27 x, as Q0.31 (gemmlowp::logistic). */
static int32_t logistic_q4(int32_t x)
{
    int32_t abs_x, pos;
    if (x == 0) {
        return 1 << 30; /* one half */
    }
    abs_x = x > 0 ? x : tf_sub_wrap(0, x);
    pos = tf_one_over_one_plus_x_for_x_in_0_1(tf_exp_on_negative_values(tf_sub_wrap(0, abs_x), 4));
    return x > 0 ? pos : tf_sub_wrap(INT32_MAX, pos);
}

/* tanh(x) for a Q4.27 x, as Q0.31 (gemmlowp::tanh). */
static int32_t tanh_q4(int32_t x)
{
    int32_t n, t;
    if (x == 0) {
        return 0;
    }
    n = x < 0 ? x : tf_sub_wrap(0, x);
    /* exp(2n): the same raw value read with one more integer bit */
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(tf_exp_on_negative_values(n, 5));
    return x < 0 ? tf_sub_wrap(0, t) : t;
}

static int8_t logistic_one(const tf_sigmoid_s8_params_t *p, int8_t v)
{
    const int32_t x = (int32_t)v - p->in_zp;
    int32_t q;
    if (x <= -p->radius) {
        return -128;
    }
    if (x >= p->radius) {
        return 127;
    }
    q = logistic_q4(tf_multiply_by_quantized_multiplier(x, p->multiplier, (int)p->left_shift));
    return (int8_t)tf_clamp(tf_rounding_divide_by_pot(q, 23) - 128, -128, 127);
}

static int8_t tanh_one(const tf_sigmoid_s8_params_t *p, int8_t v)
{
    const int32_t x = (int32_t)v - p->in_zp;
    int32_t q;
    if (x <= -p->radius) {
        return -128;
    }
    if (x >= p->radius) {
        return 127;
    }
    q = tanh_q4(tf_multiply_by_quantized_multiplier(x, p->multiplier, (int)p->left_shift));
    return (int8_t)tf_clamp(tf_rounding_divide_by_pot(q, 24), -128, 127);
}

/* ---- hard swish: TFLM's int16 fixed-point reference ------------------------------------------ */

static int16_t sat_left_shift_s16(int16_t v, int amount)
{
    int64_t r = (int64_t)v * ((int64_t)1 << amount);
    return (int16_t)(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

/* gemmlowp SaturatingRoundingDoublingHighMul<int16_t> */
static int16_t srdhm_s16(int16_t a, int16_t b)
{
    int32_t ab, nudge;
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    ab = (int32_t)a * (int32_t)b;
    nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* the same, truncating instead of rounding (SQDMULH) */
static int16_t sdhm_s16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

/* gemmlowp RoundingDivideByPOT<int16_t> */
static int16_t rounding_divide_by_pot_s16(int16_t x, int exponent)
{
    const int16_t mask = (int16_t)((1ll << exponent) - 1);
    const int16_t remainder = (int16_t)(x & mask);
    const int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

static int8_t hard_swish_one(const tf_hard_swish_s8_params_t *p, int8_t v)
{
    const int16_t x = (int16_t)((int32_t)v - p->in_zp);
    const int16_t hires = (int16_t)(x * (1 << 7));
    const int16_t preshift_out = srdhm_s16(hires, (int16_t)p->out_multiplier);
    int16_t reluish = hires;
    int16_t o;
    if (p->reluish_exponent > 0) {
        reluish = sat_left_shift_s16(reluish, (int)p->reluish_exponent - 1);
    }
    reluish = srdhm_s16(reluish, (int16_t)p->reluish_multiplier);
    if (p->reluish_exponent > 0) {
        reluish = sat_left_shift_s16(reluish, 1);
    }
    if (p->reluish_exponent < 0) {
        reluish = rounding_divide_by_pot_s16(reluish, (int)-p->reluish_exponent);
    }
    reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
    o = rounding_divide_by_pot_s16(sdhm_s16(reluish, preshift_out), (int)-p->out_exponent);
    o = (int16_t)(o + p->out_zp);
    return (int8_t)(o > 127 ? 127 : (o < -128 ? -128 : o));
}

/* ---- entry points ----------------------------------------------------------------------------- */

#define TF_UNARY_ENTRY_POINTS(name, params_t, one)                                                 \
    void name(const params_t *p, const int8_t *in, int8_t *out)                                    \
    {                                                                                              \
        uint32_t i;                                                                                \
        for (i = 0; i < p->size; ++i) {                                                            \
            out[i] = one(p, in[i]);                                                                \
        }                                                                                          \
    }                                                                                              \
    void name##_lut(const params_t *p, const int8_t *in, int8_t *out, void *scratch)               \
    {                                                                                              \
        int8_t *lut = (int8_t *)scratch;                                                           \
        uint32_t i;                                                                                \
        int v;                                                                                     \
        for (v = -128; v < 128; ++v) {                                                             \
            lut[(uint8_t)v] = one(p, (int8_t)v);                                                   \
        }                                                                                          \
        for (i = 0; i < p->size; ++i) {                                                            \
            out[i] = lut[(uint8_t)in[i]];                                                          \
        }                                                                                          \
    }

TF_UNARY_ENTRY_POINTS(tf_relu_s8, tf_relu_s8_params_t, relu_one)
TF_UNARY_ENTRY_POINTS(tf_leaky_relu_s8, tf_leaky_relu_s8_params_t, leaky_relu_one)
TF_UNARY_ENTRY_POINTS(tf_logistic_s8, tf_logistic_s8_params_t, logistic_one)
TF_UNARY_ENTRY_POINTS(tf_tanh_s8, tf_tanh_s8_params_t, tanh_one)
TF_UNARY_ENTRY_POINTS(tf_hard_swish_s8, tf_hard_swish_s8_params_t, hard_swish_one)
