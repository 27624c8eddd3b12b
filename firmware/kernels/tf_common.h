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

#endif /* TF_COMMON_H */
