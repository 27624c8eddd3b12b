/* FULLY_CONNECTED int8 with the DSP extension: see tf_dsp_fully_connected.h. */
#include "tf_dsp_fully_connected.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"

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

void tf_dsp_fully_connected_s8(const tf_dsp_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output,
                               void *scratch)
{
    int32_t *x = (int32_t *)scratch;
    const int32_t depth = p->accum_depth;
    const int full = p->act_min == -128 && p->act_max == 127;
    int32_t b, oc, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * depth;
        int8_t *out = output + b * p->out_depth;
        const int32_t *w = p->weights;
        const int32_t *q = p->qparams;
        /* the row as int16 pairs; the padding (weights 0) reads 0 */
        tf_dsp_expand(in, depth >> 2, x, 2);
        if (depth & 3) {
            uint32_t tail = 0;
            for (i = depth & ~3; i < depth; ++i) {
                tail |= (uint32_t)(uint8_t)in[i] << (8 * (i & 3));
            }
            x[2 * (depth >> 2)] = tf_sxtb16(tail);
            x[2 * (depth >> 2) + 1] = tf_sxtb16_ror8(tail);
        }
        for (i = (depth + 3) >> 2; i < (p->kpad >> 2); ++i) {
            x[2 * i] = 0;
            x[2 * i + 1] = 0;
        }
        for (oc = 0; oc < p->out_depth; oc += 4) {
            int32_t acc[4];
            int32_t j;
            acc[0] = q[0];
            acc[1] = q[1];
            acc[2] = q[2];
            acc[3] = q[3];
            if (p->int8_weights) {
                tf_dsp_mac_1x4_w8(x, w, p->kpad >> 2, acc);
                w += p->kpad;
                for (j = 0; j < 4; ++j) {
                    acc[j] *= 2; /* int8 weights are not scaled by 2: double the sum instead */
                }
            } else {
                tf_dsp_mac_1x4(x, w, p->kpad >> 3, acc);
                w += p->kpad * 2;
            }
            if (full && oc + 4 <= p->out_depth) {
                int32_t v[4];
                for (j = 0; j < 4; ++j) {
                    v[j] = p->fast ? tf_dsp_requant_fast(acc[j], q[4 + j], q[8 + j], q[12 + j])
                                   : tf_ssat8(tf_dsp_requant(acc[j], q[4 + j], q[8 + j], q[12 + j]));
                }
                for (j = 0; j < 4; ++j) {
                    out[oc + j] = (int8_t)v[j];
                }
            } else {
                for (j = 0; j < 4 && oc + j < p->out_depth; ++j) {
                    out[oc + j] =
                        tf_dsp_clamp(tf_dsp_requant(acc[j], q[4 + j], q[8 + j], q[12 + j]), p->act_min, p->act_max);
                }
            }
            q += 16;
        }
    }
}
