/* ADD / SUB int8 by table lookup: see tf_dsp_add.h. */
#include "tf_dsp_add.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"

TF_INLINE void tf_dsp_add_loop(const tf_dsp_add_s8_params_t *p, const int32_t *t1, const int32_t *t2,
                               const uint8_t *a, const uint8_t *b, int8_t *out, int fast)
{
    const int32_t mult = p->mult, kq = p->kq, rshift = p->rshift, act_min = p->act_min, act_max = p->act_max;
    const uint8_t *const a_end = a + p->size;
    while (a != a_end) {
        const int32_t acc = t1[*a++] + t2[*b++];
        if (fast) {
            *out++ = (int8_t)tf_dsp_requant_fast(acc, mult, kq, rshift);
        } else {
            *out++ = tf_dsp_clamp(tf_dsp_requant(acc, mult, kq, rshift), act_min, act_max);
        }
    }
}

/* table[v & 0xff] = sign * 2 * MultiplyByQuantizedMultiplier((v + offset) << left_shift, mult, shift) */
static void tf_dsp_add_table(int32_t *t, int32_t offset, int32_t left_shift, int32_t mult, int32_t shift,
                             int32_t sign)
{
    int32_t v;
    for (v = -128; v < 128; ++v) {
        const int32_t x = (int32_t)((uint32_t)(v + offset) << left_shift);
        t[v & 0xff] = sign * 2 * tf_multiply_by_quantized_multiplier(x, mult, shift);
    }
}

void tf_dsp_add_s8(const tf_dsp_add_s8_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                   void *scratch)
{
    const uint8_t *a = (const uint8_t *)input1;
    const uint8_t *b = (const uint8_t *)input2;
    const int32_t *t1 = p->table1, *t2 = p->table2;
    if (!t1) {
        int32_t *t = (int32_t *)scratch;
        tf_dsp_add_table(t, p->offset1, p->left_shift, p->mult1, p->shift1, 1);
        tf_dsp_add_table(t + 256, p->offset2, p->left_shift, p->mult2, p->shift2, p->sign2);
        t1 = t;
        t2 = t + 256;
    }
    if (p->fast) {
        tf_dsp_add_loop(p, t1, t2, a, b, output, 1);
    } else {
        tf_dsp_add_loop(p, t1, t2, a, b, output, 0);
    }
}
