/* Helium int8 matrix core: see tf_mve_gemm.h.
 *
 * The dot-product loops are inline assembly because VMLADAVA's accumulator must be an even
 * register and gcc 12 shuffles eight of them through other registers on every iteration. The
 * accumulators are local register variables pinned to the even registers (r0, r2, ..., r12, lr)
 * and used only as asm operands, which is what gcc guarantees for them. A row's dot product is
 * [full 16-byte chunks][a predicated tail chunk of k % 16 bytes]; the weights are zero padded. */
#include "tf_mve_gemm.h"

#include "tf_mve_common.h"

#define TF_MVE_PINNED_2X4                                                                                         \
    register int32_t a00 __asm__("r0");                                                                           \
    register int32_t a10 __asm__("r2");                                                                           \
    register int32_t a01 __asm__("r4");                                                                           \
    register int32_t a11 __asm__("r6");                                                                           \
    register int32_t a02 __asm__("r8");                                                                           \
    register int32_t a12 __asm__("r10");                                                                          \
    register int32_t a03 __asm__("r12");                                                                          \
    register int32_t a13 __asm__("lr")

#define TF_MVE_OUT_2X4(m)                                                                                         \
    [b00] m(a00), [b01] m(a01), [b02] m(a02), [b03] m(a03), [b10] m(a10), [b11] m(a11), [b12] m(a12),             \
        [b13] m(a13)

/* The 8 multiply-accumulates of one chunk: x rows in q0/q1, filters loaded one by one into q2. */
#define TF_MVE_MACS_2X4(op)                                                                                       \
    "vldrb.u8 q2, [%[wp]], #16\n\t" op " %[b00], q0, q2\n\t" op " %[b10], q1, q2\n\t"                            \
    "vldrb.u8 q2, [%[wp]], #16\n\t" op " %[b01], q0, q2\n\t" op " %[b11], q1, q2\n\t"                            \
    "vldrb.u8 q2, [%[wp]], #16\n\t" op " %[b02], q0, q2\n\t" op " %[b12], q1, q2\n\t"                            \
    "vldrb.u8 q2, [%[wp]], #16\n\t" op " %[b03], q0, q2\n\t" op " %[b13], q1, q2\n\t"

#define TF_MVE_LOAD_2 "vldrb.u8 q0, [%[x0]], #16\n\tvldrb.u8 q1, [%[x1]], #16\n\t"
#define TF_MVE_LOAD_2_TAIL "vctp.8 %[t]\n\tvpstt\n\tvldrbt.u8 q0, [%[x0]]\n\tvldrbt.u8 q1, [%[x1]]\n\t"

#define TF_MVE_PINNED_1X4                                                                                         \
    register int32_t a0 __asm__("r0");                                                                            \
    register int32_t a1 __asm__("r2");                                                                            \
    register int32_t a2 __asm__("r4");                                                                            \
    register int32_t a3 __asm__("r6")

#define TF_MVE_OUT_1X4(m) [b0] m(a0), [b1] m(a1), [b2] m(a2), [b3] m(a3)

#define TF_MVE_MACS_1X4(op)                                                                                       \
    "vldrb.u8 q1, [%[wp]], #16\n\t" op " %[b0], q0, q1\n\t"                                                       \
    "vldrb.u8 q1, [%[wp]], #16\n\t" op " %[b1], q0, q1\n\t"                                                       \
    "vldrb.u8 q1, [%[wp]], #16\n\t" op " %[b2], q0, q1\n\t"                                                       \
    "vldrb.u8 q1, [%[wp]], #16\n\t" op " %[b3], q0, q1\n\t"

/* Which pieces a layer's dot products have (constant per layer, so every variant is inlined). */
enum { TF_MVE_FULL = 1, TF_MVE_LOOP = 2, TF_MVE_TAIL = 4 };

/* Four filters for two rows: returns the accumulators (without bias) as r0 = row 0, r1 = row 1. */
TF_MVE_INLINE void tf_mve_dot2x4(const int8_t *p0, const int8_t *p1, const int8_t **wp, int32_t loops, int32_t tail,
                                 int shape, int32x4_t *r0, int32x4_t *r1)
{
    const int8_t *w = *wp;
    TF_MVE_PINNED_2X4;
    if (shape & TF_MVE_FULL) {
        __asm__ volatile(TF_MVE_LOAD_2 TF_MVE_MACS_2X4("vmlav.s8")
                         : TF_MVE_OUT_2X4("=&r"), [x0] "+r"(p0), [x1] "+r"(p1), [wp] "+r"(w)
                         :
                         : "q0", "q1", "q2", "memory");
        if (shape & TF_MVE_LOOP) {
            int32_t n = loops;
            __asm__ volatile("1:\n\t" TF_MVE_LOAD_2 TF_MVE_MACS_2X4("vmlava.s8") "subs %[cnt], #1\n\tbne 1b"
                             : TF_MVE_OUT_2X4("+r"), [x0] "+r"(p0), [x1] "+r"(p1), [wp] "+r"(w), [cnt] "+r"(n)
                             :
                             : "q0", "q1", "q2", "cc", "memory");
        }
        if (shape & TF_MVE_TAIL) {
            __asm__ volatile(TF_MVE_LOAD_2_TAIL TF_MVE_MACS_2X4("vmlava.s8")
                             : TF_MVE_OUT_2X4("+r"), [wp] "+r"(w)
                             : [x0] "r"(p0), [x1] "r"(p1), [t] "r"(tail)
                             : "q0", "q1", "q2", "p0", "memory");
        }
    } else {
        __asm__ volatile(TF_MVE_LOAD_2_TAIL TF_MVE_MACS_2X4("vmlav.s8")
                         : TF_MVE_OUT_2X4("=&r"), [wp] "+r"(w)
                         : [x0] "r"(p0), [x1] "r"(p1), [t] "r"(tail)
                         : "q0", "q1", "q2", "p0", "memory");
    }
    *wp = w;
    *r0 = tf_mve_vec4(a00, a01, a02, a03);
    *r1 = tf_mve_vec4(a10, a11, a12, a13);
}

/* Four filters for one row (a low-overhead loop: LR counts the chunks). */
TF_MVE_INLINE int32x4_t tf_mve_dot1x4(const int8_t *p0, const int8_t **wp, int32_t loops, int32_t tail, int shape)
{
    const int8_t *w = *wp;
    TF_MVE_PINNED_1X4;
    if (shape & TF_MVE_FULL) {
        __asm__ volatile("vldrb.u8 q0, [%[x0]], #16\n\t" TF_MVE_MACS_1X4("vmlav.s8")
                         : TF_MVE_OUT_1X4("=&r"), [x0] "+r"(p0), [wp] "+r"(w)
                         :
                         : "q0", "q1", "memory");
        if (shape & TF_MVE_LOOP) {
            __asm__ volatile("dls lr, %[cnt]\n"
                             "1:\n\t"
                             "vldrb.u8 q0, [%[x0]], #16\n\t" TF_MVE_MACS_1X4("vmlava.s8") "le lr, 1b"
                             : TF_MVE_OUT_1X4("+r"), [x0] "+r"(p0), [wp] "+r"(w)
                             : [cnt] "r"(loops)
                             : "q0", "q1", "lr", "memory");
        }
        if (shape & TF_MVE_TAIL) {
            __asm__ volatile("vctp.8 %[t]\n\tvpst\n\tvldrbt.u8 q0, [%[x0]]\n\t" TF_MVE_MACS_1X4("vmlava.s8")
                             : TF_MVE_OUT_1X4("+r"), [wp] "+r"(w)
                             : [x0] "r"(p0), [t] "r"(tail)
                             : "q0", "q1", "p0", "memory");
        }
    } else {
        __asm__ volatile("vctp.8 %[t]\n\tvpst\n\tvldrbt.u8 q0, [%[x0]]\n\t" TF_MVE_MACS_1X4("vmlav.s8")
                         : TF_MVE_OUT_1X4("=&r"), [wp] "+r"(w)
                         : [x0] "r"(p0), [t] "r"(tail)
                         : "q0", "q1", "p0", "memory");
    }
    *wp = w;
    return tf_mve_vec4(a0, a1, a2, a3);
}

TF_MVE_INLINE int tf_mve_shape(int32_t k)
{
    return ((k >= 16) ? TF_MVE_FULL : 0) | ((k >= 32) ? TF_MVE_LOOP : 0) | ((k & 15) ? TF_MVE_TAIL : 0);
}

/* The layer's constants for the row loops, in locals. */
typedef struct {
    int32_t loops; /* full chunks after the first */
    int32_t tail; /* bytes of the last, partial chunk */
    int32_t out_c, whole; /* filters; filters in whole blocks of 4 */
    tf_mve_out_t o;
} tf_mve_rows_t;

TF_MVE_INLINE void tf_mve_rows2(const tf_mve_rows_t *r, const int8_t *w, const int32_t *q, const int8_t *x0,
                                const int8_t *x1, int8_t *y0, int8_t *y1, int shape, int left_shifts)
{
    int32x4_t r0, r1;
    int32_t c;
    for (c = 0; c < r->whole; c += 4) {
        tf_mve_q4_t k4;
        tf_mve_dot2x4(x0, x1, &w, r->loops, r->tail, shape, &r0, &r1);
        k4 = tf_mve_q4(q, left_shifts);
        vstrbq_s32(y0 + c, tf_mve_requantize4(r0, &k4, &r->o, left_shifts));
        vstrbq_s32(y1 + c, tf_mve_requantize4(r1, &k4, &r->o, left_shifts));
        q += 16;
    }
    if (r->whole < r->out_c) {
        const mve_pred16_t sp = vctp32q((uint32_t)(r->out_c - r->whole));
        tf_mve_q4_t k4;
        tf_mve_dot2x4(x0, x1, &w, r->loops, r->tail, shape, &r0, &r1);
        k4 = tf_mve_q4(q, left_shifts);
        vstrbq_p_s32(y0 + c, tf_mve_requantize4(r0, &k4, &r->o, left_shifts), sp);
        vstrbq_p_s32(y1 + c, tf_mve_requantize4(r1, &k4, &r->o, left_shifts), sp);
    }
}

TF_MVE_INLINE void tf_mve_row(const tf_mve_rows_t *r, const int8_t *w, const int32_t *q, const int8_t *x0, int8_t *y0,
                              int shape, int left_shifts)
{
    int32_t c;
    for (c = 0; c < r->whole; c += 4) {
        const int32x4_t acc = tf_mve_dot1x4(x0, &w, r->loops, r->tail, shape);
        const tf_mve_q4_t k4 = tf_mve_q4(q, left_shifts);
        vstrbq_s32(y0 + c, tf_mve_requantize4(acc, &k4, &r->o, left_shifts));
        q += 16;
    }
    if (r->whole < r->out_c) {
        const int32x4_t acc = tf_mve_dot1x4(x0, &w, r->loops, r->tail, shape);
        const tf_mve_q4_t k4 = tf_mve_q4(q, left_shifts);
        vstrbq_p_s32(y0 + c, tf_mve_requantize4(acc, &k4, &r->o, left_shifts),
                     vctp32q((uint32_t)(r->out_c - r->whole)));
    }
}

/* `rows` rows, x_stride bytes apart; outputs consecutive. */
TF_MVE_INLINE void tf_mve_rows(const tf_mve_gemm_t *g, const int8_t *x, int32_t x_stride, int32_t rows, int8_t *y,
                               int shape, int left_shifts)
{
    const int8_t *w = g->weights;
    const int32_t *q = g->qparams;
    tf_mve_rows_t r;
    int32_t n;
    r.loops = (g->k >> 4) - 1;
    r.tail = g->k & 15;
    r.out_c = g->out_c;
    r.whole = g->out_c & ~3;
    r.o = tf_mve_out(g->output_offset, g->act_min, g->act_max);
    for (n = rows; n >= 2; n -= 2) {
        tf_mve_rows2(&r, w, q, x, x + x_stride, y, y + r.out_c, shape, left_shifts);
        x += 2 * x_stride;
        y += 2 * r.out_c;
    }
    if (n) {
        tf_mve_row(&r, w, q, x, y, shape, left_shifts);
    }
}

/* One instance per (shape, left shifts) pair: the layer's k decides the shape once per call.
 * TF_MVE_GEMM_VARIANTS has bit (shape | 8 * left_shifts) set for each pair a model's layers use:
 * tinyforge passes it per model (tinyforge/kernels/ops/mve/pack.py gemm_variant), so a firmware
 * links only those instances (about 1.1 KB each); without it every pair is compiled. */
#ifndef TF_MVE_GEMM_VARIANTS
#define TF_MVE_GEMM_VARIANTS 0xFFFF
#endif
#define TF_MVE_CASE(call, shape, ls)                                                                               \
    case (shape) | ((ls) ? 8 : 0):                                                                                 \
        if ((TF_MVE_GEMM_VARIANTS >> ((shape) | ((ls) ? 8 : 0))) & 1) {                                            \
            call(shape, ls);                                                                                       \
        }                                                                                                          \
        break;
#define TF_MVE_DISPATCH_LS(call, ls)                                                                              \
    TF_MVE_CASE(call, TF_MVE_FULL, ls)                                                                             \
    TF_MVE_CASE(call, TF_MVE_FULL | TF_MVE_LOOP, ls)                                                               \
    TF_MVE_CASE(call, TF_MVE_FULL | TF_MVE_TAIL, ls)                                                               \
    TF_MVE_CASE(call, TF_MVE_FULL | TF_MVE_LOOP | TF_MVE_TAIL, ls)                                                 \
    TF_MVE_CASE(call, TF_MVE_TAIL, ls)
#define TF_MVE_DISPATCH(call)                                                                                     \
    switch (tf_mve_shape(g->k) | (g->left_shifts ? 8 : 0)) {                                                      \
        TF_MVE_DISPATCH_LS(call, 0)                                                                                \
        TF_MVE_DISPATCH_LS(call, 1)                                                                                \
    default: break; /* k == 0: the packers never ask for it */                                                    \
    }

void tf_mve_gemm_s8(const tf_mve_gemm_t *g, const int8_t *x, int32_t x_stride, int32_t rows, int8_t *y)
{
#define TF_MVE_ROWS(shape, ls) tf_mve_rows(g, x, x_stride, rows, y, shape, ls)
    TF_MVE_DISPATCH(TF_MVE_ROWS)
#undef TF_MVE_ROWS
}
