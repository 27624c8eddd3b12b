/* Helium int8 matrix core: see tf_mve_gemm.h.
 *
 * Pairs of rows run in one inline-assembly routine (tf_mve_pairs): 2 rows x 4 filters per block,
 * VMLADAVA.S8 accumulating 16 MACs per instruction into 8 general registers (the even registers
 * r0..r12 and lr, as VMLADAVA needs), then the block's 8 outputs requantized in two vectors and
 * narrowed into one (VQMOVNB/VQMOVNT: row 0 in the even, row 1 in the odd int16 lanes), clamped
 * there and written by one scatter store (VSTRB.16 with the offsets {0, out_c, 1, out_c + 1, ...}).
 * The layer's constants stay in q3..q6 and on a frame the routine pushes, so every register is
 * free for the loops. A row's dot product is [full 16-byte chunks][a predicated tail chunk of
 * k % 16 bytes]; the weights are zero padded. A last single row runs a 1 x 4 routine (tf_mve_row).
 *
 * Narrowing before the output zero point and the clamp is exact: with every channel shifting
 * right (the fast requantization) a result is within +-2^30, so int16 saturation then a
 * saturating int16 add of the zero point and the clamp to [act_min, act_max] (inside int8) give
 * what the int32 add and clamp give; the general requantization (a shift >= 0 reaches the int32
 * limits) adds the zero point in int32, wrapping like TFLM's int32 add, before narrowing. */
#include "tf_mve_gemm.h"

#include "tf_mve_common.h"

/* Which pieces a layer's dot products have (constant per layer, so every variant is inlined):
 * a first full chunk, then the k / 16 - 1 further full chunks as one chunk if their number is odd
 * and a loop over pairs of chunks if there are 2 or more, then a partial last chunk. */
enum { TF_MVE_FULL = 1, TF_MVE_ODD = 2, TF_MVE_PAIRS = 4, TF_MVE_TAIL = 8 };

/* ---- the pair routine ----------------------------------------------------------------------- */

/* Its arguments; the first 10 words become the frame at sp (offsets below). */
typedef struct {
    const int8_t *x0, *x1; /* rows of the current pair */
    int32_t loops; /* pairs of full chunks after the first (and the odd one) */
    int32_t tail; /* bytes of the partial last chunk */
    const int8_t *w;
    const int32_t *q;
    int8_t *yend; /* end of row 0's outputs of the current pair */
    int32_t pairs;
    int32_t step; /* 2 * x_stride */
    int32_t out_c;
    int32_t zp, lo, hi;
    uint16_t offs[8]; /* scatter offsets of the narrowed outputs */
} tf_mve_pair_args_t;

/* accumulators: row 0 filters 0..3 in r0, r2, r4, r6; row 1 in r8, r10, r12, lr */
#define TF_MVE_MACS(op)                                                                                               \
    "vldrb.u8 q2, [r1], #16\n\t" op " r0, q0, q2\n\t" op " r8, q1, q2\n\t"                                            \
    "vldrb.u8 q2, [r1], #16\n\t" op " r2, q0, q2\n\t" op " r10, q1, q2\n\t"                                           \
    "vldrb.u8 q2, [r1], #16\n\t" op " r4, q0, q2\n\t" op " r12, q1, q2\n\t"                                           \
    "vldrb.u8 q2, [r1], #16\n\t" op " r6, q0, q2\n\t" op " lr, q1, q2\n\t"
#define TF_MVE_X2 "vldrb.u8 q0, [r3], #16\n\tvldrb.u8 q1, [r5], #16\n\t"
#define TF_MVE_X2_TAIL "ldr r7, [sp, #12]\n\tvctp.8 r7\n\tvpstt\n\tvldrbt.u8 q0, [r3]\n\tvldrbt.u8 q1, [r5]\n\t"

#define TF_MVE_P_FIRST TF_MVE_X2 TF_MVE_MACS("vmlav.s8")
#define TF_MVE_P_ODD TF_MVE_X2 TF_MVE_MACS("vmlava.s8")
#define TF_MVE_P_LOOP                                                                                                 \
    "1:\n\t" TF_MVE_X2 TF_MVE_MACS("vmlava.s8") TF_MVE_X2 TF_MVE_MACS("vmlava.s8") "subs r7, #1\n\tbne 1b\n\t"
#define TF_MVE_P_TAIL TF_MVE_X2_TAIL TF_MVE_MACS("vmlava.s8")
#define TF_MVE_P_TAIL_ONLY TF_MVE_X2_TAIL TF_MVE_MACS("vmlav.s8")

/* The accumulators to q0 (row 0) and q1 (row 1), + bias, x multiplier (general: << left shift
 * first), rounding fix-up for negative values, rounding right shift. Fast: every channel shifts
 * right (q params bias, multiplier, -right shift), so the fix-up is the sign; general: the
 * fix-up only where the right shift is not 0 (q params bias, multiplier, left, -right shift). */
#define TF_MVE_P_GATHER                                                                                               \
    "vmov q0[2], q0[0], r0, r4\n\t"                                                                                   \
    "vmov q0[3], q0[1], r2, r6\n\t"                                                                                   \
    "vmov q1[2], q1[0], r8, r12\n\t"                                                                                  \
    "vmov q1[3], q1[1], r10, lr\n\t"                                                                                  \
    "vldrw.u32 q2, [r9], #16\n\t"                                                                                     \
    "vadd.i32 q0, q0, q2\n\t"                                                                                         \
    "vadd.i32 q1, q1, q2\n\t"                                                                                         \
    "vldrw.u32 q2, [r9], #16\n\t"
#define TF_MVE_P_REQ_FAST                                                                                             \
    TF_MVE_P_GATHER "vqrdmulh.s32 q0, q0, q2\n\t"                                                                     \
                    "vqrdmulh.s32 q1, q1, q2\n\t"                                                                     \
                    "vldrw.u32 q2, [r9], #16\n\t"                                                                     \
                    "vshr.s32 q7, q0, #31\n\t"                                                                        \
                    "vqadd.s32 q0, q0, q7\n\t"                                                                        \
                    "vshr.s32 q7, q1, #31\n\t"                                                                        \
                    "vqadd.s32 q1, q1, q7\n\t"                                                                        \
                    "vrshl.s32 q0, q0, q2\n\t"                                                                        \
                    "vrshl.s32 q1, q1, q2\n\t"                                                                        \
                    "vqmovnb.s32 q2, q0\n\t"                                                                          \
                    "vqmovnt.s32 q2, q1\n\t"                                                                          \
                    "vqadd.s16 q2, q2, q3\n\t"
/* general: the result may reach the int32 limits, so the zero point is added in int32 (wrapping,
 * as TFLM's int32 add) before the narrowing */
#define TF_MVE_P_REQ_GENERAL                                                                                          \
    TF_MVE_P_GATHER "vldrw.u32 q7, [r9], #16\n\t"                                                                     \
                    "vshl.s32 q0, q0, q7\n\t"                                                                         \
                    "vshl.s32 q1, q1, q7\n\t"                                                                         \
                    "vqrdmulh.s32 q0, q0, q2\n\t"                                                                     \
                    "vqrdmulh.s32 q1, q1, q2\n\t"                                                                     \
                    "vldrw.u32 q2, [r9], #16\n\t"                                                                     \
                    "vand q7, q0, q2\n\t"                                                                             \
                    "vshr.s32 q7, q7, #31\n\t"                                                                        \
                    "vqadd.s32 q0, q0, q7\n\t"                                                                        \
                    "vand q7, q1, q2\n\t"                                                                             \
                    "vshr.s32 q7, q7, #31\n\t"                                                                        \
                    "vqadd.s32 q1, q1, q7\n\t"                                                                        \
                    "vrshl.s32 q0, q0, q2\n\t"                                                                        \
                    "vrshl.s32 q1, q1, q2\n\t"                                                                        \
                    "vadd.i32 q0, q0, q3\n\t"                                                                         \
                    "vadd.i32 q1, q1, q3\n\t"                                                                         \
                    "vqmovnb.s32 q2, q0\n\t"                                                                          \
                    "vqmovnt.s32 q2, q1\n\t"
#define TF_MVE_P_CLAMP "vmax.s16 q2, q2, q4\n\tvmin.s16 q2, q2, q5\n\t"
/* all 4 filters of every block are real */
#define TF_MVE_P_STORE                                                                                                \
    "vstrb.16 q2, [r11, q6]\n\t"                                                                                      \
    "add r11, #4\n\t"                                                                                                 \
    "ldr r3, [sp, #24]\n\t"                                                                                           \
    "cmp r11, r3\n\t"                                                                                                 \
    "blo 2b\n\t"
/* out_c % 4 != 0: the lanes of the channels left (2 per channel) */
#define TF_MVE_P_STORE_PART                                                                                           \
    "ldr r3, [sp, #24]\n\t"                                                                                           \
    "subs r3, r3, r11\n\t"                                                                                            \
    "lsls r3, r3, #1\n\t"                                                                                             \
    "vctp.16 r3\n\t"                                                                                                  \
    "vpst\n\t"                                                                                                        \
    "vstrbt.16 q2, [r11, q6]\n\t"                                                                                     \
    "add r11, #4\n\t"                                                                                                 \
    "cmp r3, #8\n\t"                                                                                                  \
    "bgt 2b\n\t"

/* frame: 0 x0, 4 x1, 8 loops, 12 tail, 16 w, 20 q, 24 yend, 28 pairs, 32 step, 36 out_c */
#define TF_MVE_P_ASM(dot, req, dup, store)                                                                            \
    __asm__ volatile("ldm r1, {r0, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12}\n\t"                                \
                     "push {r0, r2, r3, r4, r5, r6, r7, r8, r9, r10}\n\t"                                             \
                     dup " q3, r11\n\t"                                                                               \
                     "vdup.16 q4, r12\n\t"                                                                            \
                     "ldr r12, [r1, #48]\n\t"                                                                         \
                     "vdup.16 q5, r12\n\t"                                                                            \
                     "vldrh.u16 q6, [r1, #52]\n\t"                                                                    \
                     "sub r11, r7, r10\n"                                                                             \
                     "3:\n\t"                                                                                         \
                     "ldr r1, [sp, #16]\n\t"                                                                          \
                     "ldr r9, [sp, #20]\n"                                                                            \
                     "2:\n\t"                                                                                         \
                     "ldm sp, {r3, r5, r7}\n\t" dot req TF_MVE_P_CLAMP store                                          \
                     "ldr r3, [sp, #24]\n\t"                                                                          \
                     "ldr r4, [sp, #36]\n\t"                                                                          \
                     "add r11, r3, r4\n\t"                                                                            \
                     "add r3, r11, r4\n\t"                                                                            \
                     "str r3, [sp, #24]\n\t"                                                                          \
                     "ldm sp, {r0, r2}\n\t"                                                                           \
                     "ldr r4, [sp, #32]\n\t"                                                                          \
                     "add r0, r4\n\t"                                                                                 \
                     "add r2, r4\n\t"                                                                                 \
                     "stm sp, {r0, r2}\n\t"                                                                           \
                     "ldr r0, [sp, #28]\n\t"                                                                          \
                     "subs r0, #1\n\t"                                                                                \
                     "str r0, [sp, #28]\n\t"                                                                          \
                     "bne 3b\n\t"                                                                                     \
                     "add sp, #40"                                                                                    \
                     : "+r"(a)                                                                                        \
                     :                                                                                                \
                     : "r0", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "q0",         \
                       "q1", "q2", "q3", "q4", "q5", "q6", "q7", "p0", "cc", "memory")

/* the dot product of each shape (FULL | ODD | PAIRS | TAIL bits; TAIL alone for k < 16) */
#define TF_MVE_P_DOTS(req, dup, store)                                                                            \
    switch (shape) {                                                                                              \
    case TF_MVE_FULL: TF_MVE_P_ASM(TF_MVE_P_FIRST, req, dup, store); break;                                      \
    case TF_MVE_FULL | TF_MVE_ODD: TF_MVE_P_ASM(TF_MVE_P_FIRST TF_MVE_P_ODD, req, dup, store); break;           \
    case TF_MVE_FULL | TF_MVE_PAIRS: TF_MVE_P_ASM(TF_MVE_P_FIRST TF_MVE_P_LOOP, req, dup, store); break;        \
    case TF_MVE_FULL | TF_MVE_ODD | TF_MVE_PAIRS:                                                                 \
        TF_MVE_P_ASM(TF_MVE_P_FIRST TF_MVE_P_ODD TF_MVE_P_LOOP, req, dup, store);                                 \
        break;                                                                                                    \
    case TF_MVE_FULL | TF_MVE_TAIL: TF_MVE_P_ASM(TF_MVE_P_FIRST TF_MVE_P_TAIL, req, dup, store); break;         \
    case TF_MVE_FULL | TF_MVE_ODD | TF_MVE_TAIL:                                                                  \
        TF_MVE_P_ASM(TF_MVE_P_FIRST TF_MVE_P_ODD TF_MVE_P_TAIL, req, dup, store);                                 \
        break;                                                                                                    \
    case TF_MVE_FULL | TF_MVE_PAIRS | TF_MVE_TAIL:                                                                \
        TF_MVE_P_ASM(TF_MVE_P_FIRST TF_MVE_P_LOOP TF_MVE_P_TAIL, req, dup, store);                                \
        break;                                                                                                    \
    case TF_MVE_FULL | TF_MVE_ODD | TF_MVE_PAIRS | TF_MVE_TAIL:                                                   \
        TF_MVE_P_ASM(TF_MVE_P_FIRST TF_MVE_P_ODD TF_MVE_P_LOOP TF_MVE_P_TAIL, req, dup, store);                   \
        break;                                                                                                    \
    default: TF_MVE_P_ASM(TF_MVE_P_TAIL_ONLY, req, dup, store); break;                                            \
    }

TF_MVE_INLINE void tf_mve_pairs(const tf_mve_pair_args_t *args, int shape, int general, int part)
{
    register const tf_mve_pair_args_t *a __asm__("r1") = args;
    if (general) {
        if (part) {
            TF_MVE_P_DOTS(TF_MVE_P_REQ_GENERAL, "vdup.32", TF_MVE_P_STORE_PART)
        } else {
            TF_MVE_P_DOTS(TF_MVE_P_REQ_GENERAL, "vdup.32", TF_MVE_P_STORE)
        }
    } else {
        if (part) {
            TF_MVE_P_DOTS(TF_MVE_P_REQ_FAST, "vdup.16", TF_MVE_P_STORE_PART)
        } else {
            TF_MVE_P_DOTS(TF_MVE_P_REQ_FAST, "vdup.16", TF_MVE_P_STORE)
        }
    }
}

/* ---- a single row: 1 x 4 blocks ------------------------------------------------------------- */

/* Its arguments, in the order of the registers they are loaded into. */
typedef struct {
    int32_t zp, lo, hi; /* r0, r2, r4: to q3, q4, q5 */
    const int32_t *q; /* r5 */
    int8_t *y; /* r7 */
    const int8_t *x; /* r8 */
    int32_t loops; /* r9: full chunks after the first */
    int32_t tail; /* r10 */
    int8_t *yend; /* r11 */
    const int8_t *w; /* r12, then r1 */
} tf_mve_row_args_t;

/* accumulators r0, r2, r4, r6; x in r3, LR counts the chunks */
#define TF_MVE_R_MACS(op)                                                                                         \
    "vldrb.u8 q2, [r1], #16\n\t" op " r0, q0, q2\n\t"                                                           \
    "vldrb.u8 q2, [r1], #16\n\t" op " r2, q0, q2\n\t"                                                           \
    "vldrb.u8 q2, [r1], #16\n\t" op " r4, q0, q2\n\t"                                                           \
    "vldrb.u8 q2, [r1], #16\n\t" op " r6, q0, q2\n\t"
#define TF_MVE_R_FIRST "vldrb.u8 q0, [r3], #16\n\t" TF_MVE_R_MACS("vmlav.s8")
#define TF_MVE_R_LOOP "dls lr, r9\n1:\n\tvldrb.u8 q0, [r3], #16\n\t" TF_MVE_R_MACS("vmlava.s8") "le lr, 1b\n\t"
#define TF_MVE_R_X_TAIL "vctp.8 r10\n\tvpst\n\tvldrbt.u8 q0, [r3]\n\t"
#define TF_MVE_R_TAIL TF_MVE_R_X_TAIL TF_MVE_R_MACS("vmlava.s8")
#define TF_MVE_R_TAIL_ONLY TF_MVE_R_X_TAIL TF_MVE_R_MACS("vmlav.s8")
#define TF_MVE_R_GATHER                                                                                           \
    "vmov q0[2], q0[0], r0, r4\n\t"                                                                               \
    "vmov q0[3], q0[1], r2, r6\n\t"                                                                               \
    "vldrw.u32 q2, [r5], #16\n\t"                                                                                 \
    "vadd.i32 q0, q0, q2\n\t"                                                                                     \
    "vldrw.u32 q2, [r5], #16\n\t"
#define TF_MVE_R_REQ_FAST                                                                                         \
    TF_MVE_R_GATHER "vqrdmulh.s32 q0, q0, q2\n\t"                                                                 \
                    "vldrw.u32 q2, [r5], #16\n\t"                                                                 \
                    "vshr.s32 q7, q0, #31\n\t"
#define TF_MVE_R_REQ_GENERAL                                                                                      \
    TF_MVE_R_GATHER "vldrw.u32 q7, [r5], #16\n\t"                                                                 \
                    "vshl.s32 q0, q0, q7\n\t"                                                                     \
                    "vqrdmulh.s32 q0, q0, q2\n\t"                                                                 \
                    "vldrw.u32 q2, [r5], #16\n\t"                                                                 \
                    "vand q7, q0, q2\n\t"                                                                         \
                    "vshr.s32 q7, q7, #31\n\t"
#define TF_MVE_R_OUT                                                                                              \
    "vqadd.s32 q0, q0, q7\n\t"                                                                                    \
    "vrshl.s32 q0, q0, q2\n\t"                                                                                    \
    "vadd.i32 q0, q0, q3\n\t"                                                                                     \
    "vmax.s32 q0, q0, q4\n\t"                                                                                     \
    "vmin.s32 q0, q0, q5\n\t"
#define TF_MVE_R_STORE "vstrb.32 q0, [r7], #4\n\t"
#define TF_MVE_R_STORE_PART "subs r12, r11, r7\n\tvctp.32 r12\n\tvpst\n\tvstrbt.32 q0, [r7], #4\n\t"

#define TF_MVE_R_ASM(dot, req, store)                                                                             \
    __asm__ volatile("ldm r1, {r0, r2, r4, r5, r7, r8, r9, r10, r11, r12}\n\t"                                    \
                     "vdup.32 q3, r0\n\t"                                                                         \
                     "vdup.32 q4, r2\n\t"                                                                         \
                     "vdup.32 q5, r4\n\t"                                                                         \
                     "mov r1, r12\n"                                                                               \
                     "2:\n\t"                                                                                     \
                     "mov r3, r8\n\t" dot req TF_MVE_R_OUT store "cmp r7, r11\n\t"                                \
                     "blo 2b"                                                                                     \
                     : "+r"(a)                                                                                    \
                     :                                                                                            \
                     : "r0", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "q0",     \
                       "q1", "q2", "q3", "q4", "q5", "q6", "q7", "p0", "cc", "memory")

#define TF_MVE_R_DOTS(req, store)                                                                                 \
    switch (shape) {                                                                                              \
    case TF_MVE_FULL: TF_MVE_R_ASM(TF_MVE_R_FIRST, req, store); break;                                            \
    case TF_MVE_FULL | TF_MVE_TAIL: TF_MVE_R_ASM(TF_MVE_R_FIRST TF_MVE_R_TAIL, req, store); break;                \
    case TF_MVE_TAIL: TF_MVE_R_ASM(TF_MVE_R_TAIL_ONLY, req, store); break;                                        \
    default:                                                                                                      \
        if (shape & TF_MVE_TAIL) {                                                                                \
            TF_MVE_R_ASM(TF_MVE_R_FIRST TF_MVE_R_LOOP TF_MVE_R_TAIL, req, store);                                 \
        } else {                                                                                                  \
            TF_MVE_R_ASM(TF_MVE_R_FIRST TF_MVE_R_LOOP, req, store);                                               \
        }                                                                                                         \
        break;                                                                                                    \
    }

TF_MVE_INLINE void tf_mve_row(const tf_mve_gemm_t *g, const int8_t *x, int8_t *y, int shape, int general, int part)
{
    tf_mve_row_args_t args;
    register const tf_mve_row_args_t *a __asm__("r1") = &args;
    args.zp = g->output_offset;
    args.lo = g->act_min;
    args.hi = g->act_max;
    args.q = g->qparams;
    args.y = y;
    args.x = x;
    args.loops = (g->k >> 4) - 1;
    args.tail = g->k & 15;
    args.yend = y + g->out_c;
    args.w = g->weights;
    if (general) {
        if (part) {
            TF_MVE_R_DOTS(TF_MVE_R_REQ_GENERAL, TF_MVE_R_STORE_PART)
        } else {
            TF_MVE_R_DOTS(TF_MVE_R_REQ_GENERAL, TF_MVE_R_STORE)
        }
    } else {
        if (part) {
            TF_MVE_R_DOTS(TF_MVE_R_REQ_FAST, TF_MVE_R_STORE_PART)
        } else {
            TF_MVE_R_DOTS(TF_MVE_R_REQ_FAST, TF_MVE_R_STORE)
        }
    }
}

/* `rows` rows, x_stride bytes apart; outputs consecutive. */
TF_MVE_INLINE void tf_mve_rows(const tf_mve_gemm_t *g, const int8_t *x, int32_t x_stride, int32_t rows, int8_t *y,
                               int shape, int general, int part)
{
    if (rows >= 2) {
        tf_mve_pair_args_t a;
        int32_t i;
        a.x0 = x;
        a.x1 = x + x_stride;
        a.loops = ((g->k >> 4) - 1) >> 1;
        a.tail = g->k & 15;
        a.w = g->weights;
        a.q = g->qparams;
        a.yend = y + g->out_c;
        a.pairs = rows >> 1;
        a.step = 2 * x_stride;
        a.out_c = g->out_c;
        a.zp = g->output_offset;
        a.lo = g->act_min;
        a.hi = g->act_max;
        for (i = 0; i < 4; ++i) {
            a.offs[2 * i] = (uint16_t)i;
            a.offs[2 * i + 1] = (uint16_t)(g->out_c + i);
        }
        tf_mve_pairs(&a, shape, general, part);
    }
    if (rows & 1) {
        const int32_t last = rows - 1;
        tf_mve_row(g, x + last * x_stride, y + last * g->out_c, shape, general, part);
    }
}

TF_MVE_INLINE int tf_mve_shape(int32_t k)
{
    const int32_t more = (k >> 4) - 1; /* full chunks after the first */
    return ((k >= 16) ? TF_MVE_FULL : 0) | ((more > 0 && (more & 1)) ? TF_MVE_ODD : 0) |
           ((more >= 2) ? TF_MVE_PAIRS : 0) | ((k & 15) ? TF_MVE_TAIL : 0);
}

/* One instance per (shape, general requantization, partial last block): the layer decides it
 * once per call. TF_MVE_GEMM_VARIANTS has bit (shape | 16 * general | 32 * partial) set for each
 * a model's layers use: tinyforge passes it per model (tinyforge/kernels/ops/mve/pack.py
 * gemm_variant), so a firmware links only those instances; without it every one is compiled. */
#ifndef TF_MVE_GEMM_VARIANTS
#define TF_MVE_GEMM_VARIANTS 0xFFFFFFFFFFFFFFFFull
#endif
#define TF_MVE_BIT(shape, gen, part) ((shape) | ((gen) ? 16 : 0) | ((part) ? 32 : 0))
#define TF_MVE_CASE(shape, gen, part)                                                                             \
    case TF_MVE_BIT(shape, gen, part):                                                                            \
        if (((unsigned long long)(TF_MVE_GEMM_VARIANTS) >> TF_MVE_BIT(shape, gen, part)) & 1u) {                  \
            tf_mve_rows(g, x, x_stride, rows, y, shape, gen, part);                                               \
        }                                                                                                         \
        break;
#define TF_MVE_CASES(gen, part)                                                                                   \
    TF_MVE_CASE(TF_MVE_FULL, gen, part)                                                                           \
    TF_MVE_CASE(TF_MVE_FULL | TF_MVE_ODD, gen, part)                                                              \
    TF_MVE_CASE(TF_MVE_FULL | TF_MVE_PAIRS, gen, part)                                                            \
    TF_MVE_CASE(TF_MVE_FULL | TF_MVE_ODD | TF_MVE_PAIRS, gen, part)                                               \
    TF_MVE_CASE(TF_MVE_FULL | TF_MVE_TAIL, gen, part)                                                             \
    TF_MVE_CASE(TF_MVE_FULL | TF_MVE_ODD | TF_MVE_TAIL, gen, part)                                                \
    TF_MVE_CASE(TF_MVE_FULL | TF_MVE_PAIRS | TF_MVE_TAIL, gen, part)                                              \
    TF_MVE_CASE(TF_MVE_FULL | TF_MVE_ODD | TF_MVE_PAIRS | TF_MVE_TAIL, gen, part)                                 \
    TF_MVE_CASE(TF_MVE_TAIL, gen, part)

void tf_mve_gemm_s8(const tf_mve_gemm_t *g, const int8_t *x, int32_t x_stride, int32_t rows, int8_t *y)
{
    switch (TF_MVE_BIT(tf_mve_shape(g->k), g->general, g->out_c & 3)) {
        TF_MVE_CASES(0, 0)
        TF_MVE_CASES(1, 0)
        TF_MVE_CASES(0, 1)
        TF_MVE_CASES(1, 1)
    default: break; /* k == 0: the packers never ask for it */
    }
}
