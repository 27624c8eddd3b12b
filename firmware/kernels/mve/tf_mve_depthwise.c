/* DEPTHWISE_CONV_2D with Helium: see tf_mve_depthwise.h. */
#include "tf_mve_depthwise.h"

#include "tf_mve_common.h"

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

/* One group of 8 channels of a 3x3 filter (t0..t8: tap pointers, w, q, out: this group's). */
#define TF_MVE_DW3X3_GROUP(partial, lanes)                                                                        \
    do {                                                                                                          \
        int32x4_t acc_e = vldrwq_s32(q);                                                                          \
        int32x4_t acc_o = vldrwq_s32(q + 4);                                                                      \
        int16x8_t s;                                                                                              \
        s = vaddq_s16(vmulq_s16(tf_mve_dw_load(t0, partial, lanes), vldrbq_s16(w)),                               \
                      vmulq_s16(tf_mve_dw_load(t1, partial, lanes), vldrbq_s16(w + 8)));                          \
        TF_MVE_DW_WIDEN(s);                                                                                       \
        s = vaddq_s16(vmulq_s16(tf_mve_dw_load(t2, partial, lanes), vldrbq_s16(w + 16)),                          \
                      vmulq_s16(tf_mve_dw_load(t3, partial, lanes), vldrbq_s16(w + 24)));                         \
        TF_MVE_DW_WIDEN(s);                                                                                       \
        s = vaddq_s16(vmulq_s16(tf_mve_dw_load(t4, partial, lanes), vldrbq_s16(w + 32)),                          \
                      vmulq_s16(tf_mve_dw_load(t5, partial, lanes), vldrbq_s16(w + 40)));                         \
        TF_MVE_DW_WIDEN(s);                                                                                       \
        s = vaddq_s16(vmulq_s16(tf_mve_dw_load(t6, partial, lanes), vldrbq_s16(w + 48)),                          \
                      vmulq_s16(tf_mve_dw_load(t7, partial, lanes), vldrbq_s16(w + 56)));                         \
        TF_MVE_DW_WIDEN(s);                                                                                       \
        s = vmulq_s16(tf_mve_dw_load(t8, partial, lanes), vldrbq_s16(w + 64));                                    \
        TF_MVE_DW_WIDEN(s);                                                                                       \
        s = tf_mve_dw_out(acc_e, acc_o, q, o, left_shifts);                                                       \
        if (partial) {                                                                                            \
            vstrbq_p_s16(out, s, lanes);                                                                          \
        } else {                                                                                                  \
            vstrbq_s16(out, s);                                                                                   \
        }                                                                                                         \
    } while (0)

#define TF_MIN_8(n) ((n) < 8 ? (n) : 8)

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

/* Two taps of 8 channels: s = xa*wa + xb*wb in int16, then acc_e/acc_o (q0/q1) += widened s. */
#define TF_MVE_DW_PAIR(ta, tb)                                                                                    \
    "vldrb.s16 q2, [%[" ta "]], #8\n\t"                                                                           \
    "vldrb.s16 q3, [%[w]], #8\n\t"                                                                                \
    "vmul.i16 q2, q2, q3\n\t"                                                                                     \
    "vldrb.s16 q3, [%[" tb "]], #8\n\t"                                                                           \
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

/* One group of 8 channels of a 3x3 filter, all in registers: bias, nine taps, requantization
 * (VQRDMULH and the rounding shift; with left_shifts a VSHL first), clamp, narrow, store. The
 * tap pointers, w, q and out advance to the next group. */
#define TF_MVE_DW3X3_ASM(left)                                                                                    \
    __asm__ volatile("vldrw.u32 q0, [%[q]]\n\t"                                                                   \
                     "vldrw.u32 q1, [%[q], #16]\n\t" TF_MVE_DW_PAIR("t0", "t1") TF_MVE_DW_PAIR("t2", "t3")          \
                         TF_MVE_DW_PAIR("t4", "t5") TF_MVE_DW_PAIR("t6", "t7")                                    \
                     "vldrb.s16 q2, [%[t8]], #8\n\t"                                                              \
                     "vldrb.s16 q3, [%[w]], #8\n\t"                                                               \
                     "vmul.i16 q2, q2, q3\n\t"                                                                    \
                     "vmovlb.s16 q3, q2\n\t"                                                                      \
                     "vadd.i32 q0, q0, q3\n\t"                                                                    \
                     "vmovlt.s16 q3, q2\n\t"                                                                      \
                     "vadd.i32 q1, q1, q3\n\t" left                                                               \
                     "vldrw.u32 q2, [%[q], #32]\n\t"                                                              \
                     "vqrdmulh.s32 q0, q0, q2\n\t"                                                                \
                     "vldrw.u32 q2, [%[q], #48]\n\t"                                                              \
                     "vqrdmulh.s32 q1, q1, q2\n\t" TF_MVE_DW_RDIV("0", "96") TF_MVE_DW_RDIV("1", "112")            \
                     "vadd.i32 q0, q0, %[zp]\n\t"                                                                 \
                     "vadd.i32 q1, q1, %[zp]\n\t"                                                                 \
                     "vmax.s32 q0, q0, %q[lo]\n\t"                                                                \
                     "vmax.s32 q1, q1, %q[lo]\n\t"                                                                \
                     "vmin.s32 q0, q0, %q[hi]\n\t"                                                                \
                     "vmin.s32 q1, q1, %q[hi]\n\t"                                                                \
                     "vmovnb.i32 q2, q0\n\t"                                                                      \
                     "vmovnt.i32 q2, q1\n\t"                                                                      \
                     "vstrb.16 q2, [%[out]], #8\n\t"                                                              \
                     "adds %[q], #128"                                                                            \
                     : [t0] "+r"(t0), [t1] "+r"(t1), [t2] "+r"(t2), [t3] "+r"(t3), [t4] "+r"(t4), [t5] "+r"(t5),  \
                       [t6] "+r"(t6), [t7] "+r"(t7), [t8] "+r"(t8), [w] "+r"(w), [q] "+r"(q), [out] "+r"(out)     \
                     : [zp] "r"(o->zp), [lo] "w"(o->lo), [hi] "w"(o->hi)                                          \
                     : "q0", "q1", "q2", "q3", "q4", "cc", "memory")

#define TF_MVE_DW_LEFT                                                                                            \
    "vldrw.u32 q2, [%[q], #64]\n\t"                                                                               \
    "vshl.s32 q0, q0, q2\n\t"                                                                                     \
    "vldrw.u32 q2, [%[q], #80]\n\t"                                                                               \
    "vshl.s32 q1, q1, q2\n\t"

/* 3x3 filters: the nine tap pointers walk the channels 8 at a time. */
TF_MVE_INLINE void tf_mve_dw3x3_pixel(const int8_t *const *taps, int32_t channels, const int8_t *w, const int32_t *q,
                                      int8_t *out, const tf_mve_out_t *o, int left_shifts)
{
    const int8_t *t0 = taps[0], *t1 = taps[1], *t2 = taps[2], *t3 = taps[3], *t4 = taps[4];
    const int8_t *t5 = taps[5], *t6 = taps[6], *t7 = taps[7], *t8 = taps[8];
    int32_t n;
    for (n = channels >> 3; n > 0; --n) {
        if (left_shifts) {
            TF_MVE_DW3X3_ASM(TF_MVE_DW_LEFT);
        } else {
            TF_MVE_DW3X3_ASM("");
        }
    }
    if (channels & 7) {
        const int8_t *last[9];
        last[0] = t0, last[1] = t1, last[2] = t2, last[3] = t3, last[4] = t4;
        last[5] = t5, last[6] = t6, last[7] = t7, last[8] = t8;
        tf_mve_dw_group_partial(last, 9, channels & 7, w, q, out, o, left_shifts);
    }
}

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

TF_MVE_INLINE void tf_mve_dw(const tf_mve_depthwise_conv2d_s8_params_t *p, const int8_t *input, int8_t *output,
                             const int8_t *zp_row, int left_shifts)
{
    const int32_t channels = p->in_c;
    const int32_t n_taps = p->k_h * p->k_w;
    const int three = p->k_h == 3 && p->k_w == 3;
    const tf_mve_out_t o = tf_mve_out(p->output_offset, p->act_min, p->act_max);
    const int8_t *taps[TF_MVE_DW_MAX_TAPS];
    int32_t b, oy, ox, ky, kx;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * channels;
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < p->out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int32_t t = 0;
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = y0 + ky * p->dil_h;
                    const int row_ok = iy >= 0 && iy < p->in_h;
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = x0 + kx * p->dil_w;
                        taps[t++] = (row_ok && ix >= 0 && ix < p->in_w) ? in_b + (iy * p->in_w + ix) * channels
                                                                         : zp_row;
                    }
                }
                if (three) {
                    tf_mve_dw3x3_pixel(taps, channels, p->weights, p->qparams, output, &o, left_shifts);
                } else {
                    tf_mve_dw_any_pixel(taps, n_taps, channels, p->weights, p->qparams, output, &o, left_shifts);
                }
                output += channels;
            }
        }
    }
}

void tf_mve_depthwise_conv2d_s8(const tf_mve_depthwise_conv2d_s8_params_t *p, const int8_t *input, int8_t *output,
                                int8_t *scratch)
{
    tf_mve_fill(scratch, vdupq_n_s8((int8_t)p->input_zp), p->in_c);
    if (p->left_shifts) {
        tf_mve_dw(p, input, output, scratch, 1);
    } else {
        tf_mve_dw(p, input, output, scratch, 0);
    }
}
