/* FULLY_CONNECTED int8 with the DSP extension: see tf_dsp_fully_connected.h. */
#include "tf_dsp_fully_connected.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"
#include "tf_dsp_mac.h"

/* the compiled-in paths (set by the packer, tinyforge/kernels/ops/dsp/fully_connected.py): see
 * tf_dsp_fc_runs below */
#ifndef TF_DSP_FC_VARIANTS
#define TF_DSP_FC_VARIANTS 0x1FFF
#endif

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

#if TF_DSP_FC_VARIANTS & 0x1000
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

/* `blocks` blocks of 4 output channels from block `block0` on, requantized and saturated to int8 (a
 * narrower activation range is clamped by the caller): int8 weights with per-channel constants, the
 * starts and right shifts packed in `bias`, or (`unpacked`) the starts in `bias` and the shifts in
 * p->rshift; `c` as in tf_dsp_fc_w8_body. */
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

/* the block loops with the flags decided once per call */
TF_NOINLINE void tf_dsp_fc_blocks(const tf_dsp_fully_connected_s8_params_t *p, const void *x, int8_t *out,
                                  int32_t block0, int32_t blocks, int32_t c)
{
    if (p->rshift) {
        tf_dsp_fc_w8_blocks(p, x, out, block0, blocks, c, 1);
    } else {
        tf_dsp_fc_w8_blocks(p, x, out, block0, blocks, c, 0);
    }
}
#endif

/* ---- the block runs: a row's blocks in one assembly loop, the block constants in the weight stream ---- */

/* Field offsets are used by the assembly. */
typedef struct {
    int32_t mult;          /* 0: int8 weights: the multiplier, */
    int32_t kq;            /* 4: the rounding constant */
    int32_t rshift;        /* 8: and the right shift of every channel */
    int8_t *out;           /* 12: the next block's 4 outputs */
    const int8_t *out_end; /* 16: the end of the run's outputs */
    const void *x;         /* 20: the row (int16 pairs, or lean: the int8 row) */
    int32_t quads;         /* 24: passes of the inner loop (4 x 8 inputs each): (kpad / 8 + 3) / 4 */
    int32_t c;             /* 28: int8 weights: 128 * the row's sum (tf_dsp_fc_w8_body) */
    const int32_t *w;      /* 32: the first block's stream */
    int32_t entry;         /* 36: the 8-input steps the first pass skips, (-kpad / 8) & 3; the
                            * assembly turns it into the address where each block enters its loop */
} tf_dsp_fc_run_t;

/* run = (lean << 2 | dsum << 1 | corr) with int8 weights, 8 + (lean << 1 | corr) with int16 weights:
 * lean, the row is int8 (else int16 pairs); dsum, the sums doubled; corr, the rounding correction
 * (else tf_dsp_requant_fast). Bit `run` of TF_DSP_FC_VARIANTS compiles it in, bit 12 the per-channel
 * int8 block loops in C. */
#if TF_DSP_NATIVE
/* The inner loop takes 32 inputs a pass (4 steps of 8), the first pass entered at the step that
 * leaves a multiple of 4 (the entry address computed once per run: every instruction of a step is
 * 32-bit, STEP bytes a step).
 * registers: accumulators r0-r3, weights r4-r7, the row's pairs r8 r9, row pointer r10, count r11,
 * weight stream r12, the run struct lr */
#define TF_FC_X16 "ldrd r8, r9, [r10], #8\n\t"
#define TF_FC_X8 "ldr.w r8, [r10], #4\n\tsxtb16 r9, r8, ror #8\n\tsxtb16 r8, r8\n\t"
/* int8 weights, two channels a word (tf_dsp_fc_w8_body): r0 / r1 = A / m of channels 0, 1 */
#define TF_FC_C8                                                                                                  \
    "ldmia.w r12!, {r4-r7}\n\t"                                                                                   \
    "smlad r1, r8, r4, r1\n\t"                                                                                  \
    "sxtb16 r4, r4, ror #8\n\t"                                                                                 \
    "smlad r0, r8, r4, r0\n\t"                                                                                  \
    "smlad r1, r9, r5, r1\n\t"                                                                                  \
    "sxtb16 r5, r5, ror #8\n\t"                                                                                 \
    "smlad r0, r9, r5, r0\n\t"                                                                                  \
    "smlad r3, r8, r6, r3\n\t"                                                                                  \
    "sxtb16 r6, r6, ror #8\n\t"                                                                                 \
    "smlad r2, r8, r6, r2\n\t"                                                                                  \
    "smlad r3, r9, r7, r3\n\t"                                                                                  \
    "sxtb16 r7, r7, ror #8\n\t"                                                                                 \
    "smlad r2, r9, r7, r2\n\t"
#define TF_FC_LOOP(X, C) "ldr pc, [lr, #36]\n\t.p2align 2\n2:\n\t" X C X C X C X C X C X C X C X C "subs r11, r11, #1\n\tbne 2b\n\t"
/* the entry: 2b + STEP * skip, Thumb bit set */
#define TF_FC_ENTRY(STEP)                                                                                         \
    "ldr r9, [lr, #36]\n\t"                                                                                   \
    "adr.w r8, 2f\n\t"                                                                                        \
    "mov r10, #" #STEP "\n\t"                                                                                 \
    "mla r8, r9, r10, r8\n\t"                                                                                 \
    "orr r8, r8, #1\n\t"                                                                                      \
    "str r8, [lr, #36]\n\t"
#define TF_FC_DSUM "lsl r0, r0, #1\n\tlsl r1, r1, #1\n\tlsl r2, r2, #1\n\tlsl r3, r3, #1\n\t"
/* int8 weights' requantization: mult r4, kq r5, rshift r6 (out r7, out_end r8) */
#define TF_FC_Q8F(A) "smmlar " A ", " A ", r4, r5\n\tasr " A ", " A ", r6\n\tssat " A ", #8, " A "\n\t"
#define TF_FC_Q8C(A)                                                                                              \
    "smmlar r9, " A ", r4, r5\n\tadd r9, r9, " A ", asr #31\n\tasr " A ", r9, r6\n\tssat " A ", #8, " A "\n\t"
#define TF_FC_Q8(Q) Q("r0") Q("r1") Q("r2") Q("r3")
#define TF_FC_STORE "strb r0, [r7], #1\n\tstrb r1, [r7], #1\n\tstrb r2, [r7], #1\n\tstrb r3, [r7], #1\n\t"
#define TF_FC_FN8(name, X, STEP, DSUM, Q)                                                                         \
    void name(tf_dsp_fc_run_t *r);                                                                                \
    __asm__(TF_ASM_FUNC_BEGIN(name) "mov lr, r0\n\t" TF_FC_ENTRY(STEP)                                           \
                                    "ldr r12, [lr, #32]\n"                                                        \
                                    "1:\n\t"                                                                      \
                                    "ldm r12!, {r0-r3}\n\t"                                                       \
                                    "ldr r9, [lr, #28]\n\t"                                                       \
                                    "add r1, r1, r0, lsl #8\n\t"                                                  \
                                    "add r3, r3, r2, lsl #8\n\t"                                                  \
                                    "sub r1, r1, r9\n\t"                                                          \
                                    "sub r3, r3, r9\n\t"                                                          \
                                    "ldrd r10, r11, [lr, #20]\n\t" TF_FC_LOOP(X, TF_FC_C8)                        \
                                    "sub r1, r1, r0, lsl #8\n\t"                                                  \
                                    "sub r3, r3, r2, lsl #8\n\t" DSUM "ldm lr, {r4-r8}\n\t" TF_FC_Q8(Q)            \
                                    TF_FC_STORE "str r7, [lr, #12]\n\t"                                                       \
                                    "cmp r7, r8\n\t"                                                              \
                                    "bne 1b\n\t"                                                                  \
                                    "pop {r4-r11, pc}\n\t"                                                        \
                                    ".size " #name ", .-" #name "\n\t"                                            \
                                    ".popsection\n\t")
/* int16 weights: a step of 8 inputs, the row's 4 words (lane pairs (0, 2), (1, 3), (4, 6), (5, 7))
 * in r8-r11 (expanded row: one LDM; lean: LDRD of 8 int8 and 4 SXTB16), each channel's 4 words by
 * one LDM, the first channel's loaded by the step before (or the block's start): 21 instructions for
 * 32 MACs (lean 25). The loop needs no counter: it ends when the word after the block's weights,
 * TF_FC_W16_END (odd halves, which no weight has: they are scaled by 2^(left shift + 1)), is loaded.
 * lr holds the row pointer in the loop; the loop entry, the row, the output and its end are in
 * the frame ([sp] .. [sp, #12]). */
#define TF_FC_W16_END "#0x01010101"
#define TF_FC_Y16 "ldmia.w lr!, {r8-r11}\n\t"
#define TF_FC_Y8                                                                                                  \
    "ldrd r8, r9, [lr], #8\n\t"                                                                                 \
    "sxtb16 r11, r9, ror #8\n\t"                                                                                \
    "sxtb16 r10, r9\n\t"                                                                                        \
    "sxtb16 r9, r8, ror #8\n\t"                                                                                 \
    "sxtb16 r8, r8\n\t"
#define TF_FC_S16(A)                                                                                              \
    "smlad " A ", r8, r4, " A "\n\t"                                                                            \
    "smlad " A ", r9, r5, " A "\n\t"                                                                            \
    "smlad " A ", r10, r6, " A "\n\t"                                                                           \
    "smlad " A ", r11, r7, " A "\n\t"                                                                           \
    "ldmia.w r12!, {r4-r7}\n\t"
#define TF_FC_STEP16(Y) Y TF_FC_S16("r0") TF_FC_S16("r1") TF_FC_S16("r2") TF_FC_S16("r3")
/* after the loop r4 = TF_FC_W16_END, r5-r7 = mult[0..2]; then mult[3], kq[4], rshift[4] */
#define TF_FC_Q16F "smmlar r0, r0, r5, r8\n\tsmmlar r1, r1, r6, r9\n\tsmmlar r2, r2, r7, r10\n\tsmmlar r3, r3, r4, r11\n\t"
#define TF_FC_Q16C                                                                                                \
    "smmlar r5, r0, r5, r8\n\tadd r0, r5, r0, asr #31\n\t"                                                    \
    "smmlar r6, r1, r6, r9\n\tadd r1, r6, r1, asr #31\n\t"                                                    \
    "smmlar r7, r2, r7, r10\n\tadd r2, r7, r2, asr #31\n\t"                                                   \
    "smmlar r4, r3, r4, r11\n\tadd r3, r4, r3, asr #31\n\t"
#define TF_FC_FN16(name, Y, STEP, Q)                                                                              \
    void name(tf_dsp_fc_run_t *r);                                                                                \
    __asm__(TF_ASM_FUNC_BEGIN(name) "sub sp, sp, #16\n\t"                                                         \
                                    "ldr r9, [r0, #36]\n\t"                                                       \
                                    "adr.w r8, 2f\n\t"                                                            \
                                    "mov r10, #" #STEP "\n\t"                                                     \
                                    "mla r8, r9, r10, r8\n\t"                                                     \
                                    "orr r8, r8, #1\n\t"                                                          \
                                    "ldr r9, [r0, #20]\n\t"                                                       \
                                    "ldrd r10, r11, [r0, #12]\n\t"                                                \
                                    "stm sp, {r8-r11}\n\t"                                                        \
                                    "ldr r12, [r0, #32]\n"                                                        \
                                    "1:\n\t"                                                                      \
                                    "ldmia.w r12!, {r0-r7}\n\t"                                                   \
                                    "ldr lr, [sp, #4]\n\t"                                                        \
                                    "ldr pc, [sp]\n\t"                                                        \
                                    ".p2align 2\n"                                                                \
                                    "2:\n\t" TF_FC_STEP16(Y) TF_FC_STEP16(Y) TF_FC_STEP16(Y) TF_FC_STEP16(Y)       \
                                    "cmp r4, " TF_FC_W16_END "\n\t"                                               \
                                    "bne 2b\n\t"                                                                  \
                                    "ldmia.w r12!, {r4, r8-r11}\n\t" Q "ldmia.w r12!, {r4-r7}\n\t"                \
                                    "asr r0, r0, r4\n\t"                                                          \
                                    "asr r1, r1, r5\n\t"                                                          \
                                    "asr r2, r2, r6\n\t"                                                          \
                                    "asr r3, r3, r7\n\t"                                                          \
                                    "ssat r0, #8, r0\n\t"                                                         \
                                    "ssat r1, #8, r1\n\t"                                                         \
                                    "ssat r2, #8, r2\n\t"                                                         \
                                    "ssat r3, #8, r3\n\t"                                                         \
                                    "ldrd r7, r8, [sp, #8]\n\t" TF_FC_STORE "str r7, [sp, #8]\n\t"              \
                                    "cmp r7, r8\n\t"                                                              \
                                    "bne 1b\n\t"                                                                  \
                                    "add sp, sp, #16\n\t"                                                          \
                                    "pop {r4-r11, pc}\n\t"                                                        \
                                    ".size " #name ", .-" #name "\n\t"                                            \
                                    ".popsection\n\t")
#if TF_DSP_FC_VARIANTS & 0x1
TF_FC_FN8(tf_fc_run_w8, TF_FC_X16, 112, "", TF_FC_Q8F);
#else
#define tf_fc_run_w8 0
#endif
#if TF_DSP_FC_VARIANTS & 0x2
TF_FC_FN8(tf_fc_run_w8_c, TF_FC_X16, 112, "", TF_FC_Q8C);
#else
#define tf_fc_run_w8_c 0
#endif
#if TF_DSP_FC_VARIANTS & 0x4
TF_FC_FN8(tf_fc_run_w8_d, TF_FC_X16, 112, TF_FC_DSUM, TF_FC_Q8F);
#else
#define tf_fc_run_w8_d 0
#endif
#if TF_DSP_FC_VARIANTS & 0x8
TF_FC_FN8(tf_fc_run_w8_dc, TF_FC_X16, 112, TF_FC_DSUM, TF_FC_Q8C);
#else
#define tf_fc_run_w8_dc 0
#endif
#if TF_DSP_FC_VARIANTS & 0x40
TF_FC_FN8(tf_fc_run_w8_ld, TF_FC_X8, 128, TF_FC_DSUM, TF_FC_Q8F);
#else
#define tf_fc_run_w8_ld 0
#endif
#if TF_DSP_FC_VARIANTS & 0x80
TF_FC_FN8(tf_fc_run_w8_ldc, TF_FC_X8, 128, TF_FC_DSUM, TF_FC_Q8C);
#else
#define tf_fc_run_w8_ldc 0
#endif
#if TF_DSP_FC_VARIANTS & 0x100
TF_FC_FN16(tf_fc_run_w16, TF_FC_Y16, 84, TF_FC_Q16F);
#else
#define tf_fc_run_w16 0
#endif
#if TF_DSP_FC_VARIANTS & 0x200
TF_FC_FN16(tf_fc_run_w16_c, TF_FC_Y16, 84, TF_FC_Q16C);
#else
#define tf_fc_run_w16_c 0
#endif
#if TF_DSP_FC_VARIANTS & 0x400
TF_FC_FN16(tf_fc_run_w16_l, TF_FC_Y8, 100, TF_FC_Q16F);
#else
#define tf_fc_run_w16_l 0
#endif
#if TF_DSP_FC_VARIANTS & 0x800
TF_FC_FN16(tf_fc_run_w16_lc, TF_FC_Y8, 100, TF_FC_Q16C);
#else
#define tf_fc_run_w16_lc 0
#endif
typedef void (*tf_dsp_fc_run_fn)(tf_dsp_fc_run_t *r);
/* [run]; 4 and 5 (lean rows without doubled sums) do not occur */
static const tf_dsp_fc_run_fn tf_dsp_fc_runs[12] = {
    tf_fc_run_w8,    tf_fc_run_w8_c,   tf_fc_run_w8_d,  tf_fc_run_w8_dc,  0,        0,
    tf_fc_run_w8_ld, tf_fc_run_w8_ldc, tf_fc_run_w16,   tf_fc_run_w16_c,  tf_fc_run_w16_l, tf_fc_run_w16_lc,
};
#else
/* the same in C (hosts) */
static void tf_dsp_fc_run_c(tf_dsp_fc_run_t *r, int32_t run)
{
    const int wide = run >= 8, corr = run & 1;
    const int lean = wide ? (run >> 1) & 1 : (run >> 2) & 1, dsum = !wide && ((run >> 1) & 1);
    const int32_t *w = r->w;
    const int32_t pairs = 4 * r->quads - r->entry, kpad = 8 * pairs;
    while (r->out != r->out_end) {
        int32_t acc[4], mult[4], kq[4], rs[4];
        int32_t i;
        for (i = 0; i < 4; ++i) {
            acc[i] = w[i];
        }
        w += 4;
        if (wide) {
            int32_t k, j;
            for (k = 0; k < pairs; ++k) {
                int32_t xw[4];
                if (lean) {
                    const int8_t *x8 = (const int8_t *)r->x + 8 * k;
                    const uint32_t lo = (uint32_t)tf_ld32(x8), hi = (uint32_t)tf_ld32(x8 + 4);
                    xw[0] = tf_sxtb16(lo), xw[1] = tf_sxtb16_ror8(lo), xw[2] = tf_sxtb16(hi), xw[3] = tf_sxtb16_ror8(hi);
                } else {
                    const int32_t *x32 = (const int32_t *)r->x + 4 * k;
                    xw[0] = x32[0], xw[1] = x32[1], xw[2] = x32[2], xw[3] = x32[3];
                }
                for (i = 0; i < 4; ++i) {
                    for (j = 0; j < 4; ++j) {
                        acc[i] = tf_smlad(xw[j], w[4 * i + j], acc[i]);
                    }
                }
                w += 16;
            }
            ++w; /* TF_FC_W16_END */
            for (i = 0; i < 4; ++i) {
                mult[i] = w[i], kq[i] = w[4 + i], rs[i] = w[8 + i];
            }
            w += 12;
        } else {
            tf_dsp_fc_w8_body(r->x, w, pairs, acc, r->c, dsum, lean);
            w += kpad;
            for (i = 0; i < 4; ++i) {
                mult[i] = r->mult, kq[i] = r->kq, rs[i] = r->rshift;
            }
        }
        for (i = 0; i < 4; ++i) {
            const int32_t v = corr ? tf_ssat8(tf_dsp_requant(acc[i], mult[i], kq[i], rs[i]))
                                   : tf_dsp_requant_fast(acc[i], mult[i], kq[i], rs[i]);
            *r->out++ = (int8_t)v;
        }
    }
}
#endif

static void tf_dsp_fc_run(tf_dsp_fc_run_t *r, int32_t run)
{
#if TF_DSP_NATIVE
    tf_dsp_fc_runs[run](r);
#else
    tf_dsp_fc_run_c(r, run);
#endif
}

/* One row: the whole blocks into `out`, the last (out_depth % 4 channels) through a buffer, then the
 * activation's clamp when narrower than int8 (clamping the saturated value gives the same). */
static void tf_dsp_fc_any_row(const tf_dsp_fully_connected_s8_params_t *p, const void *x, int8_t *out)
{
    const int32_t blocks = p->out_depth >> 2, tail = p->out_depth & 3;
    int8_t last[4];
    int32_t i;
    if (p->run >= 0) {
        const int32_t bwords = p->wide ? 2 * p->kpad + 17 : p->kpad + 4;
        tf_dsp_fc_run_t r;
        r.mult = p->wide ? 0 : p->mult[0];
        r.rshift = p->rshift1;
        r.kq = tf_dsp_kq(2 * p->out_zp + 1, p->rshift1);
        r.x = x;
        r.quads = ((p->kpad >> 3) + 3) >> 2;
        r.entry = -(p->kpad >> 3) & 3;
        r.c = p->wide ? 0 : tf_dsp_fc_offset(x, p->kpad, p->lean);
        r.w = p->weights;
        r.out = out;
        r.out_end = out + 4 * blocks;
        if (blocks) {
            tf_dsp_fc_run(&r, p->run);
        }
        if (tail) {
            r.w = p->weights + blocks * bwords;
            r.out = last;
            r.out_end = last + 4;
            r.entry = -(p->kpad >> 3) & 3;
            tf_dsp_fc_run(&r, p->run);
        }
    } else {
#if TF_DSP_FC_VARIANTS & 0x1000
        const int32_t c = tf_dsp_fc_offset(x, p->kpad, p->lean);
        tf_dsp_fc_blocks(p, x, out, 0, blocks, c);
        if (tail) {
            tf_dsp_fc_blocks(p, x, last, blocks, 1, c);
        }
#endif
    }
    for (i = 0; i < tail; ++i) {
        out[4 * blocks + i] = last[i];
    }
    if (p->act_min != -128 || p->act_max != 127) {
        for (i = 0; i < p->out_depth; ++i) {
            out[i] = tf_dsp_clamp(out[i], p->act_min, p->act_max);
        }
    }
}

/* The row as int16 pairs (tf_dsp_expand_x with stride 2): a word-aligned row two words at a time,
 * LDRD, 4 SXTB16 (doubled: 4 SADD16) and one STM. */
static void tf_dsp_fc_expand(const int8_t *in, int32_t words, int32_t *x, int dbl)
{
#if TF_DSP_NATIVE
    int32_t n = words >> 1;
    if (n > 0 && ((uintptr_t)in & 3) == 0) {
        const int8_t *src = in;
        int32_t *dst = x;
        if (dbl) {
            __asm__ volatile("1:\n\t"
                             "ldrd r2, r3, [%[s]], #8\n\t"
                             "sxtb16 lr, r3, ror #8\n\t"
                             "sxtb16 r12, r3\n\t"
                             "sxtb16 r3, r2, ror #8\n\t"
                             "sxtb16 r2, r2\n\t"
                             "sadd16 lr, lr, lr\n\t"
                             "sadd16 r12, r12, r12\n\t"
                             "sadd16 r3, r3, r3\n\t"
                             "sadd16 r2, r2, r2\n\t"
                             "stmia %[d]!, {r2, r3, r12, lr}\n\t"
                             "subs %[n], %[n], #1\n\t"
                             "bne 1b\n\t"
                             : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(n)
                             :
                             : "r2", "r3", "r12", "lr", "cc", "memory");
        } else {
            __asm__ volatile("1:\n\t"
                             "ldrd r2, r3, [%[s]], #8\n\t"
                             "sxtb16 lr, r3, ror #8\n\t"
                             "sxtb16 r12, r3\n\t"
                             "sxtb16 r3, r2, ror #8\n\t"
                             "sxtb16 r2, r2\n\t"
                             "stmia %[d]!, {r2, r3, r12, lr}\n\t"
                             "subs %[n], %[n], #1\n\t"
                             "bne 1b\n\t"
                             : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(n)
                             :
                             : "r2", "r3", "r12", "lr", "cc", "memory");
        }
        in += 8 * (words >> 1);
        x += 4 * (words >> 1);
        words &= 1;
    }
#endif
    tf_dsp_expand_x(in, words, x, 2, dbl);
}

void tf_dsp_fully_connected_s8(const tf_dsp_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output,
                               void *scratch)
{
    int32_t *x = (int32_t *)scratch;
    const int32_t depth = p->accum_depth;
    const int dbl = !p->wide && p->xdouble; /* the expanded row doubled */
    int32_t b, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * depth;
        int8_t *out = output + b * p->out_depth;
        if (p->lean) {
            tf_dsp_fc_any_row(p, in, out);
            continue;
        }
        /* the row as int16 pairs; the padding (weights 0) reads 0 */
        tf_dsp_fc_expand(in, depth >> 2, x, dbl);
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
