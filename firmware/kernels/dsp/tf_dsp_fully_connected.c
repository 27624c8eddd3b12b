/* FULLY_CONNECTED int8 with the DSP extension: see tf_dsp_fully_connected.h. */
#include "tf_dsp_fully_connected.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"
#include "tf_dsp_mac.h"

/* int8 weights, two channels per word: w = [chunk][pair][2 words], the pair (A, B) = channels
 * (0, 1) and (2, 3); the word for the input lanes [x0, x2] holds the int16 halves
 * (wA0 << 8 | (wB0 + 128), wA2 << 8 | (wB2 + 128)), the next the same for [x1, x3]. SMLAD of the word
 * itself sums 256 * A + B + 128 * (the lanes' sum) into `m`, SXTB16 ROR #8 of it gives A's two weights
 * for the SMLAD into `a`: 3 instructions for 4 MACs (instead of 2 SXTB16 + 2 SMLAD). The row's
 * 128 * sum(x) (`c`) is taken out at the start: B = m - 256 * a at the end, all modulo 2^32.
 * `lean`: x is the int8 row itself (one LDR + 2 SXTB16 per chunk), else the expanded int16 row (one
 * LDRD per chunk). 14 (lean: 16) instructions for 16 MACs. */
TF_INLINE void tf_dsp_fc_w8_body(const void *x, const int32_t *w, int32_t pairs, int32_t *acc, int32_t c, int32_t dbl,
                                 int lean)
{
    const uint32_t m0 = (uint32_t)acc[1] + ((uint32_t)acc[0] << 8) - (uint32_t)c;
    const uint32_t m1 = (uint32_t)acc[3] + ((uint32_t)acc[2] << 8) - (uint32_t)c;
#if TF_DSP_NATIVE
    register int32_t a0 __asm__("r0") = acc[0];
    register int32_t a1 __asm__("r1") = (int32_t)m0;
    register int32_t a2 __asm__("r2") = acc[2];
    register int32_t a3 __asm__("r3") = (int32_t)m1;
    register int32_t w0 __asm__("r4");
    register int32_t w1 __asm__("r5");
    register int32_t w2 __asm__("r6");
    register int32_t w3 __asm__("r7");
    register int32_t xa __asm__("r8");
    register int32_t xb __asm__("r9");
    register const void *xp __asm__("r11") = x;
    register const int32_t *wp __asm__("r12") = w;
    register int32_t n __asm__("lr") = pairs;
#define TF_FC_W8_CHUNK                                                                                            \
    "ldmia %[w]!, {r4-r7}\n\t"                                                                                  \
    "smlad %[a1], %[xa], r4, %[a1]\n\t"                                                                         \
    "sxtb16 r4, r4, ror #8\n\t"                                                                                 \
    "smlad %[a0], %[xa], r4, %[a0]\n\t"                                                                         \
    "smlad %[a1], %[xb], r5, %[a1]\n\t"                                                                         \
    "sxtb16 r5, r5, ror #8\n\t"                                                                                 \
    "smlad %[a0], %[xb], r5, %[a0]\n\t"                                                                         \
    "smlad %[a3], %[xa], r6, %[a3]\n\t"                                                                         \
    "sxtb16 r6, r6, ror #8\n\t"                                                                                 \
    "smlad %[a2], %[xa], r6, %[a2]\n\t"                                                                         \
    "smlad %[a3], %[xb], r7, %[a3]\n\t"                                                                         \
    "sxtb16 r7, r7, ror #8\n\t"                                                                                 \
    "smlad %[a2], %[xb], r7, %[a2]\n\t"
#define TF_FC_W8_OUTS                                                                                             \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(xp), [w] "+r"(wp), [n] "+r"(n),            \
        [xa] "=&r"(xa), [xb] "=&r"(xb), "=&r"(w0), "=&r"(w1), "=&r"(w2), "=&r"(w3)
    if (lean) {
        __asm__ volatile("1:\n\t"
                         "ldr %[xa], [%[x]], #4\n\t"
                         "sxtb16 %[xb], %[xa], ror #8\n\t"
                         "sxtb16 %[xa], %[xa]\n\t" TF_FC_W8_CHUNK "ldr %[xa], [%[x]], #4\n\t"
                         "sxtb16 %[xb], %[xa], ror #8\n\t"
                         "sxtb16 %[xa], %[xa]\n\t" TF_FC_W8_CHUNK "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : TF_FC_W8_OUTS
                         :
                         : "cc", "memory");
    } else {
        __asm__ volatile("1:\n\t"
                         "ldrd %[xa], %[xb], [%[x]], #8\n\t" TF_FC_W8_CHUNK "ldrd %[xa], %[xb], [%[x]], #8\n\t"
                         TF_FC_W8_CHUNK "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : TF_FC_W8_OUTS
                         :
                         : "cc", "memory");
    }
#undef TF_FC_W8_CHUNK
#undef TF_FC_W8_OUTS
#else
    int32_t a0 = acc[0], a1 = (int32_t)m0, a2 = acc[2], a3 = (int32_t)m1;
    const int32_t *x32 = (const int32_t *)x;
    const int8_t *x8 = (const int8_t *)x;
    int32_t k;
    for (k = 2 * pairs; k > 0; --k) {
        int32_t xa, xb;
        if (lean) {
            const uint32_t v = (uint32_t)tf_ld32(x8);
            xa = tf_sxtb16(v);
            xb = tf_sxtb16_ror8(v);
            x8 += 4;
        } else {
            xa = x32[0];
            xb = x32[1];
            x32 += 2;
        }
        a1 = tf_smlad(xa, w[0], a1);
        a0 = tf_smlad(xa, tf_sxtb16_ror8((uint32_t)w[0]), a0);
        a1 = tf_smlad(xb, w[1], a1);
        a0 = tf_smlad(xb, tf_sxtb16_ror8((uint32_t)w[1]), a0);
        a3 = tf_smlad(xa, w[2], a3);
        a2 = tf_smlad(xa, tf_sxtb16_ror8((uint32_t)w[2]), a2);
        a3 = tf_smlad(xb, w[3], a3);
        a2 = tf_smlad(xb, tf_sxtb16_ror8((uint32_t)w[3]), a2);
        w += 4;
    }
#endif
    /* `dbl` (0 or 1): the sums doubled (int8 requantization, see xdouble) */
    acc[0] = (int32_t)((uint32_t)a0 << dbl);
    acc[1] = (int32_t)(((uint32_t)a1 - ((uint32_t)a0 << 8)) << dbl);
    acc[2] = (int32_t)((uint32_t)a2 << dbl);
    acc[3] = (int32_t)(((uint32_t)a3 - ((uint32_t)a2 << 8)) << dbl);
}

/* 128 * the sum of the row's int16 lanes (`kpad` of them; lean: the int8 row, `kpad` bytes) */
static int32_t tf_dsp_fc_offset(const void *x, int32_t kpad, int lean)
{
    uint32_t s = 0;
    int32_t i;
    if (lean) {
        const int8_t *x8 = (const int8_t *)x;
        for (i = 0; i < kpad; i += 4) {
            const uint32_t v = (uint32_t)tf_ld32(x8 + i);
            s = (uint32_t)tf_smlad(tf_sxtb16(v), 0x00010001, (int32_t)s);
            s = (uint32_t)tf_smlad(tf_sxtb16_ror8(v), 0x00010001, (int32_t)s);
        }
    } else {
        const int32_t *x32 = (const int32_t *)x;
        for (i = 0; i < kpad >> 1; ++i) {
            s = (uint32_t)tf_smlad(x32[i], 0x00010001, (int32_t)s);
        }
    }
    return (int32_t)(s << 7);
}

/* the register-pinned loops in functions of their own, so that their callers keep their registers */
TF_NOINLINE void tf_dsp_fc_w8(const void *x, const int32_t *w, int32_t pairs, int32_t *acc, int32_t c,
                              int32_t dbl)
{
    tf_dsp_fc_w8_body(x, w, pairs, acc, c, dbl, 0);
}

TF_NOINLINE void tf_dsp_fc_w8_lean(const void *x, const int32_t *w, int32_t pairs, int32_t *acc, int32_t c,
                                   int32_t dbl)
{
    tf_dsp_fc_w8_body(x, w, pairs, acc, c, dbl, 1);
}

/* int16 weights over the int8 row itself (lean): one LDR + 2 SXTB16, two LDM and 8 SMLAD per 4 inputs. */
TF_INLINE void tf_dsp_mac_1x4_lean(const int8_t *x, const int32_t *w, int32_t pairs, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if TF_DSP_NATIVE
    register int32_t w0a __asm__("r8");
    register int32_t w0b __asm__("r9");
    register int32_t w1a __asm__("r10");
    register int32_t w1b __asm__("r11");
    int32_t xa, xb;
    __asm__("1:\n\t"
            "ldr %[xa], [%[x]], #4\n\t"
            "sxtb16 %[xb], %[xa], ror #8\n\t"
            "sxtb16 %[xa], %[xa]\n\t"
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
            "ldr %[xa], [%[x]], #4\n\t"
            "sxtb16 %[xb], %[xa], ror #8\n\t"
            "sxtb16 %[xa], %[xa]\n\t"
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
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w),
              [n] "+r"(pairs), [xa] "=&r"(xa), [xb] "=&r"(xb), "=&r"(w0a), "=&r"(w0b), "=&r"(w1a), "=&r"(w1b)
            :
            : "cc", "memory");
#else
    int32_t c;
    for (c = 2 * pairs; c > 0; --c) {
        const uint32_t v = (uint32_t)tf_ld32(x);
        const int32_t xa = tf_sxtb16(v), xb = tf_sxtb16_ror8(v);
        a0 = tf_smlad(xa, w[0], a0);
        a0 = tf_smlad(xb, w[1], a0);
        a1 = tf_smlad(xa, w[2], a1);
        a1 = tf_smlad(xb, w[3], a1);
        a2 = tf_smlad(xa, w[4], a2);
        a2 = tf_smlad(xb, w[5], a2);
        a3 = tf_smlad(xa, w[6], a3);
        a3 = tf_smlad(xb, w[7], a3);
        x += 4;
        w += 8;
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* `blocks` blocks of 4 output channels from block `block0` on, requantized and saturated to int8 (a
 * narrower activation range is clamped by the caller). int16 weights (`wide`): the block's constants
 * [bias[4], mult[4], kq[4], rshift[4]] in a row. */
TF_INLINE void tf_dsp_fc_w16_blocks(const tf_dsp_fully_connected_s8_params_t *p, const void *x, int8_t *out,
                                    int32_t block0, int32_t blocks, int lean)
{
    const int32_t wstep = 2 * p->kpad, pairs = p->kpad >> 3, fast = p->fast;
    const int32_t *w = p->weights + block0 * wstep;
    const int32_t *q = p->bias + 16 * block0;
    for (; blocks > 0; --blocks) {
        int32_t acc[4];
        int32_t v0, v1, v2, v3;
        acc[0] = q[0];
        acc[1] = q[1];
        acc[2] = q[2];
        acc[3] = q[3];
        if (lean) {
            tf_dsp_mac_1x4_lean((const int8_t *)x, w, pairs, acc);
        } else {
            tf_dsp_mac_1x4((const int32_t *)x, w, pairs, acc);
        }
        w += wstep;
        if (fast) {
            v0 = tf_dsp_requant_fast(acc[0], q[4], q[8], q[12]);
            v1 = tf_dsp_requant_fast(acc[1], q[5], q[9], q[13]);
            v2 = tf_dsp_requant_fast(acc[2], q[6], q[10], q[14]);
            v3 = tf_dsp_requant_fast(acc[3], q[7], q[11], q[15]);
        } else {
            v0 = tf_ssat8(tf_dsp_requant(acc[0], q[4], q[8], q[12]));
            v1 = tf_ssat8(tf_dsp_requant(acc[1], q[5], q[9], q[13]));
            v2 = tf_ssat8(tf_dsp_requant(acc[2], q[6], q[10], q[14]));
            v3 = tf_ssat8(tf_dsp_requant(acc[3], q[7], q[11], q[15]));
        }
        out[0] = (int8_t)v0;
        out[1] = (int8_t)v1;
        out[2] = (int8_t)v2;
        out[3] = (int8_t)v3;
        out += 4;
        q += 16;
    }
}

/* The same with int8 weights: the starts and right shifts packed in `bias`, or (`unpacked`) the starts
 * in `bias` and the shifts in p->rshift; `c` as in tf_dsp_fc_w8_body. */
TF_INLINE void tf_dsp_fc_w8_blocks(const tf_dsp_fully_connected_s8_params_t *p, const void *x, int8_t *out,
                                   int32_t block0, int32_t blocks, int32_t c, int unpacked)
{
    const int32_t lean = p->lean;
    void (*const mac)(const void *, const int32_t *, int32_t, int32_t *, int32_t, int32_t) =
        lean ? tf_dsp_fc_w8_lean : tf_dsp_fc_w8;
    const int32_t pairs = p->kpad >> 3, wstep = p->kpad;
    const int32_t mstep = p->per_channel ? 1 : 0;
    const int32_t *w = p->weights + block0 * wstep;
    const int32_t *bias = p->bias + 4 * block0, *mult = p->mult + 4 * mstep * block0;
    const uint8_t *rsh = unpacked ? p->rshift + 4 * block0 : 0;
    const int32_t zp2p1 = 2 * p->out_zp + 1;
    const int32_t fast = p->fast, dsum = !p->xdouble || lean ? 1 : 0;
    for (; blocks > 0; --blocks) {
        int32_t acc[4];
        int32_t v0, v1, v2, v3, r0, r1, r2, r3, k0, k1, k2, k3;
        const int32_t b0 = bias[0], b1 = bias[1], b2 = bias[2], b3 = bias[3];
        if (unpacked) {
            acc[0] = b0, acc[1] = b1, acc[2] = b2, acc[3] = b3;
            r0 = rsh[0], r1 = rsh[1], r2 = rsh[2], r3 = rsh[3];
            rsh += 4;
        } else {
            acc[0] = tf_dsp_start(b0);
            acc[1] = tf_dsp_start(b1);
            acc[2] = tf_dsp_start(b2);
            acc[3] = tf_dsp_start(b3);
            r0 = tf_dsp_rshift(b0), r1 = tf_dsp_rshift(b1), r2 = tf_dsp_rshift(b2), r3 = tf_dsp_rshift(b3);
        }
        mac(x, w, pairs, acc, c, dsum);
        w += wstep;
        bias += 4;
        k0 = tf_dsp_kq(zp2p1, r0), k1 = tf_dsp_kq(zp2p1, r1), k2 = tf_dsp_kq(zp2p1, r2), k3 = tf_dsp_kq(zp2p1, r3);
        if (fast) {
            v0 = tf_dsp_requant_fast(acc[0], mult[0], k0, r0);
            v1 = tf_dsp_requant_fast(acc[1], mult[mstep], k1, r1);
            v2 = tf_dsp_requant_fast(acc[2], mult[2 * mstep], k2, r2);
            v3 = tf_dsp_requant_fast(acc[3], mult[3 * mstep], k3, r3);
        } else {
            v0 = tf_ssat8(tf_dsp_requant(acc[0], mult[0], k0, r0));
            v1 = tf_ssat8(tf_dsp_requant(acc[1], mult[mstep], k1, r1));
            v2 = tf_ssat8(tf_dsp_requant(acc[2], mult[2 * mstep], k2, r2));
            v3 = tf_ssat8(tf_dsp_requant(acc[3], mult[3 * mstep], k3, r3));
        }
        mult += 4 * mstep;
        out[0] = (int8_t)v0;
        out[1] = (int8_t)v1;
        out[2] = (int8_t)v2;
        out[3] = (int8_t)v3;
        out += 4;
    }
}

/* the block loops with the flags decided once per call (the lean and wide variants' assembly differ) */
TF_NOINLINE void tf_dsp_fc_blocks(const tf_dsp_fully_connected_s8_params_t *p, const void *x, int8_t *out,
                                  int32_t block0, int32_t blocks, int32_t c)
{
    if (p->wide) {
        if (p->lean) {
            tf_dsp_fc_w16_blocks(p, x, out, block0, blocks, 1);
        } else {
            tf_dsp_fc_w16_blocks(p, x, out, block0, blocks, 0);
        }
    } else if (p->rshift) {
        tf_dsp_fc_w8_blocks(p, x, out, block0, blocks, c, 1);
    } else {
        tf_dsp_fc_w8_blocks(p, x, out, block0, blocks, c, 0);
    }
}

/* One row: the whole blocks into `out`, the last (out_depth % 4 channels) through a buffer, then the
 * activation's clamp when narrower than int8 (clamping the saturated value gives the same). */
static void tf_dsp_fc_any_row(const tf_dsp_fully_connected_s8_params_t *p, const void *x, int8_t *out)
{
    const int32_t c = p->wide ? 0 : tf_dsp_fc_offset(x, p->kpad, p->lean);
    const int32_t blocks = p->out_depth >> 2, tail = p->out_depth & 3;
    int32_t i;
    tf_dsp_fc_blocks(p, x, out, 0, blocks, c);
    if (tail) {
        int8_t last[4];
        tf_dsp_fc_blocks(p, x, last, blocks, 1, c);
        for (i = 0; i < tail; ++i) {
            out[4 * blocks + i] = last[i];
        }
    }
    if (p->act_min != -128 || p->act_max != 127) {
        for (i = 0; i < p->out_depth; ++i) {
            out[i] = tf_dsp_clamp(out[i], p->act_min, p->act_max);
        }
    }
}

void tf_dsp_fully_connected_s8(const tf_dsp_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output,
                               void *scratch)
{
    int32_t *x = (int32_t *)scratch;
    const int32_t depth = p->accum_depth;
    const int dbl = !p->wide && p->xdouble;
    int32_t b, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * depth;
        int8_t *out = output + b * p->out_depth;
        if (p->lean) {
            tf_dsp_fc_any_row(p, in, out);
            continue;
        }
        /* the row as int16 pairs; the padding (weights 0) reads 0 */
        tf_dsp_expand_x(in, depth >> 2, x, 2, dbl);
        if (depth & 3) {
            uint32_t tail = 0;
            for (i = depth & ~3; i < depth; ++i) {
                tail |= (uint32_t)(uint8_t)in[i] << (8 * (i & 3));
            }
            x[2 * (depth >> 2)] = dbl ? tf_sxtb16x2(tail) : tf_sxtb16(tail);
            x[2 * (depth >> 2) + 1] = dbl ? tf_sxtb16x2_ror8(tail) : tf_sxtb16_ror8(tail);
        }
        for (i = (depth + 3) >> 2; i < (p->kpad >> 2); ++i) {
            x[2 * i] = 0;
            x[2 * i + 1] = 0;
        }
        tf_dsp_fc_any_row(p, x, out);
    }
}
