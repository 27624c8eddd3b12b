/* ADD (and SUB, with a negated second table) with Helium: see tf_mve_add.h. */
#include "tf_mve_add.h"

#include "tf_mve_common.h"

/* The layer's constants, in registers (the output stores may alias anything in memory). */
typedef struct {
    const int32_t *t1, *t2;
    int32_t mult, shift, zp;
    int32x4_t lo, hi;
} tf_mve_add_k_t;

/* Four elements: the two rescaled inputs from the tables, their sum requantized. */
TF_MVE_INLINE int32x4_t tf_mve_add4(const tf_mve_add_k_t *k, uint32x4_t a, uint32x4_t b, int round_fixup)
{
    int32x4_t sum =
        vaddq_s32(vldrwq_gather_shifted_offset_s32(k->t1, a), vldrwq_gather_shifted_offset_s32(k->t2, b));
    sum = vqrdmulhq_n_s32(sum, k->mult);
    if (round_fixup) {
        sum = vqaddq_s32(sum, vshrq_n_s32(sum, 31));
    }
    sum = vrshlq_n_s32(sum, k->shift);
    sum = vaddq_n_s32(sum, k->zp);
    return vminq_s32(vmaxq_s32(sum, k->lo), k->hi);
}

TF_MVE_INLINE void tf_mve_add(const tf_mve_add_s8_params_t *p, const uint8_t *in1, const uint8_t *in2, int8_t *out,
                              int round_fixup)
{
    tf_mve_add_k_t k;
    int32_t n;
    k.t1 = p->table1;
    k.t2 = p->table2;
    k.mult = p->output_mult;
    k.shift = p->output_shift;
    k.zp = p->output_offset;
    k.lo = vdupq_n_s32(p->act_min);
    k.hi = vdupq_n_s32(p->act_max);
    for (n = p->size; n >= 4; n -= 4) {
        vstrbq_s32(out, tf_mve_add4(&k, vldrbq_u32(in1), vldrbq_u32(in2), round_fixup));
        in1 += 4;
        in2 += 4;
        out += 4;
    }
    if (n > 0) {
        const mve_pred16_t lanes = vctp32q((uint32_t)n);
        const int32x4_t r = tf_mve_add4(&k, vldrbq_z_u32(in1, lanes), vldrbq_z_u32(in2, lanes), round_fixup);
        vstrbq_p_s32(out, r, lanes);
    }
}

void tf_mve_add_s8(const tf_mve_add_s8_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    /* RoundingDivideByPOT rounds negative halves away from zero: -1 before VRSHL, for shifts only */
    if (p->output_shift < 0) {
        tf_mve_add(p, (const uint8_t *)input1, (const uint8_t *)input2, output, 1);
    } else {
        tf_mve_add(p, (const uint8_t *)input1, (const uint8_t *)input2, output, 0);
    }
}
