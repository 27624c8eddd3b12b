/*
 * The few Arm DSP-extension (ARMv7E-M) instructions the kernels in this folder use, as inline
 * functions: GCC's <arm_acle.h> intrinsics on a core with the DSP extension (__ARM_FEATURE_DSP),
 * and portable C with the same results everywhere else, so the DSP kernels also build and run on
 * the host (fast tests, sanitizers) bit-exact with the firmware.
 *
 * Two instructions <arm_acle.h> of GCC 12 lacks are one-line inline assembly: SMMLAR and
 * SXTB16 with ROR #8. Lane notation: a 32-bit word holds two int16 lanes, lo = bits 0..15.
 */
#ifndef TF_ACLE_H
#define TF_ACLE_H

#include <stdint.h>
#include <string.h>

#include "tf_common.h"

#if defined(__arm__)
#include <arm_acle.h>
#endif
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define TF_DSP_NATIVE 1
#else
#define TF_DSP_NATIVE 0
#endif

/* lanes (b0, b2) and (b1, b3) of the bytes b0..b3 of x, sign-extended to int16 */
TF_INLINE int32_t tf_sxtb16(uint32_t x)
{
#if TF_DSP_NATIVE
    return (int32_t)__sxtb16((int32_t)x);
#else
    return (int32_t)(((uint32_t)(int32_t)(int8_t)(x & 0xffu) & 0xffffu) |
                     ((uint32_t)(int32_t)(int8_t)((x >> 16) & 0xffu) << 16));
#endif
}

TF_INLINE int32_t tf_sxtb16_ror8(uint32_t x)
{
#if TF_DSP_NATIVE
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
#else
    return tf_sxtb16(x >> 8);
#endif
}

/* lane-wise acc + sxtb16(x): two 16-bit sums (wrapping) */
TF_INLINE int32_t tf_sxtab16(int32_t acc, uint32_t x)
{
#if TF_DSP_NATIVE
    return (int32_t)__sxtab16(acc, (int32_t)x);
#else
    const uint32_t e = (uint32_t)tf_sxtb16(x);
    const uint32_t lo = ((uint32_t)acc + e) & 0xffffu;
    const uint32_t hi = (((uint32_t)acc >> 16) + (e >> 16)) & 0xffffu;
    return (int32_t)(lo | (hi << 16));
#endif
}

/* lane-wise acc + sxtb16(x ror 8) */
TF_INLINE int32_t tf_sxtab16_ror8(int32_t acc, uint32_t x)
{
#if TF_DSP_NATIVE
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
#else
    return tf_sxtab16(acc, x >> 8);
#endif
}

TF_INLINE int32_t tf_lo16(int32_t v)
{
    return (int32_t)(int16_t)(uint16_t)((uint32_t)v & 0xffffu);
}

TF_INLINE int32_t tf_hi16(int32_t v)
{
    return (int32_t)(int16_t)(uint16_t)((uint32_t)v >> 16);
}

/* acc + lo(a)*lo(b) + hi(a)*hi(b), wrapping like the instruction (which only sets the Q flag) */
TF_INLINE int32_t tf_smlad(int32_t a, int32_t b, int32_t acc)
{
#if TF_DSP_NATIVE
    return (int32_t)__smlad(a, b, acc);
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(tf_lo16(a) * tf_lo16(b)) + (uint32_t)(tf_hi16(a) * tf_hi16(b)));
#endif
}

/* acc + lo(a)*lo(b) */
TF_INLINE int32_t tf_smlabb(int32_t a, int32_t b, int32_t acc)
{
#if TF_DSP_NATIVE
    return (int32_t)__smlabb(a, b, acc);
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(tf_lo16(a) * tf_lo16(b)));
#endif
}

/* acc + hi(a)*lo(b) */
TF_INLINE int32_t tf_smlatb(int32_t a, int32_t b, int32_t acc)
{
#if TF_DSP_NATIVE
    return (int32_t)__smlatb(a, b, acc);
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(tf_hi16(a) * tf_lo16(b)));
#endif
}

/* acc + lo(a)*hi(b) */
TF_INLINE int32_t tf_smlabt(int32_t a, int32_t b, int32_t acc)
{
#if TF_DSP_NATIVE
    return (int32_t)__smlabt(a, b, acc);
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(tf_lo16(a) * tf_hi16(b)));
#endif
}

/* acc + hi(a)*hi(b) */
TF_INLINE int32_t tf_smlatt(int32_t a, int32_t b, int32_t acc)
{
#if TF_DSP_NATIVE
    return (int32_t)__smlatt(a, b, acc);
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(tf_hi16(a) * tf_hi16(b)));
#endif
}

/* acc + the rounded high word of a*b: acc + ((a*b + 2^31) >> 32), wrapping */
TF_INLINE int32_t tf_smmlar(int32_t a, int32_t b, int32_t acc)
{
#if TF_DSP_NATIVE
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
#else
    const int64_t prod = (int64_t)a * (int64_t)b + ((int64_t)1 << 31);
    return (int32_t)((uint32_t)acc + (uint32_t)(int32_t)(prod >> 32));
#endif
}

/* (lo16(a), lo16(b)): b's low half in the high half */
TF_INLINE int32_t tf_pkhbt16(int32_t a, int32_t b)
{
#if TF_DSP_NATIVE
    int32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((uint32_t)a & 0xffffu) | ((uint32_t)b << 16));
#endif
}

/* (hi16(lo), hi16(hi)): PKHTB hi, lo, ASR #16 */
TF_INLINE int32_t tf_pkhtb16(int32_t hi, int32_t lo)
{
#if TF_DSP_NATIVE
    int32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
#else
    return (int32_t)(((uint32_t)hi & 0xffff0000u) | ((uint32_t)lo >> 16));
#endif
}

/* x saturated to int8 */
TF_INLINE int32_t tf_ssat8(int32_t x)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    return __ssat(x, 8);
#else
    return x < -128 ? -128 : (x > 127 ? 127 : x);
#endif
}

/* 32-bit load from any address (LDR allows unaligned addresses on ARMv7-M) */
TF_INLINE int32_t tf_ld32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif /* TF_ACLE_H */
