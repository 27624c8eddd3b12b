/*
 * Shared by the DSP kernels: the folded requantization and the int8 -> int16 expansion.
 *
 * Folded requantization (bit-exact with tf_requantize, see tinyforge/kernels/dsp.py for the proof
 * and the build-time range checks that make it exact): the packer scales bias and weights of
 * channel c by 2^(left_shift_c + 1), so the accumulator is a = acc * 2^(left_shift + 1), and
 *     SMMLAR(a, mult, kq) = kq + ((a*mult + 2^31) >> 32) = kq + SaturatingRoundingDoublingHighMul
 * with kq = 2^(rshift-1) + out_zp * 2^rshift; adding the sign of a (ASR #31) turns the rounding of
 * the final arithmetic right shift by rshift into TFLM's round-half-away-from-zero.
 *
 * With int8 weights (--optimize size/balanced) the weights cannot be scaled, so only layers with
 * left_shift 0 are taken and the kernels double the sum (or the int16 input values, which is
 * cheaper when a layer has fewer taps than output channels); the per-channel constants are then
 * packed as `start << 5 | rshift` (the accumulator start: folded bias, halved when the sum is
 * doubled) plus the multiplier, and kq is made from rshift and the output zero point:
 * kq = ((2 * out_zp + 1) << rshift) >> 1.
 */
#ifndef TF_DSP_COMMON_H
#define TF_DSP_COMMON_H

#include <stdint.h>

#include "tf_acle.h"
#include "tf_common.h"

/* hot loops in their own function, so that their register allocation ignores the caller's state */
#if defined(__GNUC__)
#define TF_NOINLINE static __attribute__((noinline))
#else
#define TF_NOINLINE static
#endif

/* requantized value before the activation clamp */
TF_INLINE int32_t tf_dsp_requant(int32_t a, int32_t mult, int32_t kq, int32_t rshift)
{
    const int32_t t = tf_smmlar(a, mult, kq);
    return (int32_t)((uint32_t)t + (uint32_t)(a >> 31)) >> rshift;
}

/* The usual case (ReLU outputs): the activation range is all of int8 and the output zero point is
 * -128 (the packers' `fast` flag). A negative accumulator then gives a value <= -128 whichever way
 * it is rounded, so the correction above is not needed: SMMLAR, ASR, SSAT. */
TF_INLINE int32_t tf_dsp_requant_fast(int32_t a, int32_t mult, int32_t kq, int32_t rshift)
{
    return tf_ssat8(tf_smmlar(a, mult, kq) >> rshift);
}

TF_INLINE int8_t tf_dsp_clamp(int32_t v, int32_t act_min, int32_t act_max)
{
    v = v < act_min ? act_min : v;
    return (int8_t)(v > act_max ? act_max : v);
}

/* The int8 weights' packed per-channel word: accumulator start and right shift; and kq. */
TF_INLINE int32_t tf_dsp_start(int32_t packed)
{
    return packed >> 5;
}

TF_INLINE int32_t tf_dsp_rshift(int32_t packed)
{
    return packed & 31;
}

TF_INLINE int32_t tf_dsp_kq(int32_t zp2p1, int32_t rshift)
{
    return (int32_t)((uint32_t)zp2p1 << rshift) >> 1;
}

/* sxtb16 of x, doubled (2 * each lane, which stays within int16) */
TF_INLINE int32_t tf_sxtb16x2(uint32_t x)
{
    return tf_sxtab16(tf_sxtb16(x), x);
}

TF_INLINE int32_t tf_sxtb16x2_ror8(uint32_t x)
{
    return tf_sxtab16_ror8(tf_sxtb16_ror8(x), x);
}

/* Expand `words` words of int8 (4 values each) to int16 pairs: word i -> dst[0] = (b0, b2),
 * dst[1] = (b1, b3); dst advances by `stride` words per input word. `dbl`: the values doubled. */
TF_INLINE int32_t *tf_dsp_expand_x(const int8_t *src, int32_t words, int32_t *dst, int32_t stride, int dbl)
{
#if TF_DSP_NATIVE
    if (words <= 0) {
        return dst;
    }
    if (dbl) {
        int32_t v, a, b;
        __asm__ volatile("1:\n\t"
                         "ldr %[v], [%[s]], #4\n\t"
                         "sxtb16 %[a], %[v]\n\t"
                         "sxtb16 %[b], %[v], ror #8\n\t"
                         "sxtab16 %[a], %[a], %[v]\n\t"
                         "sxtab16 %[b], %[b], %[v], ror #8\n\t"
                         "strd %[a], %[b], [%[d]]\n\t"
                         "add %[d], %[d], %[st]\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [v] "=&r"(v), [a] "=&r"(a), [b] "=&r"(b), [s] "+r"(src), [d] "+r"(dst), [n] "+r"(words)
                         : [st] "r"(4 * stride)
                         : "cc", "memory");
    } else {
        int32_t v, a, b;
        __asm__ volatile("1:\n\t"
                         "ldr %[v], [%[s]], #4\n\t"
                         "sxtb16 %[a], %[v]\n\t"
                         "sxtb16 %[b], %[v], ror #8\n\t"
                         "strd %[a], %[b], [%[d]]\n\t"
                         "add %[d], %[d], %[st]\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [v] "=&r"(v), [a] "=&r"(a), [b] "=&r"(b), [s] "+r"(src), [d] "+r"(dst), [n] "+r"(words)
                         : [st] "r"(4 * stride)
                         : "cc", "memory");
    }
    return dst;
#else
    int32_t i;
    if (dbl) {
        for (i = 0; i < words; ++i) {
            const uint32_t w = (uint32_t)tf_ld32(src + 4 * i);
            dst[0] = tf_sxtb16x2(w);
            dst[1] = tf_sxtb16x2_ror8(w);
            dst += stride;
        }
    } else {
        for (i = 0; i < words; ++i) {
            const uint32_t w = (uint32_t)tf_ld32(src + 4 * i);
            dst[0] = tf_sxtb16(w);
            dst[1] = tf_sxtb16_ror8(w);
            dst += stride;
        }
    }
    return dst;
#endif
}

/* tf_dsp_expand_x with stride 4 (the convolution's two-pixel im2col): two words per iteration,
 * the destination advanced by the stores (5 instead of 7 instructions per word, 7 doubled). */
TF_INLINE int32_t *tf_dsp_expand_x4(const int8_t *src, int32_t words, int32_t *dst, int dbl)
{
#if TF_DSP_NATIVE
    int32_t v, a, b;
    if (words & 1) {
        dst = tf_dsp_expand_x(src, 1, dst, 4, dbl);
        src += 4;
    }
    words >>= 1;
    if (words <= 0) {
        return dst;
    }
    if (dbl) {
        __asm__ volatile("1:\n\t"
                         "ldr %[v], [%[s]], #4\n\t"
                         "sxtb16 %[a], %[v]\n\t"
                         "sxtb16 %[b], %[v], ror #8\n\t"
                         "sxtab16 %[a], %[a], %[v]\n\t"
                         "sxtab16 %[b], %[b], %[v], ror #8\n\t"
                         "strd %[a], %[b], [%[d]], #16\n\t"
                         "ldr %[v], [%[s]], #4\n\t"
                         "sxtb16 %[a], %[v]\n\t"
                         "sxtb16 %[b], %[v], ror #8\n\t"
                         "sxtab16 %[a], %[a], %[v]\n\t"
                         "sxtab16 %[b], %[b], %[v], ror #8\n\t"
                         "strd %[a], %[b], [%[d]], #16\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [v] "=&r"(v), [a] "=&r"(a), [b] "=&r"(b), [s] "+r"(src), [d] "+r"(dst), [n] "+r"(words)
                         :
                         : "cc", "memory");
    } else {
        __asm__ volatile("1:\n\t"
                         "ldr %[v], [%[s]], #4\n\t"
                         "sxtb16 %[a], %[v]\n\t"
                         "sxtb16 %[b], %[v], ror #8\n\t"
                         "strd %[a], %[b], [%[d]], #16\n\t"
                         "ldr %[v], [%[s]], #4\n\t"
                         "sxtb16 %[a], %[v]\n\t"
                         "sxtb16 %[b], %[v], ror #8\n\t"
                         "strd %[a], %[b], [%[d]], #16\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [v] "=&r"(v), [a] "=&r"(a), [b] "=&r"(b), [s] "+r"(src), [d] "+r"(dst), [n] "+r"(words)
                         :
                         : "cc", "memory");
    }
    return dst;
#else
    return tf_dsp_expand_x(src, words, dst, 4, dbl);
#endif
}

TF_INLINE int32_t *tf_dsp_expand(const int8_t *src, int32_t words, int32_t *dst, int32_t stride)
{
    return tf_dsp_expand_x(src, words, dst, stride, 0);
}

/* Four int8 lanes of a word clamped to [lo, hi] lane-wise (lo4 / hi4: the bounds in every byte):
 * SSUB8 sets a GE flag per byte, SEL picks by them. */
TF_INLINE uint32_t tf_dsp_clamp4(uint32_t v, uint32_t lo4, uint32_t hi4)
{
#if TF_DSP_NATIVE
    uint32_t t;
    __asm__("ssub8 %[t], %[v], %[lo]\n\t"
            "sel %[v], %[v], %[lo]\n\t"
            "ssub8 %[t], %[v], %[hi]\n\t"
            "sel %[v], %[hi], %[v]"
            : [v] "+r"(v), [t] "=&r"(t)
            : [lo] "r"(lo4), [hi] "r"(hi4)
            : "cc");
    return v;
#else
    uint32_t r = 0;
    int i;
    for (i = 0; i < 32; i += 8) {
        int32_t x = (int8_t)(v >> i);
        const int32_t l = (int8_t)(lo4 >> i), h = (int8_t)(hi4 >> i);
        x = x < l ? l : x;
        x = x > h ? h : x;
        r |= ((uint32_t)x & 0xffu) << i;
    }
    return r;
#endif
}

/* The low bytes of four values as one word (b0 lowest). */
TF_INLINE uint32_t tf_dsp_pack4(int32_t b0, int32_t b1, int32_t b2, int32_t b3)
{
    return ((uint32_t)b0 & 0xffu) | (((uint32_t)b1 & 0xffu) << 8) | (((uint32_t)b2 & 0xffu) << 16) |
           ((uint32_t)b3 << 24);
}


/* Start of a global Thumb function written in assembly inside __asm__, in its own section (so
 * --gc-sections drops it when unused) and pushing r4-r11 and lr: the kernels' hand-scheduled loops. */
#define TF_ASM_FUNC_BEGIN(name)                                                                                       \
    ".pushsection .text." #name ",\"ax\",%progbits\n\t"                                                           \
    ".syntax unified\n\t"                                                                                           \
    ".thumb\n\t"                                                                                                    \
    ".p2align 2\n\t"                                                                                                \
    ".global " #name "\n\t"                                                                                         \
    ".type " #name ", %function\n\t"                                                                                \
    ".thumb_func\n" #name ":\n\t"                                                                                  \
    "push {r4-r11, lr}\n\t"

#endif /* TF_DSP_COMMON_H */
