/*
 * Helium (MVE) helpers shared by the firmware/kernels/mve kernels: vector requantization that is
 * bit-exact with tf_multiply_by_quantized_multiplier (tf_common.h), a 4-lane vector built from
 * four scalar accumulators, and byte copies/fills with tail predication (VCTP).
 *
 * Requantization of an int32x4 (per-lane multiplier m, left shift l >= 0, negated right shift
 * r <= 0, as QuantizeMultiplier's shift s gives l = max(s, 0), r = min(s, 0)):
 *   x << l                    VSHL: wraps like the scalar (uint32_t)x << l
 *   SaturatingRoundingDoublingHighMul(x, m)
 *                             VQRDMULH: (2xm + 2^31) >> 32 saturated; equal to the scalar's
 *                             nudge-and-truncate for every (x, m), both round halves up
 *   RoundingDivideByPOT(x, -r)
 *                             VRSHL by r rounds halves up; adding -1 to negative x first (only
 *                             where r < 0, saturating) makes halves round away from zero
 * tests/emulator/test_mve_kernels.py checks this against the scalar code on the edge values.
 */
#ifndef TF_MVE_COMMON_H
#define TF_MVE_COMMON_H

#include <arm_mve.h>
#include <stdint.h>

#if !defined(__ARM_FEATURE_MVE)
#error "firmware/kernels/mve needs a core with Helium (MVE): build with -mcpu=cortex-m55"
#endif

#define TF_MVE_INLINE static inline __attribute__((always_inline))

/* In the inline assembly, "p0" names the predicate register VPR (clobbered by VCTP/VPST). */

/* Output stage of a layer: output zero point and the fused activation's clamp. */
typedef struct {
    int32_t zp;
    int32x4_t lo;
    int32x4_t hi;
} tf_mve_out_t;

TF_MVE_INLINE tf_mve_out_t tf_mve_out(int32_t zp, int32_t lo, int32_t hi)
{
    tf_mve_out_t o;
    o.zp = zp;
    o.lo = vdupq_n_s32(lo);
    o.hi = vdupq_n_s32(hi);
    return o;
}

/* RoundingDivideByPOT by -r (r <= 0 per lane): halves away from zero. */
TF_MVE_INLINE int32x4_t tf_mve_rounding_divide(int32x4_t x, int32x4_t r)
{
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, r), 31);
    return vrshlq_s32(vqaddq_s32(x, fixup), r);
}

/* tf_multiply_by_quantized_multiplier per lane. */
TF_MVE_INLINE int32x4_t tf_mve_mul_by_quantized_multiplier(int32x4_t x, int32x4_t m, int32x4_t l, int32x4_t r)
{
    return tf_mve_rounding_divide(vqrdmulhq_s32(vshlq_s32(x, l), m), r);
}

/* The same with right shifts only (l == 0 in every lane). */
TF_MVE_INLINE int32x4_t tf_mve_mul_by_quantized_multiplier_r(int32x4_t x, int32x4_t m, int32x4_t r)
{
    return tf_mve_rounding_divide(vqrdmulhq_s32(x, m), r);
}

/* Per-channel constants of 4 channels (one block of a packed `qparams` array: bias'[4],
 * multiplier[4], left shift[4], -right shift[4]). */
typedef struct {
    int32x4_t bias;
    int32x4_t mult;
    int32x4_t lsh;
    int32x4_t rsh;
} tf_mve_q4_t;

TF_MVE_INLINE tf_mve_q4_t tf_mve_q4(const int32_t *q, int left_shifts)
{
    tf_mve_q4_t c;
    c.bias = vldrwq_s32(q);
    c.mult = vldrwq_s32(q + 4);
    c.lsh = left_shifts ? vldrwq_s32(q + 8) : vdupq_n_s32(0);
    c.rsh = vldrwq_s32(q + 12);
    return c;
}

/* Accumulators of 4 channels -> + bias, requantized, offset, clamped int32 lanes. */
TF_MVE_INLINE int32x4_t tf_mve_requantize4(int32x4_t acc, const tf_mve_q4_t *c, const tf_mve_out_t *o,
                                          int left_shifts)
{
    acc = vaddq_s32(acc, c->bias);
    if (left_shifts) {
        acc = tf_mve_mul_by_quantized_multiplier(acc, c->mult, c->lsh, c->rsh);
    } else {
        acc = tf_mve_mul_by_quantized_multiplier_r(acc, c->mult, c->rsh);
    }
    acc = vaddq_n_s32(acc, o->zp);
    acc = vmaxq_s32(acc, o->lo);
    return vminq_s32(acc, o->hi);
}

/* {a0, a1, a2, a3} in two VMOV (two general registers to two lanes) instructions. */
TF_MVE_INLINE int32x4_t tf_mve_vec4(int32_t a0, int32_t a1, int32_t a2, int32_t a3)
{
    int32x4_t v;
    __asm__("vmov %q0[2], %q0[0], %1, %2\n\t"
            "vmov %q0[3], %q0[1], %3, %4"
            : "=&w"(v)
            : "r"(a0), "r"(a2), "r"(a1), "r"(a3));
    return v;
}

/* Copy n bytes, 0 <= n <= 16: one predicated load and store (VCTP sets the lanes). */
TF_MVE_INLINE void tf_mve_copy16(int8_t *dst, const int8_t *src, int32_t n)
{
    __asm__ volatile("vctp.8 %[n]\n\t"
                     "vpstt\n\t"
                     "vldrbt.u8 q0, [%[s]]\n\t"
                     "vstrbt.8 q0, [%[d]]"
                     :
                     : [d] "r"(dst), [s] "r"(src), [n] "r"(n)
                     : "q0", "p0", "memory");
}

/* Copy n bytes (any n >= 0). */
TF_MVE_INLINE void tf_mve_copy(int8_t *dst, const int8_t *src, int32_t n)
{
    while (n > 16) {
        vstrbq_s8(dst, vldrbq_s8(src));
        dst += 16;
        src += 16;
        n -= 16;
    }
    tf_mve_copy16(dst, src, n);
}

/* Fill n bytes with the value of every lane of v (any n >= 0). */
TF_MVE_INLINE void tf_mve_fill(int8_t *dst, int8x16_t v, int32_t n)
{
    while (n > 16) {
        vstrbq_s8(dst, v);
        dst += 16;
        n -= 16;
    }
    __asm__ volatile("vctp.8 %[n]\n\t"
                     "vpst\n\t"
                     "vstrbt.8 %q[v], [%[d]]"
                     :
                     : [d] "r"(dst), [v] "w"(v), [n] "r"(n)
                     : "p0", "memory");
}

#endif /* TF_MVE_COMMON_H */
