/* DEPTHWISE_CONV_2D int8 with the DSP extension: see tf_dsp_depthwise.h. */
#include "tf_dsp_depthwise.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"

/* TF_DSP_DW_VARIANTS (set by the packer, tinyforge/kernels/ops/dsp/conv.py plane_bits): the plane
 * path's 3x3 runs compiled in on the M4, bits 0-3 the row-of-3 runs (tf_dw3t_*), 4 the 3x3 assembly
 * with the rounding correction (tf_dw3_s*_round), 5 the clamped 3x3 loops (tf_dw_3x3_s*_2), 6-7 the
 * stride-2 runs of three outputs at a time along rows of 3k (tf_dw3l_*, without / with the rounding
 * correction); a 3x3 layer whose run is left out takes the general runs (kind 3: slower, same
 * results), one whose row run is left out the pair runs. */
#ifndef TF_DSP_DW_VARIANTS
#define TF_DSP_DW_VARIANTS 0xFF
#endif
#if TF_DSP_NATIVE
#define TF_DW_KIND12(mode)                                                                                        \
    ((mode) == 0 || ((mode) == 1 && (TF_DSP_DW_VARIANTS & 0x10)) || ((mode) == 2 && (TF_DSP_DW_VARIANTS & 0x20)))
#else
#define TF_DW_KIND12(mode) 1
#endif

/* One output channel's work, in plane coordinates. */
typedef struct {
    int32_t kh, np;          /* kernel rows, int16 pairs of taps per row */
    int32_t dh;              /* row dilation (plane rows) */
    int32_t pw;              /* plane width (cells) */
    int32_t start, mult, kq, rshift;
    int32_t act_min, act_max;
} tf_dw_t;

/* Requantized output; `mode` is a constant where this is inlined: 0 fast (tf_dsp_requant_fast),
 * 1 full int8 range with the rounding correction, 2 any activation range. */
TF_INLINE int32_t tf_dw_q(int32_t a, int32_t m, int32_t kq, int32_t rs, int mode, int32_t lo, int32_t hi)
{
    if (mode == 0) {
        return tf_dsp_requant_fast(a, m, kq, rs);
    }
    if (mode == 1) {
        return tf_ssat8(tf_dsp_requant(a, m, kq, rs));
    }
    /* SSAT, then the byte clamp of the direct path (SSUB8 / SEL on lane 0; lo / hi hold the bounds
     * in their low byte): fewer instructions and registers than two compares */
    return (int8_t)(uint8_t)tf_dsp_clamp4((uint32_t)tf_ssat8(tf_dsp_requant(a, m, kq, rs)), (uint32_t)lo, (uint32_t)hi);
}

/* The loops below take the channel's constants into locals first: int8 stores could alias a
 * struct, and the compiler would reload it after each of them. */
#define TF_DW_LOCALS(d)                                                                                           \
    const int32_t start = (d)->start, mult = (d)->mult, kq = (d)->kq, rs = (d)->rshift;                           \
    const int32_t lo = (d)->act_min, hi = (d)->act_max
#define TF_DW_Q(a) ((int8_t)tf_dw_q((a), mult, kq, rs, mode, lo, hi))

/* One plane row of taps (k x 1 time filters, 1 x k), np <= 4 pairs, the weights in registers:
 * output i reads np pairs from x + i * cs and is stored at out + i * os. `np` and `mode` are
 * constants where this is inlined. */
TF_INLINE void tf_dw_row1_body(const tf_dw_t *d, const int16_t *x, int32_t cs, int32_t n, const int32_t *w,
                               int8_t *out, int32_t os, int np, int mode)
{
    TF_DW_LOCALS(d);
    const int32_t w0 = w[0], w1 = np > 1 ? w[1] : 0, w2 = np > 2 ? w[2] : 0, w3 = np > 3 ? w[3] : 0;
    do {
        int32_t a = tf_smlad(tf_ld32(x), w0, start);
        if (np > 1) {
            a = tf_smlad(tf_ld32(x + 2), w1, a);
        }
        if (np > 2) {
            a = tf_smlad(tf_ld32(x + 4), w2, a);
        }
        if (np > 3) {
            a = tf_smlad(tf_ld32(x + 6), w3, a);
        }
        *out = TF_DW_Q(a);
        out += os;
        x += cs;
    } while (--n);
}

/* One plane row of 3 taps, stride 1 (3x1 / 1x3 filters): two outputs from the words A = (x0, x1),
 * B = (x2, x3) with P = (w0, w1), Q = (w1, w2) as in tf_dw_3x3_s1_body. */
TF_INLINE void tf_dw_row1_k3s1_body(const tf_dw_t *d, const int16_t *x, int32_t n, const int32_t *w, int8_t *out,
                                    int32_t os, int mode)
{
    TF_DW_LOCALS(d);
    const int32_t p0 = w[0], q0 = (int32_t)(((uint32_t)w[0] >> 16) | ((uint32_t)w[1] << 16));
    int32_t i;
    for (i = n >> 1; i > 0; --i) {
        const int32_t A = tf_ld32(x), B = tf_ld32(x + 2);
        const int32_t a0 = tf_smlabt(B, q0, tf_smlad(A, p0, start));
        const int32_t a1 = tf_smlad(B, q0, tf_smlatb(A, p0, start));
        out[0] = TF_DW_Q(a0);
        out[os] = TF_DW_Q(a1);
        out += 2 * os;
        x += 2;
    }
    if (n & 1) {
        *out = TF_DW_Q(tf_smlabt(tf_ld32(x + 2), q0, tf_smlad(tf_ld32(x), p0, start)));
    }
}

/* one pair of taps for two outputs: the weight pair and both outputs' input pairs loaded
 * (post-incremented), one SMLAD each (operands named wa, xa, xb, w, x0, x1, a0, a1) */
#define TF_DW_PAIR2_STEP                                                                                          \
    "ldr %[wa], [%[w]], #4\n\t"                                                                                   \
    "ldr %[xa], [%[x0]], #4\n\t"                                                                                  \
    "ldr %[xb], [%[x1]], #4\n\t"                                                                                  \
    "smlad %[a0], %[xa], %[wa], %[a0]\n\t"                                                                        \
    "smlad %[a1], %[xb], %[wa], %[a1]\n\t"

/* a0 += taps of x0 . w, a1 += taps of x1 . w over np pairs (two outputs share the weight loads) */
TF_INLINE void tf_dw_pairs2(const int16_t *x0, const int16_t *x1, const int32_t *w, int32_t np, int32_t *acc0,
                            int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1;
#if TF_DSP_NATIVE
    int32_t wa, xa, xb;
    if (np & 1) {
        __asm__(TF_DW_PAIR2_STEP
                : [a0] "+r"(a0), [a1] "+r"(a1), [x0] "+r"(x0), [x1] "+r"(x1), [w] "+r"(w), [wa] "=&r"(wa),
                  [xa] "=&r"(xa), [xb] "=&r"(xb)
                :
                : "memory");
    }
    np >>= 1;
    if (np > 0) {
        __asm__("1:\n\t"
                TF_DW_PAIR2_STEP
                TF_DW_PAIR2_STEP
                "subs %[n], %[n], #1\n\t"
                "bne 1b\n\t"
                : [a0] "+r"(a0), [a1] "+r"(a1), [x0] "+r"(x0), [x1] "+r"(x1), [w] "+r"(w), [n] "+r"(np),
                  [wa] "=&r"(wa), [xa] "=&r"(xa), [xb] "=&r"(xb)
                :
                : "cc", "memory");
    }
#else
    int32_t j;
    for (j = 0; j < np; ++j) {
        a0 = tf_smlad(tf_ld32(x0 + 2 * j), w[j], a0);
        a1 = tf_smlad(tf_ld32(x1 + 2 * j), w[j], a1);
    }
#endif
    *acc0 = a0;
    *acc1 = a1;
}

/* a0 += x0 . w, a1 += x1 . w over kh kernel rows of np pairs each, the rows `rstep` cells apart and
 * the weights consecutive (tf_dw_pairs2 per row, in one loop: LSRS puts np's odd bit in the carry
 * and its pair count in Z, so a row costs 10 instructions per two pairs and ~9 more) */
TF_INLINE void tf_dw_rows2(const int16_t *x0, const int16_t *x1, const int32_t *w, int32_t np, int32_t kh,
                           int32_t rstep, int32_t *acc0, int32_t *acc1)
{
#if TF_DSP_NATIVE && defined(__OPTIMIZE__) /* 12 registers: not at -O0 (the frame pointer) */
    int32_t a0 = *acc0, a1 = *acc1, n, wa, xa, xb;
    const int32_t rskip = 2 * rstep - 4 * np; /* bytes from a row's last pair to the next row */
    __asm__("1:\n\t"
            "lsrs %[n], %[np], #1\n\t"
            "bcc 2f\n\t"
            TF_DW_PAIR2_STEP
            "2:\n\t"
            "beq 4f\n\t"
            "3:\n\t"
            TF_DW_PAIR2_STEP
            TF_DW_PAIR2_STEP
            "subs %[n], %[n], #1\n\t"
            "bne 3b\n\t"
            "4:\n\t"
            "add %[x0], %[x0], %[rskip]\n\t"
            "add %[x1], %[x1], %[rskip]\n\t"
            "subs %[kh], %[kh], #1\n\t"
            "bne 1b\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [x0] "+r"(x0), [x1] "+r"(x1), [w] "+r"(w), [kh] "+r"(kh),
              [n] "=&r"(n), [wa] "=&r"(wa), [xa] "=&r"(xa), [xb] "=&r"(xb)
            : [np] "r"(np), [rskip] "r"(rskip)
            : "cc", "memory");
    *acc0 = a0;
    *acc1 = a1;
#else
    int32_t ky;
    for (ky = kh; ky > 0; --ky) {
        tf_dw_pairs2(x0, x1, w, np, acc0, acc1);
        w += np;
        x0 += rstep;
        x1 += rstep;
    }
#endif
}

/* Rows of runs: for each of `rows` output rows (plane rows `row_step` cells apart, outputs `out_row`
 * bytes apart), n outputs, output i reading the plane from column i * cs of kh rows (dh apart), np
 * pairs of taps each, stored at out + i * os. Two outputs at a time share the weight loads. */
TF_INLINE void tf_dw_runs_body(const tf_dw_t *d, const int16_t *x, int32_t rows, int32_t row_step, int32_t cs,
                               int32_t n, const int32_t *w, int8_t *out, int32_t out_row, int32_t os, int mode)
{
    TF_DW_LOCALS(d);
    const int32_t kh = d->kh, np = d->np, rstep = d->dh * d->pw;
    do {
        const int16_t *xr = x;
        int8_t *o = out;
        int32_t i;
        for (i = n >> 1; i > 0; --i) {
            int32_t a0 = start, a1 = start;
            tf_dw_rows2(xr, xr + cs, w, np, kh, rstep, &a0, &a1);
            o[0] = TF_DW_Q(a0);
            o[os] = TF_DW_Q(a1);
            o += 2 * os;
            xr += 2 * cs;
        }
        if (n & 1) {
            int32_t a0 = start, a1 = 0;
            tf_dw_rows2(xr, xr, w, np, kh, rstep, &a0, &a1);
            *o = TF_DW_Q(a0);
        }
        x += row_step;
        out += out_row;
    } while (--rows);
}

/* 3x3, stride 1, from the aligned words A = (x0, x1), B = (x2, x3) of each of the three rows: with
 * P = (w0, w1), Q = (w1, w2) per kernel row, out0 += A.P + B.lo * Q.hi and out1 += A.hi * P.lo + B.Q.
 * The plane (pw even) is 4-byte aligned. */
TF_INLINE void tf_dw_3x3_s1_body(const tf_dw_t *d, const int16_t *x, int32_t rows, int32_t n, const int32_t *pq,
                                 int8_t *out, int32_t out_row, int32_t os, int mode)
{
    TF_DW_LOCALS(d);
    const int32_t pw = d->pw;
    const int32_t p0 = pq[0], q0 = pq[1], p1 = pq[2], q1 = pq[3], p2 = pq[4], q2 = pq[5];
    do {
        const int16_t *r0 = x;
        int8_t *o = out;
        int32_t i;
        for (i = n >> 1; i > 0; --i) {
            const int16_t *r1 = r0 + pw, *r2 = r1 + pw;
            int32_t a0, a1, A, B;
            A = tf_ld32(r0);
            B = tf_ld32(r0 + 2);
            a0 = tf_smlad(A, p0, start);
            a1 = tf_smlatb(A, p0, start);
            a0 = tf_smlabt(B, q0, a0);
            a1 = tf_smlad(B, q0, a1);
            A = tf_ld32(r1);
            B = tf_ld32(r1 + 2);
            a0 = tf_smlad(A, p1, a0);
            a1 = tf_smlatb(A, p1, a1);
            a0 = tf_smlabt(B, q1, a0);
            a1 = tf_smlad(B, q1, a1);
            A = tf_ld32(r2);
            B = tf_ld32(r2 + 2);
            a0 = tf_smlad(A, p2, a0);
            a1 = tf_smlatb(A, p2, a1);
            a0 = tf_smlabt(B, q2, a0);
            a1 = tf_smlad(B, q2, a1);
            o[0] = TF_DW_Q(a0);
            o[os] = TF_DW_Q(a1);
            o += 2 * os;
            r0 += 2;
        }
        if (n & 1) {
            const int16_t *r1 = r0 + pw, *r2 = r1 + pw;
            int32_t a0 = start;
            a0 = tf_smlad(tf_ld32(r0), p0, a0);
            a0 = tf_smlabt(tf_ld32(r0 + 2), q0, a0);
            a0 = tf_smlad(tf_ld32(r1), p1, a0);
            a0 = tf_smlabt(tf_ld32(r1 + 2), q1, a0);
            a0 = tf_smlad(tf_ld32(r2), p2, a0);
            a0 = tf_smlabt(tf_ld32(r2 + 2), q2, a0);
            *o = TF_DW_Q(a0);
        }
        x += pw;
        out += out_row;
    } while (--rows);
}

/* 3x3, stride 2, from the words A = (x0, x1), B = (x2, x3), C = (x4, x5) of each row: out0 += A.P +
 * B.lo * w2, out1 += B.P + C.lo * w2 with P = (w0, w1) and U = (w2, 0) the expanded pairs. */
TF_INLINE void tf_dw_3x3_s2_body(const tf_dw_t *d, const int16_t *x, int32_t rows, int32_t n, const int32_t *w,
                                 int8_t *out, int32_t out_row, int32_t os, int mode)
{
    TF_DW_LOCALS(d);
    const int32_t pw = d->pw;
    const int32_t p0 = w[0], u0 = w[1], p1 = w[2], u1 = w[3], p2 = w[4], u2 = w[5];
    do {
        const int16_t *r0 = x;
        int8_t *o = out;
        int32_t i;
        for (i = n >> 1; i > 0; --i) {
            const int16_t *r1 = r0 + pw, *r2 = r1 + pw;
            int32_t a0, a1, A, B, C;
            A = tf_ld32(r0);
            B = tf_ld32(r0 + 2);
            C = tf_ld32(r0 + 4);
            a0 = tf_smlad(A, p0, start);
            a1 = tf_smlad(B, p0, start);
            a0 = tf_smlabb(B, u0, a0);
            a1 = tf_smlabb(C, u0, a1);
            A = tf_ld32(r1);
            B = tf_ld32(r1 + 2);
            C = tf_ld32(r1 + 4);
            a0 = tf_smlad(A, p1, a0);
            a1 = tf_smlad(B, p1, a1);
            a0 = tf_smlabb(B, u1, a0);
            a1 = tf_smlabb(C, u1, a1);
            A = tf_ld32(r2);
            B = tf_ld32(r2 + 2);
            C = tf_ld32(r2 + 4);
            a0 = tf_smlad(A, p2, a0);
            a1 = tf_smlad(B, p2, a1);
            a0 = tf_smlabb(B, u2, a0);
            a1 = tf_smlabb(C, u2, a1);
            o[0] = TF_DW_Q(a0);
            o[os] = TF_DW_Q(a1);
            o += 2 * os;
            r0 += 4;
        }
        if (n & 1) {
            const int16_t *r1 = r0 + pw, *r2 = r1 + pw;
            int32_t a0 = start;
            a0 = tf_smlad(tf_ld32(r0), p0, a0);
            a0 = tf_smlabb(tf_ld32(r0 + 2), u0, a0);
            a0 = tf_smlad(tf_ld32(r1), p1, a0);
            a0 = tf_smlabb(tf_ld32(r1 + 2), u1, a0);
            a0 = tf_smlad(tf_ld32(r2), p2, a0);
            a0 = tf_smlabb(tf_ld32(r2 + 2), u2, a0);
            *o = TF_DW_Q(a0);
        }
        x += 2 * pw;
        out += out_row;
    } while (--rows);
}

/* one function per requantization mode, so that each loop has its constant */
#define TF_DW_RUNS_ARGS d, x, rows, row_step, cs, n, w, out, out_row, os
#define TF_DW_RUNS_PARAMS                                                                                         \
    const tf_dw_t *d, const int16_t *x, int32_t rows, int32_t row_step, int32_t cs, int32_t n, const int32_t *w,  \
        int8_t *out, int32_t out_row, int32_t os
#define TF_DW_3X3_ARGS d, x, rows, n, w, out, out_row, os
#define TF_DW_3X3_PARAMS                                                                                          \
    const tf_dw_t *d, const int16_t *x, int32_t rows, int32_t n, const int32_t *w, int8_t *out, int32_t out_row, \
        int32_t os
TF_NOINLINE void tf_dw_runs_0(TF_DW_RUNS_PARAMS) { tf_dw_runs_body(TF_DW_RUNS_ARGS, 0); }
TF_NOINLINE void tf_dw_runs_1(TF_DW_RUNS_PARAMS) { tf_dw_runs_body(TF_DW_RUNS_ARGS, 1); }
TF_NOINLINE void tf_dw_runs_2(TF_DW_RUNS_PARAMS) { tf_dw_runs_body(TF_DW_RUNS_ARGS, 2); }
TF_NOINLINE void tf_dw_3x3_s1_0(TF_DW_3X3_PARAMS) { tf_dw_3x3_s1_body(TF_DW_3X3_ARGS, 0); }
TF_NOINLINE void tf_dw_3x3_s1_1(TF_DW_3X3_PARAMS) { tf_dw_3x3_s1_body(TF_DW_3X3_ARGS, 1); }
#if !TF_DSP_NATIVE || (TF_DSP_DW_VARIANTS & 0x20)
TF_NOINLINE void tf_dw_3x3_s1_2(TF_DW_3X3_PARAMS) { tf_dw_3x3_s1_body(TF_DW_3X3_ARGS, 2); }
#endif
TF_NOINLINE void tf_dw_3x3_s2_0(TF_DW_3X3_PARAMS) { tf_dw_3x3_s2_body(TF_DW_3X3_ARGS, 0); }
TF_NOINLINE void tf_dw_3x3_s2_1(TF_DW_3X3_PARAMS) { tf_dw_3x3_s2_body(TF_DW_3X3_ARGS, 1); }
#if !TF_DSP_NATIVE || (TF_DSP_DW_VARIANTS & 0x20)
TF_NOINLINE void tf_dw_3x3_s2_2(TF_DW_3X3_PARAMS) { tf_dw_3x3_s2_body(TF_DW_3X3_ARGS, 2); }
#else
#define tf_dw_3x3_s1_2 tf_dw_3x3_s1_1 /* not reached (kind 3) */
#define tf_dw_3x3_s2_2 tf_dw_3x3_s2_1
#endif

#define TF_DW_ROW1_PARAMS                                                                                         \
    const tf_dw_t *d, const int16_t *x, int32_t cs, int32_t n, const int32_t *w, int8_t *out, int32_t os
#define TF_DW_ROW1_ARGS d, x, cs, n, w, out, os
#define TF_DW_ROW1(np)                                                                                            \
    TF_NOINLINE void tf_dw_row1_##np##_0(TF_DW_ROW1_PARAMS) { tf_dw_row1_body(TF_DW_ROW1_ARGS, np, 0); }         \
    TF_NOINLINE void tf_dw_row1_##np##_1(TF_DW_ROW1_PARAMS) { tf_dw_row1_body(TF_DW_ROW1_ARGS, np, 1); }         \
    TF_NOINLINE void tf_dw_row1_##np##_2(TF_DW_ROW1_PARAMS) { tf_dw_row1_body(TF_DW_ROW1_ARGS, np, 2); }
TF_DW_ROW1(1)
TF_DW_ROW1(2)
TF_DW_ROW1(3)
TF_DW_ROW1(4)
TF_NOINLINE void tf_dw_row1_k3s1_0(TF_DW_ROW1_PARAMS) { (void)cs, tf_dw_row1_k3s1_body(d, x, n, w, out, os, 0); }
TF_NOINLINE void tf_dw_row1_k3s1_1(TF_DW_ROW1_PARAMS) { (void)cs, tf_dw_row1_k3s1_body(d, x, n, w, out, os, 1); }
TF_NOINLINE void tf_dw_row1_k3s1_2(TF_DW_ROW1_PARAMS) { (void)cs, tf_dw_row1_k3s1_body(d, x, n, w, out, os, 2); }

typedef void (*tf_dw_row1_fn)(TF_DW_ROW1_PARAMS);
static const tf_dw_row1_fn tf_dw_row1_k3s1_fns[3] = {tf_dw_row1_k3s1_0, tf_dw_row1_k3s1_1, tf_dw_row1_k3s1_2};
static const tf_dw_row1_fn tf_dw_row1_fns[4][3] = {
    {tf_dw_row1_1_0, tf_dw_row1_1_1, tf_dw_row1_1_2},
    {tf_dw_row1_2_0, tf_dw_row1_2_1, tf_dw_row1_2_2},
    {tf_dw_row1_3_0, tf_dw_row1_3_1, tf_dw_row1_3_2},
    {tf_dw_row1_4_0, tf_dw_row1_4_1, tf_dw_row1_4_2},
};

static void tf_dw_runs(int mode, TF_DW_RUNS_PARAMS)
{
    if (rows <= 0 || n <= 0) {
        return;
    }
    if (mode == 0) {
        tf_dw_runs_0(TF_DW_RUNS_ARGS);
    } else if (mode == 1) {
        tf_dw_runs_1(TF_DW_RUNS_ARGS);
    } else {
        tf_dw_runs_2(TF_DW_RUNS_ARGS);
    }
}

/* 3x3 in assembly (full int8 activation range): the rows of one output channel, two outputs per
 * iteration, the loops of tf_dw_3x3_s1_body / tf_dw_3x3_s2_body without spilling. Field offsets are
 * used by the assembly. */
typedef struct {
    const int16_t *x;  /* 0: the plane row of the first output row (advanced) */
    int8_t *out;       /* 4: (advanced) */
    int32_t row_step;  /* 8: bytes between the plane rows of two output rows */
    int32_t out_row;   /* 12: bytes between output rows */
    int32_t rows;      /* 16: output rows left */
    int32_t pw2;       /* 20: bytes between plane rows */
    int32_t os;        /* 24: bytes between outputs of a row */
    int32_t pairs;     /* 28: output pairs per row */
    int32_t odd;       /* 32: 1 if a row ends with a single output */
    int32_t start;     /* 36 */
    int32_t mult;      /* 40 */
    int32_t kq;        /* 44 */
    int32_t rshift;    /* 48 */
    int32_t w[6];      /* 52: P0 Q0 P1 Q1 P2 Q2 (stride 1) or P0 U0 P1 U1 P2 U2 (stride 2) */
    /* the channel loop of the row-of-3 runs (tf_dw3t_*, tf_dw3l_*: their constants and weights) */
    const int32_t *bias_p; /* 76: start << 5 | right shift per channel (advanced) */
    const int32_t *mult_p; /* 80: (advanced by mstep) */
    int32_t mstep;        /* 84: 4 per channel, 0 for one multiplier */
    const int8_t *wt;     /* 88: the channel's 9 taps (advanced by 9) */
    int32_t zp2p1;        /* 92: 2 * output zero point + 1 */
    int32_t chans;        /* 96: channels left */
    int32_t ps2;          /* 100: bytes between planes */
    int32_t oh;           /* 104: output rows */
    const int16_t *x_ch;  /* 108: the channel's plane (advanced by ps2) */
    int8_t *out_ch;       /* 112: the channel's first output (advanced by 1) */
} tf_dw3_t;

#if TF_DSP_NATIVE
void tf_dw3_s1_fast(tf_dw3_t *a);
void tf_dw3_s1_round(tf_dw3_t *a);
void tf_dw3_s2_fast(tf_dw3_t *a);
void tf_dw3_s2_round(tf_dw3_t *a);

/* stride 1, rows r6 r7 r8 (post-incremented by 4): A = r2, B = r3, P = r4, Q = r5 */
#define TF_DW3_S1_ROW(reg, off)                                                                                   \
    "ldrd r2, r3, [" reg "], #4\n\t"                                                                           \
    "ldrd r4, r5, [lr, #" off "]\n\t"                                                                          \
    "smlad r0, r2, r4, r0\n\t"                                                                                 \
    "smlabt r0, r3, r5, r0\n\t"                                                                                \
    "smlatb r1, r2, r4, r1\n\t"                                                                                \
    "smlad r1, r3, r5, r1\n\t"
/* stride 2, rows post-incremented by 8: A = r2, B = r3, C = r12, P = r4, U = r5 */
#define TF_DW3_S2_ROW(reg, off)                                                                                   \
    "ldrd r2, r3, [" reg "], #8\n\t"                                                                           \
    "ldr r12, [" reg "]\n\t"                                                                                   \
    "ldrd r4, r5, [lr, #" off "]\n\t"                                                                          \
    "smlad r0, r2, r4, r0\n\t"                                                                                 \
    "smlabb r0, r3, r5, r0\n\t"                                                                                \
    "smlad r1, r3, r4, r1\n\t"                                                                                 \
    "smlabb r1, r12, r5, r1\n\t"
#define TF_DW3_MAC(ROW) "ldr r0, [lr, #36]\n\tmov r1, r0\n\t" ROW("r6", "52") ROW("r7", "60") ROW("r8", "68")
#define TF_DW3_Q_FAST                                                                                             \
    "ldrd r4, r5, [lr, #40]\n\t"                                                                               \
    "ldr r2, [lr, #48]\n\t"                                                                                    \
    "smmlar r0, r0, r4, r5\n\t"                                                                                \
    "smmlar r1, r1, r4, r5\n\t"                                                                                \
    "asr r0, r0, r2\n\t"                                                                                       \
    "asr r1, r1, r2\n\t"                                                                                       \
    "ssat r0, #8, r0\n\t"                                                                                      \
    "ssat r1, #8, r1\n\t"
#define TF_DW3_Q_ROUND                                                                                            \
    "ldrd r4, r5, [lr, #40]\n\t"                                                                               \
    "ldr r2, [lr, #48]\n\t"                                                                                    \
    "smmlar r3, r0, r4, r5\n\t"                                                                                \
    "add r0, r3, r0, asr #31\n\t"                                                                              \
    "smmlar r3, r1, r4, r5\n\t"                                                                                \
    "add r1, r3, r1, asr #31\n\t"                                                                              \
    "asr r0, r0, r2\n\t"                                                                                       \
    "asr r1, r1, r2\n\t"                                                                                       \
    "ssat r0, #8, r0\n\t"                                                                                      \
    "ssat r1, #8, r1\n\t"
#define TF_DW3_FN(name, ROW, Q)                                                                                   \
    __asm__(TF_ASM_FUNC_BEGIN(name) \
                        "mov lr, r0\n"                                                                                  \
            "1:\n\t"                                                                                            \
            "ldrd r6, r9, [lr, #0]\n\t"                                                                         \
            "ldrd r12, r10, [lr, #20]\n\t"                                                                      \
            "add r7, r6, r12\n\t"                                                                               \
            "add r8, r7, r12\n\t"                                                                               \
            "ldr r11, [lr, #28]\n\t"                                                                            \
            "cmp r11, #0\n\t"                                                                                   \
            "beq 3f\n"                                                                                          \
            "2:\n\t" TF_DW3_MAC(ROW) Q "strb r0, [r9]\n\t"                                                      \
            "strb r1, [r9, r10]\n\t"                                                                            \
            "add r9, r9, r10, lsl #1\n\t"                                                                       \
            "subs r11, r11, #1\n\t"                                                                             \
            "bne 2b\n"                                                                                          \
            "3:\n\t"                                                                                            \
            "ldr r11, [lr, #32]\n\t"                                                                            \
            "cmp r11, #0\n\t"                                                                                   \
            "beq 4f\n\t" TF_DW3_MAC(ROW) Q "strb r0, [r9]\n"                                                    \
            "4:\n\t"                                                                                            \
            "ldrd r11, r12, [lr, #0]\n\t"                                                                       \
            "ldrd r9, r10, [lr, #8]\n\t"                                                                        \
            "add r11, r11, r9\n\t"                                                                              \
            "add r12, r12, r10\n\t"                                                                             \
            "strd r11, r12, [lr, #0]\n\t"                                                                       \
            "ldr r12, [lr, #16]\n\t"                                                                            \
            "subs r12, r12, #1\n\t"                                                                             \
            "str r12, [lr, #16]\n\t"                                                                            \
            "bne 1b\n\t"                                                                                        \
            "pop {r4-r11, pc}\n\t"                                                                          \
            ".size " #name ", .-" #name "\n\t"                                                              \
            ".popsection\n\t")

TF_DW3_FN(tf_dw3_s1_fast, TF_DW3_S1_ROW, TF_DW3_Q_FAST);
TF_DW3_FN(tf_dw3_s2_fast, TF_DW3_S2_ROW, TF_DW3_Q_FAST);
#if TF_DSP_DW_VARIANTS & 0x10
TF_DW3_FN(tf_dw3_s1_round, TF_DW3_S1_ROW, TF_DW3_Q_ROUND);
TF_DW3_FN(tf_dw3_s2_round, TF_DW3_S2_ROW, TF_DW3_Q_ROUND);
#else
#define tf_dw3_s1_round tf_dw3_s1_fast /* not reached: tf_dsp_depthwise_s8 takes kind 3 */
#define tf_dw3_s2_round tf_dw3_s2_fast
#endif
#endif

/* Planes whose rows have 3 outputs (tiny maps: VWW's 3x3 maps), 3x3 kernels: the three outputs of a
 * row at once (no pair loop and single output: the single costs a whole pair there), one plane row
 * per kernel row in registers (stride 1: A B C, stride 2: A B C D), three accumulators r0 r1 r11;
 * rows r6 r7 r8, the output r9 and its step r10 kept across output rows (tf_dw3_t, `pairs` and `odd`
 * unused). TF_DSP_DW_VARIANTS (set by the packer, conv.py tiny_row_bits): bit 0 stride 1 fast,
 * 1 stride 1 with the rounding correction, 2 stride 2 fast, 3 stride 2 with the correction; a
 * variant left out falls back to tf_dw_3x3 (slower, same results). */
typedef void (*tf_dw3_fn)(tf_dw3_t *a);
#if TF_DSP_NATIVE
/* One channel's constants and weights into the struct (r2-r8, r12): the start and right shift from
 * `bias`, kq = (zp2p1 << rshift) >> 1, the multiplier, then the 9 taps b0..b8 as the words v0 = b0..b3,
 * v1 = b3..b6, v2 = b5..b8 doubled into E = (2 b_i, 2 b_i+2), O = (2 b_i+1, 2 b_i+3) lanes (SXTB16 +
 * SXTAB16) and packed per kernel row (TF_DW3C_W_S1 / _S2: P Q or P U); rows, r6 = plane, r9 = out. */
#define TF_DW3C_EO(v)                                                                                             \
    "sxtb16 r5, " v "\n\t"                                                                                     \
    "sxtab16 r5, r5, " v "\n\t"                                                                                \
    "sxtb16 r6, " v ", ror #8\n\t"                                                                             \
    "sxtab16 r6, r6, " v ", ror #8\n\t"
#define TF_DW3C_W_S1                                                                                              \
    TF_DW3C_EO("r2") "pkhbt r7, r5, r6, lsl #16\n\tpkhbt r8, r6, r5\n\tstrd r7, r8, [lr, #52]\n\t"            \
    TF_DW3C_EO("r3") "pkhbt r7, r5, r6, lsl #16\n\tpkhbt r8, r6, r5\n\tstrd r7, r8, [lr, #60]\n\t"            \
    TF_DW3C_EO("r4") "pkhbt r7, r6, r5\n\tpkhtb r8, r6, r5, asr #16\n\tstrd r7, r8, [lr, #68]\n\t"
#define TF_DW3C_W_S2                                                                                              \
    TF_DW3C_EO("r2") "pkhbt r7, r5, r6, lsl #16\n\tlsr r8, r5, #16\n\tstrd r7, r8, [lr, #52]\n\t"             \
    TF_DW3C_EO("r3") "pkhbt r7, r5, r6, lsl #16\n\tlsr r8, r5, #16\n\tstrd r7, r8, [lr, #60]\n\t"             \
    TF_DW3C_EO("r4") "pkhbt r7, r6, r5\n\tlsr r8, r6, #16\n\tstrd r7, r8, [lr, #68]\n\t"
#define TF_DW3C_CHANNEL(W)                                                                                        \
    "ldr r12, [lr, #76]\n\t"                                                                                   \
    "ldr r2, [r12], #4\n\t"                                                                                    \
    "str r12, [lr, #76]\n\t"                                                                                   \
    "and r3, r2, #31\n\t"                                                                                      \
    "asr r2, r2, #5\n\t"                                                                                       \
    "ldr r4, [lr, #92]\n\t"                                                                                    \
    "lsl r4, r4, r3\n\t"                                                                                       \
    "asr r4, r4, #1\n\t"                                                                                       \
    "ldrd r12, r5, [lr, #80]\n\t"                                                                              \
    "ldr r6, [r12]\n\t"                                                                                        \
    "add r12, r12, r5\n\t"                                                                                     \
    "str r12, [lr, #80]\n\t"                                                                                   \
    "str r2, [lr, #36]\n\t"                                                                                    \
    "strd r6, r4, [lr, #40]\n\t"                                                                               \
    "str r3, [lr, #48]\n\t"                                                                                    \
    "ldr r12, [lr, #88]\n\t"                                                                                   \
    "ldr r2, [r12]\n\t"                                                                                        \
    "ldr r3, [r12, #3]\n\t"                                                                                    \
    "ldr r4, [r12, #5]\n\t"                                                                                    \
    "add r12, r12, #9\n\t"                                                                                     \
    "str r12, [lr, #88]\n\t" W
/* the next channel: its plane and output, while channels are left */
#define TF_DW3C_NEXT                                                                                              \
    "ldrd r2, r3, [lr, #108]\n\t"                                                                              \
    "ldr r4, [lr, #100]\n\t"                                                                                   \
    "add r2, r2, r4\n\t"                                                                                       \
    "add r3, r3, #1\n\t"                                                                                       \
    "strd r2, r3, [lr, #108]\n\t"                                                                              \
    "ldr r12, [lr, #96]\n\t"                                                                                   \
    "subs r12, r12, #1\n\t"                                                                                    \
    "str r12, [lr, #96]\n\t"                                                                                   \
    "bne 0b\n\t"

/* out0 += A.P + B.lo * Q.hi, out1 += A.hi * P.lo + B.Q, out2 += B.P + C.lo * Q.hi (P = (w0, w1),
 * Q = (w1, w2)) */
#define TF_DW3T_S1_ROW(reg, off)                                                                                  \
    "ldrd r2, r3, [" reg "]\n\t"                                                                               \
    "ldrd r4, r5, [lr, #" off "]\n\t"                                                                          \
    "smlad r0, r2, r4, r0\n\t"                                                                                 \
    "smlatb r1, r2, r4, r1\n\t"                                                                                \
    "ldr r2, [" reg ", #8]\n\t"                                                                                \
    "smlabt r0, r3, r5, r0\n\t"                                                                                \
    "smlad r1, r3, r5, r1\n\t"                                                                                 \
    "smlad r11, r3, r4, r11\n\t"                                                                               \
    "smlabt r11, r2, r5, r11\n\t"
/* out0 += A.P + B.lo * w2, out1 += B.P + C.lo * w2, out2 += C.P + D.lo * w2 (P = (w0, w1), U = (w2, 0)) */
#define TF_DW3T_S2_ROW(reg, off)                                                                                  \
    "ldrd r4, r5, [lr, #" off "]\n\t"                                                                          \
    "ldrd r2, r3, [" reg "]\n\t"                                                                               \
    "smlad r0, r2, r4, r0\n\t"                                                                                 \
    "smlabb r0, r3, r5, r0\n\t"                                                                                \
    "ldr r2, [" reg ", #8]\n\t"                                                                                \
    "smlad r1, r3, r4, r1\n\t"                                                                                 \
    "smlabb r1, r2, r5, r1\n\t"                                                                                \
    "ldr r3, [" reg ", #12]\n\t"                                                                               \
    "smlad r11, r2, r4, r11\n\t"                                                                               \
    "smlabb r11, r3, r5, r11\n\t"
#define TF_DW3T_Q_FAST                                                                                            \
    "ldrd r4, r5, [lr, #40]\n\t"                                                                               \
    "ldr r2, [lr, #48]\n\t"                                                                                    \
    "smmlar r0, r0, r4, r5\n\t"                                                                                \
    "smmlar r1, r1, r4, r5\n\t"                                                                                \
    "smmlar r11, r11, r4, r5\n\t"                                                                              \
    "asr r0, r0, r2\n\t"                                                                                       \
    "asr r1, r1, r2\n\t"                                                                                       \
    "asr r11, r11, r2\n\t"                                                                                     \
    "ssat r0, #8, r0\n\t"                                                                                      \
    "ssat r1, #8, r1\n\t"                                                                                      \
    "ssat r11, #8, r11\n\t"
#define TF_DW3T_Q_ROUND                                                                                           \
    "ldrd r4, r5, [lr, #40]\n\t"                                                                               \
    "ldr r2, [lr, #48]\n\t"                                                                                    \
    "smmlar r3, r0, r4, r5\n\t"                                                                                \
    "add r0, r3, r0, asr #31\n\t"                                                                              \
    "smmlar r3, r1, r4, r5\n\t"                                                                                \
    "add r1, r3, r1, asr #31\n\t"                                                                              \
    "smmlar r3, r11, r4, r5\n\t"                                                                               \
    "add r11, r3, r11, asr #31\n\t"                                                                            \
    "asr r0, r0, r2\n\t"                                                                                       \
    "asr r1, r1, r2\n\t"                                                                                       \
    "asr r11, r11, r2\n\t"                                                                                     \
    "ssat r0, #8, r0\n\t"                                                                                      \
    "ssat r1, #8, r1\n\t"                                                                                      \
    "ssat r11, #8, r11\n\t"
#define TF_DW3T_FN(name, ROW, Q, W)                                                                               \
    void name(tf_dw3_t *a);                                                                                       \
    __asm__(TF_ASM_FUNC_BEGIN(name) "mov lr, r0\n\t"                                                             \
            "ldr r10, [lr, #24]\n"                                                                              \
            "0:\n\t" TF_DW3C_CHANNEL(W)                                                                          \
            "ldr r12, [lr, #104]\n\t"                                                                           \
            "ldrd r6, r9, [lr, #108]\n\t"                                                                       \
            "ldr r7, [lr, #20]\n\t"                                                                             \
            "add r8, r6, r7, lsl #1\n\t"                                                                        \
            "add r7, r6, r7\n"                                                                                  \
            "1:\n\t"                                                                                            \
            "ldr r0, [lr, #36]\n\t"                                                                             \
            "mov r1, r0\n\t"                                                                                    \
            "mov r11, r0\n\t" ROW("r6", "52") ROW("r7", "60") ROW("r8", "68") Q                                 \
            "strb r0, [r9]\n\t"                                                                                 \
            "strb r1, [r9, r10]\n\t"                                                                            \
            "strb r11, [r9, r10, lsl #1]\n\t"                                                                   \
            "ldrd r2, r3, [lr, #8]\n\t"                                                                         \
            "add r6, r6, r2\n\t"                                                                                \
            "add r7, r7, r2\n\t"                                                                                \
            "add r8, r8, r2\n\t"                                                                                \
            "add r9, r9, r3\n\t"                                                                                \
            "subs r12, r12, #1\n\t"                                                                             \
            "bne 1b\n\t" TF_DW3C_NEXT                                                                           \
            "pop {r4-r11, pc}\n\t"                                                                              \
            ".size " #name ", .-" #name "\n\t"                                                                  \
            ".popsection\n\t")
#if TF_DSP_DW_VARIANTS & 0x1
TF_DW3T_FN(tf_dw3t_s1_fast, TF_DW3T_S1_ROW, TF_DW3T_Q_FAST, TF_DW3C_W_S1);
#else
#define tf_dw3t_s1_fast ((tf_dw3_fn)0)
#endif
#if TF_DSP_DW_VARIANTS & 0x2
TF_DW3T_FN(tf_dw3t_s1_round, TF_DW3T_S1_ROW, TF_DW3T_Q_ROUND, TF_DW3C_W_S1);
#else
#define tf_dw3t_s1_round ((tf_dw3_fn)0)
#endif
#if TF_DSP_DW_VARIANTS & 0x4
TF_DW3T_FN(tf_dw3t_s2_fast, TF_DW3T_S2_ROW, TF_DW3T_Q_FAST, TF_DW3C_W_S2);
#else
#define tf_dw3t_s2_fast ((tf_dw3_fn)0)
#endif
#if TF_DSP_DW_VARIANTS & 0x8
TF_DW3T_FN(tf_dw3t_s2_round, TF_DW3T_S2_ROW, TF_DW3T_Q_ROUND, TF_DW3C_W_S2);
#else
#define tf_dw3t_s2_round ((tf_dw3_fn)0)
#endif

/* Stride 2, rows of 3k outputs (k >= 2: VWW's 12, 6): the same three outputs at a time in a loop
 * along the row, the row pointers advanced 12 bytes per three outputs by the last load's writeback;
 * `pairs` holds 12 k (the bytes of a row's loop), `odd` the end of r6 in the row (scratch). */
#define TF_DW3L_S2_ROW(reg, off)                                                                                  \
    "ldrd r4, r5, [lr, #" off "]\n\t"                                                                          \
    "ldrd r2, r3, [" reg "]\n\t"                                                                               \
    "ldr r12, [" reg ", #8]\n\t"                                                                               \
    "smlad r0, r2, r4, r0\n\t"                                                                                 \
    "smlabb r0, r3, r5, r0\n\t"                                                                                \
    "smlad r1, r3, r4, r1\n\t"                                                                                 \
    "smlabb r1, r12, r5, r1\n\t"                                                                               \
    "ldr r2, [" reg ", #12]!\n\t"                                                                              \
    "smlad r11, r12, r4, r11\n\t"                                                                              \
    "smlabb r11, r2, r5, r11\n\t"
#define TF_DW3L_FN(name, Q)                                                                                       \
    void name(tf_dw3_t *a);                                                                                       \
    __asm__(TF_ASM_FUNC_BEGIN(name) "mov lr, r0\n\t"                                                             \
            "ldr r10, [lr, #24]\n"                                                                              \
            "0:\n\t" TF_DW3C_CHANNEL(TF_DW3C_W_S2)                                                               \
            "ldr r12, [lr, #104]\n\t"                                                                           \
            "str r12, [lr, #16]\n\t"                                                                            \
            "ldrd r6, r9, [lr, #108]\n\t"                                                                       \
            "strd r6, r9, [lr, #0]\n"                                                                            \
            "1:\n\t"                                                                                            \
            "ldrd r6, r9, [lr, #0]\n\t"                                                                         \
            "ldr r12, [lr, #20]\n\t"                                                                            \
            "add r7, r6, r12\n\t"                                                                               \
            "add r8, r7, r12\n\t"                                                                               \
            "ldr r12, [lr, #28]\n\t"                                                                            \
            "add r12, r6, r12\n\t"                                                                              \
            "str r12, [lr, #32]\n"                                                                              \
            "2:\n\t"                                                                                            \
            "ldr r0, [lr, #36]\n\t"                                                                             \
            "mov r1, r0\n\t"                                                                                    \
            "mov r11, r0\n\t" TF_DW3L_S2_ROW("r6", "52") TF_DW3L_S2_ROW("r7", "60") TF_DW3L_S2_ROW("r8", "68") Q \
            "strb r0, [r9]\n\t"                                                                                 \
            "strb r1, [r9, r10]\n\t"                                                                            \
            "strb r11, [r9, r10, lsl #1]\n\t"                                                                   \
            "add r9, r9, r10\n\t"                                                                               \
            "add r9, r9, r10, lsl #1\n\t"                                                                       \
            "ldr r12, [lr, #32]\n\t"                                                                            \
            "cmp r6, r12\n\t"                                                                                   \
            "bne 2b\n\t"                                                                                        \
            "ldrd r2, r3, [lr, #0]\n\t"                                                                         \
            "ldrd r4, r5, [lr, #8]\n\t"                                                                         \
            "add r2, r2, r4\n\t"                                                                                \
            "add r3, r3, r5\n\t"                                                                                \
            "strd r2, r3, [lr, #0]\n\t"                                                                         \
            "ldr r12, [lr, #16]\n\t"                                                                            \
            "subs r12, r12, #1\n\t"                                                                             \
            "str r12, [lr, #16]\n\t"                                                                            \
            "bne 1b\n\t" TF_DW3C_NEXT                                                                           \
            "pop {r4-r11, pc}\n\t"                                                                              \
            ".size " #name ", .-" #name "\n\t"                                                                  \
            ".popsection\n\t")
#if TF_DSP_DW_VARIANTS & 0x40
TF_DW3L_FN(tf_dw3l_s2_fast, TF_DW3T_Q_FAST);
#else
#define tf_dw3l_s2_fast ((tf_dw3_fn)0)
#endif
#if TF_DSP_DW_VARIANTS & 0x80
TF_DW3L_FN(tf_dw3l_s2_round, TF_DW3T_Q_ROUND);
#else
#define tf_dw3l_s2_round ((tf_dw3_fn)0)
#endif

/* The gather of four channels into four planes for the row-of-3 runs (tf_dw_gather4 with an even
 * count, its loop without spills): per two positions A = (a0 a1 a2 a3), B = (b0 b1 b2 b3), PKHBT /
 * PKHTB and SXTB16 give the cell pairs (a_k, b_k) of plane k. Field offsets are used by the assembly. */
typedef struct {
    const int8_t *src; /* 0: (advanced by rows) */
    int16_t *dst;      /* 4: (advanced by rows) */
    int32_t rows;      /* 8: (counted down) */
    int32_t pairs;     /* 12: position pairs per row */
    int32_t step;      /* 16: input bytes between positions */
    int32_t src_line;  /* 20: input bytes between rows */
    int32_t dst_line;  /* 24: plane bytes between rows */
    int32_t ps;        /* 28: bytes between planes */
} tf_dw3g_t;
#if TF_DSP_DW_VARIANTS & 0xCF
void tf_dw3g_gather4(tf_dw3g_t *g);
__asm__(TF_ASM_FUNC_BEGIN(tf_dw3g_gather4) "ldr r4, [r0, #16]\n\t"
        "ldr r5, [r0, #28]\n\t"
        "add r6, r5, r5\n\t"
        "add r7, r6, r5\n"
        "1:\n\t"
        "ldrd r1, r2, [r0, #0]\n\t"
        "ldr r3, [r0, #12]\n"
        "2:\n\t"
        "ldr r8, [r1]\n\t"
        "ldr r9, [r1, r4]\n\t"
        "add r1, r1, r4, lsl #1\n\t"
        "pkhbt r10, r8, r9, lsl #16\n\t"
        "pkhtb r11, r9, r8, asr #16\n\t"
        "sxtb16 r8, r10\n\t"
        "sxtb16 r9, r10, ror #8\n\t"
        "sxtb16 r10, r11\n\t"
        "sxtb16 r11, r11, ror #8\n\t"
        "str r9, [r2, r5]\n\t"
        "str r10, [r2, r6]\n\t"
        "str r11, [r2, r7]\n\t"
        "str r8, [r2], #4\n\t"
        "subs r3, r3, #1\n\t"
        "bne 2b\n\t"
        "ldrd r1, r2, [r0, #0]\n\t"
        "ldrd r12, lr, [r0, #20]\n\t"
        "add r1, r1, r12\n\t"
        "add r2, r2, lr\n\t"
        "strd r1, r2, [r0, #0]\n\t"
        "ldr r12, [r0, #8]\n\t"
        "subs r12, r12, #1\n\t"
        "str r12, [r0, #8]\n\t"
        "bne 1b\n\t"
        "pop {r4-r11, pc}\n\t"
        ".size tf_dw3g_gather4, .-tf_dw3g_gather4\n\t"
        ".popsection\n\t");
#endif
#endif

static void tf_dw_3x3(int mode, int s2, TF_DW_3X3_PARAMS)
{
    if (rows <= 0 || n <= 0) {
        return;
    }
#if TF_DSP_NATIVE
    if (mode != 2) {
        tf_dw3_t a;
        int32_t i;
        a.x = x;
        a.pw2 = 2 * d->pw;
        a.rows = rows;
        a.pairs = n >> 1;
        a.odd = n & 1;
        a.out = out;
        a.os = os;
        a.out_row = out_row;
        a.start = d->start;
        a.mult = d->mult;
        a.kq = d->kq;
        a.rshift = d->rshift;
        for (i = 0; i < 6; ++i) {
            a.w[i] = w[i];
        }
        a.row_step = (s2 ? 4 : 2) * d->pw;
        if (s2) {
            (mode == 0 ? tf_dw3_s2_fast : tf_dw3_s2_round)(&a);
        } else {
            (mode == 0 ? tf_dw3_s1_fast : tf_dw3_s1_round)(&a);
        }
        return;
    }
#if !(TF_DSP_DW_VARIANTS & 0x20)
    return; /* not reached: tf_dsp_depthwise_s8 takes kind 3 */
#endif
#endif
    if (s2) {
        if (mode == 0) {
            tf_dw_3x3_s2_0(TF_DW_3X3_ARGS);
        } else if (mode == 1) {
            tf_dw_3x3_s2_1(TF_DW_3X3_ARGS);
        } else {
            tf_dw_3x3_s2_2(TF_DW_3X3_ARGS);
        }
    } else if (mode == 0) {
        tf_dw_3x3_s1_0(TF_DW_3X3_ARGS);
    } else if (mode == 1) {
        tf_dw_3x3_s1_1(TF_DW_3X3_ARGS);
    } else {
        tf_dw_3x3_s1_2(TF_DW_3X3_ARGS);
    }
}

/* Input channel `ic` into the plane: `count` cells of each of `rows` lines, read `src_step` bytes
 * apart along a line and `src_line` bytes apart between lines, written to consecutive cells of
 * plane lines `dst_line` cells apart (the border keeps the pad value). */
TF_NOINLINE void tf_dw_gather(const int8_t *src, int32_t rows, int32_t count, int32_t src_step, int32_t src_line,
                              int16_t *dst, int32_t dst_line)
{
    if (rows <= 0 || count <= 0) {
        return;
    }
    if (count <= 8) {
        /* short lines (narrow planes: KWS's 5 columns): the pairs of a line unrolled */
        const int32_t pairs = count >> 1, odd = count & 1, step2 = 2 * src_step;
        do {
            const int8_t *s = src;
            int16_t *o = dst;
            int32_t v;
            switch (pairs) {
            case 4:
                v = tf_pkhbt16(s[0], s[src_step]);
                memcpy(o, &v, sizeof v);
                o += 2;
                s += step2;
                /* fall through */
            case 3:
                v = tf_pkhbt16(s[0], s[src_step]);
                memcpy(o, &v, sizeof v);
                o += 2;
                s += step2;
                /* fall through */
            case 2:
                v = tf_pkhbt16(s[0], s[src_step]);
                memcpy(o, &v, sizeof v);
                o += 2;
                s += step2;
                /* fall through */
            case 1:
                v = tf_pkhbt16(s[0], s[src_step]);
                memcpy(o, &v, sizeof v);
                o += 2;
                s += step2;
                /* fall through */
            default:
                break;
            }
            if (odd) {
                *o = *s;
            }
            src += src_line;
            dst += dst_line;
        } while (--rows);
        return;
    }
    do {
        const int8_t *s = src;
        int16_t *o = dst;
        const int32_t step2 = 2 * src_step, step4 = 4 * src_step;
        int32_t i;
        if (count & 1) {
            *o++ = *s;
            s += src_step;
        }
        if (count & 2) {
            const int32_t v = tf_pkhbt16(s[0], s[src_step]);
            memcpy(o, &v, sizeof v);
            o += 2;
            s += step2;
        }
        for (i = count >> 2; i > 0; --i) {
            const int32_t v0 = tf_pkhbt16(s[0], s[src_step]);
            const int32_t v1 = tf_pkhbt16(s[step2], s[step2 + src_step]);
            memcpy(o, &v0, sizeof v0);
            memcpy(o + 2, &v1, sizeof v1);
            o += 4;
            s += step4;
        }
        src += src_line;
        dst += dst_line;
    } while (--rows);
}

/* Four input channels (4 bytes at each input position) into four planes `ps` cells apart, as
 * tf_dw_gather: per two positions A = (a0 a1 a2 a3), B = (b0 b1 b2 b3), PKHBT / PKHTB give
 * (a0 a1 b0 b1) and (a2 a3 b2 b3), and SXTB16 (ROR #8) the cell pairs (a_k, b_k) of plane k. */
TF_NOINLINE void tf_dw_gather4(const int8_t *src, int32_t rows, int32_t count, int32_t src_step, int32_t src_line,
                               int16_t *dst, int32_t dst_line, int32_t ps)
{
    if (rows <= 0 || count <= 0) {
        return;
    }
    do {
        const int8_t *s = src;
        int16_t *o = dst;
        const int32_t step2 = 2 * src_step;
        int32_t i;
        for (i = count >> 1; i > 0; --i) {
            const int32_t A = tf_ld32(s), B = tf_ld32(s + src_step);
            const int32_t X = tf_pkhbt16(A, B), Y = tf_pkhtb16(B, A);
            const int32_t v0 = tf_sxtb16((uint32_t)X), v1 = tf_sxtb16_ror8((uint32_t)X);
            const int32_t v2 = tf_sxtb16((uint32_t)Y), v3 = tf_sxtb16_ror8((uint32_t)Y);
            memcpy(o, &v0, sizeof v0);
            memcpy(o + ps, &v1, sizeof v1);
            memcpy(o + 2 * ps, &v2, sizeof v2);
            memcpy(o + 3 * ps, &v3, sizeof v3);
            o += 2;
            s += step2;
        }
        if (count & 1) {
            o[0] = s[0];
            o[ps] = s[1];
            o[2 * ps] = s[2];
            o[3 * ps] = s[3];
        }
        src += src_line;
        dst += dst_line;
    } while (--rows);
}

#define TF_DW_MAX_PHASES 16

/* What every channel of a layer shares, computed once per call (plane coordinates). */
typedef struct {
    tf_dw_t d;
    int32_t kh, kw, sh, sw, oh, ow, pw, phases, phase_w, rows;
    int32_t in_step_c, in_step_r, out_step_c, out_step_r;
    int32_t kind; /* 0: one plane row (row1_fn), 1: 3x3 stride 1, 2: 3x3 stride 2, 3: general */
    int32_t mode, zp2p1, per_channel;
    tf_dw_row1_fn row1_fn;
    const int32_t *bias, *mult;
    const uint8_t *rshift;
    int16_t *plane;
    int32_t *wbuf;
    int32_t g_src[TF_DW_MAX_PHASES], g_cnt[TF_DW_MAX_PHASES], g_dst[TF_DW_MAX_PHASES];
} tf_dw_layer_t;

/* One output channel from the plane: constants, weights, outputs. */
TF_NOINLINE void tf_dw_channel(tf_dw_layer_t *L, const int8_t *wsrc, int32_t oc, int8_t *out)
{
    tf_dw_t *const d = &L->d;
    const int32_t packed = L->bias[oc];
    const int32_t kh = L->kh, kw = L->kw;
    int32_t *const wbuf = L->wbuf;
    d->start = L->rshift ? packed : tf_dsp_start(packed);
    d->rshift = L->rshift ? L->rshift[oc] : tf_dsp_rshift(packed);
    d->kq = tf_dsp_kq(L->zp2p1, d->rshift);
    d->mult = L->mult[L->per_channel ? oc : 0];
    /* the channel's weights (in plane order: the packer transposed them with the plane) as doubled
     * int16 pairs along plane columns, an odd last column paired with 0 */
    {
        const int8_t *wt = wsrc;
        int32_t *wp = wbuf;
        int32_t r, q;
        for (r = kh; r > 0; --r) {
            for (q = kw >> 1; q > 0; --q) {
                *wp++ = tf_pkhbt16(2 * wt[0], 2 * wt[1]);
                wt += 2;
            }
            if (kw & 1) {
                *wp++ = (int32_t)((uint32_t)(2 * wt[0]) & 0xffffu);
                wt += 1;
            }
        }
    }
    if (L->kind == 0) {
        const int16_t *x = L->plane;
        const int32_t step = L->sh * L->pw;
        int32_t r;
        for (r = L->oh; r > 0; --r) {
            L->row1_fn(d, x, L->sw, L->ow, wbuf, out, L->out_step_c);
            x += step;
            out += L->out_step_r;
        }
    } else if (L->kind == 1) {
        /* P = (w0, w1) as expanded, Q = (w1, w2) */
        int32_t pq[6], r;
        for (r = 0; r < 3; ++r) {
            const uint32_t w01 = (uint32_t)wbuf[2 * r], w2 = (uint32_t)wbuf[2 * r + 1];
            pq[2 * r] = (int32_t)w01;
            pq[2 * r + 1] = (int32_t)((w01 >> 16) | (w2 << 16));
        }
        tf_dw_3x3(L->mode, 0, d, L->plane, L->oh, L->ow, pq, out, L->out_step_r, L->out_step_c);
    } else if (L->kind == 2) {
        tf_dw_3x3(L->mode, 1, d, L->plane, L->oh, L->ow, wbuf, out, L->out_step_r, L->out_step_c);
    } else {
        /* phases: stride 1 along the columns, output column o reads phase o % phases */
        const int32_t phases = L->phases;
        int32_t f;
        for (f = 0; f < phases && f < L->ow; ++f) {
            tf_dw_runs(L->mode, d, L->plane + f * L->phase_w, L->oh, L->sh * L->pw, phases == 1 ? L->sw : 1,
                       (L->ow - f + phases - 1) / phases, wbuf, out + f * L->out_step_c, L->out_step_r,
                       phases * L->out_step_c);
        }
    }
}

/* ---- the direct channel-last path (depth multiplier 1, a multiple of 4 channels) ---- */

#define TF_DW4_MAX_TAPS 64
#ifndef TF_DSP_DW4_VARIANTS
#define TF_DSP_DW4_VARIANTS 0xFFFFF
#endif
#ifndef TF_DSP_DW4_SHIFTS
#define TF_DSP_DW4_SHIFTS 0
#endif
/* the shift requantization's C (setup, C outputs): where shift runs are linked, and on the host */
#define TF_DW4_SHIFTING (TF_DSP_DW4_SHIFTS != 0 || !TF_DSP_NATIVE)
#define TF_DW4_NO_K 1000

/* The interior runs (outputs whose taps are all inside the input along the view's columns) in
 * assembly: 3-tap kernel rows (1-3 of them: 3x3, 3x1 / 1x3 in the view) and one kernel row of any
 * length, one output of four channels per iteration, no spills. Field offsets are used by the
 * assembly; the first nine words are reloaded by one LDM per output. */
typedef struct {
    int32_t start[4];  /* 0: r0-r3 */
    int32_t cstep;     /* 16: r5, input bytes between taps */
    uint32_t off;      /* 20: r6, the input offset in both lanes */
    const int32_t *w;  /* 24: r7, the weights of the first kernel row of the run */
    int32_t sstep;     /* 28: r8, input bytes between outputs */
    int32_t ostep;     /* 32: r9, output bytes between outputs */
    int32_t rstep;     /* 36: input bytes between kernel rows (one row of any length: taps * cstep) */
    const int8_t *x_last; /* 40: the input of the last output */
    uint32_t lo4, hi4; /* 44, 48: the activation range in each byte (folded clamp: lo4 = K, TF_DW4_K) */
    const int8_t *x;   /* 52: the input of the first output, minus sstep */
    int8_t *out;       /* 56: the first output, minus ostep */
    int32_t q[12];     /* 60: (mult, kq, right shift) per channel */
} tf_dw4_run_t;

typedef void (*tf_dw4_run_fn)(tf_dw4_run_t *a);

#if TF_DSP_NATIVE
/* one tap: input word at [r4 + ADDR], weights (c0, c2), (c1, c3) at [r7, #WOFF] */
#define TF_DW4A_TAP(ADDR, WOFF)                                                                                    \
    "ldr r8, [r4" ADDR "]\n\t"                                                                                 \
    "sxtab16 r9, r6, r8, ror #8\n\t"                                                                           \
    "sxtab16 r8, r6, r8\n\t"                                                                                   \
    "ldrd r10, r11, [r7, #" WOFF "]\n\t"                                                                       \
    "smlabb r0, r8, r10, r0\n\t"                                                                               \
    "smlatt r2, r8, r10, r2\n\t"                                                                               \
    "smlabb r1, r9, r11, r1\n\t"                                                                               \
    "smlatt r3, r9, r11, r3\n\t"
#define TF_DW4_ROW(W0, W1, W2) TF_DW4A_TAP("", W0) TF_DW4A_TAP(", r5", W1) TF_DW4A_TAP(", r5, lsl #1", W2)
#define TF_DW4_NEXT_ROW "ldr r9, [lr, #36]\n\tadd r4, r4, r9\n\t"
#define TF_DW4_ROWS1 TF_DW4_ROW("0", "8", "16")
#define TF_DW4_ROWS2 TF_DW4_ROWS1 TF_DW4_NEXT_ROW TF_DW4_ROW("24", "32", "40") "ldr r9, [lr, #36]\n\tsub r4, r4, r9\n\t"
#define TF_DW4_ROWS3                                                                                              \
    TF_DW4_ROWS1 TF_DW4_NEXT_ROW TF_DW4_ROW("24", "32", "40") TF_DW4_NEXT_ROW TF_DW4_ROW("48", "56", "64")       \
        "ldr r9, [lr, #36]\n\tsub r4, r4, r9, lsl #1\n\t"
/* requantization without the rounding correction, two channels per LDM */
#define TF_DW4_Q_FAST                                                                                             \
    "add r9, lr, #60\n\t"                                                                                      \
    "ldm r9!, {r5, r6, r7, r8, r10, r11}\n\t"                                                                  \
    "smmlar r0, r0, r5, r6\n\t"                                                                                \
    "asr r0, r0, r7\n\t"                                                                                       \
    "ssat r0, #8, r0\n\t"                                                                                      \
    "smmlar r1, r1, r8, r10\n\t"                                                                               \
    "asr r1, r1, r11\n\t"                                                                                      \
    "ssat r1, #8, r1\n\t"                                                                                      \
    "ldm r9, {r5, r6, r7, r8, r10, r11}\n\t"                                                                   \
    "smmlar r2, r2, r5, r6\n\t"                                                                                \
    "asr r2, r2, r7\n\t"                                                                                       \
    "ssat r2, #8, r2\n\t"                                                                                      \
    "smmlar r3, r3, r8, r10\n\t"                                                                               \
    "asr r3, r3, r11\n\t"                                                                                      \
    "ssat r3, #8, r3\n\t"
#define TF_DW4_Q_CORR1(A)                                                                                         \
    "ldm r9!, {r5, r6, r7}\n\t"                                                                                \
    "smmlar r8, " A ", r5, r6\n\t"                                                                             \
    "add r8, r8, " A ", asr #31\n\t"                                                                           \
    "asr " A ", r8, r7\n\t"                                                                                    \
    "ssat " A ", #8, " A "\n\t"
#define TF_DW4_Q_CORR "add r9, lr, #60\n\t" TF_DW4_Q_CORR1("r0") TF_DW4_Q_CORR1("r1") TF_DW4_Q_CORR1("r2") TF_DW4_Q_CORR1("r3")
#define TF_DW4_PACK "bfi r0, r1, #8, #8\n\tbfi r0, r2, #16, #8\n\tbfi r0, r3, #24, #8\n\t"
#define TF_DW4_CLAMP                                                                                              \
    "ldrd r5, r6, [lr, #44]\n\t"                                                                               \
    "ssub8 r7, r0, r5\n\t"                                                                                     \
    "sel r0, r0, r5\n\t"                                                                                       \
    "ssub8 r7, r0, r6\n\t"                                                                                     \
    "sel r0, r6, r0\n\t"
/* the lower bound only (act_max 127: SSAT clamps at the upper one) */
#define TF_DW4_CLAMP_LO                                                                                           \
    "ldr r5, [lr, #44]\n\t"                                                                                     \
    "ssub8 r7, r0, r5\n\t"                                                                                      \
    "sel r0, r0, r5\n\t"
#define TF_DW4_FN(name, ROWS, Q, CLAMP)                                                                           \
    void name(tf_dw4_run_t *a);                                                                                   \
    __asm__(TF_ASM_FUNC_BEGIN(name) \
                        "mov lr, r0\n\t"                                                                                \
            "ldr r4, [lr, #52]\n\t"                                                                         \
            "ldr r12, [lr, #56]\n"                                                                          \
            "1:\n\t"                                                                                        \
            "ldm lr, {r0, r1, r2, r3, r5, r6, r7, r8, r9}\n\t"                                              \
            "add r4, r4, r8\n\t"                                                                            \
            "add r12, r12, r9\n\t" ROWS Q TF_DW4_PACK CLAMP "str r0, [r12]\n\t"                             \
            "ldr r9, [lr, #40]\n\t"                                                                         \
            "cmp r4, r9\n\t"                                                                                \
            "bne 1b\n\t"                                                                                    \
            "pop {r4-r11, pc}\n\t"                                                                          \
            ".size " #name ", .-" #name "\n\t"                                                              \
            ".popsection\n\t")

/* Without the rounding correction (act_min >= the output zero point) the clamp is folded: the kq of
 * the run are lowered by K << rshift with K = act_min + 128 (act_max 127) or act_max - 127 (act_min
 * -128), so that SSAT clamps at the bound, and QADD8 adds K back with saturation (lo4 holds K in
 * each byte; K = 0 on the full range) */
#define TF_DW4_K "ldr r5, [lr, #44]\n\tqadd8 r0, r0, r5\n\t"
/* one kernel row of any length (time filters): the taps in a loop that ends when the weight
 * pointer reaches the run's struct (the weights end there), then x back by `rstep` (taps * cstep) */
#define TF_DW4_ROWK                                                                                               \
    "2:\n\t"                                                                                                    \
    "ldr r8, [r4]\n\t"                                                                                          \
    "add r4, r4, r5\n\t"                                                                                        \
    "sxtab16 r9, r6, r8, ror #8\n\t"                                                                            \
    "sxtab16 r8, r6, r8\n\t"                                                                                    \
    "ldrd r10, r11, [r7], #8\n\t"                                                                               \
    "smlabb r0, r8, r10, r0\n\t"                                                                                \
    "smlatt r2, r8, r10, r2\n\t"                                                                                \
    "smlabb r1, r9, r11, r1\n\t"                                                                                \
    "smlatt r3, r9, r11, r3\n\t"                                                                                \
    "cmp r7, lr\n\t"                                                                                            \
    "bne 2b\n\t"                                                                                                \
    "ldr r9, [lr, #36]\n\t"                                                                                     \
    "sub r4, r4, r9\n\t"
/* TF_DSP_DW4_VARIANTS (set by the packer, tinyforge/kernels/ops/dsp/conv.py direct_variants):
 * the runs compiled in, bit 4 * v + r: v 0 no rounding correction, clamp folded (TF_DW4_K), 1 the
 * correction, clamp folded, 2 the correction and SSUB8 / SEL clamps; r 0 one kernel row of 3 taps,
 * 1 three rows of 3 taps, 2 one row of any length (TF_DW4_ROWK), 3 two rows of 3 taps (border
 * rows). A run left out falls back to C (slower, same results). */
#if TF_DSP_DW4_VARIANTS & 0x1
TF_DW4_FN(tf_dw4_r1_k, TF_DW4_ROWS1, TF_DW4_Q_FAST, TF_DW4_K);
#else
#define tf_dw4_r1_k 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x2
TF_DW4_FN(tf_dw4_r3_k, TF_DW4_ROWS3, TF_DW4_Q_FAST, TF_DW4_K);
#else
#define tf_dw4_r3_k 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x4
TF_DW4_FN(tf_dw4_rk_k, TF_DW4_ROWK, TF_DW4_Q_FAST, TF_DW4_K);
#else
#define tf_dw4_rk_k 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x8
TF_DW4_FN(tf_dw4_r2_k, TF_DW4_ROWS2, TF_DW4_Q_FAST, TF_DW4_K);
#else
#define tf_dw4_r2_k 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x10
TF_DW4_FN(tf_dw4_r1_ck, TF_DW4_ROWS1, TF_DW4_Q_CORR, TF_DW4_K);
#else
#define tf_dw4_r1_ck 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x20
TF_DW4_FN(tf_dw4_r3_ck, TF_DW4_ROWS3, TF_DW4_Q_CORR, TF_DW4_K);
#else
#define tf_dw4_r3_ck 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x40
TF_DW4_FN(tf_dw4_rk_ck, TF_DW4_ROWK, TF_DW4_Q_CORR, TF_DW4_K);
#else
#define tf_dw4_rk_ck 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x80
TF_DW4_FN(tf_dw4_r2_ck, TF_DW4_ROWS2, TF_DW4_Q_CORR, TF_DW4_K);
#else
#define tf_dw4_r2_ck 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x100
TF_DW4_FN(tf_dw4_r1_cc, TF_DW4_ROWS1, TF_DW4_Q_CORR, TF_DW4_CLAMP);
#else
#define tf_dw4_r1_cc 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x200
TF_DW4_FN(tf_dw4_r3_cc, TF_DW4_ROWS3, TF_DW4_Q_CORR, TF_DW4_CLAMP);
#else
#define tf_dw4_r3_cc 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x400
TF_DW4_FN(tf_dw4_rk_cc, TF_DW4_ROWK, TF_DW4_Q_CORR, TF_DW4_CLAMP);
#else
#define tf_dw4_rk_cc 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x800
TF_DW4_FN(tf_dw4_r2_cc, TF_DW4_ROWS2, TF_DW4_Q_CORR, TF_DW4_CLAMP);
#else
#define tf_dw4_r2_cc 0
#endif

/* The shift runs (TF_DSP_DW4_VARIANTS bit 12 + 4 k + r, k 0: the full int8 range, 1: the clamp
 * folded (QADD8 adds K back), 2: SSUB8 / SEL at act_min (act_max 127), 3: SSUB8 / SEL at both
 * bounds; TF_DSP_DW4_SHIFTS bit S: the layers' shifts S), without the rounding correction: SMMLA and
 * SSAT's ASR #S (one immediate per layer) instead of SMMLAR, ASR by register, SSAT; the weights and
 * starts scaled by 2^(S - rshift) per channel (tf_dw4_setup), q holding (mult, kq') per channel. */
#define TF_DW4_XSTR(x) #x
#define TF_DW4_STR(x) TF_DW4_XSTR(x)
#define TF_DW4_Q_S(S)                                                                                             \
    "add r5, lr, #60\n\t"                                                                                       \
    "ldm r5, {r5, r6, r7, r8, r9, r10, r11}\n\t"                                                                \
    "smmla r0, r0, r5, r6\n\t"                                                                                  \
    "smmla r1, r1, r7, r8\n\t"                                                                                  \
    "smmla r2, r2, r9, r10\n\t"                                                                                 \
    "ldr r5, [lr, #88]\n\t"                                                                                     \
    "smmla r3, r3, r11, r5\n\t"                                                                                 \
    "ssat r0, #8, r0, asr #" TF_DW4_STR(S) "\n\t"                                                               \
    "ssat r1, #8, r1, asr #" TF_DW4_STR(S) "\n\t"                                                               \
    "ssat r2, #8, r2, asr #" TF_DW4_STR(S) "\n\t"                                                               \
    "ssat r3, #8, r3, asr #" TF_DW4_STR(S) "\n\t"
#if TF_DSP_DW4_VARIANTS & 0x1000
#define TF_DW4_IF_A0(x) x
#define TF_DW4_PICK_A0(f) f
#else
#define TF_DW4_IF_A0(x)
#define TF_DW4_PICK_A0(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x2000
#define TF_DW4_IF_A1(x) x
#define TF_DW4_PICK_A1(f) f
#else
#define TF_DW4_IF_A1(x)
#define TF_DW4_PICK_A1(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x4000
#define TF_DW4_IF_A2(x) x
#define TF_DW4_PICK_A2(f) f
#else
#define TF_DW4_IF_A2(x)
#define TF_DW4_PICK_A2(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x8000
#define TF_DW4_IF_A3(x) x
#define TF_DW4_PICK_A3(f) f
#else
#define TF_DW4_IF_A3(x)
#define TF_DW4_PICK_A3(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x10000
#define TF_DW4_IF_B0(x) x
#define TF_DW4_PICK_B0(f) f
#else
#define TF_DW4_IF_B0(x)
#define TF_DW4_PICK_B0(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x20000
#define TF_DW4_IF_B1(x) x
#define TF_DW4_PICK_B1(f) f
#else
#define TF_DW4_IF_B1(x)
#define TF_DW4_PICK_B1(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x40000
#define TF_DW4_IF_B2(x) x
#define TF_DW4_PICK_B2(f) f
#else
#define TF_DW4_IF_B2(x)
#define TF_DW4_PICK_B2(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x80000
#define TF_DW4_IF_B3(x) x
#define TF_DW4_PICK_B3(f) f
#else
#define TF_DW4_IF_B3(x)
#define TF_DW4_PICK_B3(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x100000
#define TF_DW4_IF_C0(x) x
#define TF_DW4_PICK_C0(f) f
#else
#define TF_DW4_IF_C0(x)
#define TF_DW4_PICK_C0(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x200000
#define TF_DW4_IF_C1(x) x
#define TF_DW4_PICK_C1(f) f
#else
#define TF_DW4_IF_C1(x)
#define TF_DW4_PICK_C1(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x400000
#define TF_DW4_IF_C2(x) x
#define TF_DW4_PICK_C2(f) f
#else
#define TF_DW4_IF_C2(x)
#define TF_DW4_PICK_C2(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x800000
#define TF_DW4_IF_C3(x) x
#define TF_DW4_PICK_C3(f) f
#else
#define TF_DW4_IF_C3(x)
#define TF_DW4_PICK_C3(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x1000000
#define TF_DW4_IF_D0(x) x
#define TF_DW4_PICK_D0(f) f
#else
#define TF_DW4_IF_D0(x)
#define TF_DW4_PICK_D0(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x2000000
#define TF_DW4_IF_D1(x) x
#define TF_DW4_PICK_D1(f) f
#else
#define TF_DW4_IF_D1(x)
#define TF_DW4_PICK_D1(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x4000000
#define TF_DW4_IF_D2(x) x
#define TF_DW4_PICK_D2(f) f
#else
#define TF_DW4_IF_D2(x)
#define TF_DW4_PICK_D2(f) 0
#endif
#if TF_DSP_DW4_VARIANTS & 0x8000000
#define TF_DW4_IF_D3(x) x
#define TF_DW4_PICK_D3(f) f
#else
#define TF_DW4_IF_D3(x)
#define TF_DW4_PICK_D3(f) 0
#endif
#define TF_DW4_SDEF(S) \
    TF_DW4_IF_A0(TF_DW4_FN(tf_dw4_r1a_s##S, TF_DW4_ROWS1, TF_DW4_Q_S(S), "");) \
    TF_DW4_IF_A1(TF_DW4_FN(tf_dw4_r3a_s##S, TF_DW4_ROWS3, TF_DW4_Q_S(S), "");) \
    TF_DW4_IF_A2(TF_DW4_FN(tf_dw4_rka_s##S, TF_DW4_ROWK, TF_DW4_Q_S(S), "");) \
    TF_DW4_IF_A3(TF_DW4_FN(tf_dw4_r2a_s##S, TF_DW4_ROWS2, TF_DW4_Q_S(S), "");) \
    TF_DW4_IF_B0(TF_DW4_FN(tf_dw4_r1b_s##S, TF_DW4_ROWS1, TF_DW4_Q_S(S), TF_DW4_K);) \
    TF_DW4_IF_B1(TF_DW4_FN(tf_dw4_r3b_s##S, TF_DW4_ROWS3, TF_DW4_Q_S(S), TF_DW4_K);) \
    TF_DW4_IF_B2(TF_DW4_FN(tf_dw4_rkb_s##S, TF_DW4_ROWK, TF_DW4_Q_S(S), TF_DW4_K);) \
    TF_DW4_IF_B3(TF_DW4_FN(tf_dw4_r2b_s##S, TF_DW4_ROWS2, TF_DW4_Q_S(S), TF_DW4_K);) \
    TF_DW4_IF_C0(TF_DW4_FN(tf_dw4_r1c_s##S, TF_DW4_ROWS1, TF_DW4_Q_S(S), TF_DW4_CLAMP_LO);) \
    TF_DW4_IF_C1(TF_DW4_FN(tf_dw4_r3c_s##S, TF_DW4_ROWS3, TF_DW4_Q_S(S), TF_DW4_CLAMP_LO);) \
    TF_DW4_IF_C2(TF_DW4_FN(tf_dw4_rkc_s##S, TF_DW4_ROWK, TF_DW4_Q_S(S), TF_DW4_CLAMP_LO);) \
    TF_DW4_IF_C3(TF_DW4_FN(tf_dw4_r2c_s##S, TF_DW4_ROWS2, TF_DW4_Q_S(S), TF_DW4_CLAMP_LO);) \
    TF_DW4_IF_D0(TF_DW4_FN(tf_dw4_r1d_s##S, TF_DW4_ROWS1, TF_DW4_Q_S(S), TF_DW4_CLAMP);) \
    TF_DW4_IF_D1(TF_DW4_FN(tf_dw4_r3d_s##S, TF_DW4_ROWS3, TF_DW4_Q_S(S), TF_DW4_CLAMP);) \
    TF_DW4_IF_D2(TF_DW4_FN(tf_dw4_rkd_s##S, TF_DW4_ROWK, TF_DW4_Q_S(S), TF_DW4_CLAMP);) \
    TF_DW4_IF_D3(TF_DW4_FN(tf_dw4_r2d_s##S, TF_DW4_ROWS2, TF_DW4_Q_S(S), TF_DW4_CLAMP);) \
    static const tf_dw4_run_fn tf_dw4_s##S[4][4] = { \
        {TF_DW4_PICK_A0(tf_dw4_r1a_s##S), TF_DW4_PICK_A1(tf_dw4_r3a_s##S), TF_DW4_PICK_A2(tf_dw4_rka_s##S), TF_DW4_PICK_A3(tf_dw4_r2a_s##S)}, \
        {TF_DW4_PICK_B0(tf_dw4_r1b_s##S), TF_DW4_PICK_B1(tf_dw4_r3b_s##S), TF_DW4_PICK_B2(tf_dw4_rkb_s##S), TF_DW4_PICK_B3(tf_dw4_r2b_s##S)}, \
        {TF_DW4_PICK_C0(tf_dw4_r1c_s##S), TF_DW4_PICK_C1(tf_dw4_r3c_s##S), TF_DW4_PICK_C2(tf_dw4_rkc_s##S), TF_DW4_PICK_C3(tf_dw4_r2c_s##S)}, \
        {TF_DW4_PICK_D0(tf_dw4_r1d_s##S), TF_DW4_PICK_D1(tf_dw4_r3d_s##S), TF_DW4_PICK_D2(tf_dw4_rkd_s##S), TF_DW4_PICK_D3(tf_dw4_r2d_s##S)}, \
    };
#if TF_DSP_DW4_SHIFTS & (1u << 1)
TF_DW4_SDEF(1)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 2)
TF_DW4_SDEF(2)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 3)
TF_DW4_SDEF(3)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 4)
TF_DW4_SDEF(4)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 5)
TF_DW4_SDEF(5)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 6)
TF_DW4_SDEF(6)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 7)
TF_DW4_SDEF(7)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 8)
TF_DW4_SDEF(8)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 9)
TF_DW4_SDEF(9)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 10)
TF_DW4_SDEF(10)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 11)
TF_DW4_SDEF(11)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 12)
TF_DW4_SDEF(12)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 13)
TF_DW4_SDEF(13)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 14)
TF_DW4_SDEF(14)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 15)
TF_DW4_SDEF(15)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 16)
TF_DW4_SDEF(16)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 17)
TF_DW4_SDEF(17)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 18)
TF_DW4_SDEF(18)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 19)
TF_DW4_SDEF(19)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 20)
TF_DW4_SDEF(20)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 21)
TF_DW4_SDEF(21)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 22)
TF_DW4_SDEF(22)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 23)
TF_DW4_SDEF(23)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 24)
TF_DW4_SDEF(24)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 25)
TF_DW4_SDEF(25)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 26)
TF_DW4_SDEF(26)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 27)
TF_DW4_SDEF(27)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 28)
TF_DW4_SDEF(28)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 29)
TF_DW4_SDEF(29)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 30)
TF_DW4_SDEF(30)
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 31)
TF_DW4_SDEF(31)
#endif

/* the shift runs for S and clamp k (as in TF_DSP_DW4_VARIANTS), 0 if none is compiled in */
static const tf_dw4_run_fn *tf_dw4_shift_fns(int32_t s, int k)
{
    (void)k;
    switch (s) {
#if TF_DSP_DW4_SHIFTS & (1u << 1)
    case 1:
        return tf_dw4_s1[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 2)
    case 2:
        return tf_dw4_s2[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 3)
    case 3:
        return tf_dw4_s3[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 4)
    case 4:
        return tf_dw4_s4[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 5)
    case 5:
        return tf_dw4_s5[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 6)
    case 6:
        return tf_dw4_s6[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 7)
    case 7:
        return tf_dw4_s7[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 8)
    case 8:
        return tf_dw4_s8[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 9)
    case 9:
        return tf_dw4_s9[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 10)
    case 10:
        return tf_dw4_s10[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 11)
    case 11:
        return tf_dw4_s11[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 12)
    case 12:
        return tf_dw4_s12[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 13)
    case 13:
        return tf_dw4_s13[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 14)
    case 14:
        return tf_dw4_s14[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 15)
    case 15:
        return tf_dw4_s15[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 16)
    case 16:
        return tf_dw4_s16[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 17)
    case 17:
        return tf_dw4_s17[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 18)
    case 18:
        return tf_dw4_s18[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 19)
    case 19:
        return tf_dw4_s19[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 20)
    case 20:
        return tf_dw4_s20[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 21)
    case 21:
        return tf_dw4_s21[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 22)
    case 22:
        return tf_dw4_s22[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 23)
    case 23:
        return tf_dw4_s23[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 24)
    case 24:
        return tf_dw4_s24[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 25)
    case 25:
        return tf_dw4_s25[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 26)
    case 26:
        return tf_dw4_s26[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 27)
    case 27:
        return tf_dw4_s27[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 28)
    case 28:
        return tf_dw4_s28[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 29)
    case 29:
        return tf_dw4_s29[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 30)
    case 30:
        return tf_dw4_s30[k];
#endif
#if TF_DSP_DW4_SHIFTS & (1u << 31)
    case 31:
        return tf_dw4_s31[k];
#endif
    default:
        break;
    }
    return 0;
}

/* [variant][run] as in TF_DSP_DW4_VARIANTS */
static const tf_dw4_run_fn tf_dw4_run_fns[3][4] = {
    {tf_dw4_r1_k, tf_dw4_r3_k, tf_dw4_rk_k, tf_dw4_r2_k},
    {tf_dw4_r1_ck, tf_dw4_r3_ck, tf_dw4_rk_ck, tf_dw4_r2_ck},
    {tf_dw4_r1_cc, tf_dw4_r3_cc, tf_dw4_rk_cc, tf_dw4_r2_cc},
};
#endif

/* One group of four channels: per tap the doubled weights as lanes (c0, c2), (c1, c3) in the
 * layer's view (below); the accumulator starts without the input offset folded in; the
 * requantization constants as (mult, kq) pairs and the right shifts. */
typedef struct {
    int32_t start[4];
    int32_t mk[8];
    int32_t rs[4];
    const int32_t *w;                   /* the weights: the last 2 * taps words of wbuf */
    int32_t wbuf[2 * TF_DW4_MAX_TAPS];  /* (ending where run starts: tf_dw4_rk_* stop there) */
    tf_dw4_run_t run;                   /* the same constants for the assembly */
    int32_t variant;  /* of the assembly (tf_dw4_run_fns) */
    int32_t s;        /* 0, or the layer's shift S: this group requantizes with SMMLA, >> S (mk: kq') */
    int32_t shift;    /* the layer's S (0: none), tried per group by tf_dw4_setup */
    const tf_dw4_run_fn *sfns; /* its shift runs (0: none compiled in) */
} tf_dw4_t;

/* The layer in a view where the kernel's longer side runs along the columns (time filters k x 1
 * are seen transposed): byte steps of the input and output along view rows and columns. */
typedef struct {
    const int8_t *in;
    int8_t *out;
    int32_t kh, kw, sh, sw, dh, dw, pad_h, pad_w, in_h, in_w, oh, ow;
    int32_t in_r, in_c, out_r, out_c; /* byte steps: input row / column, output row / column */
    int32_t ox_lo, ox_hi;             /* output columns whose taps are all inside the input's columns */
    int32_t border_runs;              /* 1: some border segment has 3 outputs or more (tf_dw4_border) */
    uint32_t off;                     /* the input offset (-zp) in both lanes */
    uint32_t zp4;                     /* the input zero point in each byte (border copies) */
    uint32_t lo4, hi4;                /* the activation range in each byte */
    int32_t clamp;                    /* 1: the activation range is not all of int8 */
} tf_dw4_layer_t;

/* one tap of four channels: input word at x, weights at w */
#define TF_DW4_TAP(x, w)                                                                                          \
    do {                                                                                                          \
        const uint32_t v_ = (uint32_t)tf_ld32(x);                                                                 \
        const int32_t e_ = tf_sxtab16((int32_t)off, v_), o_ = tf_sxtab16_ror8((int32_t)off, v_);                  \
        const int32_t we_ = (w)[0], wo_ = (w)[1];                                                                 \
        a0 = tf_smlabb(e_, we_, a0);                                                                              \
        a2 = tf_smlatt(e_, we_, a2);                                                                              \
        a1 = tf_smlabb(o_, wo_, a1);                                                                              \
        a3 = tf_smlatt(o_, wo_, a3);                                                                              \
    } while (0)

/* four accumulators -> four int8 outputs in one word; `corr`: the rounding correction (needed
 * unless the activation minimum is at least the output zero point: then a negative accumulator
 * ends at the minimum however its last shift rounds, see tf_dsp_requant_fast) */
/* acc + the high word of a*b, rounded down: acc + ((a*b) >> 32), wrapping (SMMLA) */
TF_INLINE int32_t tf_dw4_smmla(int32_t a, int32_t b, int32_t acc)
{
#if TF_DSP_NATIVE
    int32_t r;
    __asm__("smmla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
#else
    return (int32_t)((uint32_t)acc + (uint32_t)(int32_t)(((int64_t)a * (int64_t)b) >> 32));
#endif
}

TF_INLINE uint32_t tf_dw4_q(const tf_dw4_t *g, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int corr)
{
    if (TF_DW4_SHIFTING && !corr && g->s) {
        /* the shift requantization (tf_dw4_setup): scaled accumulators, SMMLA, one shift */
        const int32_t S = g->s;
        return tf_dsp_pack4(tf_ssat8(tf_dw4_smmla(a0, g->mk[0], g->mk[1]) >> S),
                            tf_ssat8(tf_dw4_smmla(a1, g->mk[2], g->mk[3]) >> S),
                            tf_ssat8(tf_dw4_smmla(a2, g->mk[4], g->mk[5]) >> S),
                            tf_ssat8(tf_dw4_smmla(a3, g->mk[6], g->mk[7]) >> S));
    }
    if (corr) {
        return tf_dsp_pack4(tf_ssat8(tf_dsp_requant(a0, g->mk[0], g->mk[1], g->rs[0])),
                            tf_ssat8(tf_dsp_requant(a1, g->mk[2], g->mk[3], g->rs[1])),
                            tf_ssat8(tf_dsp_requant(a2, g->mk[4], g->mk[5], g->rs[2])),
                            tf_ssat8(tf_dsp_requant(a3, g->mk[6], g->mk[7], g->rs[3])));
    }
    return tf_dsp_pack4(tf_dsp_requant_fast(a0, g->mk[0], g->mk[1], g->rs[0]),
                        tf_dsp_requant_fast(a1, g->mk[2], g->mk[3], g->rs[1]),
                        tf_dsp_requant_fast(a2, g->mk[4], g->mk[5], g->rs[2]),
                        tf_dsp_requant_fast(a3, g->mk[6], g->mk[7], g->rs[3]));
}

/* n outputs along a view row, `sstep` input bytes apart, each from `rows` kernel rows (rstep apart)
 * of K taps (cstep apart; K a constant where this is inlined, else kw), weights from w (wrow words
 * between kernel rows) */
TF_INLINE int8_t *tf_dw4_run_body(const tf_dw4_layer_t *L, const tf_dw4_t *g, const int8_t *x, int32_t n,
                                  int32_t rows, const int32_t *w, int8_t *o, int K, int corr)
{
    const uint32_t off = L->off;
    const int32_t sstep = L->sw * L->in_c, cstep = L->dw * L->in_c, rstep = L->dh * L->in_r, ostep = L->out_c;
    const int32_t kw = K ? K : L->kw, wrow = 2 * L->kw;
    do {
        int32_t a0 = g->start[0], a1 = g->start[1], a2 = g->start[2], a3 = g->start[3];
        const int8_t *xr = x;
        const int32_t *wr = w;
        int32_t r = rows;
        uint32_t q;
        do {
            if (K == 3) {
                TF_DW4_TAP(xr, wr);
                TF_DW4_TAP(xr + cstep, wr + 2);
                TF_DW4_TAP(xr + 2 * cstep, wr + 4);
            } else {
                const int8_t *xc = xr;
                const int32_t *wc = wr;
                int32_t k = kw;
                do {
                    TF_DW4_TAP(xc, wc);
                    xc += cstep;
                    wc += 2;
                } while (--k);
            }
            xr += rstep;
            wr += wrow;
        } while (--r);
        q = tf_dw4_q(g, a0, a1, a2, a3, corr);
        if (L->clamp) {
            q = tf_dsp_clamp4(q, L->lo4, L->hi4);
        }
        memcpy(o, &q, sizeof q);
        o += ostep;
        x += sstep;
    } while (--n);
    return o;
}

/* one output with the taps [kx0, kx1) of the kernel rows [ky0, ky1) (its valid ones) */
TF_INLINE void tf_dw4_one(const tf_dw4_layer_t *L, const tf_dw4_t *g, const int8_t *x, int32_t rows, int32_t cols,
                          const int32_t *w, int8_t *o, int corr)
{
    const uint32_t off = L->off;
    const int32_t cstep = L->dw * L->in_c, rstep = L->dh * L->in_r, wrow = 2 * L->kw;
    int32_t a0 = g->start[0], a1 = g->start[1], a2 = g->start[2], a3 = g->start[3];
    uint32_t q;
    for (; rows > 0; --rows) {
        const int8_t *xc = x;
        const int32_t *wc = w;
        int32_t k;
        for (k = cols; k > 0; --k) {
            TF_DW4_TAP(xc, wc);
            xc += cstep;
            wc += 2;
        }
        x += rstep;
        w += wrow;
    }
    q = tf_dw4_q(g, a0, a1, a2, a3, corr);
    if (L->clamp) {
        q = tf_dsp_clamp4(q, L->lo4, L->hi4);
    }
    memcpy(o, &q, sizeof q);
}

#if TF_DSP_NATIVE
#define TF_DW4_BORDER_WORDS 192

/* The assembly run of `rows` valid kernel rows (0 if not linked) */
TF_INLINE tf_dw4_run_fn tf_dw4_pick(const tf_dw4_layer_t *L, const tf_dw4_t *g, int32_t rows)
{
    const int32_t run = L->kw == 3 ? (rows == 1 ? 0 : rows == 3 ? 1 : 3) : L->kh == 1 ? 2 : -1;
    return run < 0 ? 0 : g->s ? (g->sfns ? g->sfns[run] : 0) : tf_dw4_run_fns[g->variant][run];
}

/* Border outputs [oa, ob) of a view row by the run `fn` on a copy of the input words they read
 * (`rows` kernel rows from xrow, dh input rows apart), the padding as the input zero point in every
 * byte (SXTAB16 adds the offset: padded taps add 0). 0 if the copy does not fit. */
static int tf_dw4_border(const tf_dw4_layer_t *L, tf_dw4_t *g, tf_dw4_run_fn fn, const int8_t *xrow, int32_t rows,
                         const int32_t *w, int32_t oa, int32_t ob, int8_t *o)
{
    uint32_t buf[TF_DW4_BORDER_WORDS];
    tf_dw4_run_t *const a = &g->run;
    const int32_t cnt = (ob - 1 - oa) * L->sw + (L->kw - 1) * L->dw + 1, ix0 = oa * L->sw - L->pad_w;
    const int32_t cstep = a->cstep, sstep = a->sstep, rstep = a->rstep;
    int32_t r, i;
    if (cnt * rows > TF_DW4_BORDER_WORDS) {
        return 0;
    }
    for (r = 0; r < rows; ++r) {
        const int8_t *const xr = xrow + r * L->dh * L->in_r;
        uint32_t *const br = buf + r * cnt;
        for (i = 0; i < cnt; ++i) {
            const int32_t ix = ix0 + i;
            br[i] = ix >= 0 && ix < L->in_w ? (uint32_t)tf_ld32(xr + ix * L->in_c) : L->zp4;
        }
    }
    a->cstep = 4 * L->dw;
    a->sstep = 4 * L->sw;
    a->rstep = L->kh == 1 && L->kw != 3 ? L->kw * a->cstep : 4 * cnt;
    a->w = w;
    a->x = (const int8_t *)buf - a->sstep;
    a->out = o - a->ostep;
    a->x_last = (const int8_t *)buf + (ob - oa - 1) * a->sstep;
    fn(a);
    a->cstep = cstep;
    a->sstep = sstep;
    a->rstep = rstep;
    return 1;
}
#endif

/* All outputs of one group of four channels (at byte `c` of every position). */
TF_INLINE void tf_dw4_group_body(const tf_dw4_layer_t *L, tf_dw4_t *g, int32_t c, int corr)
{
    const int32_t kw = L->kw, W = L->in_w;
    const int8_t *const in = L->in + c;
    int8_t *const out = L->out + c;
    int32_t oy;
    for (oy = 0; oy < L->oh; ++oy) {
        const int32_t iy0 = oy * L->sh - L->pad_h;
        int8_t *o = out + oy * L->out_r;
        int32_t ky0 = 0, ky1 = L->kh, ox;
        const int8_t *xrow;
#if TF_DSP_NATIVE
        tf_dw4_run_fn fn;
#endif
        while (iy0 + ky0 * L->dh < 0) {
            ++ky0;
        }
        while (ky1 > ky0 && iy0 + (ky1 - 1) * L->dh >= L->in_h) {
            --ky1;
        }
        xrow = in + (iy0 + ky0 * L->dh) * L->in_r;
#if TF_DSP_NATIVE
        fn = ky1 > ky0 ? tf_dw4_pick(L, g, ky1 - ky0) : 0;
#endif
        for (ox = 0; ox < L->ow; ++ox) {
            const int32_t ix0 = ox * L->sw - L->pad_w;
            int32_t kx0 = 0, kx1 = kw;
            if (ox == L->ox_lo && ox < L->ox_hi && ky1 > ky0) {
                /* the run of interior columns */
                const int32_t n = L->ox_hi - ox;
                const int8_t *x = xrow + ix0 * L->in_c;
                const int32_t *w = g->w + 2 * ky0 * kw;
#if TF_DSP_NATIVE
                if (fn) {
                    tf_dw4_run_t *const a = &g->run;
                    a->w = w;
                    a->x = x - a->sstep;
                    a->out = o - a->ostep;
                    a->x_last = x + (n - 1) * a->sstep;
                    fn(a);
                    o += n * a->ostep;
                    ox += n - 1;
                    continue;
                }
#endif
                o = tf_dw4_run_body(L, g, x, n, ky1 - ky0, w, o, 0, corr);
                ox += n - 1;
                continue;
            }
#if TF_DSP_NATIVE
            if (L->border_runs && fn) {
                /* the border outputs up to the interior run (or the row's end) in one run on a copy,
                 * three or more of them (fewer cost less in C: ~100 instructions each) */
                const int32_t ob = ox < L->ox_lo && L->ox_lo < L->ox_hi ? L->ox_lo : L->ow;
                if (ob - ox >= 3 && tf_dw4_border(L, g, fn, xrow, ky1 - ky0, g->w + 2 * ky0 * kw, ox, ob, o)) {
                    o += (ob - ox) * L->out_c;
                    ox = ob - 1;
                    continue;
                }
            }
#endif
            while (ix0 + kx0 * L->dw < 0) {
                ++kx0;
            }
            while (kx1 > kx0 && ix0 + (kx1 - 1) * L->dw >= W) {
                --kx1;
            }
            tf_dw4_one(L, g, xrow + (ix0 + kx0 * L->dw) * L->in_c, ky1 - ky0, kx1 - kx0, g->w + 2 * (ky0 * kw + kx0),
                       o, corr);
            o += L->out_c;
        }
    }
}

TF_NOINLINE void tf_dw4_group(const tf_dw4_layer_t *L, tf_dw4_t *g, int32_t c, int corr)
{
    tf_dw4_group_body(L, g, c, corr);
}

/* (lo16(w) << ea, hi16(w) << eb) in int16 lanes (they fit: tf_dw4_shift_setup) */
static int32_t tf_dw4_scale2(int32_t w, int32_t ea, int32_t eb)
{
    const int32_t lo = ((int32_t)(((uint32_t)w & 0xffffu) ^ 0x8000u) - 0x8000) * (1 << ea);
    const int32_t hi = (w >> 16) * (1 << eb);
    return (int32_t)(((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16));
}

/* The shift requantization of a group, where it fits (else the group keeps SMMLAR, ASR by rshift):
 * with e = S - rshift (1..7 per channel, the layer's S = its largest rshift + 1), the weights and
 * the start scaled by 2^e and kq' = kq * 2^e + 2^(e - 1),
 *   floor((a 2^e m + kq' 2^32) / 2^(32+S)) = floor((a m 2^e + 2^(31+e) + kq 2^(32+e)) / 2^(32+rs+e))
 *                                         = floor((a m + 2^31 + kq 2^32) / 2^(32+rs))
 * for every accumulator a, and the right side is SMMLAR then ASR by rs (nested floors with integer
 * divisors: floor(floor(x / p) / q) = floor(x / (p q))); the left one SMMLA then ASR #S. Fits: 2w 2^e
 * in int16 (e <= 7); |start|, |kq| < 2^(30-e), so the accumulator (|start| 2^e + taps 255 2^(8+e) <
 * 2^30 + 2^29 with taps <= 64) and kq' stay in int32 (tinyforge/kernels/ops/dsp/conv.py direct_shift
 * checks the same). */
static void tf_dw4_shift_setup(tf_dw4_t *g, int32_t taps, int32_t lo_k, int32_t zp2p1)
{
    const int32_t S = g->shift;
    int32_t e[4], kl[4], j, t;
    for (j = 0; j < 4; ++j) {
        const int32_t rs = g->rs[j], ej = S - rs;
        const int32_t kq = g->mk[2 * j + 1], lim = ej >= 1 && ej <= 7 ? 1 << (30 - ej) : 0;
        kl[j] = lo_k != TF_DW4_NO_K ? tf_dsp_kq(zp2p1 - 2 * lo_k, rs) : kq;
        if (!lim || g->start[j] <= -lim || g->start[j] >= lim || kq <= -lim || kq >= lim || kl[j] <= -lim ||
            kl[j] >= lim) {
            return;
        }
        e[j] = ej;
    }
    g->s = S;
    for (j = 0; j < 4; ++j) {
        const int32_t h = 1 << (e[j] - 1);
        g->start[j] *= 2 * h;
        g->run.start[j] = g->start[j];
        g->mk[2 * j + 1] = g->mk[2 * j + 1] * 2 * h + h;
        g->run.q[2 * j] = g->mk[2 * j];
        g->run.q[2 * j + 1] = kl[j] * 2 * h + h;
    }
    for (t = 0; t < taps; ++t) {
        int32_t *const w = g->wbuf + 2 * (TF_DW4_MAX_TAPS - taps + t);
        w[0] = tf_dw4_scale2(w[0], e[0], e[2]);
        w[1] = tf_dw4_scale2(w[1], e[1], e[3]);
    }
}

/* A group's weights (doubled, in the view's order: the packer transposed them with it) and constants.
 * lo_k: K of TF_DW4_K (TF_DW4_NO_K: SSUB8 / SEL clamps, with the rounding correction). */
TF_NOINLINE void tf_dw4_setup(const tf_dsp_depthwise_s8_params_t *p, tf_dw4_t *g, int32_t c, int32_t lo_k)
{
    const int32_t C = p->in_c, taps = p->k_h * p->k_w, zp = p->pad_value, zp2p1 = 2 * p->out_zp + 1;
    const int8_t *wsrc = p->weights + c;
    int32_t *const w = g->wbuf + 2 * (TF_DW4_MAX_TAPS - taps);
    int32_t t, j, sum[4] = {0, 0, 0, 0};
    g->w = w;
    for (t = 0; t < taps; ++t) {
        const uint32_t word = (uint32_t)tf_ld32(wsrc);
        const int32_t e = tf_sxtb16x2(word), o = tf_sxtb16x2_ror8(word);
        w[2 * t] = e;
        w[2 * t + 1] = o;
        /* the doubled weight sums of the four channels */
        sum[0] = tf_smlabb(e, 1, sum[0]);
        sum[2] = tf_smlatb(e, 1, sum[2]);
        sum[1] = tf_smlabb(o, 1, sum[1]);
        sum[3] = tf_smlatb(o, 1, sum[3]);
        wsrc += C;
    }
    g->variant = lo_k == TF_DW4_NO_K ? 2 : p->act_min < p->out_zp ? 1 : 0;
    for (j = 0; j < 4; ++j) {
        const int32_t packed = p->bias[c + j];
        const int32_t rs = p->rshift ? p->rshift[c + j] : tf_dsp_rshift(packed);
        const int32_t start = p->rshift ? packed : tf_dsp_start(packed);
        /* the plane path's start has the input offset folded in (its pads read zp) */
        g->start[j] = (int32_t)((uint32_t)start + (uint32_t)zp * (uint32_t)sum[j]);
        g->rs[j] = rs;
        g->mk[2 * j] = p->mult[p->per_channel ? c + j : 0];
        g->mk[2 * j + 1] = tf_dsp_kq(zp2p1, rs);
        g->run.start[j] = g->start[j];
        g->run.q[3 * j] = g->mk[2 * j];
        g->run.q[3 * j + 1] = lo_k != TF_DW4_NO_K ? tf_dsp_kq(zp2p1 - 2 * lo_k, rs) : g->mk[2 * j + 1];
        g->run.q[3 * j + 2] = rs;
    }
    g->s = 0;
    if (TF_DW4_SHIFTING && g->shift) {
        tf_dw4_shift_setup(g, taps, lo_k, zp2p1);
    }
}

void tf_dsp_depthwise_direct_s8(const tf_dsp_depthwise_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    tf_dw4_layer_t L;
    tf_dw4_t g;
    const int32_t C = p->in_c, zp = p->pad_value;
    const int corr = p->act_min < p->out_zp;
    /* the view: transposed when the kernel is taller than wide */
    const int tr = p->k_h > p->k_w;
    int32_t b, c, lo_k = TF_DW4_NO_K;
    (void)scratch;
    L.kh = tr ? p->k_w : p->k_h;
    L.kw = tr ? p->k_h : p->k_w;
    L.sh = tr ? p->stride_w : p->stride_h;
    L.sw = tr ? p->stride_h : p->stride_w;
    L.dh = tr ? p->dil_w : p->dil_h;
    L.dw = tr ? p->dil_h : p->dil_w;
    L.pad_h = tr ? p->pad_w : p->pad_h;
    L.pad_w = tr ? p->pad_h : p->pad_w;
    L.in_h = tr ? p->in_w : p->in_h;
    L.in_w = tr ? p->in_h : p->in_w;
    L.oh = tr ? p->out_w : p->out_h;
    L.ow = tr ? p->out_h : p->out_w;
    L.in_r = tr ? C : p->in_w * C;
    L.in_c = tr ? p->in_w * C : C;
    L.out_r = tr ? C : p->out_w * C;
    L.out_c = tr ? p->out_w * C : C;
    L.off = ((uint32_t)(-zp) & 0xffffu) * 0x10001u;
    L.zp4 = ((uint32_t)zp & 0xffu) * 0x01010101u;
    L.lo4 = ((uint32_t)p->act_min & 0xffu) * 0x01010101u;
    L.hi4 = ((uint32_t)p->act_max & 0xffu) * 0x01010101u;
    L.clamp = p->act_min > -128 || p->act_max < 127;
    /* interior columns: ix0 = ox * sw - pad_w >= 0 and ix0 + (kw - 1) * dw < in_w */
    L.ox_lo = (L.pad_w + L.sw - 1) / L.sw;
    {
        const int32_t last = L.in_w - 1 - (L.kw - 1) * L.dw + L.pad_w; /* ox * sw <= last */
        L.ox_hi = last < 0 ? 0 : TF_MIN(L.ow, last / L.sw + 1);
    }
    L.border_runs = L.ox_lo < L.ox_hi ? L.ox_lo >= 3 || L.ow - L.ox_hi >= 3 : L.ow >= 3;
    g.run.cstep = L.dw * L.in_c;
    g.run.off = L.off;
    g.run.sstep = L.sw * L.in_c;
    g.run.ostep = L.out_c;
    /* between kernel rows (3x3 runs); one kernel row of any length: taps * cstep (tf_dw4_rk_*) */
    g.run.rstep = L.kh == 1 && L.kw != 3 ? L.kw * g.run.cstep : L.dh * L.in_r;
    g.run.hi4 = L.hi4;
    g.run.lo4 = L.lo4;
    if ((p->act_max == 127 && p->act_min <= -1) || (p->act_min == -128 && p->act_max >= -1)) {
        /* the clamp folded into SSAT and QADD8 (TF_DW4_K; K a signed byte) where every lowered kq
         * fits: |2 (zp - K) + 1| < 2^9 and rshift <= 21 */
        int32_t ok = 1;
        for (c = 0; c < C; ++c) {
            ok &= (p->rshift ? p->rshift[c] : tf_dsp_rshift(p->bias[c])) <= 21;
        }
        if (ok) {
            lo_k = p->act_max == 127 ? p->act_min + 128 : p->act_max - 127;
            g.run.lo4 = ((uint32_t)lo_k & 0xffu) * 0x01010101u;
        }
    }
    /* the shift requantization (tf_dw4_shift_setup) where the packer chose it (without the
     * rounding correction, every rshift within 7 below S; conv.py direct_shift) */
    g.shift = p->act_min >= p->out_zp && p->shift >= 1 && p->shift <= 31 ? p->shift : 0;
    g.sfns = 0;
#if TF_DSP_NATIVE
    g.sfns = !g.shift                ? 0
             : lo_k != TF_DW4_NO_K   ? tf_dw4_shift_fns(g.shift, lo_k != 0)
             : p->act_max == 127     ? tf_dw4_shift_fns(g.shift, 2)
                                     : tf_dw4_shift_fns(g.shift, 3);
#endif
    for (b = 0; b < p->batches; ++b) {
        L.in = input + b * p->in_h * p->in_w * C;
        L.out = output + b * p->out_h * p->out_w * C;
        for (c = 0; c < C; c += 4) {
            tf_dw4_setup(p, &g, c, lo_k);
            tf_dw4_group(&L, &g, c, corr);
        }
    }
}

#if TF_DSP_NATIVE && (TF_DSP_DW_VARIANTS & 0xCF)
/* The row-of-3 run of the layer (3x3 kernels whose plane rows have 3 outputs, depth multiplier 1,
 * full int8 range), 0 if not linked */
static tf_dw3_fn tf_dw3t_pick(const tf_dw_layer_t *L, int32_t k12, int32_t dm)
{
    if (!k12 || dm != 1 || L->mode == 2 || L->rshift) {
        return 0;
    }
    if (L->ow != 3) {
        return k12 == 2 && L->ow % 3 == 0 ? (L->mode == 0 ? tf_dw3l_s2_fast : tf_dw3l_s2_round) : 0;
    }
    return k12 == 1 ? (L->mode == 0 ? tf_dw3t_s1_fast : tf_dw3t_s1_round)
                    : (L->mode == 0 ? tf_dw3t_s2_fast : tf_dw3t_s2_round);
}

/* All channels of the layer by the row-of-3 run `fn`: the gathers as tf_dsp_depthwise_s8, then per
 * channel its constants and doubled weight pairs straight into the run's struct (P Q or P U per
 * kernel row, as tf_dw_channel / tf_dw_3x3 build them) */
TF_NOINLINE void tf_dw3t_layer(const tf_dsp_depthwise_s8_params_t *p, const tf_dw_layer_t *L, tf_dw3_fn fn, int32_t s2,
                               const int8_t *input, int8_t *output, int16_t *plane0, int32_t ps, int32_t planes)
{
    const int32_t C = p->in_c;
    tf_dw3_t a;
    tf_dw3g_t gs;
    int32_t b, ic, g = 1;
    a.pw2 = 2 * L->pw;
    a.os = L->out_step_c;
    a.out_row = L->out_step_r;
    a.row_step = (s2 ? 4 : 2) * L->pw;
    a.pairs = 4 * L->ow; /* tf_dw3l_*: 12 bytes per three outputs */
    a.odd = 0;
    a.mstep = p->per_channel ? 4 : 0;
    a.zp2p1 = L->zp2p1;
    a.ps2 = 2 * ps;
    a.oh = L->oh;
    gs.pairs = L->g_cnt[0] >> 1;
    gs.step = L->in_step_c;
    gs.src_line = L->in_step_r;
    gs.dst_line = 2 * L->pw;
    gs.ps = 2 * ps;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * C;
        int8_t *out_b = output + b * p->out_h * p->out_w * C;
        for (ic = 0; ic < C; ic += g) {
            g = planes == 4 && C - ic >= 4 ? 4 : 1;
            if (g == 4 && L->rows > 0 && L->g_cnt[0] > 0 && (L->g_cnt[0] & 1) == 0) {
                gs.src = in_b + ic + L->g_src[0];
                gs.dst = plane0 + L->g_dst[0];
                gs.rows = L->rows;
                tf_dw3g_gather4(&gs);
            } else if (g == 4) {
                tf_dw_gather4(in_b + ic + L->g_src[0], L->rows, L->g_cnt[0], L->in_step_c, L->in_step_r,
                              plane0 + L->g_dst[0], L->pw, ps);
            } else {
                tf_dw_gather(in_b + ic + L->g_src[0], L->rows, L->g_cnt[0], L->in_step_c, L->in_step_r,
                             plane0 + L->g_dst[0], L->pw);
            }
            /* the run computes each channel's constants and weights (tf_dw3c_*) */
            a.bias_p = p->bias + ic;
            a.mult_p = p->mult + (p->per_channel ? ic : 0);
            a.wt = p->weights + 9 * ic;
            a.chans = g;
            a.x_ch = plane0;
            a.out_ch = out_b + ic;
            fn(&a);
        }
    }
}
#endif

void tf_dsp_depthwise_s8(const tf_dsp_depthwise_s8_params_t *p, const int8_t *input, int8_t *output, void *scratch)
{
    tf_dw_layer_t L;
    const int32_t cells = p->plane_h * p->plane_w;
    const int32_t tr = p->transpose;
    const int32_t dh = tr ? p->dil_w : p->dil_h, dw = tr ? p->dil_h : p->dil_w;
    const int32_t pad_r = tr ? p->pad_w : p->pad_h, pad_c = tr ? p->pad_h : p->pad_w;
    const int32_t ext_r = tr ? p->in_w : p->in_h, ext_c = tr ? p->in_h : p->in_w;
    const int32_t C = p->in_c, OC = p->out_c, dm = p->depth_mult, taps = p->k_h * p->k_w;
    const int full = p->act_min == -128 && p->act_max == 127;
    const int32_t ps = 2 * ((cells + 5) >> 1); /* cells from one plane to the next (4-byte aligned) */
    const int32_t planes = p->planes == 4 && p->in_c >= 4 ? 4 : 1;
    int16_t *const plane0 = (int16_t *)scratch;
    int32_t b, ic, m, i, f, np, r_lo, c_lo, r_hi, c_hi, k12, g = 1;
    L.plane = plane0;
    L.wbuf = (int32_t *)scratch + (p->planes == 4 ? 4 : 1) * (ps >> 1); /* after the planes */
    L.kh = tr ? p->k_w : p->k_h;
    L.kw = tr ? p->k_h : p->k_w;
    L.sh = tr ? p->stride_w : p->stride_h;
    L.sw = tr ? p->stride_h : p->stride_w;
    L.oh = tr ? p->out_w : p->out_h;
    L.ow = tr ? p->out_h : p->out_w;
    /* input byte steps along plane rows / columns; output byte steps along plane rows / columns */
    L.in_step_r = tr ? C : p->in_w * C;
    L.in_step_c = tr ? p->in_w * C : C;
    L.out_step_r = tr ? OC : p->out_w * OC;
    L.out_step_c = tr ? p->out_w * OC : OC;
    L.pw = p->plane_w;
    L.phases = TF_MIN(p->phases, TF_DW_MAX_PHASES);
    L.phase_w = L.pw / L.phases;
    np = (L.kw + 1) >> 1;
    L.mode = full ? (p->fast ? 0 : 1) : 2;
    L.zp2p1 = 2 * p->out_zp + 1;
    L.per_channel = p->per_channel;
    L.bias = p->bias;
    L.mult = p->mult;
    L.rshift = p->rshift;
    L.d.kh = L.kh;
    L.d.np = np;
    L.d.dh = dh;
    L.d.pw = L.pw;
    L.d.act_min = p->act_min;
    L.d.act_max = p->act_max;
    k12 = L.kh == 3 && L.kw == 3 && dh == 1 && dw == 1 && L.phases == 1 ? (L.sh == 1 && L.sw == 1 && (L.pw & 1) == 0 ? 1
                                                                           : L.sh == 2 && L.sw == 2               ? 2
                                                                                                                  : 0)
                                                                        : 0;
    if (k12 && TF_DW_KIND12(L.mode)) {
        L.kind = k12;
    } else if (L.phases == 1 && L.kh == 1 && np <= 4) {
        L.kind = 0;
    } else {
        L.kind = 3;
    }
    L.row1_fn = L.kind != 0 ? 0
                : (L.kw == 3 && L.sw == 1) ? tf_dw_row1_k3s1_fns[L.mode]
                                           : tf_dw_row1_fns[np - 1][L.mode];
    /* the rows and columns of the input the outputs read, and the gather of each phase (one
     * without dilation): input offset, cells, plane offset. Phase f holds the plane columns f,
     * f + phases, ... of the plane without phases, from the first input column >= c_lo in it. */
    r_lo = pad_r > 0 ? 0 : -pad_r;
    c_lo = pad_c > 0 ? 0 : -pad_c;
    r_hi = TF_MIN(ext_r, p->plane_h - pad_r);
    c_hi = TF_MIN(ext_c, L.phases * L.phase_w - pad_c);
    L.rows = r_hi - r_lo;
    for (f = 0; f < L.phases; ++f) {
        const int32_t c0 = c_lo + (((f - (c_lo + pad_c)) % L.phases) + L.phases) % L.phases;
        L.g_cnt[f] = c_hi > c0 ? (c_hi - c0 + L.phases - 1) / L.phases : 0;
        L.g_src[f] = r_lo * L.in_step_r + c0 * L.in_step_c;
        L.g_dst[f] = (r_lo + pad_r) * L.pw + f * L.phase_w + (c0 + pad_c) / L.phases;
    }
    { /* 4 more cells each: pairs of taps may read one past a line; two cells per word (ps is even) */
        const uint32_t pv = ((uint32_t)p->pad_value & 0xffffu) * 0x10001u;
        for (i = 0; i < planes * ps; i += 2) {
            memcpy(plane0 + i, &pv, sizeof pv);
        }
    }
#if TF_DSP_NATIVE && (TF_DSP_DW_VARIANTS & 0xCF)
    {
        const tf_dw3_fn fn3 = tf_dw3t_pick(&L, k12, dm);
        if (fn3) {
            tf_dw3t_layer(p, &L, fn3, k12 == 2, input, output, plane0, ps, planes);
            return;
        }
    }
#endif
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in_b = input + b * p->in_h * p->in_w * C;
        int8_t *out_b = output + b * p->out_h * p->out_w * OC;
        const int8_t *wsrc = p->weights;
        for (ic = 0; ic < C; ic += g) {
            int32_t k;
            g = planes == 4 && C - ic >= 4 ? 4 : 1;
            for (f = 0; f < L.phases; ++f) {
                if (g == 4) {
                    tf_dw_gather4(in_b + ic + L.g_src[f], L.rows, L.g_cnt[f], L.phases * L.in_step_c, L.in_step_r,
                                  plane0 + L.g_dst[f], L.pw, ps);
                } else {
                    tf_dw_gather(in_b + ic + L.g_src[f], L.rows, L.g_cnt[f], L.phases * L.in_step_c, L.in_step_r,
                                 plane0 + L.g_dst[f], L.pw);
                }
            }
            for (k = 0; k < g; ++k) {
                L.plane = plane0 + k * ps;
                for (m = 0; m < dm; ++m, wsrc += taps) {
                    tf_dw_channel(&L, wsrc, (ic + k) * dm + m, out_b + (ic + k) * dm + m);
                }
            }
        }
    }
}
