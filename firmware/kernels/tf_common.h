/*
 * tinyforge kernel library: fixed-point primitives shared by every int8 kernel.
 *
 * The arithmetic follows TFLite Micro's reference kernels (gemmlowp-style
 * requantization) so that every kernel is bit-exact with them:
 *   real_multiplier = quantized_multiplier * 2^(shift - 31), quantized_multiplier in [2^30, 2^31).
 * C99, header-only, no libc beyond <stdint.h>.
 */
#ifndef TF_COMMON_H
#define TF_COMMON_H

#include <stdint.h>

#if defined(__GNUC__)
#define TF_INLINE static inline __attribute__((always_inline))
#define TF_ALIGNED(n) __attribute__((aligned(n)))
#else
#define TF_INLINE static inline
#define TF_ALIGNED(n)
#endif

#define TF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TF_MAX(a, b) ((a) > (b) ? (a) : (b))

/* (a * b * 2) >> 32 with round-to-nearest and saturation of the single overflow case. */
TF_INLINE int32_t tf_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * (int64_t)b;
    int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero. */
TF_INLINE int32_t tf_rounding_divide_by_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)((1ll << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* x * real_multiplier, with (multiplier, shift) from QuantizeMultiplier. */
TF_INLINE int32_t tf_multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift)
{
    int left_shift = shift > 0 ? shift : 0;
    int right_shift = shift > 0 ? 0 : -shift;
    return tf_rounding_divide_by_pot(
        tf_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left_shift), multiplier), right_shift);
}

/* Requantize an int32 accumulator to int8 with output zero point and activation clamp. */
TF_INLINE int8_t tf_requantize(int32_t acc, int32_t multiplier, int shift, int32_t out_zp,
                               int32_t act_min, int32_t act_max)
{
    int32_t v = tf_multiply_by_quantized_multiplier(acc, multiplier, shift) + out_zp;
    v = v < act_min ? act_min : v;
    v = v > act_max ? act_max : v;
    return (int8_t)v;
}

TF_INLINE int32_t tf_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ---- gemmlowp-style fixed-point helpers (softmax; usable by logistic/tanh) -------------------
 * A Qk value (k integer bits) is an int32 raw r meaning r / 2^(31-k). Sums of raws wrap like the
 * reference's plain int32 additions (without C's signed-overflow undefined behaviour). */
#define TF_HELPER static inline

TF_INLINE int32_t tf_add_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

TF_INLINE int32_t tf_sub_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* Leading zero bits of x; 32 for x == 0. */
TF_INLINE int tf_clz32(uint32_t x)
{
#if defined(__GNUC__)
    return x ? __builtin_clz(x) : 32;
#else
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

/* x * 2^exponent: saturating for exponent > 0, rounding (ties away from zero) for exponent < 0. */
TF_INLINE int32_t tf_saturating_rounding_mul_by_pot(int32_t x, int exponent)
{
    if (exponent > 0) {
        const int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
        if (x > threshold) {
            return INT32_MAX;
        }
        if (x < -threshold) {
            return INT32_MIN;
        }
        return (int32_t)((uint32_t)x << exponent);
    }
    if (exponent < 0) {
        return tf_rounding_divide_by_pot(x, -exponent);
    }
    return x;
}

/* (a + b) / 2 rounded half away from zero. */
TF_INLINE int32_t tf_rounding_half_sum(int32_t a, int32_t b)
{
    int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* x * multiplier * 2^left_shift for left_shift >= 0 (QuantizeMultiplierGreaterThanOne). */
TF_INLINE int32_t tf_multiply_by_quantized_multiplier_gt_one(int32_t x, int32_t multiplier, int left_shift)
{
    return tf_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left_shift), multiplier);
}

/* exp(a) for a Q0 value a in [-1/4, 0): Taylor series around -1/8. Result Q0. */
TF_HELPER int32_t tf_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668;     /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = a + (1 << 28);              /* a + 1/8 */
    const int32_t x2 = tf_sat_rounding_doubling_high_mul(x, x);
    const int32_t x3 = tf_sat_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = tf_sat_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = tf_saturating_rounding_mul_by_pot(x4, -2);
    const int32_t poly = tf_saturating_rounding_mul_by_pot(
        tf_add_wrap(tf_sat_rounding_doubling_high_mul(tf_add_wrap(x4_over_4, x3), constant_1_over_3), x2), -1);
    return tf_add_wrap(constant_term, tf_sat_rounding_doubling_high_mul(constant_term, tf_add_wrap(x, poly)));
}

/* exp(a) for a <= 0 given in Q`integer_bits` format; result Q0 (gemmlowp exp_on_negative_values). */
TF_HELPER int32_t tf_exp_on_negative_values(int32_t a, int integer_bits)
{
    static const int32_t k_multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                             39332535,   720401,     242};
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    int32_t result = tf_exp_on_interval_between_negative_one_quarter_and_0_excl(
        tf_saturating_rounding_mul_by_pot(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = tf_sub_wrap(a_mod_quarter_minus_one_quarter, a);
    int e;
    for (e = -2; e <= 4; ++e) {
        if (integer_bits > e) {
            const int shift = fractional_bits + e;
            if (remainder & (int32_t)(1u << shift)) {
                result = tf_sat_rounding_doubling_high_mul(result, k_multipliers[e + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -(int32_t)(1u << (36 - integer_bits)); /* -32.0 */
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = INT32_MAX;
    }
    return result;
}

/* 1 / (1 + a) for a Q0 value a in [0, 1): Newton-Raphson in Q2. Result Q0. */
TF_HELPER int32_t tf_one_over_one_plus_x_for_x_in_0_1(int32_t a)
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
    return tf_saturating_rounding_mul_by_pot(x, 1);
}

/* Q0 reciprocal of a positive Q`x_integer_digits` value x, as 2^-num_bits_over_unit * result. */
TF_HELPER int32_t tf_get_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit)
{
    const int headroom_plus_one = tf_clz32((uint32_t)x);
    const int32_t shifted_sum_minus_one =
        (int32_t)((headroom_plus_one < 32 ? (uint32_t)x << headroom_plus_one : 0u) - ((uint32_t)1 << 31));
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    return tf_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

#endif /* TF_COMMON_H */
