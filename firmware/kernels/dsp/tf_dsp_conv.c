/* CONV_2D int8 with the DSP extension: see tf_dsp_conv.h. */
#include "tf_dsp_conv.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"

/* TF_DSP_CONV_VARIANTS (tinyforge/kernels/ops/dsp/conv.py variant_bits): the paths a model's layers
 * use, so that the firmware links only those: bit 0 the int8-weight blocks, bit 1 the int16-weight
 * blocks (assembly; without them the C blocks run), bit 2 tf_dsp_conv_px4, bit 3 the `few` tap order
 * (tf_dsp_conv_px3 and the reordering in tf_dsp_conv_fill), bit 4 the wide-stream blocks (`wide`:
 * int16 weights with each channel pair's constants beside them), bit 5 the 1x1 im2col of both pixels
 * in one loop (tf_dsp_expand_two), bit 6 the wide stream in the C channel loop (every `wide` layer
 * sets it). Without the macro: all of them. */
#ifndef TF_DSP_CONV_VARIANTS
#define TF_DSP_CONV_VARIANTS 0x7F
#endif

/* 2 pixels x 2 channels over `pairs` x 8 taps: x = [chunk][pixel][2 words], w = [chunk][channel][2
 * words], a chunk being 4 taps as int16 lanes (k0, k2), (k1, k3). Per chunk one LDM (both pixels),
 * two LDRD (one per channel) and 8 SMLAD: 11 instructions for 16 MACs. */
TF_INLINE const int32_t *tf_dsp_mac_2x2(const int32_t *x, const int32_t *w, int32_t pairs, int32_t *acc00,
                                        int32_t *acc01, int32_t *acc10, int32_t *acc11)
{
    int32_t a00 = *acc00, a01 = *acc01, a10 = *acc10, a11 = *acc11;
#if TF_DSP_NATIVE
    /* LDM needs ascending registers: the two pixels' 4 taps go to r8..r11 */
    register int32_t x0a __asm__("r8");
    register int32_t x0b __asm__("r9");
    register int32_t x1a __asm__("r10");
    register int32_t x1b __asm__("r11");
    int32_t wa, wb;
    __asm__(
        "1:\n\t"
        "ldmia %[x]!, {r8-r11}\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "smlad %[a00], r8, %[wa], %[a00]\n\t"
        "smlad %[a00], r9, %[wb], %[a00]\n\t"
        "smlad %[a10], r10, %[wa], %[a10]\n\t"
        "smlad %[a10], r11, %[wb], %[a10]\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "smlad %[a01], r8, %[wa], %[a01]\n\t"
        "smlad %[a01], r9, %[wb], %[a01]\n\t"
        "smlad %[a11], r10, %[wa], %[a11]\n\t"
        "smlad %[a11], r11, %[wb], %[a11]\n\t"
        "ldmia %[x]!, {r8-r11}\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "smlad %[a00], r8, %[wa], %[a00]\n\t"
        "smlad %[a00], r9, %[wb], %[a00]\n\t"
        "smlad %[a10], r10, %[wa], %[a10]\n\t"
        "smlad %[a10], r11, %[wb], %[a10]\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "smlad %[a01], r8, %[wa], %[a01]\n\t"
        "smlad %[a01], r9, %[wb], %[a01]\n\t"
        "smlad %[a11], r10, %[wa], %[a11]\n\t"
        "smlad %[a11], r11, %[wb], %[a11]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [x] "+r"(x), [w] "+r"(w),
          [n] "+r"(pairs), [wa] "=&r"(wa), [wb] "=&r"(wb), "=&r"(x0a), "=&r"(x0b), "=&r"(x1a), "=&r"(x1b)
        :
        : "cc", "memory");
#else
    for (; pairs > 0; --pairs) {
        int32_t c;
        for (c = 0; c < 2; ++c) {
            a00 = tf_smlad(x[0], w[0], a00);
            a00 = tf_smlad(x[1], w[1], a00);
            a01 = tf_smlad(x[0], w[2], a01);
            a01 = tf_smlad(x[1], w[3], a01);
            a10 = tf_smlad(x[2], w[0], a10);
            a10 = tf_smlad(x[3], w[1], a10);
            a11 = tf_smlad(x[2], w[2], a11);
            a11 = tf_smlad(x[3], w[3], a11);
            x += 4;
            w += 4;
        }
    }
#endif
    *acc00 = a00;
    *acc01 = a01;
    *acc10 = a10;
    *acc11 = a11;
    return w;
}

/* The same with int8 weights: w = [chunk][channel][1 word of 4 int8]; one LDRD gives both
 * channels' next 4 taps, SXTB16 / SXTB16 ROR #8 unpack them into the lanes of x. Per chunk one
 * LDM, one LDRD, 4 SXTB16 and 8 SMLAD: 14 instructions for 16 MACs (all 14 registers in use). */
TF_INLINE const int32_t *tf_dsp_mac_2x2_w8(const int32_t *x, const int32_t *w, int32_t pairs, int32_t *acc00,
                                           int32_t *acc01, int32_t *acc10, int32_t *acc11)
{
#if TF_DSP_NATIVE
    register int32_t a00 __asm__("r0") = *acc00;
    register int32_t a01 __asm__("r1") = *acc01;
    register int32_t a10 __asm__("r2") = *acc10;
    register int32_t a11 __asm__("r3") = *acc11;
    register int32_t x0a __asm__("r4");
    register int32_t x0b __asm__("r5");
    register int32_t x1a __asm__("r6");
    register int32_t x1b __asm__("r7");
    register int32_t wa __asm__("r8");
    register int32_t wb __asm__("r9");
    register int32_t t __asm__("r10");
    register const int32_t *xp __asm__("r11") = x;
    register const int32_t *wp __asm__("r12") = w;
    register int32_t n __asm__("lr") = pairs;
    __asm__ volatile(
        "1:\n\t"
        "ldmia %[x]!, {r4-r7}\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "sxtb16 %[t], %[wa]\n\t"
        "sxtb16 %[wa], %[wa], ror #8\n\t"
        "smlad %[a00], r4, %[t], %[a00]\n\t"
        "smlad %[a00], r5, %[wa], %[a00]\n\t"
        "smlad %[a10], r6, %[t], %[a10]\n\t"
        "smlad %[a10], r7, %[wa], %[a10]\n\t"
        "sxtb16 %[t], %[wb]\n\t"
        "sxtb16 %[wb], %[wb], ror #8\n\t"
        "smlad %[a01], r4, %[t], %[a01]\n\t"
        "smlad %[a01], r5, %[wb], %[a01]\n\t"
        "smlad %[a11], r6, %[t], %[a11]\n\t"
        "smlad %[a11], r7, %[wb], %[a11]\n\t"
        "ldmia %[x]!, {r4-r7}\n\t"
        "ldrd %[wa], %[wb], [%[w]], #8\n\t"
        "sxtb16 %[t], %[wa]\n\t"
        "sxtb16 %[wa], %[wa], ror #8\n\t"
        "smlad %[a00], r4, %[t], %[a00]\n\t"
        "smlad %[a00], r5, %[wa], %[a00]\n\t"
        "smlad %[a10], r6, %[t], %[a10]\n\t"
        "smlad %[a10], r7, %[wa], %[a10]\n\t"
        "sxtb16 %[t], %[wb]\n\t"
        "sxtb16 %[wb], %[wb], ror #8\n\t"
        "smlad %[a01], r4, %[t], %[a01]\n\t"
        "smlad %[a01], r5, %[wb], %[a01]\n\t"
        "smlad %[a11], r6, %[t], %[a11]\n\t"
        "smlad %[a11], r7, %[wb], %[a11]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [x] "+r"(xp), [w] "+r"(wp),
          [n] "+r"(n), [wa] "=&r"(wa), [wb] "=&r"(wb), [t] "=&r"(t), "=&r"(x0a), "=&r"(x0b), "=&r"(x1a),
          "=&r"(x1b)
        :
        : "cc", "memory");
    w = wp;
#else
    int32_t a00 = *acc00, a01 = *acc01, a10 = *acc10, a11 = *acc11;
    for (; pairs > 0; --pairs) {
        int32_t c;
        for (c = 0; c < 2; ++c) {
            const int32_t w0e = tf_sxtb16((uint32_t)w[0]), w0o = tf_sxtb16_ror8((uint32_t)w[0]);
            const int32_t w1e = tf_sxtb16((uint32_t)w[1]), w1o = tf_sxtb16_ror8((uint32_t)w[1]);
            a00 = tf_smlad(x[0], w0e, a00);
            a00 = tf_smlad(x[1], w0o, a00);
            a10 = tf_smlad(x[2], w0e, a10);
            a10 = tf_smlad(x[3], w0o, a10);
            a01 = tf_smlad(x[0], w1e, a01);
            a01 = tf_smlad(x[1], w1o, a01);
            a11 = tf_smlad(x[2], w1e, a11);
            a11 = tf_smlad(x[3], w1o, a11);
            x += 4;
            w += 2;
        }
    }
#endif
    *acc00 = a00;
    *acc01 = a01;
    *acc10 = a10;
    *acc11 = a11;
    return w;
}

/* The channel loop for one pixel pair: 2 pixels x 2 channels per block, out_c / 2 blocks, with
 * the constants of each channel pair in q[8] = start0 start1 mult0 mult1 kq0 kq1 rshift0 rshift1
 * (int16 weights: from flash; int8 weights: decoded into the scratch once per layer). The fields'
 * offsets are used by the assembly below. */
typedef struct {
    const int32_t *x; /* 0: the im2col of the two pixels, [chunk][pixel][2 words] */
    const int32_t *w; /* 4: the weights */
    const int32_t *q; /* 8: the constants */
    int8_t *o0;       /* 12: the outputs of pixel 0 / 1 */
    int8_t *o1;       /* 16 */
    int32_t pairs;    /* 20: chunk pairs, kpad / 8 */
    int32_t blocks;   /* 24: out_c / 2 */
    int32_t flags;    /* 28: TF_DSP_DSUM, TF_DSP_ROUND */
} tf_dsp_blocks_t;

#define TF_DSP_DSUM 1  /* double the sums (int8 weights whose im2col values are not doubled) */
#define TF_DSP_ROUND 2 /* the rounding correction (else tf_dsp_requant_fast) */
#define TF_DSP_STREAM 4 /* the wide stream (the C channel loop only) */

#if TF_DSP_NATIVE
void tf_dsp_conv_blocks_w8(tf_dsp_blocks_t *b);
void tf_dsp_conv_blocks_w16(tf_dsp_blocks_t *b);
void tf_dsp_conv_blocks_ws(tf_dsp_blocks_t *b);

/* The MAC of a block: int8 weights (LDM of both pixels' 4 taps, LDRD of both channels' 4 taps,
 * SXTB16 / ROR #8) or int16 weights (LDM of both pixels', LDM of both channels' 4 taps). */
#define TF_DSP_MAC_W8_CHUNK                                                                                   \
    "ldmia r11!, {r4-r7}\n\t"                                                                                 \
    "ldrd r8, r9, [r12], #8\n\t"                                                                              \
    "sxtb16 r10, r8\n\t"                                                                                      \
    "sxtb16 r8, r8, ror #8\n\t"                                                                               \
    "smlad r0, r4, r10, r0\n\t"                                                                               \
    "smlad r0, r5, r8, r0\n\t"                                                                                \
    "smlad r2, r6, r10, r2\n\t"                                                                               \
    "smlad r2, r7, r8, r2\n\t"                                                                                \
    "sxtb16 r10, r9\n\t"                                                                                      \
    "sxtb16 r9, r9, ror #8\n\t"                                                                               \
    "smlad r1, r4, r10, r1\n\t"                                                                               \
    "smlad r1, r5, r9, r1\n\t"                                                                                \
    "smlad r3, r6, r10, r3\n\t"                                                                               \
    "smlad r3, r7, r9, r3\n\t"
#define TF_DSP_MAC_W16_CHUNK                                                                                  \
    "ldmia lr!, {r4-r7}\n\t"                                                                                  \
    "ldmia r12!, {r8-r11}\n\t"                                                                                \
    "smlad r0, r4, r8, r0\n\t"                                                                                \
    "smlad r0, r5, r9, r0\n\t"                                                                                \
    "smlad r2, r6, r8, r2\n\t"                                                                                \
    "smlad r2, r7, r9, r2\n\t"                                                                                \
    "smlad r1, r4, r10, r1\n\t"                                                                               \
    "smlad r1, r5, r11, r1\n\t"                                                                               \
    "smlad r3, r6, r10, r3\n\t"                                                                               \
    "smlad r3, r7, r11, r3\n\t"

#define TF_DSP_W8_ENTRY                                                                                       \
    "adr r2, 2f\n\t"                                                                                          \
    "lsrs r1, r1, #1\n\t"                                                                                     \
    "bcc 7f\n\t"                                                                                              \
    "adds r1, r1, #1\n\t"                                                                                     \
    "adr r2, 6f\n"                                                                                            \
    "7:\n\t"                                                                                                  \
    "orr r2, r2, #1\n\t"                                                                                      \
    "strd r2, r1, [sp, #8]\n\t"
#define TF_DSP_W8_START                                                                                       \
    "ldrd r11, r8, [sp, #16]\n\t"                                                                             \
    "ldr lr, [sp, #12]\n\t"
#define TF_DSP_W8_LOOP                                                                                        \
    "2:\n\t" TF_DSP_MAC_W8_CHUNK TF_DSP_MAC_W8_CHUNK "6:\n\t" TF_DSP_MAC_W8_CHUNK TF_DSP_MAC_W8_CHUNK         \
    "subs lr, lr, #1\n\t"                                                                                     \
    "bne 2b\n\t"
#define TF_DSP_W16_ENTRY                                                                                      \
    "ldr r3, [sp, #16]\n\t"                                                                                   \
    "add r3, r3, r1, lsl #5\n\t"                                                                              \
    "str r3, [sp, #0]\n\t"                                                                                   \
    "negs r1, r1\n\t"                                                                                         \
    "and r1, r1, #3\n\t"                                                                                      \
    "movs r3, #80\n\t"                                                                                        \
    "adr r4, 2f\n\t"                                                                                          \
    "mla r4, r1, r3, r4\n\t"                                                                                  \
    "orr r4, r4, #1\n\t"                                                                                      \
    "str r4, [sp, #8]\n\t"
#define TF_DSP_W16_START                                                                                      \
    "ldrd lr, r8, [sp, #16]\n\t"
#define TF_DSP_W16_LOOP                                                                                       \
    "2:\n\t" TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK              \
    TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK "8:\n\t"              \
    ".ifne (8b - 2b) - 320\n\t"                                                                               \
    ".error \"tf_dsp_conv_blocks_w16: a chunk is not 40 bytes\"\n\t"                                          \
    ".endif\n\t"                                                                                              \
    "ldr r4, [sp, #0]\n\t"                                                                                    \
    "cmp lr, r4\n\t"                                                                                          \
    "bne 2b\n\t"

#define TF_DSP_W8_DSUM                                                                                        \
    "ldr r5, [sp, #4]\n\t"                                                                                    \
    "tst r5, #1\n\t"                                                                                          \
    "beq 3f\n\t"                                                                                              \
    "add r0, r0, r0\n\t"                                                                                      \
    "add r1, r1, r1\n\t"                                                                                      \
    "add r2, r2, r2\n\t"                                                                                      \
    "add r3, r3, r3\n"                                                                                        \
    "3:\n\t"
#define TF_DSP_W16_DSUM ""

/* A 2 x 2 block's requantization (accumulators r0 r1 / r2 r3, constants mult r7 r8, kq r9 r10,
 * rshift r11 lr): with the rounding correction, then on to the shifts at 5 */
#define TF_DSP_Q4_ROUND                                                                                       \
    "smmlar r5, r0, r7, r9\n\t"                                                                               \
    "add r0, r5, r0, asr #31\n\t"                                                                             \
    "smmlar r5, r2, r7, r9\n\t"                                                                               \
    "add r2, r5, r2, asr #31\n\t"                                                                             \
    "smmlar r5, r1, r8, r10\n\t"                                                                              \
    "add r1, r5, r1, asr #31\n\t"                                                                             \
    "smmlar r5, r3, r8, r10\n\t"                                                                              \
    "add r3, r5, r3, asr #31\n\t"                                                                             \
    "b 5f\n"
/* ... without it (falls through to TF_DSP_Q4_STORE) */
#define TF_DSP_Q4_FAST                                                                                        \
    "smmlar r0, r0, r7, r9\n\t"                                                                               \
    "smmlar r2, r2, r7, r9\n\t"                                                                               \
    "smmlar r1, r1, r8, r10\n\t"                                                                              \
    "smmlar r3, r3, r8, r10\n"
/* the shifts, saturation and the four byte stores (output pointers at [sp, #OFF], advanced) */
#define TF_DSP_Q4_STORE(OFF)                                                                                  \
    "5:\n\t"                                                                                                  \
    "asr r0, r0, r11\n\t"                                                                                     \
    "asr r2, r2, r11\n\t"                                                                                     \
    "asr r1, r1, lr\n\t"                                                                                      \
    "asr r3, r3, lr\n\t"                                                                                      \
    "ssat r0, #8, r0\n\t"                                                                                     \
    "ssat r1, #8, r1\n\t"                                                                                     \
    "ssat r2, #8, r2\n\t"                                                                                     \
    "ssat r3, #8, r3\n\t"                                                                                     \
    "ldrd r5, r6, [sp, #" OFF "]\n\t"                                                                         \
    "strb r1, [r5, #1]\n\t"                                                                                   \
    "strb r0, [r5], #2\n\t"                                                                                   \
    "strb r3, [r6, #1]\n\t"                                                                                   \
    "strb r2, [r6], #2\n\t"                                                                                   \
    "strd r5, r6, [sp, #" OFF "]\n\t"

/* r0..r3: a00 a01 a10 a11 (pixel, channel); r12: the weights, kept from block to block. int8 weights:
 * 4 chunks per loop iteration (LDM x, LDRD w), odd chunk pairs entering mid-loop; int16 weights: 8
 * chunks of LDM x, LDM w and 8 SMLAD (10 instructions for 16 MACs) per iteration, x read through lr
 * and the loop ended when it reaches the im2col's end (kept in the frame, compared through a dead x
 * register), entered at a per-call address that skips the chunks beyond kpad. The block's state
 * lives in the frame: [sp] the im2col's end (int16), +4 flags, +8 loop entry, +12 iterations (int8),
 * +16 x and +20 q (one LDRD at each block's start), +24 o0, +28 o1, +32 o0's end, +36 the
 * requantization's address (SMMLAR only, or with the rounding correction). The constants' LDM also
 * loads the starts into dead registers (no add to skip them). */
#define TF_DSP_BLOCKS(name, entry, start, loop, dsum)                                                         \
    __asm__(TF_ASM_FUNC_BEGIN(name) \
                        "sub sp, sp, #40\n\t"                                                                             \
            "ldmia r0, {r1-r8}\n\t"                                                                           \
            "str r1, [sp, #16]\n\t"                                                                            \
            "str r8, [sp, #4]\n\t"                                                                            \
            "add r7, r4, r7, lsl #1\n\t"                                                                      \
            "strd r3, r4, [sp, #20]\n\t"                                                                      \
            "strd r5, r7, [sp, #28]\n\t"                                                                      \
            "adr r9, 10f\n\t"                                                                                 \
            "tst r8, #2\n\t"                                                                                  \
            "beq 9f\n\t"                                                                                      \
            "adr r9, 11f\n"                                                                                   \
            "9:\n\t"                                                                                          \
            "orr r9, r9, #1\n\t"                                                                              \
            "str r9, [sp, #36]\n\t"                                                                           \
            "mov r12, r2\n\t"                                                                                 \
            "mov r1, r6\n\t"                                                                                  \
            entry "1:\n\t" start                                                                              \
            "ldrd r0, r1, [r8]\n\t"                                                                           \
            "ldrd r2, r3, [r8]\n\t"                                                                           \
            "ldr pc, [sp, #8]\n" loop dsum                                                                    \
            "ldr r6, [sp, #20]\n\t"                                                                           \
            "ldmia r6!, {r4, r5, r7-r11, lr}\n\t"                                                             \
            "str r6, [sp, #20]\n\t"                                                                           \
            "ldr pc, [sp, #36]\n"                                                                             \
            "11:\n\t"                                                                                         \
            TF_DSP_Q4_ROUND                                                                                   \
            "10:\n\t"                                                                                         \
            TF_DSP_Q4_FAST TF_DSP_Q4_STORE("24")                                                              \
            "ldr r7, [sp, #32]\n\t"                                                                           \
            "cmp r5, r7\n\t"                                                                                  \
            "bne 1b\n\t"                                                                                      \
            "add sp, sp, #40\n\t"                                                                             \
            "pop {r4-r11, pc}\n\t"                                                                            \
            ".size " #name ", .-" #name "\n\t"                                                                \
            ".popsection\n\t")

/* 16 chunks per iteration (kpad <= 64, most layers, in one), then on to the address at [sp, #28]:
 * with one iteration the requantization itself, else the check for the im2col's end */
#define TF_DSP_WS_LOOP                                                                                        \
    "2:\n\t" TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK              \
    TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK                        \
    TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK                        \
    TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK TF_DSP_MAC_W16_CHUNK "8:\n\t"              \
    ".ifne (8b - 2b) - 640\n\t"                                                                               \
    ".error \"tf_dsp_conv_blocks_ws: a chunk is not 40 bytes\"\n\t"                                          \
    ".endif\n\t"                                                                                              \
    "ldr pc, [sp, #28]\n"

/* The wide stream (`--optimize speed`): per channel pair the starts (s0 s1 s0 s1), the int16 weights
 * and (mult0 mult1 kq0 kq1 rshift0 rshift1), all read through r12, so that a block loads its starts
 * with one LDM and its constants with another, and no constants pointer is kept; the last pair's
 * rshift1 carries bit 8 (ASR reads the low byte of its shift register), which ends the channel
 * loop. The MAC loop is that of tf_dsp_conv_blocks_w16 with 16 chunks per iteration, left through
 * [sp, #28]: kpad <= 64 goes straight to the requantization (which loads the constants), a longer
 * one to the end check (3 instructions and the requantization's address, [sp, #24]). Frame: [sp]
 * the im2col's end, +8 the loop entry, +12 x, +16 o0, +20 o1. */
#define TF_DSP_BLOCKS_WS(name)                                                                                \
    __asm__(TF_ASM_FUNC_BEGIN(name)                                                                         \
            "sub sp, sp, #32\n\t"                                                                             \
            "ldmia r0, {r1-r8}\n\t"                                                                           \
            "add r3, r1, r6, lsl #5\n\t"                                                                      \
            "str r3, [sp, #0]\n\t"                                                                            \
            "str r1, [sp, #12]\n\t"                                                                           \
            "strd r4, r5, [sp, #16]\n\t"                                                                      \
            "adr r9, 10f\n\t"                                                                                 \
            "tst r8, #2\n\t"                                                                                  \
            "beq 9f\n\t"                                                                                      \
            "adr r9, 11f\n"                                                                                   \
            "9:\n\t"                                                                                          \
            "orr r9, r9, #1\n\t"                                                                              \
            "str r9, [sp, #24]\n\t"                                                                           \
            "cmp r6, #8\n\t"                                                                                  \
            "ble 14f\n\t"                                                                                     \
            "adr r9, 13f\n\t"                                                                                 \
            "orr r9, r9, #1\n"                                                                                \
            "14:\n\t"                                                                                         \
            "str r9, [sp, #28]\n\t"                                                                           \
            "negs r1, r6\n\t"                                                                                 \
            "and r1, r1, #7\n\t"                                                                              \
            "movs r3, #80\n\t"                                                                                \
            "adr r4, 2f\n\t"                                                                                  \
            "mla r4, r1, r3, r4\n\t"                                                                          \
            "orr r4, r4, #1\n\t"                                                                              \
            "str r4, [sp, #8]\n\t"                                                                            \
            "mov r12, r2\n"                                                                                   \
            "1:\n\t"                                                                                          \
            "ldr lr, [sp, #12]\n\t"                                                                           \
            "ldmia r12!, {r0-r3}\n\t"                                                                         \
            "ldr pc, [sp, #8]\n" TF_DSP_WS_LOOP                                                               \
            "13:\n\t"                                                                                         \
            "ldr r4, [sp, #0]\n\t"                                                                            \
            "cmp lr, r4\n\t"                                                                                  \
            "bne 2b\n\t"                                                                                      \
            "ldr pc, [sp, #24]\n"                                                                             \
            "11:\n\t"                                                                                         \
            "ldmia r12!, {r7-r11, lr}\n\t"                                                                    \
            TF_DSP_Q4_ROUND                                                                                   \
            "10:\n\t"                                                                                         \
            "ldmia r12!, {r7-r11, lr}\n\t"                                                                    \
            TF_DSP_Q4_FAST TF_DSP_Q4_STORE("16")                                                              \
            "tst lr, #256\n\t"                                                                                \
            "beq 1b\n\t"                                                                                      \
            "add sp, sp, #32\n\t"                                                                             \
            "pop {r4-r11, pc}\n\t"                                                                            \
            ".size " #name ", .-" #name "\n\t"                                                                \
            ".popsection\n\t")

#if TF_DSP_CONV_VARIANTS & 0x1
TF_DSP_BLOCKS(tf_dsp_conv_blocks_w8, TF_DSP_W8_ENTRY, TF_DSP_W8_START, TF_DSP_W8_LOOP, TF_DSP_W8_DSUM);
#endif
#if TF_DSP_CONV_VARIANTS & 0x2
TF_DSP_BLOCKS(tf_dsp_conv_blocks_w16, TF_DSP_W16_ENTRY, TF_DSP_W16_START, TF_DSP_W16_LOOP, TF_DSP_W16_DSUM);
#endif
#if TF_DSP_CONV_VARIANTS & 0x10
TF_DSP_BLOCKS_WS(tf_dsp_conv_blocks_ws);
#endif
#endif

/* A block's four outputs (the portable form of the assembly, and the clamp / odd out_c path). */
TF_INLINE void tf_dsp_block_out(int32_t a00, int32_t a01, int32_t a10, int32_t a11, const int32_t *q, int8_t *o0,
                                int8_t *o1, int32_t oc, int32_t out_c, int32_t flags, int32_t clamp,
                                int32_t act_min, int32_t act_max)
{
    if (flags & TF_DSP_DSUM) {
        a00 += a00;
        a01 += a01;
        a10 += a10;
        a11 += a11;
    }
    if (clamp) {
        o0[oc] = tf_dsp_clamp(tf_dsp_requant(a00, q[2], q[4], q[6]), act_min, act_max);
        o1[oc] = tf_dsp_clamp(tf_dsp_requant(a10, q[2], q[4], q[6]), act_min, act_max);
        if (oc + 1 < out_c) {
            o0[oc + 1] = tf_dsp_clamp(tf_dsp_requant(a01, q[3], q[5], q[7]), act_min, act_max);
            o1[oc + 1] = tf_dsp_clamp(tf_dsp_requant(a11, q[3], q[5], q[7]), act_min, act_max);
        }
    } else if (flags & TF_DSP_ROUND) {
        o0[oc] = (int8_t)tf_ssat8(tf_dsp_requant(a00, q[2], q[4], q[6]));
        o1[oc] = (int8_t)tf_ssat8(tf_dsp_requant(a10, q[2], q[4], q[6]));
        o0[oc + 1] = (int8_t)tf_ssat8(tf_dsp_requant(a01, q[3], q[5], q[7]));
        o1[oc + 1] = (int8_t)tf_ssat8(tf_dsp_requant(a11, q[3], q[5], q[7]));
    } else {
        o0[oc] = (int8_t)tf_dsp_requant_fast(a00, q[2], q[4], q[6]);
        o1[oc] = (int8_t)tf_dsp_requant_fast(a10, q[2], q[4], q[6]);
        o0[oc + 1] = (int8_t)tf_dsp_requant_fast(a01, q[3], q[5], q[7]);
        o1[oc + 1] = (int8_t)tf_dsp_requant_fast(a11, q[3], q[5], q[7]);
    }
}

/* The channel loop in C: every mode (clamp: any activation range, odd out_c); TF_DSP_STREAM: the
 * wide stream (each pair's constants beside its weights, see tf_dsp_conv_blocks_ws). */
TF_NOINLINE void tf_dsp_conv_blocks_c(const tf_dsp_blocks_t *b, int32_t out_c, int32_t wide, int32_t clamp,
                                      int32_t act_min, int32_t act_max)
{
    const int32_t *w = b->w, *q = b->q;
    int32_t oc;
    for (oc = 0; oc < out_c; oc += 2) {
        int32_t a00, a01, a10, a11;
#if TF_DSP_CONV_VARIANTS & 0x40
        int32_t qs[8];
        const int32_t stream = b->flags & TF_DSP_STREAM;
        if (stream) { /* this pair's constants as q[8] */
            qs[0] = w[0];
            qs[1] = w[1];
            w += 4;
            q = qs;
        }
#endif
        a00 = q[0], a01 = q[1], a10 = q[0], a11 = q[1];
        if (wide) {
            w = tf_dsp_mac_2x2(b->x, w, b->pairs, &a00, &a01, &a10, &a11);
        } else {
            w = tf_dsp_mac_2x2_w8(b->x, w, b->pairs, &a00, &a01, &a10, &a11);
        }
#if TF_DSP_CONV_VARIANTS & 0x40
        if (stream) {
            qs[2] = w[0];
            qs[3] = w[1];
            qs[4] = w[2];
            qs[5] = w[3];
            qs[6] = w[4] & 31;
            qs[7] = w[5] & 31;
            w += 6;
        }
#endif
        tf_dsp_block_out(a00, a01, a10, a11, q, b->o0, b->o1, oc, out_c, b->flags, clamp, act_min, act_max);
        q += 8;
    }
}

/* tf_dsp_expand_x4 out of line, for the rarer rows (dilated, at the border) */
TF_NOINLINE int32_t *tf_dsp_conv_expand(const int8_t *src, int32_t words, int32_t *dst, int dbl)
{
    return tf_dsp_expand_x4(src, words, dst, dbl);
}

/* 8 int8 at a time (kpad is a multiple of 8) into the [chunk][pixel][2 words] buffer; `dbl`: doubled */
TF_INLINE void tf_dsp_expand_pairs(const int8_t *src, int32_t n, int32_t *dst, int dbl)
{
#if TF_DSP_NATIVE
    (void)tf_dsp_expand_x4(src, 2 * n, dst, dbl);
#else
    if (dbl) {
        do {
            const uint32_t w0 = (uint32_t)tf_ld32(src), w1 = (uint32_t)tf_ld32(src + 4);
            dst[0] = tf_sxtb16x2(w0);
            dst[1] = tf_sxtb16x2_ror8(w0);
            dst[4] = tf_sxtb16x2(w1);
            dst[5] = tf_sxtb16x2_ror8(w1);
            dst += 8;
            src += 8;
        } while (--n);
    } else {
        do {
            const uint32_t w0 = (uint32_t)tf_ld32(src), w1 = (uint32_t)tf_ld32(src + 4);
            dst[0] = tf_sxtb16(w0);
            dst[1] = tf_sxtb16_ror8(w0);
            dst[4] = tf_sxtb16(w1);
            dst[5] = tf_sxtb16_ror8(w1);
            dst += 8;
            src += 8;
        } while (--n);
    }
#endif
}

TF_INLINE void tf_dsp_copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    for (; n >= 4; n -= 4) {
        const int32_t v = tf_ld32(src);
        memcpy(dst, &v, sizeof v);
        dst += 4;
        src += 4;
    }
    if (n & 2) {
        dst[0] = src[0];
        dst[1] = src[1];
        dst += 2;
        src += 2;
    }
    if (n & 1) {
        dst[0] = src[0];
    }
}

TF_INLINE void tf_dsp_fill_bytes(int8_t *dst, uint32_t v4, int32_t n)
{
    for (; n >= 4; n -= 4) {
        memcpy(dst, &v4, sizeof v4);
        dst += 4;
    }
    if (n & 2) {
        dst[0] = (int8_t)v4;
        dst[1] = (int8_t)v4;
        dst += 2;
    }
    if (n & 1) {
        dst[0] = (int8_t)v4;
    }
}

#if TF_DSP_CONV_VARIANTS & 0x20
/* The 1x1 im2col of a pixel pair (values not doubled): `pairs` x 8 int8 of each pixel into the
 * [chunk][pixel][2 words] buffer, one STM per chunk of both pixels: 16 instructions per 8 taps of
 * the two (two expansions: 20 and a call). */
TF_NOINLINE void tf_dsp_expand_two(const int8_t *s0, const int8_t *s1, int32_t pairs, int32_t *dst)
{
#if TF_DSP_NATIVE
    /* STM needs ascending registers */
    register int32_t t0 __asm__("r4");
    register int32_t t1 __asm__("r5");
    register int32_t t2 __asm__("r6");
    register int32_t t3 __asm__("r7");
    int32_t a, b;
    __asm__ volatile("1:\n\t"
                     "ldr %[a], [%[s0]], #4\n\t"
                     "ldr %[b], [%[s1]], #4\n\t"
                     "sxtb16 r4, %[a]\n\t"
                     "sxtb16 r5, %[a], ror #8\n\t"
                     "sxtb16 r6, %[b]\n\t"
                     "sxtb16 r7, %[b], ror #8\n\t"
                     "stmia %[d]!, {r4-r7}\n\t"
                     "ldr %[a], [%[s0]], #4\n\t"
                     "ldr %[b], [%[s1]], #4\n\t"
                     "sxtb16 r4, %[a]\n\t"
                     "sxtb16 r5, %[a], ror #8\n\t"
                     "sxtb16 r6, %[b]\n\t"
                     "sxtb16 r7, %[b], ror #8\n\t"
                     "stmia %[d]!, {r4-r7}\n\t"
                     "subs %[n], %[n], #1\n\t"
                     "bne 1b\n\t"
                     : [a] "=&r"(a), [b] "=&r"(b), [s0] "+r"(s0), [s1] "+r"(s1), [d] "+r"(dst), [n] "+r"(pairs),
                       "=&r"(t0), "=&r"(t1), "=&r"(t2), "=&r"(t3)
                     :
                     : "cc", "memory");
#else
    int32_t i;
    for (i = 2 * pairs; i > 0; --i) {
        const uint32_t a = (uint32_t)tf_ld32(s0), b = (uint32_t)tf_ld32(s1);
        dst[0] = tf_sxtb16(a);
        dst[1] = tf_sxtb16_ror8(a);
        dst[2] = tf_sxtb16(b);
        dst[3] = tf_sxtb16_ror8(b);
        dst += 4;
        s0 += 4;
        s1 += 4;
    }
#endif
}

#endif

/* One pixel's im2col row, expanded to int16 pairs at dst[0..1], dst[4..5], ... (stride 4 words);
 * `dbl`: the values doubled. */
static void tf_dsp_conv_fill(const tf_dsp_conv_s8_params_t *p, const int8_t *in_b, int32_t pix, int32_t *dst,
                             int8_t *row, int dbl)
{
    const int32_t oy = pix / p->out_w;
    const int32_t ox = pix - oy * p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int32_t in_c = p->in_c;
    int32_t ky = 0, kx, i;
    if ((in_c & 3) == 0) {
        const uint32_t pad4 = (uint32_t)(uint8_t)p->pad_value * 0x01010101u;
        const int32_t pad_pair = dbl ? tf_sxtb16x2(pad4) : tf_sxtb16(pad4);
        const int32_t words = in_c >> 2;
        if (y0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h && x0 >= 0 &&
            x0 + (p->k_w - 1) * p->dil_w < p->in_w) {
            /* inside the image (most pixels): no checks; a row's taps are contiguous without dilation */
            const int8_t *src = in_b + (y0 * p->in_w + x0) * in_c;
            const int32_t row_step = p->dil_h * p->in_w * in_c;
            for (ky = p->k_h; ky > 0; --ky) {
                if (p->dil_w == 1) {
                    dst = tf_dsp_expand_x4(src, words * p->k_w, dst, dbl);
                } else {
                    const int8_t *s = src;
                    for (kx = p->k_w; kx > 0; --kx) {
                        dst = tf_dsp_conv_expand(s, words, dst, dbl);
                        s += p->dil_w * in_c;
                    }
                }
                src += row_step;
            }
        } else {
            for (ky = 0; ky < p->k_h; ++ky) {
                const int32_t iy = y0 + ky * p->dil_h;
                for (kx = 0; kx < p->k_w; ++kx) {
                    const int32_t ix = x0 + kx * p->dil_w;
                    if (iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w) {
                        dst = tf_dsp_conv_expand(in_b + (iy * p->in_w + ix) * in_c, words, dst, dbl);
                    } else {
                        for (i = 0; i < words; ++i) {
                            dst[0] = pad_pair;
                            dst[1] = pad_pair;
                            dst += 4;
                        }
                    }
                }
            }
        }
        for (i = p->k_h * p->k_w * words; i < (p->kpad >> 2); ++i) {
            dst[0] = pad_pair;
            dst[1] = pad_pair;
            dst += 4;
        }
        return;
    }
    {
        /* small in_c: the row in natural tap order as int8 (runs of taps inside the image copied
         * a word at a time), then expanded */
        int8_t *r = row;
        const uint32_t pad4 = (uint32_t)(uint8_t)p->pad_value * 0x01010101u;
        const int32_t run = p->k_w * in_c;
        if (p->dil_w == 1 && y0 >= 0 && y0 + (p->k_h - 1) * p->dil_h < p->in_h && x0 >= 0 &&
            x0 + p->k_w <= p->in_w) {
            /* inside the image: k_h runs of k_w * in_c bytes */
            const int8_t *src = in_b + (y0 * p->in_w + x0) * in_c;
            const int32_t src_step = p->dil_h * p->in_w * in_c;
            for (ky = p->k_h; ky > 0; --ky) {
                tf_dsp_copy_bytes(r, src, run);
                r += run;
                src += src_step;
            }
            ky = p->k_h;
        }
        for (; ky < p->k_h; ++ky) {
            const int32_t iy = y0 + ky * p->dil_h;
            if (iy < 0 || iy >= p->in_h) {
                tf_dsp_fill_bytes(r, pad4, run);
            } else if (p->dil_w == 1) {
                const int32_t kx_lo = x0 < 0 ? TF_MIN(-x0, p->k_w) : 0;
                const int32_t kx_hi = TF_MAX(TF_MIN(p->k_w, p->in_w - x0), kx_lo);
                tf_dsp_fill_bytes(r, pad4, kx_lo * in_c);
                tf_dsp_copy_bytes(r + kx_lo * in_c, in_b + (iy * p->in_w + x0 + kx_lo) * in_c, (kx_hi - kx_lo) * in_c);
                tf_dsp_fill_bytes(r + kx_hi * in_c, pad4, (p->k_w - kx_hi) * in_c);
            } else {
                for (kx = 0; kx < p->k_w; ++kx) {
                    const int32_t ix = x0 + kx * p->dil_w;
                    if (ix >= 0 && ix < p->in_w) {
                        tf_dsp_copy_bytes(r + kx * in_c, in_b + (iy * p->in_w + ix) * in_c, in_c);
                    } else {
                        tf_dsp_fill_bytes(r + kx * in_c, pad4, in_c);
                    }
                }
            }
            r += run;
        }
        tf_dsp_fill_bytes(r, pad4, (int32_t)(row + p->kpad - r));
        if ((TF_DSP_CONV_VARIANTS & 0x8) && p->few) {
            /* the packer's tap order: each row's whole words, then the rows' leftover bytes */
            const int32_t main = run & ~3, lo = run & 3;
            int8_t left[4];
            int32_t n = 0;
            for (ky = 0; ky < p->k_h; ++ky) {
                for (i = 0; i < lo; ++i) {
                    left[n++] = row[ky * run + main + i];
                }
            }
            for (ky = 1; ky < p->k_h; ++ky) {
                memmove(row + ky * main, row + ky * run, (size_t)main);
            }
            for (i = 0; i < n; ++i) {
                row[p->k_h * main + i] = left[i];
            }
        }
        tf_dsp_expand_pairs(row, p->kpad >> 3, dst, dbl);
    }
}

/* One pixel's im2col (values not doubled) when a kernel row is whole words (k_w * in_c a multiple
 * of 4) and the columns are not dilated: a window inside the image is k_h runs of whole words, then
 * the padded chunks; one at the border goes through tf_dsp_conv_fill. */
typedef struct {
    int32_t y_last, x_last; /* the last window origins inside the image (>= 0) */
    int32_t k_h, row_words, row_step, pad_chunks, pad_pair;
} tf_dsp_rows4_t;

#if TF_DSP_CONV_VARIANTS & 0x4
TF_NOINLINE void tf_dsp_conv_px4(const tf_dsp_conv_s8_params_t *p, const int8_t *in_b, int32_t pix, int32_t *d,
                                 int8_t *row, const tf_dsp_rows4_t *g)
{
    const int32_t oy = pix / p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = (pix - oy * p->out_w) * p->stride_w - p->pad_w;
    const int8_t *src = in_b + (y0 * p->in_w + x0) * p->in_c;
    int32_t ky, i;
    if ((uint32_t)y0 > (uint32_t)g->y_last || (uint32_t)x0 > (uint32_t)g->x_last) {
        tf_dsp_conv_fill(p, in_b, pix, d, row, 0);
        return;
    }
    for (ky = g->k_h; ky > 0; --ky) {
        d = tf_dsp_expand_x4(src, g->row_words, d, 0);
        src += g->row_step;
    }
    for (i = g->pad_chunks; i > 0; --i) {
        d[0] = g->pad_pair;
        d[1] = g->pad_pair;
        d += 4;
    }
}

#endif

#if TF_DSP_CONV_VARIANTS & 0x8
/* One pixel's im2col (values not doubled) of a 3x3 kernel over 3 input channels (a `few` layer:
 * VWW's and ResNet-8's first layers): a window inside the image is each kernel row's first 8 bytes
 * as two chunks, the rows' 9th bytes in one chunk, and a padded chunk (kpad 32), straight-line;
 * one at the border goes through tf_dsp_conv_fill (which reorders its int8 row the same way). */
TF_NOINLINE void tf_dsp_conv_px3(const tf_dsp_conv_s8_params_t *p, const int8_t *in_b, int32_t pix, int32_t *d,
                                 int8_t *row, const tf_dsp_rows4_t *g)
{
    const int32_t oy = pix / p->out_w;
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = (pix - oy * p->out_w) * p->stride_w - p->pad_w;
    const int8_t *s0 = in_b + (y0 * p->in_w + x0) * 3;
    const int8_t *s1 = s0 + g->row_step;
    const int8_t *s2 = s1 + g->row_step;
    uint32_t v;
    if ((uint32_t)y0 > (uint32_t)g->y_last || (uint32_t)x0 > (uint32_t)g->x_last) {
        tf_dsp_conv_fill(p, in_b, pix, d, row, 0);
        return;
    }
    v = (uint32_t)tf_ld32(s0);
    d[0] = tf_sxtb16(v);
    d[1] = tf_sxtb16_ror8(v);
    v = (uint32_t)tf_ld32(s0 + 4);
    d[4] = tf_sxtb16(v);
    d[5] = tf_sxtb16_ror8(v);
    v = (uint32_t)tf_ld32(s1);
    d[8] = tf_sxtb16(v);
    d[9] = tf_sxtb16_ror8(v);
    v = (uint32_t)tf_ld32(s1 + 4);
    d[12] = tf_sxtb16(v);
    d[13] = tf_sxtb16_ror8(v);
    v = (uint32_t)tf_ld32(s2);
    d[16] = tf_sxtb16(v);
    d[17] = tf_sxtb16_ror8(v);
    v = (uint32_t)tf_ld32(s2 + 4);
    d[20] = tf_sxtb16(v);
    d[21] = tf_sxtb16_ror8(v);
    d[24] = (int32_t)(((uint32_t)s0[8] & 0xFFFFu) | ((uint32_t)s2[8] << 16));
    d[25] = (int32_t)(((uint32_t)s1[8] & 0xFFFFu) | ((uint32_t)g->pad_pair & 0xFFFF0000u));
    d[28] = g->pad_pair;
    d[29] = g->pad_pair;
}

#endif

/* int8 weights: the packed per-channel constants decoded into the [pair][8] layout of the blocks */
static void tf_dsp_conv_decode(const tf_dsp_conv_s8_params_t *p, int32_t *q)
{
    const int32_t zp2p1 = 2 * p->out_zp + 1;
    const int32_t pairs = (p->out_c + 1) >> 1;
    int32_t c;
    for (c = 0; c < 2 * pairs; ++c) {
        const int32_t packed = p->bias[c];
        const int32_t rs = p->rshift ? p->rshift[c] : tf_dsp_rshift(packed);
        int32_t *const qp = q + 8 * (c >> 1) + (c & 1);
        qp[0] = p->rshift ? packed : tf_dsp_start(packed);
        qp[2] = p->mult[p->per_channel ? c : 0];
        qp[4] = tf_dsp_kq(zp2p1, rs);
        qp[6] = rs;
    }
}

void tf_dsp_conv_s8(const tf_dsp_conv_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    int32_t *xbuf = (int32_t *)scratch;
    int8_t *row = (int8_t *)(xbuf + p->kpad);
    int32_t *qbuf = xbuf + p->kpad + ((p->in_c & 3) ? (p->kpad >> 2) : 0);
    const int32_t oc2 = (p->out_c + 1) & ~1;
    int32_t *wbuf = qbuf + 4 * oc2; /* wexpand: the int16 weights */
    const int32_t npix = p->out_h * p->out_w;
    const int32_t pairs = p->kpad >> 3;
    const int full = p->act_min == -128 && p->act_max == 127 && (p->out_c & 1) == 0;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_h == 0 &&
                       p->pad_w == 0 && (p->in_c & 7) == 0; /* kpad == in_c: no reading past a pixel */
    /* the packer sets bit 6 for every `wide` layer: without it none is (and the C channel loop runs
     * only clamped layers, as the int8 / expanded blocks take the others) */
    const int wide = (TF_DSP_CONV_VARIANTS & 0x40) && p->wide;
    const int wexp = !wide && p->wexpand;
    const int w16 = wide || wexp; /* the int16-weight blocks */
    const int32_t *weights = wexp ? wbuf : p->weights;
    const int xdbl = !wide && !wexp && p->xdouble;
    const int two = (TF_DSP_CONV_VARIANTS & 0x20) && direct && !xdbl; /* tf_dsp_expand_two */
    tf_dsp_blocks_t blk;
    /* the inside-the-image fast path of kernel rows of whole words (rows4: in_c a multiple of 4, or
     * k_w * in_c, as KWS's 10x4 over one channel) */
    const int rows4 = !direct && !xdbl && ((p->k_w * p->in_c) & 3) == 0 && p->dil_w == 1 &&
                      p->in_h >= (p->k_h - 1) * p->dil_h + 1 && p->in_w >= p->k_w;
    tf_dsp_rows4_t rows;
    /* the straight-line im2col of 3x3 kernels over 3 channels (`few`: kpad 32) */
    const int px3 = p->few && !xdbl && p->in_c == 3 && p->k_h == 3 && p->k_w == 3 && p->in_h >= 2 * p->dil_h + 1 &&
                    p->in_w >= 3;
    int32_t b, pix;
    (void)rows4; /* unused when TF_DSP_CONV_VARIANTS leaves their paths out */
    (void)px3;
    rows.y_last = p->in_h - 1 - (p->k_h - 1) * p->dil_h;
    rows.x_last = p->in_w - p->k_w;
    rows.k_h = p->k_h;
    rows.row_words = (p->k_w * p->in_c) >> 2;
    rows.row_step = p->dil_h * p->in_w * p->in_c;
    rows.pad_chunks = (p->kpad >> 2) - p->k_h * rows.row_words;
    rows.pad_pair = tf_sxtb16((uint32_t)(uint8_t)p->pad_value * 0x01010101u);
    if (!wide) {
        tf_dsp_conv_decode(p, qbuf);
    }
    if (wexp) {
        /* [pair][chunk][channel][1 word of 4 int8] -> [pair][chunk][channel][2 words of int16 pairs] */
        (void)tf_dsp_expand_x((const int8_t *)p->weights, oc2 * (p->kpad >> 2), wbuf, 2, 1);
    }
    blk.x = xbuf;
    blk.pairs = pairs;
    blk.blocks = p->out_c >> 1;
    blk.flags = (!w16 && !p->xdouble ? TF_DSP_DSUM : 0) | (p->fast ? 0 : TF_DSP_ROUND) | (wide ? TF_DSP_STREAM : 0);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * p->in_c;
        int8_t *out_b = output + b * npix * p->out_c;
        for (pix = 0; pix < npix; pix += 2) {
            const int32_t pix1 = pix + 1 < npix ? pix + 1 : pix;
            if (two) {
#if TF_DSP_CONV_VARIANTS & 0x20
                tf_dsp_expand_two(in_b + pix * p->in_c, in_b + pix1 * p->in_c, pairs, xbuf);
#endif
            } else if (direct) {
                tf_dsp_expand_pairs(in_b + pix * p->in_c, pairs, xbuf, xdbl);
                tf_dsp_expand_pairs(in_b + pix1 * p->in_c, pairs, xbuf + 2, xdbl);
#if TF_DSP_CONV_VARIANTS & 0x8
            } else if (px3) {
                tf_dsp_conv_px3(p, in_b, pix, xbuf, row, &rows);
                tf_dsp_conv_px3(p, in_b, pix1, xbuf + 2, row, &rows);
#endif
#if TF_DSP_CONV_VARIANTS & 0x4
            } else if (rows4) {
                /* in_c a multiple of 4, no column dilation, values not doubled */
                tf_dsp_conv_px4(p, in_b, pix, xbuf, row, &rows);
                tf_dsp_conv_px4(p, in_b, pix1, xbuf + 2, row, &rows);
#endif
            } else {
                tf_dsp_conv_fill(p, in_b, pix, xbuf, row, xdbl);
                tf_dsp_conv_fill(p, in_b, pix1, xbuf + 2, row, xdbl);
            }
            blk.w = weights;
            blk.q = qbuf;
            blk.o0 = out_b + pix * p->out_c;
            blk.o1 = out_b + pix1 * p->out_c;
#if TF_DSP_NATIVE && (TF_DSP_CONV_VARIANTS & 0x10)
            if (full && wide) {
                tf_dsp_conv_blocks_ws(&blk);
                continue;
            }
#endif
#if TF_DSP_NATIVE && (TF_DSP_CONV_VARIANTS & 0x2)
            if (full && wexp) {
                tf_dsp_conv_blocks_w16(&blk);
                continue;
            }
#endif
#if TF_DSP_NATIVE && (TF_DSP_CONV_VARIANTS & 0x1)
            if (full && !w16) {
                tf_dsp_conv_blocks_w8(&blk);
                continue;
            }
#endif
            tf_dsp_conv_blocks_c(&blk, p->out_c, w16, !full, p->act_min, p->act_max);
        }
    }
}
