/*
 * The DSP kernels' int16 multiply-accumulate cores (FULLY_CONNECTED, LSTM, SVDF): 4 output
 * channels at a time over int16 inputs expanded with SXTB16 (tf_dsp_expand), weights either
 * int16 (two SMLADs per 4 inputs and channel) or int8 unpacked in the loop. Weight streams are
 * [channel blocks of 4][chunks of 4 inputs][4 channels][...] as tinyforge/kernels/dsp.py
 * interleave() writes them.
 */
#ifndef TF_DSP_MAC_H
#define TF_DSP_MAC_H

#include <stdint.h>

#include "tf_acle.h"

/* 4 channels over `pairs` x 8 inputs: x = [chunk][2 words], w = [chunk][channel][2 words].
 * Per chunk one LDRD, two LDM and 8 SMLAD: 11 instructions for 16 MACs. */
TF_INLINE void tf_dsp_mac_1x4(const int32_t *x, const int32_t *w, int32_t pairs, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if TF_DSP_NATIVE
    /* LDM needs ascending registers: two channels' 4 taps at a time go to r8..r11 */
    register int32_t w0a __asm__("r8");
    register int32_t w0b __asm__("r9");
    register int32_t w1a __asm__("r10");
    register int32_t w1b __asm__("r11");
    int32_t xa, xb;
    __asm__(
        "1:\n\t"
        "ldrd %[xa], %[xb], [%[x]], #8\n\t"
        "ldmia %[w]!, {r8-r11}\n\t"
        "smlad %[a0], %[xa], r8, %[a0]\n\t"
        "smlad %[a0], %[xb], r9, %[a0]\n\t"
        "smlad %[a1], %[xa], r10, %[a1]\n\t"
        "smlad %[a1], %[xb], r11, %[a1]\n\t"
        "ldmia %[w]!, {r8-r11}\n\t"
        "smlad %[a2], %[xa], r8, %[a2]\n\t"
        "smlad %[a2], %[xb], r9, %[a2]\n\t"
        "smlad %[a3], %[xa], r10, %[a3]\n\t"
        "smlad %[a3], %[xb], r11, %[a3]\n\t"
        "ldrd %[xa], %[xb], [%[x]], #8\n\t"
        "ldmia %[w]!, {r8-r11}\n\t"
        "smlad %[a0], %[xa], r8, %[a0]\n\t"
        "smlad %[a0], %[xb], r9, %[a0]\n\t"
        "smlad %[a1], %[xa], r10, %[a1]\n\t"
        "smlad %[a1], %[xb], r11, %[a1]\n\t"
        "ldmia %[w]!, {r8-r11}\n\t"
        "smlad %[a2], %[xa], r8, %[a2]\n\t"
        "smlad %[a2], %[xb], r9, %[a2]\n\t"
        "smlad %[a3], %[xa], r10, %[a3]\n\t"
        "smlad %[a3], %[xb], r11, %[a3]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w), [n] "+r"(pairs),
          [xa] "=&r"(xa), [xb] "=&r"(xb), "=&r"(w0a), "=&r"(w0b), "=&r"(w1a), "=&r"(w1b)
        :
        : "cc", "memory");
#else
    int32_t c;
    for (c = 2 * pairs; c > 0; --c) {
        a0 = tf_smlad(x[0], w[0], a0);
        a0 = tf_smlad(x[1], w[1], a0);
        a1 = tf_smlad(x[0], w[2], a1);
        a1 = tf_smlad(x[1], w[3], a1);
        a2 = tf_smlad(x[0], w[4], a2);
        a2 = tf_smlad(x[1], w[5], a2);
        a3 = tf_smlad(x[0], w[6], a3);
        a3 = tf_smlad(x[1], w[7], a3);
        x += 2;
        w += 8;
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* The same with int8 weights (boards with little flash): w = [chunk][channel][1 word of 4 int8].
 * 19 instructions for 16 MACs. */
TF_INLINE void tf_dsp_mac_1x4_w8(const int32_t *x, const int32_t *w, int32_t chunks, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if TF_DSP_NATIVE
    int32_t xa, xb, wa, wb, t;
    __asm__(
        "1:\n\t"
        "ldrd %[xa], %[xb], [%[x]], #8\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "sxtb16 %[t], %[wa]\n\t"
        "sxtb16 %[wa], %[wa], ror #8\n\t"
        "smlad %[a0], %[xa], %[t], %[a0]\n\t"
        "smlad %[a0], %[xb], %[wa], %[a0]\n\t"
        "sxtb16 %[t], %[wb]\n\t"
        "sxtb16 %[wb], %[wb], ror #8\n\t"
        "smlad %[a1], %[xa], %[t], %[a1]\n\t"
        "smlad %[a1], %[xb], %[wb], %[a1]\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "sxtb16 %[t], %[wa]\n\t"
        "sxtb16 %[wa], %[wa], ror #8\n\t"
        "smlad %[a2], %[xa], %[t], %[a2]\n\t"
        "smlad %[a2], %[xb], %[wa], %[a2]\n\t"
        "sxtb16 %[t], %[wb]\n\t"
        "sxtb16 %[wb], %[wb], ror #8\n\t"
        "smlad %[a3], %[xa], %[t], %[a3]\n\t"
        "smlad %[a3], %[xb], %[wb], %[a3]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w), [n] "+r"(chunks),
          [xa] "=&r"(xa), [xb] "=&r"(xb), [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t)
        :
        : "cc", "memory");
#else
    for (; chunks > 0; --chunks) {
        int32_t j;
        int32_t *const a[4] = {&a0, &a1, &a2, &a3};
        for (j = 0; j < 4; ++j) {
            *a[j] = tf_smlad(x[0], tf_sxtb16((uint32_t)w[j]), *a[j]);
            *a[j] = tf_smlad(x[1], tf_sxtb16_ror8((uint32_t)w[j]), *a[j]);
        }
        x += 2;
        w += 4;
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#endif /* TF_DSP_MAC_H */
