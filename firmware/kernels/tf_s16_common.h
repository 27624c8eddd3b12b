/*
 * tinyforge kernel library: fixed-point primitives of the "16x8" kernels (int16 activations,
 * int8 weights), as TFLite Micro's reference kernels compute them.
 *
 *   tf_mul_by_quantized_multiplier64  the int64 flavour of MultiplyByQuantizedMultiplier: the
 *                                     Q31 multiplier is first rounded to Q15, then one rounding
 *                                     shift (used with the int64 accumulators of conv/FC)
 *   tf_lut_lookup_s16                 a 513-entry int16 table indexed by the top 9 bits of an
 *                                     int16 value, linearly interpolated on the low 7 bits
 *   tf_s16_requantize                 bias, requantization and clamp of a conv/FC output
 *
 * C99, header-only, <stdint.h> only. Right shifts of negative values are arithmetic (gcc).
 */
#ifndef TF_S16_COMMON_H
#define TF_S16_COMMON_H

#include <stdint.h>

#include "tf_common.h"

/* Accumulators of int8 x int16 products stay exact in int32 for this many terms
 * (511 * 128 * 32768 < 2^31); longer sums are split and added up in int64. */
#define TF_S16_CHUNK 511

/* x * multiplier * 2^shift for a 64-bit x (|x| < 2^47) and shift in [-31, 7]. */
TF_INLINE int32_t tf_mul_by_quantized_multiplier64(int64_t x, int32_t multiplier, int shift)
{
    const int32_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int total_shift = 15 - shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    return (int32_t)((x * (int64_t)reduced + round) >> total_shift);
}

/* Table lookup with linear interpolation: lut has 513 entries, the last one only for the slope. */
TF_INLINE int16_t tf_lut_lookup_s16(int16_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7f;
    const int16_t base = lut[index];
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    const int32_t delta = ((int32_t)slope * offset + 64) >> 7;
    return (int16_t)(base + delta);
}

/* Bias, requantization and clamp of one output channel `oc` of a 16x8 convolution: `acc` holds
 * the exact sum of the products. acc64: int64 bias and tf_mul_by_quantized_multiplier64 (TFLM's
 * int64 accumulator); else the sum modulo 2^32 plus an int32 bias, tf_multiply_by_quantized_multiplier. */
TF_INLINE int16_t tf_s16_requantize(int64_t acc, int32_t oc, int32_t acc64, int32_t per_channel,
                                    const int64_t *bias64, const int32_t *bias32, const int32_t *mult,
                                    const int32_t *shift, int32_t act_min, int32_t act_max)
{
    const int32_t q = per_channel ? oc : 0;
    int32_t v;
    if (acc64) {
        if (bias64) {
            acc += bias64[oc];
        }
        v = tf_mul_by_quantized_multiplier64(acc, mult[q], (int)shift[q]);
    } else {
        uint32_t a = (uint32_t)(uint64_t)acc;
        if (bias32) {
            a += (uint32_t)bias32[oc];
        }
        v = tf_multiply_by_quantized_multiplier((int32_t)a, mult[q], (int)shift[q]);
    }
    return (int16_t)tf_clamp(v, act_min, act_max);
}

#endif /* TF_S16_COMMON_H */
