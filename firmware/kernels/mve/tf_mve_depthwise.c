/* DEPTHWISE_CONV_2D with Helium: see tf_mve_depthwise.h. */
#include "tf_mve_depthwise.h"

#include "tf_mve_common.h"

/* TF_MVE_DW_VARIANTS: bit 0 the copy of tf_mve_depthwise_conv2d_s8 without per-channel left shifts,
 * bit 1 the copy with them; bits 2-5 its direct 3x3 paths for 8, 16, 32, 64 channels (other counts,
 * and these when left out, take the gathered path); bit 17 the gathered path, bit 7 its last
 * partial group of 16 channels; bit 16 its filters other than 3x3 (the packer sends those to the
 * plane kernel).
 * tf_mve_dw_plane_s8: bit 6 its segment path, bits 8 + t - 1 its lanes path for t = 1..6 taps (the
 * channels that shift right), bits 18 + t - 1 the lanes path's copy for the channels that do not
 * (a left shift or none). The build sets the bits a model's layers use (-D,
 * tinyforge/kernels/ops/mve/pack.py dw_variant, plane_variant); without the define everything
 * compiles. */
#ifndef TF_MVE_DW_VARIANTS
#define TF_MVE_DW_VARIANTS 0xFF3FFF
#endif
#define TF_MVE_DWL_RIGHT_BITS (TF_MVE_DW_VARIANTS & 0x3F00)
#define TF_MVE_DWL_LEFT_BITS (TF_MVE_DW_VARIANTS & 0xFC0000)
#define TF_MVE_DW_GATHERED (TF_MVE_DW_VARIANTS & 0x30000) /* other filters take it too */
#define TF_MVE_DW_TAIL16 (TF_MVE_DW_VARIANTS & 0x80)
#define TF_MVE_DW_ANY (TF_MVE_DW_VARIANTS & 0x10000)

/* acc_even/acc_odd += the int16 lanes of s widened. */
#define TF_MVE_DW_WIDEN(s)                                                                                        \
    do {                                                                                                          \
        acc_e = vaddq_s32(acc_e, vmovlbq_s16(s));                                                                 \
        acc_o = vaddq_s32(acc_o, vmovltq_s16(s));                                                                 \
    } while (0)

/* Requantize the even/odd channel accumulators of a group and pack them back in channel order. */
TF_MVE_INLINE int16x8_t tf_mve_dw_out(int32x4_t acc_e, int32x4_t acc_o, const int32_t *q, const tf_mve_out_t *o,
                                      int left_shifts)
{
    if (left_shifts) {
        acc_e = tf_mve_mul_by_quantized_multiplier(acc_e, vldrwq_s32(q + 8), vldrwq_s32(q + 16), vldrwq_s32(q + 24));
        acc_o = tf_mve_mul_by_quantized_multiplier(acc_o, vldrwq_s32(q + 12), vldrwq_s32(q + 20), vldrwq_s32(q + 28));
    } else {
        acc_e = tf_mve_mul_by_quantized_multiplier_r(acc_e, vldrwq_s32(q + 8), vldrwq_s32(q + 24));
        acc_o = tf_mve_mul_by_quantized_multiplier_r(acc_o, vldrwq_s32(q + 12), vldrwq_s32(q + 28));
    }
    acc_e = vminq_s32(vmaxq_s32(vaddq_n_s32(acc_e, o->zp), o->lo), o->hi);
    acc_o = vminq_s32(vmaxq_s32(vaddq_n_s32(acc_o, o->zp), o->lo), o->hi);
    return vmovntq_s32(vmovnbq_s32(vuninitializedq_s16(), acc_e), acc_o);
}

#define TF_MIN_8(n) ((n) < 8 ? (n) : 8)
#define TF_MIN_I32(a, b) ((a) < (b) ? (a) : (b))

#if TF_MVE_DW_ANY
/* One group of `count` <= 8 channels, any number of taps (intrinsics; the 3x3 path's partial
 * last group and other filter sizes). */
static void tf_mve_dw_group_partial(const int8_t *const *taps, int32_t n_taps, int32_t count, const int8_t *w,
                                    const int32_t *q, int8_t *out, const tf_mve_out_t *o, int left_shifts)
{
    const mve_pred16_t lanes = vctp16q((uint32_t)count);
    int32x4_t acc_e = vldrwq_s32(q);
    int32x4_t acc_o = vldrwq_s32(q + 4);
    int32_t t;
    for (t = 0; t < n_taps; ++t) {
        const int16x8_t s = vmulq_s16(vldrbq_z_s16(taps[t], lanes), vldrbq_s16(w));
        TF_MVE_DW_WIDEN(s);
        w += 8;
    }
    vstrbq_p_s16(out, tf_mve_dw_out(acc_e, acc_o, q, o, left_shifts), lanes);
}
#endif

/* Two taps of 8 channels: s = xa*wa + xb*wb in int16, then acc_e/acc_o (q0/q1) += widened s.
 * xa and xb are the taps' int8 addresses (asm operands); the weights follow each other at w. */
#define TF_MVE_DW_PAIR(xa, xb)                                                                                    \
    "vldrb.s16 q2, " xa "\n\t"                                                                                    \
    "vldrb.s16 q3, [%[w]], #8\n\t"                                                                                \
    "vmul.i16 q2, q2, q3\n\t"                                                                                     \
    "vldrb.s16 q3, " xb "\n\t"                                                                                    \
    "vldrb.s16 q4, [%[w]], #8\n\t"                                                                                \
    "vmul.i16 q3, q3, q4\n\t"                                                                                     \
    "vadd.i16 q2, q2, q3\n\t"                                                                                     \
    "vmovlb.s16 q3, q2\n\t"                                                                                       \
    "vadd.i32 q0, q0, q3\n\t"                                                                                     \
    "vmovlt.s16 q3, q2\n\t"                                                                                       \
    "vadd.i32 q1, q1, q3\n\t"

/* RoundingDivideByPOT of q<acc> by the -right shifts at [q, #off] (see tf_mve_rounding_divide). */
#define TF_MVE_DW_RDIV(acc, off)                                                                                  \
    "vldrw.u32 q2, [%[q], #" off "]\n\t"                                                                          \
    "vand q3, q" acc ", q2\n\t"                                                                                   \
    "vshr.s32 q3, q3, #31\n\t"                                                                                    \
    "vqadd.s32 q" acc ", q" acc ", q3\n\t"                                                                        \
    "vrshl.s32 q" acc ", q" acc ", q2\n\t"

/* The left shifts; qb: the offset of q from the group's constants ("" or "-128"), as below. */
#define TF_MVE_DW_LEFT_AT(qb)                                                                                     \
    "vldrw.u32 q2, [%[q], #(64" qb ")]\n\t"                                                                        \
    "vshl.s32 q0, q0, q2\n\t"                                                                                     \
    "vldrw.u32 q2, [%[q], #(80" qb ")]\n\t"                                                                        \
    "vshl.s32 q1, q1, q2\n\t"
#define TF_MVE_DW_LEFT TF_MVE_DW_LEFT_AT("")

/* 8 channels of a 3x3 filter, in registers: bias, the nine taps t0..t8 (asm addresses; the last
 * one alone, its even and odd products widened by VMULLB/VMULLT), the requantization (VQRDMULH and
 * the rounding shift; a VSHL first with left shifts), then `tail` (END32 or END16): the zero
 * point, the clamp and the narrowing to int16 lanes in channel order
 * (%q[res]). w advances past the 9 x 8 weights. The group's constants are at q, or with qi
 * ", #128" and qb "-128" at q - 128 after the first load steps q past them. */
#define TF_MVE_DW3X3_BODY(left, tail, qi, qb, t0, t1, t2, t3, t4, t5, t6, t7, t8)                                    \
    "vldrw.u32 q0, [%[q]]" qi "\n\t"                                                                               \
    "vldrw.u32 q1, [%[q], #(16" qb ")]\n\t" TF_MVE_DW_PAIR(t0, t1) TF_MVE_DW_PAIR(t2, t3) TF_MVE_DW_PAIR(t4, t5)   \
        TF_MVE_DW_PAIR(t6, t7)                                                                                    \
    "vldrb.s16 q2, " t8 "\n\t"                                                                                    \
    "vldrb.s16 q3, [%[w]], #8\n\t"                                                                                \
    "vmullb.s16 q4, q2, q3\n\t"                                                                                   \
    "vadd.i32 q0, q0, q4\n\t"                                                                                     \
    "vmullt.s16 q4, q2, q3\n\t"                                                                                   \
    "vadd.i32 q1, q1, q4\n\t" left                                                                                \
    "vldrw.u32 q2, [%[q], #(32" qb ")]\n\t"                                                                        \
    "vqrdmulh.s32 q0, q0, q2\n\t"                                                                                 \
    "vldrw.u32 q2, [%[q], #(48" qb ")]\n\t"                                                                        \
    "vqrdmulh.s32 q1, q1, q2\n\t" tail

/* The rounding shift, the zero point, the clamp and the narrowing to int16 in channel order, in
 * int32 (%q[lo] and %q[hi] int32 lanes; exact for any result and shift) */
#define TF_MVE_DW_END32(qb)                                                                                       \
    TF_MVE_DW_RDIV("0", "(96" qb ")") TF_MVE_DW_RDIV("1", "(112" qb ")")                                          \
    "vadd.i32 q0, q0, %[zp]\n\t"                                                                                  \
    "vadd.i32 q1, q1, %[zp]\n\t"                                                                                  \
    "vmax.s32 q0, q0, %q[lo]\n\t"                                                                                 \
    "vmax.s32 q1, q1, %q[lo]\n\t"                                                                                 \
    "vmin.s32 q0, q0, %q[hi]\n\t"                                                                                 \
    "vmin.s32 q1, q1, %q[hi]\n\t"                                                                                 \
    "vmovnb.i32 %q[res], q0\n\t"                                                                                  \
    "vmovnt.i32 %q[res], q1"

/* or for channels that all shift right (>= 1), the fix-up the sign (no VAND), and the zero point
 * and the clamp after a saturating narrowing (%q[lo] and %q[hi] int16 lanes): exact unless the
 * result is within 128 of the int32 limits. The copy without left shifts takes only such layers
 * (pack.py pack_depthwise). */
#define TF_MVE_DW_RDIV_R(acc, off)                                                                                \
    "vldrw.u32 q2, [%[q], #" off "]\n\t"                                                                          \
    "vshr.s32 q3, q" acc ", #31\n\t"                                                                              \
    "vqadd.s32 q" acc ", q" acc ", q3\n\t"                                                                        \
    "vrshl.s32 q" acc ", q" acc ", q2\n\t"
#define TF_MVE_DW_END16(qb)                                                                                       \
    TF_MVE_DW_RDIV_R("0", "(96" qb ")") TF_MVE_DW_RDIV_R("1", "(112" qb ")")                                      \
    "vqmovnb.s32 %q[res], q0\n\t"                                                                                 \
    "vqmovnt.s32 %q[res], q1\n\t"                                                                                 \
    "vqadd.s16 %q[res], %q[res], %[zp]\n\t"                                                                       \
    "vmax.s16 %q[res], %q[res], %q[lo]\n\t"                                                                       \
    "vmin.s16 %q[res], %q[res], %q[hi]"

#define TF_MVE_DW_CLOBBERS "q0", "q1", "q2", "q3", "q4", "memory"

/* The taps from an im2col block: t at x - 64 + 16 t (x points at the middle of 144 bytes). */
#define TF_MVE_DW3X3_GATHERED(left)                                                                               \
    __asm__(TF_MVE_DW3X3_BODY(left, TF_MVE_DW_END32(""), "", "", "[%[x], #-64]", "[%[x], #-48]", "[%[x], #-32]",   \
                              "[%[x], #-16]", "[%[x]]", "[%[x], #16]", "[%[x], #32]", "[%[x], #48]",             \
                              "[%[x], #64]")                                                                      \
            : [res] "=&w"(res), [w] "+l"(w)                                                                       \
            : [x] "l"(x), [q] "r"(q), [zp] "r"(o.zp), [lo] "w"(o.lo), [hi] "w"(o.hi)                             \
            : TF_MVE_DW_CLOBBERS)

TF_MVE_INLINE int16x8_t tf_mve_dw3x3_half(const int8_t *x, const int8_t **wp, const int32_t *q, tf_mve_out_t o,
                                          int left_shifts)
{
    const int8_t *w = *wp;
    int16x8_t res;
    if (left_shifts) {
        TF_MVE_DW3X3_GATHERED(TF_MVE_DW_LEFT);
    } else {
        TF_MVE_DW3X3_GATHERED("");
    }
    *wp = w;
    return res;
}

/* The taps straight from the input, for channel counts C <= 64 (immediate offsets): three row
 * pointers r0..r2 stand 8 bytes before the middle tap of the current 8 channels; the middle
 * tap's load steps them to it ("!"), the other two read C bytes to either side. One pixel, its
 * C / 8 groups in a low-overhead loop; r0..r2 and out end C bytes further. */
#define TF_MVE_DW3X3_DIRECT(left, tail, C, groups)                                                                \
    __asm__ volatile("dls lr, %[g]\n"                                                                             \
                     "1:\n\t" TF_MVE_DW3X3_BODY(left, tail, ", #128", "-128", "[%[r0], #(8-" C ")]",               \
                                                "[%[r0], #8]!", "[%[r0], #" C "]", "[%[r1], #(8-" C ")]",          \
                                                "[%[r1], #8]!", "[%[r1], #" C "]", "[%[r2], #(8-" C ")]",          \
                                                "[%[r2], #8]!", "[%[r2], #" C "]") "\n\t"                          \
                     "vstrb.16 %q[res], [%[out]], #8\n\t"                                                         \
                     "le lr, 1b"                                                                                  \
                     : [res] "=&w"(res), [w] "+l"(w), [q] "+r"(q), [r0] "+l"(r0), [r1] "+l"(r1), [r2] "+l"(r2),   \
                       [out] "+l"(out)                                                                            \
                     : [g] "r"(groups), [zp] "r"(o.zp), [lo] "w"(o.lo), [hi] "w"(o.hi)                             \
                     : TF_MVE_DW_CLOBBERS, "lr")

/* `count` pixels of a 3x3 filter, C in {8, 16, 32, 64}: m0..m2 are the input at the first pixel's
 * middle column of the three filter rows; the next pixel's are steps[ky] bytes further. Inlined at
 * one call site (tf_mve_dw, an output row per call). */
TF_MVE_INLINE void tf_mve_dw3x3_direct(const int8_t *m0, const int8_t *m1, const int8_t *m2, const int32_t *steps,
                                       int32_t count, int32_t channels, const int8_t *weights,
                                       const int32_t *qparams, int8_t *out, tf_mve_out_t o, int left_shifts)
{
    const int32_t s0 = steps[0], s1 = steps[1], s2 = steps[2];
    /* with no direct path compiled in (TF_MVE_DW_VARIANTS) nothing reads them */
    (void)m0, (void)m1, (void)m2, (void)s0, (void)s1, (void)s2, (void)count, (void)weights, (void)qparams;
    (void)out, (void)o;
    (void)left_shifts;
#define TF_MVE_DW_DIRECT_LOOP(n)                                                                                  \
    {                                                                                                             \
        const int8_t *r0 = m0 - 8, *r1 = m1 - 8, *r2 = m2 - 8;                                                    \
        for (; count > 0; --count) {                                                                              \
            const int8_t *w = weights;                                                                            \
            const int32_t *q = qparams;                                                                           \
            int16x8_t res;                                                                                        \
            if (left_shifts) {                                                                                    \
                TF_MVE_DW3X3_DIRECT(TF_MVE_DW_LEFT_AT("-128"), TF_MVE_DW_END32("-128"), #n, n / 8);             \
            } else {                                                                                              \
                TF_MVE_DW3X3_DIRECT("", TF_MVE_DW_END16("-128"), #n, n / 8);                                     \
            }                                                                                                     \
            (void)res;                                                                                            \
            r0 += s0 - n, r1 += s1 - n, r2 += s2 - n;                                                             \
        }                                                                                                         \
    }
    switch (channels) {
#if TF_MVE_DW_VARIANTS & 0x4
    case 8:
        TF_MVE_DW_DIRECT_LOOP(8)
        break;
#endif
#if TF_MVE_DW_VARIANTS & 0x8
    case 16:
        TF_MVE_DW_DIRECT_LOOP(16)
        break;
#endif
#if TF_MVE_DW_VARIANTS & 0x10
    case 32:
        TF_MVE_DW_DIRECT_LOOP(32)
        break;
#endif
#if TF_MVE_DW_VARIANTS & 0x20
    case 64:
        TF_MVE_DW_DIRECT_LOOP(64)
        break;
#endif
    default: /* not a direct count (tf_mve_dw3x3_direct_channels) */
        break;
    }
#undef TF_MVE_DW_DIRECT_LOOP
}

/* The channel counts tf_mve_dw3x3_direct takes (those compiled in). */
TF_MVE_INLINE int tf_mve_dw3x3_direct_channels(int32_t channels)
{
    return (channels == 8 && (TF_MVE_DW_VARIANTS & 0x4)) || (channels == 16 && (TF_MVE_DW_VARIANTS & 0x8)) ||
           (channels == 32 && (TF_MVE_DW_VARIANTS & 0x10)) || (channels == 64 && (TF_MVE_DW_VARIANTS & 0x20));
}

/* im2col of one pixel for the 3x3 path, `groups` full groups of 16 channels: block g (144 bytes
 * at buf + 144 g) holds buf[144 g + 16 t + i] = taps[t][16 g + i]. Two loops (taps 0-4 and 5-8)
 * so that each fits the registers. */
TF_MVE_INLINE void tf_mve_dw3x3_gather(const int8_t *const *taps, int32_t groups, int8_t *buf)
{
    const int8_t *t0 = taps[0], *t1 = taps[1], *t2 = taps[2], *t3 = taps[3], *t4 = taps[4];
    const int8_t *t5 = taps[5], *t6 = taps[6], *t7 = taps[7], *t8 = taps[8];
    int8_t *d = buf;
    __asm__ volatile("dls lr, %[n]\n"
                     "1:\n\t"
                     "vldrb.u8 q0, [%[t0]], #16\n\t"
                     "vldrb.u8 q1, [%[t1]], #16\n\t"
                     "vstrb.8 q0, [%[d]]\n\t"
                     "vstrb.8 q1, [%[d], #16]\n\t"
                     "vldrb.u8 q0, [%[t2]], #16\n\t"
                     "vldrb.u8 q1, [%[t3]], #16\n\t"
                     "vstrb.8 q0, [%[d], #32]\n\t"
                     "vstrb.8 q1, [%[d], #48]\n\t"
                     "vldrb.u8 q0, [%[t4]], #16\n\t"
                     "vstrb.8 q0, [%[d], #64]\n\t"
                     "adds %[d], #144\n\t"
                     "le lr, 1b"
                     : [t0] "+r"(t0), [t1] "+r"(t1), [t2] "+r"(t2), [t3] "+r"(t3), [t4] "+r"(t4), [d] "+r"(d)
                     : [n] "r"(groups)
                     : "q0", "q1", "lr", "cc", "memory");
    d = buf + 80;
    __asm__ volatile("dls lr, %[n]\n"
                     "1:\n\t"
                     "vldrb.u8 q0, [%[t5]], #16\n\t"
                     "vldrb.u8 q1, [%[t6]], #16\n\t"
                     "vstrb.8 q0, [%[d]]\n\t"
                     "vstrb.8 q1, [%[d], #16]\n\t"
                     "vldrb.u8 q0, [%[t7]], #16\n\t"
                     "vldrb.u8 q1, [%[t8]], #16\n\t"
                     "vstrb.8 q0, [%[d], #32]\n\t"
                     "vstrb.8 q1, [%[d], #48]\n\t"
                     "adds %[d], #144\n\t"
                     "le lr, 1b"
                     : [t5] "+r"(t5), [t6] "+r"(t6), [t7] "+r"(t7), [t8] "+r"(t8), [d] "+r"(d)
                     : [n] "r"(groups)
                     : "q0", "q1", "lr", "cc", "memory");
}

/* 3x3 filters: the pixel's nine taps are gathered into buf, 16 channels in 144 bytes, then
 * computed 8 channels at a time. */
TF_MVE_INLINE void tf_mve_dw3x3_pixel(const int8_t *const *taps, int32_t channels, const int8_t *w, const int32_t *q,
                                      int8_t *out, int8_t *buf, tf_mve_out_t o, int left_shifts)
{
    const int32_t groups = channels >> 4;
    int32_t g, t;
    if (groups > 0) {
        tf_mve_dw3x3_gather(taps, groups, buf);
    }
    if (TF_MVE_DW_TAIL16 && (channels & 15)) {
        const mve_pred16_t lanes = vctp8q((uint32_t)(channels & 15));
        for (t = 0; t < 9; ++t) {
            vstrbq_s8(buf + 144 * groups + 16 * t, vldrbq_z_s8(taps[t] + 16 * groups, lanes));
        }
    }
    for (g = 0; g < groups; ++g) {
        vstrbq_s16(out, tf_mve_dw3x3_half(buf + 64, &w, q, o, left_shifts));
        vstrbq_s16(out + 8, tf_mve_dw3x3_half(buf + 72, &w, q + 32, o, left_shifts));
        buf += 144;
        q += 64;
        out += 16;
    }
    if (TF_MVE_DW_TAIL16 && (channels & 15)) {
        const int32_t left = channels & 15;
        vstrbq_p_s16(out, tf_mve_dw3x3_half(buf + 64, &w, q, o, left_shifts), vctp16q((uint32_t)left));
        if (left > 8) {
            vstrbq_p_s16(out + 8, tf_mve_dw3x3_half(buf + 72, &w, q + 32, o, left_shifts),
                         vctp16q((uint32_t)(left - 8)));
        }
    }
}

#if TF_MVE_DW_ANY
/* Any filter size: the tap pointers stay in an array. */
TF_MVE_INLINE void tf_mve_dw_any_pixel(const int8_t *const *taps, int32_t n_taps, int32_t channels, const int8_t *w,
                                       const int32_t *q, int8_t *out, const tf_mve_out_t *o, int left_shifts)
{
    const int8_t *group[TF_MVE_DW_MAX_TAPS];
    int32_t c, t;
    for (c = 0; c < channels; c += 8) {
        for (t = 0; t < n_taps; ++t) {
            group[t] = taps[t] + c;
        }
        tf_mve_dw_group_partial(group, n_taps, TF_MIN_8(channels - c), w, q, out + c, o, left_shifts);
        w += 8 * n_taps;
        q += 32;
    }
}
#endif

/* One output pixel through the tap pointers (any filter, any padding). rows[ky]: the input row
 * of filter row ky, NULL in the padding. */
TF_MVE_INLINE void tf_mve_dw_pixel(const tf_mve_depthwise_conv2d_s8_params_t *p, const int8_t *const *rows, int32_t ox,
                                   const int8_t *zp_row, int8_t *buf, int8_t *output, tf_mve_out_t o, int left_shifts)
{
    const int32_t channels = p->in_c;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int8_t *taps[TF_MVE_DW_MAX_TAPS];
    int32_t ky, kx, t = 0;
    if (p->k_h == 3 && p->k_w == 3) {
        const int32_t d = p->dil_w;
        const int ok0 = x0 >= 0 && x0 < p->in_w;
        const int ok1 = x0 + d >= 0 && x0 + d < p->in_w;
        const int ok2 = x0 + 2 * d >= 0 && x0 + 2 * d < p->in_w;
        const int32_t c0 = x0 * channels, c1 = c0 + d * channels, c2 = c1 + d * channels;
        for (ky = 0; ky < 3; ++ky) {
            const int8_t *r = rows[ky];
            taps[3 * ky] = (r && ok0) ? r + c0 : zp_row;
            taps[3 * ky + 1] = (r && ok1) ? r + c1 : zp_row;
            taps[3 * ky + 2] = (r && ok2) ? r + c2 : zp_row;
        }
        tf_mve_dw3x3_pixel(taps, channels, p->weights, p->qparams, output, buf, o, left_shifts);
        return;
    }
    for (ky = 0; ky < p->k_h; ++ky) {
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = x0 + kx * p->dil_w;
            taps[t++] = (rows[ky] && ix >= 0 && ix < p->in_w) ? rows[ky] + ix * channels : zp_row;
        }
    }
#if TF_MVE_DW_ANY
    tf_mve_dw_any_pixel(taps, t, channels, p->weights, p->qparams, output, &o, left_shifts);
#else
    (void)t;
#endif
}

/* The direct path reads each filter row from a padded copy of its input row (when the layer pads
 * columns): buf holds three such rows, (out_w - 1) stride_w + 3 columns from column -pad_w on, the
 * columns outside the input holding the zero point; each input row is copied once, to the copy
 * iy % 3 (ky when the row dilation is a multiple of 3). A whole output row is then one run. */
TF_MVE_INLINE void tf_mve_dw(const tf_mve_depthwise_conv2d_s8_params_t *p, const int8_t *input, int8_t *output,
                             const int8_t *zp_row, int8_t *buf, int left_shifts)
{
    const int32_t channels = p->in_c;
    const int32_t stride_w = p->stride_w, pad_w = p->pad_w, out_w = p->out_w, in_w = p->in_w;
    const int direct = p->k_h == 3 && p->k_w == 3 && p->dil_w == 1 && tf_mve_dw3x3_direct_channels(channels);
    const int32_t cols = (out_w - 1) * stride_w + 3; /* columns a padded row holds */
    const int32_t row_bytes = cols * channels;
    const int32_t copy_bytes = TF_MIN_I32(in_w, cols - pad_w) * channels;
    const int padded = direct && out_w > 0 && (pad_w > 0 || cols > in_w);
    const int by_ky = p->dil_h % 3 == 0;
    const tf_mve_out_t o = tf_mve_out(p->output_offset, p->act_min, p->act_max);
    tf_mve_out_t o16 = o; /* the direct path without left shifts clamps int16 lanes */
    const int8_t *rows[TF_MVE_DW_MAX_TAPS]; /* input row of each ky, NULL in the padding */
    int32_t b, oy, ox, ky, tag[3];
    o16.lo = vreinterpretq_s32_s16(vdupq_n_s16((int16_t)p->act_min));
    o16.hi = vreinterpretq_s32_s16(vdupq_n_s16((int16_t)p->act_max));
    if (padded) {
        tf_mve_fill(buf, vdupq_n_s8((int8_t)p->input_zp), 3 * row_bytes);
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * in_w * channels;
        tag[0] = tag[1] = tag[2] = -1;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int8_t *mid[3];
            int32_t steps[3];
            for (ky = 0; ky < p->k_h; ++ky) {
                const int32_t iy = y0 + ky * p->dil_h;
                rows[ky] = (iy >= 0 && iy < p->in_h) ? in_b + iy * in_w * channels : 0;
            }
            if (!direct) {
                for (ox = 0; TF_MVE_DW_GATHERED && ox < out_w; ++ox) {
                    tf_mve_dw_pixel(p, rows, ox, zp_row, buf, output, o, left_shifts);
                    output += channels;
                }
                continue;
            }
            /* a filter row in the padding reads the zero points in place, step 0 */
            for (ky = 0; ky < 3; ++ky) {
                const int8_t *r = rows[ky];
                mid[ky] = zp_row + channels;
                steps[ky] = 0;
                if (r) {
                    if (padded) {
                        const int32_t iy = y0 + ky * p->dil_h;
                        const int32_t k = by_ky ? ky : iy % 3;
                        int8_t *copy = buf + k * row_bytes;
                        if (tag[k] != iy) {
                            tf_mve_copy(copy + pad_w * channels, r, copy_bytes);
                            tag[k] = iy;
                        }
                        r = copy + pad_w * channels;
                    }
                    mid[ky] = r + (1 - pad_w) * channels;
                    steps[ky] = stride_w * channels;
                }
            }
            tf_mve_dw3x3_direct(mid[0], mid[1], mid[2], steps, out_w, channels, p->weights, p->qparams, output,
                                left_shifts ? o : o16, left_shifts);
            output += out_w * channels;
        }
    }
}

void tf_mve_depthwise_conv2d_s8(const tf_mve_depthwise_conv2d_s8_params_t *p, const int8_t *input, int8_t *output,
                                int8_t *scratch)
{
    /* zero points (3 rows of C for the direct path's padding), then the 3x3 path's buffer */
    const int32_t zp_bytes = 3 * p->in_c;
    int8_t *buf = scratch + ((zp_bytes + 15) & ~15);
    tf_mve_fill(scratch, vdupq_n_s8((int8_t)p->input_zp), zp_bytes);
#if TF_MVE_DW_VARIANTS & 2
    /* the copy with left shifts also runs layers without them (a shift by 0), when it is the only one */
    if (p->left_shifts || !(TF_MVE_DW_VARIANTS & 1)) {
        tf_mve_dw(p, input, output, scratch, buf, 1);
        return;
    }
#endif
    tf_mve_dw(p, input, output, scratch, buf, 0);
}

/* ---- any shape, one input channel at a time in an int8 plane (tf_mve_dw_plane_s8) ---- */

/* `count` > 0 bytes read `step` bytes apart from src, to consecutive bytes at dst: eight per
 * VLDRB.U16 gather in a tail-predicated loop (the last lanes read nothing past the input). */
static void tf_mve_dwp_gather(int8_t *dst, const int8_t *src, int32_t count, int32_t step)
{
    if (step <= 9000) { /* 16-bit offsets: 7 * step fits */
        const uint16x8_t offs = vmulq_n_u16(vidupq_n_u16(0, 1), (uint16_t)step);
        __asm__ volatile("dlstp.16 lr, %[n]\n"
                         "1:\n\t"
                         "vldrb.u16 q0, [%[s], %q[o]]\n\t"
                         "vstrb.16 q0, [%[d]], #8\n\t"
                         "add %[s], %[s8]\n\t"
                         "letp lr, 1b"
                         : [s] "+r"(src), [d] "+l"(dst)
                         : [n] "r"(count), [o] "w"(offs), [s8] "r"(8 * step)
                         : "q0", "lr", "memory");
        return;
    }
    for (; count > 0; --count) {
        *dst++ = *src;
        src += step;
    }
}

/* What the output loops of one output channel share. */
typedef struct {
    const int8_t *w;          /* the channel's segments, 16 bytes each */
    int32_t segs;
    int32_t seg_off[TF_MVE_DWP_MAX_SEGS]; /* plane offset of each segment */
    int dil;                  /* a dilation along plane rows: segments are gather loads */
    uint8x16_t doff;          /* their offsets */
    int32_t bias;
    int32x4_t mult, lsh, rsh;
    uint32x4_t ooff;          /* byte offsets of four outputs along a plane row */
    tf_mve_out_t o;
} tf_mve_dwp_t;

TF_MVE_INLINE int32_t tf_mve_dwp_dot(const tf_mve_dwp_t *d, const int8_t *x)
{
    int32_t acc = d->bias, s;
    if (d->dil) {
        for (s = 0; s < d->segs; ++s) {
            acc = vmladavaq_s8(acc, vldrbq_gather_offset_s8(x + d->seg_off[s], d->doff), vldrbq_s8(d->w + 16 * s));
        }
    } else {
        for (s = 0; s < d->segs; ++s) {
            acc = vmladavaq_s8(acc, vldrbq_s8(x + d->seg_off[s]), vldrbq_s8(d->w + 16 * s));
        }
    }
    return acc;
}

/* four accumulators -> requantized, clamped, stored at out + ooff (the lanes in `lanes`) */
TF_MVE_INLINE void tf_mve_dwp_store(const tf_mve_dwp_t *d, int32x4_t acc, int8_t *out, mve_pred16_t lanes)
{
    acc = tf_mve_mul_by_quantized_multiplier(acc, d->mult, d->lsh, d->rsh);
    acc = vminq_s32(vmaxq_s32(vaddq_n_s32(acc, d->o.zp), d->o.lo), d->o.hi);
    vstrbq_scatter_offset_p_s32(out, d->ooff, acc, lanes);
}

/* One plane row of outputs, any number of segments. */
TF_MVE_INLINE void tf_mve_dwp_rowk(const tf_mve_dwp_t *d, const int8_t *x, int32_t n, int32_t cs, int8_t *out, int32_t os)
{
    for (; n > 0; n -= 4) {
        int32_t a[4] = {0, 0, 0, 0}, i;
        const int32_t m = n < 4 ? n : 4;
        for (i = 0; i < m; ++i) {
            a[i] = tf_mve_dwp_dot(d, x + i * cs);
        }
        tf_mve_dwp_store(d, tf_mve_vec4(a[0], a[1], a[2], a[3]), out, vctp32q((uint32_t)m));
        x += 4 * cs;
        out += 4 * os;
    }
}

/* Four outputs of one segment (weights w) at x, x + cs, x + 2 cs, x + 3 cs: requantized with the
 * channel's constants in registers (no left shift) and stored. */
#define TF_MVE_DWP_ROW1_LOOP(LOAD)                                                                                \
    for (; n >= 4; n -= 4) {                                                                                      \
        const int32_t a0 = vmladavaq_s8(b, LOAD(x), w);                                                           \
        const int32_t a1 = vmladavaq_s8(b, LOAD(x + cs), w);                                                      \
        const int32_t a2 = vmladavaq_s8(b, LOAD(x + 2 * cs), w);                                                  \
        const int32_t a3 = vmladavaq_s8(b, LOAD(x + 3 * cs), w);                                                  \
        int32x4_t acc = tf_mve_mul_by_quantized_multiplier_r(tf_mve_vec4(a0, a1, a2, a3), mult, rsh);            \
        acc = vminq_s32(vmaxq_s32(vaddq_n_s32(acc, zp), lo), hi);                                                 \
        vstrbq_scatter_offset_s32(out, ooff, acc);                                                                \
        x += 4 * cs;                                                                                              \
        out += 4 * os;                                                                                            \
    }
#define TF_MVE_DWP_LD(p) vldrbq_s8(p)
#define TF_MVE_DWP_LDG(p) vldrbq_gather_offset_s8((p), doff)

#if TF_MVE_DW_VARIANTS & 0x40
/* One plane row of outputs, one segment with its weights in a register (1 x k rows of taps). */
static void tf_mve_dwp_row1(const tf_mve_dwp_t *d, const int8_t *x, int32_t n, int32_t cs, int8_t *out, int32_t os,
                            int left)
{
    if (!left) {
        const int8x16_t w = vldrbq_s8(d->w);
        const int32_t b = d->bias, zp = d->o.zp;
        const int32x4_t lo = d->o.lo, hi = d->o.hi;
        const int32x4_t mult = d->mult, rsh = d->rsh;
        const uint32x4_t ooff = d->ooff;
        if (d->dil) {
            const uint8x16_t doff = d->doff;
            TF_MVE_DWP_ROW1_LOOP(TF_MVE_DWP_LDG)
        } else {
            TF_MVE_DWP_ROW1_LOOP(TF_MVE_DWP_LD)
        }
    }
    tf_mve_dwp_rowk(d, x, n, cs, out, os);
}
#endif

/* ---- the lanes path of tf_mve_dw_plane_s8: four outputs along a plane row per vector ---- */

/* One output channel of the lanes path. A channel without a right shift (a left shift l >= 0) runs
 * the functions without the rounding step: (acc << l) wraps like TFLM's x * (1 << l), and so does
 * bias << l plus the sum of (w << l) * x (int32 products and sums wrap modulo 2^32), so its
 * weights and bias are shifted once per channel and the loop is VQRDMULH alone. */
typedef struct {
    int32_t off[TF_MVE_DWL_MAX_TAPS]; /* plane offset of each tap (phase-split rows) */
    const int8_t *w;                  /* the taps' weights */
    int32_t bias;
    int32_t mult;
    int32x4_t rsh;                    /* -right shift (< 0 unless `left`) */
    int32_t lsh;                      /* left shift (>= 0) */
    int left;                         /* no right shift: the functions without rounding */
    uint32x4_t ooff;                  /* byte offsets of four outputs */
    tf_mve_out_t o;
    int32_t rows, cols;               /* outputs */
    int32_t row_step, out_step_r, out_step4;
} tf_mve_dwl_t;

/* x << l modulo 2^32 (0 <= l <= 31), as the scalar requantization's left shift. */
TF_MVE_INLINE int32_t tf_mve_dwl_shl(int32_t x, int32_t l)
{
    return (int32_t)((uint32_t)x << l);
}

/* acc (four outputs: bias + sum of the taps) -> requantized, clamped int32: with `left` (the
 * shift already in acc) VQRDMULH alone, else VQRDMULH and the rounding right shift. */
TF_MVE_INLINE int32x4_t tf_mve_dwl_requant(int32x4_t acc, int32_t mult, int32x4_t rsh, int32_t zp, int32x4_t lo,
                                           int32x4_t hi, const int left)
{
    acc = vqrdmulhq_n_s32(acc, mult);
    if (!left) {
        acc = vrshlq_s32(vqaddq_s32(acc, vshrq_n_s32(acc, 31)), rsh); /* every rsh < 0: no mask */
    }
    return vminq_s32(vmaxq_s32(vaddq_n_s32(acc, zp), lo), hi);
}

/* Four plane bytes at *x sign-extended, *x advanced past them (one VLDRB.S32 with writeback). */
TF_MVE_INLINE int32x4_t tf_mve_dwl_load(const int8_t **x)
{
    int32x4_t v;
    __asm__("vldrb.s32 %q[v], [%[x]], #4" : [v] "=w"(v), [x] "+l"(*x) : "m"(*(const int8_t(*)[4]) * x));
    return v;
}

/* Four outputs of T taps (x0..x5, w1..w5; the first tap's VMLAS adds the bias). Named variables,
 * not arrays, so that the pointers stay in registers. */
#define TF_MVE_DWL_TAP(k)                                                                                         \
    if (T > k) {                                                                                                  \
        acc = vmlaq_n_s32(acc, tf_mve_dwl_load(&x##k), w##k);                                                     \
    }
#define TF_MVE_DWL_ACC()                                                                                          \
    int32x4_t acc = vmlasq_n_s32(tf_mve_dwl_load(&x0), w0, bias);                                                 \
    TF_MVE_DWL_TAP(1)                                                                                             \
    TF_MVE_DWL_TAP(2)                                                                                             \
    TF_MVE_DWL_TAP(3)                                                                                             \
    TF_MVE_DWL_TAP(4)                                                                                             \
    TF_MVE_DWL_TAP(5)                                                                                             \
    acc = tf_mve_dwl_requant(acc, mult, rsh, zp, lo, hi, left)

/* A row of `n` outputs of up to 3 taps in one tail-predicated loop (DLSTP/LETP: the last lanes
 * past n load and store nothing): TAPS the taps after the first, X their pointers, W their weights
 * (asm operands), ROUND the rounding right shift and R() its operand (both empty with `left`). */
#define TF_MVE_DWL_TAP_ASM(k) "vldrb.s32 q1, [%[x" #k "]], #4\n\tvmla.s32 q0, q1, %[w" #k "]\n\t"
#define TF_MVE_DWL_X1 [x0] "+l"(x0)
#define TF_MVE_DWL_X2 TF_MVE_DWL_X1, [x1] "+l"(x1)
#define TF_MVE_DWL_X3 TF_MVE_DWL_X2, [x2] "+l"(x2)
#define TF_MVE_DWL_W1
#define TF_MVE_DWL_W2 , [w1] "r"(w1)
#define TF_MVE_DWL_W3 TF_MVE_DWL_W2, [w2] "r"(w2)
#define TF_MVE_DWL_ROUND                                                                                          \
    "vshr.s32 q1, q0, #31\n\t"                                                                                    \
    "vqadd.s32 q0, q0, q1\n\t"                                                                                    \
    "vrshl.s32 q0, q0, %q[rsh]\n\t"
#define TF_MVE_DWL_R() , [rsh] "w"(rsh)
#define TF_MVE_DWL_NO_R()
#define TF_MVE_DWL_LOOP(TAPS, X, W, ROUND, R)                                                                     \
    __asm__ volatile("dlstp.32 lr, lr\n"                                                                          \
                     "1:\n\t"                                                                                     \
                     "vldrb.s32 q0, [%[x0]], #4\n\t"                                                              \
                     "vmlas.s32 q0, %q[w0], %[bias]\n\t" TAPS "vqrdmulh.s32 q0, q0, %q[mult]\n\t" ROUND           \
                     "vadd.i32 q0, q0, %[zp]\n\t"                                                                 \
                     "vmax.s32 q0, q0, %q[lo]\n\t"                                                                \
                     "vmin.s32 q0, q0, %q[hi]\n\t"                                                                \
                     "vstrb.32 q0, [%[o], %q[ooff]]\n\t"                                                          \
                     "add %[o], %[step4]\n\t"                                                                     \
                     "letp lr, 1b"                                                                                \
                     : [o] "+r"(o), [n] "+r"(n), X                                                                \
                     : [w0] "w"(w0), [bias] "r"(bias), [mult] "w"(multv), [zp] "r"(zp), [lo] "w"(lo),           \
                       [hi] "w"(hi), [ooff] "w"(ooff), [step4] "r"(step4) W R()                                  \
                     : "q0", "q1", "memory")
#define TF_MVE_DWL_LOOP_T(ROUND, R)                                                                               \
    if (T == 1) {                                                                                                 \
        TF_MVE_DWL_LOOP("", TF_MVE_DWL_X1, TF_MVE_DWL_W1, ROUND, R);                                              \
    } else if (T == 2) {                                                                                          \
        TF_MVE_DWL_LOOP(TF_MVE_DWL_TAP_ASM(1), TF_MVE_DWL_X2, TF_MVE_DWL_W2, ROUND, R);                           \
    } else {                                                                                                      \
        TF_MVE_DWL_LOOP(TF_MVE_DWL_TAP_ASM(1) TF_MVE_DWL_TAP_ASM(2), TF_MVE_DWL_X3, TF_MVE_DWL_W3, ROUND, R);     \
    }

/* Every output of one channel, T taps (a constant); `left` (a constant): the channel has no right
 * shift, its weights and bias are shifted left by d->lsh and the loop has no rounding step. */
TF_MVE_INLINE void tf_mve_dwl_run(const tf_mve_dwl_t *d, const int8_t *plane, int8_t *out, const int32_t T,
                                  const int left)
{
    const int32_t l = left ? d->lsh : 0;
#define TF_MVE_DWL_W(k) (T > k ? (left ? tf_mve_dwl_shl(w[k], l) : w[k]) : 0)
    if (T <= 3) { /* four taps need more registers than the asm operands get */
        const int8_t *w = d->w; /* T int8 weights */
        const int32x4_t w0 = vdupq_n_s32(TF_MVE_DWL_W(0)), multv = vdupq_n_s32(d->mult);
        const int32_t w1 = TF_MVE_DWL_W(1), w2 = TF_MVE_DWL_W(2);
        const int32_t bias = left ? tf_mve_dwl_shl(d->bias, l) : d->bias, zp = d->o.zp, step4 = d->out_step4;
        const int32x4_t rsh = d->rsh, lo = d->o.lo, hi = d->o.hi;
        const uint32x4_t ooff = d->ooff;
        int32_t r;
        for (r = 0; r < d->rows; ++r) {
            const int8_t *x0 = plane + d->off[0], *x1 = plane + d->off[1], *x2 = plane + d->off[2];
            int8_t *o = out;
            register int32_t n __asm__("lr") = d->cols; /* the loop count, in LR for DLSTP */
            if (left) {
                TF_MVE_DWL_LOOP_T(, TF_MVE_DWL_NO_R)
            } else {
                TF_MVE_DWL_LOOP_T(TF_MVE_DWL_ROUND, TF_MVE_DWL_R)
            }
            (void)x1, (void)x2, (void)w1, (void)w2, (void)rsh;
            plane += d->row_step;
            out += d->out_step_r;
        }
        return;
    }

    const int8_t *w = d->w; /* T int8 weights */
    const int32x4_t w0 = vdupq_n_s32(TF_MVE_DWL_W(0));
    const int32_t w1 = TF_MVE_DWL_W(1), w2 = TF_MVE_DWL_W(2), w3 = TF_MVE_DWL_W(3);
    const int32_t w4 = TF_MVE_DWL_W(4), w5 = TF_MVE_DWL_W(5);
    const int32_t bias = left ? tf_mve_dwl_shl(d->bias, l) : d->bias, zp = d->o.zp, step4 = d->out_step4;
    const int32_t mult = d->mult;
    const int32x4_t rsh = d->rsh, lo = d->o.lo, hi = d->o.hi;
    const uint32x4_t ooff = d->ooff;
    int32_t r, n;
#undef TF_MVE_DWL_W
    for (r = 0; r < d->rows; ++r) {
        const int8_t *x0 = plane + d->off[0], *x1 = plane + d->off[1], *x2 = plane + d->off[2];
        const int8_t *x3 = plane + d->off[3], *x4 = plane + d->off[4], *x5 = plane + d->off[5];
        int8_t *o = out;
        for (n = d->cols; n >= 4; n -= 4) {
            TF_MVE_DWL_ACC();
            vstrbq_scatter_offset_s32(o, ooff, acc);
            o += step4;
        }
        if (n > 0) {
            TF_MVE_DWL_ACC();
            vstrbq_scatter_offset_p_s32(o, ooff, acc, vctp32q((uint32_t)n));
        }
        plane += d->row_step;
        out += d->out_step_r;
    }
}

/* tf_mve_dwl_T: the channels that shift right; tf_mve_dwl_T_l: those that do not. */
#define TF_MVE_DWL_FN(T, SUFFIX, LEFT)                                                                            \
    static void tf_mve_dwl_##T##SUFFIX(const tf_mve_dwl_t *d, const int8_t *plane, int8_t *out)                   \
    {                                                                                                             \
        tf_mve_dwl_run(d, plane, out, T, LEFT);                                                                   \
    }
#define TF_MVE_DWL_CALL(T, SUFFIX)                                                                                \
    case T:                                                                                                       \
        tf_mve_dwl_##T##SUFFIX(d, plane, out);                                                                    \
        break;
#if TF_MVE_DW_VARIANTS & 0x100
TF_MVE_DWL_FN(1, , 0)
#endif
#if TF_MVE_DW_VARIANTS & 0x200
TF_MVE_DWL_FN(2, , 0)
#endif
#if TF_MVE_DW_VARIANTS & 0x400
TF_MVE_DWL_FN(3, , 0)
#endif
#if TF_MVE_DW_VARIANTS & 0x800
TF_MVE_DWL_FN(4, , 0)
#endif
#if TF_MVE_DW_VARIANTS & 0x1000
TF_MVE_DWL_FN(5, , 0)
#endif
#if TF_MVE_DW_VARIANTS & 0x2000
TF_MVE_DWL_FN(6, , 0)
#endif
#if TF_MVE_DW_VARIANTS & 0x40000
TF_MVE_DWL_FN(1, _l, 1)
#endif
#if TF_MVE_DW_VARIANTS & 0x80000
TF_MVE_DWL_FN(2, _l, 1)
#endif
#if TF_MVE_DW_VARIANTS & 0x100000
TF_MVE_DWL_FN(3, _l, 1)
#endif
#if TF_MVE_DW_VARIANTS & 0x200000
TF_MVE_DWL_FN(4, _l, 1)
#endif
#if TF_MVE_DW_VARIANTS & 0x400000
TF_MVE_DWL_FN(5, _l, 1)
#endif
#if TF_MVE_DW_VARIANTS & 0x800000
TF_MVE_DWL_FN(6, _l, 1)
#endif

/* One output channel through the lanes function of its tap count and shift (those compiled in:
 * the build sets the bits of every layer's tap count and shifts). */
TF_MVE_INLINE void tf_mve_dwl(const tf_mve_dwl_t *d, int32_t taps, const int8_t *plane, int8_t *out)
{
    (void)d, (void)taps, (void)plane, (void)out;
#if TF_MVE_DWL_LEFT_BITS
    if (d->left) {
        switch (taps) {
#if TF_MVE_DW_VARIANTS & 0x40000
            TF_MVE_DWL_CALL(1, _l)
#endif
#if TF_MVE_DW_VARIANTS & 0x80000
            TF_MVE_DWL_CALL(2, _l)
#endif
#if TF_MVE_DW_VARIANTS & 0x100000
            TF_MVE_DWL_CALL(3, _l)
#endif
#if TF_MVE_DW_VARIANTS & 0x200000
            TF_MVE_DWL_CALL(4, _l)
#endif
#if TF_MVE_DW_VARIANTS & 0x400000
            TF_MVE_DWL_CALL(5, _l)
#endif
#if TF_MVE_DW_VARIANTS & 0x800000
            TF_MVE_DWL_CALL(6, _l)
#endif
        default:
            break;
        }
        return;
    }
#endif
#if TF_MVE_DWL_RIGHT_BITS
    switch (taps) {
#if TF_MVE_DW_VARIANTS & 0x100
        TF_MVE_DWL_CALL(1, )
#endif
#if TF_MVE_DW_VARIANTS & 0x200
        TF_MVE_DWL_CALL(2, )
#endif
#if TF_MVE_DW_VARIANTS & 0x400
        TF_MVE_DWL_CALL(3, )
#endif
#if TF_MVE_DW_VARIANTS & 0x800
        TF_MVE_DWL_CALL(4, )
#endif
#if TF_MVE_DW_VARIANTS & 0x1000
        TF_MVE_DWL_CALL(5, )
#endif
#if TF_MVE_DW_VARIANTS & 0x2000
        TF_MVE_DWL_CALL(6, )
#endif
    default:
        break;
    }
#endif
}

/* The lanes path's constants of output channel oc (weights [out_c][taps] with lanes). */
TF_MVE_INLINE void tf_mve_dwl_channel(tf_mve_dwl_t *d, const tf_mve_dw_plane_s8_params_t *p, int32_t oc)
{
    const int32_t *q = p->qparams + 4 * oc;
    d->w = p->weights + p->lanes * oc;
    d->bias = q[0];
    d->mult = q[1];
    d->rsh = vdupq_n_s32(q[3]);
#if TF_MVE_DWL_LEFT_BITS
    d->lsh = q[2];
    d->left = q[3] == 0;
#endif
}

/* The layer with the lanes path (`lanes`, a constant) or the segment path: two copies, so that
 * each path's loops get the registers to themselves. */
TF_MVE_INLINE void tf_mve_dw_plane(const tf_mve_dw_plane_s8_params_t *p, const int8_t *input, int8_t *output,
                                   int8_t *scratch, const int lanes)
{
    const int32_t tr = p->transpose;
    const int32_t kh = tr ? p->k_w : p->k_h, kw = tr ? p->k_h : p->k_w;
    const int32_t sh = tr ? p->stride_w : p->stride_h, sw = tr ? p->stride_h : p->stride_w;
    const int32_t dh = tr ? p->dil_w : p->dil_h, dw = tr ? p->dil_h : p->dil_w;
    const int32_t oh = tr ? p->out_w : p->out_h, ow = tr ? p->out_h : p->out_w;
    const int32_t pad_r = tr ? p->pad_w : p->pad_h, pad_c = tr ? p->pad_h : p->pad_w;
    const int32_t ext_r = tr ? p->in_w : p->in_h, ext_c = tr ? p->in_h : p->in_w;
    const int32_t C = p->in_c, OC = p->out_c, dm = p->depth_mult;
    const int32_t in_step_r = tr ? C : p->in_w * C, in_step_c = tr ? p->in_w * C : C;
    const int32_t out_step_r = tr ? OC : p->out_w * OC, out_step_c = tr ? p->out_w * OC : OC;
    const int32_t PW = p->plane_w, PH = p->plane_h;
    const int32_t r_lo = pad_r > 0 ? 0 : -pad_r, c_lo = pad_c > 0 ? 0 : -pad_c;
    const int32_t r_hi = TF_MIN_I32(ext_r, PH - pad_r), c_hi = TF_MIN_I32(ext_c, PW - pad_c);
    /* with lanes the rows are split into `phases` (the stride along them) of PP bytes each */
    const int32_t phases = lanes ? sw : 1; /* <= TF_MVE_DWL_MAX_PHASES */
    const int32_t PP = (PW + phases - 1) / phases, RP = phases * PP;
    const int32_t cs = c_lo + pad_c, ce = c_hi + pad_c; /* the plane columns of the input */
    int8_t *const plane = scratch;
    tf_mve_dwp_t d;
    tf_mve_dwl_t dl;
    int32_t g_n[TF_MVE_DWL_MAX_PHASES], g_dst[TF_MVE_DWL_MAX_PHASES], g_src[TF_MVE_DWL_MAX_PHASES];
    int32_t b, ic, m, r, i, f;
    d.segs = kh * p->chunks;
    d.dil = dw > 1 && kw > 1;
    for (i = 0; i < d.segs && i < TF_MVE_DWP_MAX_SEGS; ++i) {
        d.seg_off[i] = (i / p->chunks) * dh * PW + (i % p->chunks) * 16 * dw;
    }
    {
        uint8_t lane[16];
        for (i = 0; i < 16; ++i) {
            lane[i] = (uint8_t)(i < kw ? i * dw : 0);
        }
        d.doff = vld1q_u8(lane);
    }
    d.ooff = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)out_step_c);
    d.o = tf_mve_out(p->output_offset, p->act_min, p->act_max);
    for (i = 0; i < TF_MVE_DWL_MAX_TAPS; ++i) {
        const int32_t col = (i % kw) * dw;
        dl.off[i] = i < kh * kw ? (i / kw) * dh * RP + (col % phases) * PP + col / phases : 0;
    }
    dl.ooff = d.ooff;
    dl.o = d.o;
    dl.rows = oh;
    dl.cols = ow;
    dl.row_step = sh * RP;
    dl.out_step_r = out_step_r;
    dl.out_step4 = 4 * out_step_c;
    /* phase f: the input's plane columns c = f (mod phases), from the first at or after cs */
    for (f = 0; f < phases && f < TF_MVE_DWL_MAX_PHASES; ++f) {
        const int32_t c0 = cs + ((f - cs % phases) + phases) % phases;
        g_n[f] = c0 < ce ? (ce - c0 + phases - 1) / phases : 0;
        g_dst[f] = pad_r * RP + f * PP + c0 / phases;
        g_src[f] = (c0 - pad_c) * in_step_c;
    }
    tf_mve_fill(plane, vdupq_n_s8((int8_t)p->input_zp), PH * RP + 16 * dw + 16);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * C;
        int8_t *out_b = output + b * p->out_h * p->out_w * OC;
        for (ic = 0; ic < C; ++ic) {
            for (r = r_lo; r < r_hi; ++r) {
                for (f = 0; f < phases; ++f) {
                    if (g_n[f] > 0) {
                        tf_mve_dwp_gather(plane + r * RP + g_dst[f], in_b + ic + r * in_step_r + g_src[f], g_n[f],
                                          phases * in_step_c);
                    }
                }
            }
            for (m = 0; m < dm; ++m) {
                const int32_t oc = ic * dm + m;
                const int32_t *q = p->qparams + 4 * oc;
                int8_t *out = out_b + oc;
                const int8_t *x = plane;
                if (lanes) {
                    tf_mve_dwl_channel(&dl, p, oc);
                    tf_mve_dwl(&dl, p->lanes, plane, out);
                    continue;
                }
#if TF_MVE_DW_VARIANTS & 0x40
                d.w = p->weights + 16 * d.segs * oc;
                d.bias = q[0];
                d.mult = vdupq_n_s32(q[1]);
                d.lsh = vdupq_n_s32(q[2]);
                d.rsh = vdupq_n_s32(q[3]);
                for (r = 0; r < oh; ++r) {
                    if (d.segs == 1) {
                        tf_mve_dwp_row1(&d, x, ow, sw, out, out_step_c, q[2] != 0);
                    } else {
                        tf_mve_dwp_rowk(&d, x, ow, sw, out, out_step_c);
                    }
                    x += sh * PW;
                    out += out_step_r;
                }
#else
                (void)q, (void)x, (void)out;
#endif
            }
        }
    }
}

void tf_mve_dw_plane_s8(const tf_mve_dw_plane_s8_params_t *p, const int8_t *input, int8_t *output, int8_t *scratch)
{
    (void)p, (void)input, (void)output, (void)scratch; /* with neither path compiled in */
#if TF_MVE_DWL_RIGHT_BITS || TF_MVE_DWL_LEFT_BITS
    if (p->lanes) {
        tf_mve_dw_plane(p, input, output, scratch, 1);
        return;
    }
#endif
#if TF_MVE_DW_VARIANTS & 0x40
    tf_mve_dw_plane(p, input, output, scratch, 0);
#endif
}
