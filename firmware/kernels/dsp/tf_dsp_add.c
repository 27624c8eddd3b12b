/* ADD / SUB int8 by table lookup: see tf_dsp_add.h. */
#include "tf_dsp_add.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"

TF_INLINE void tf_dsp_add_loop(const tf_dsp_add_s8_params_t *p, const uint8_t *a, const uint8_t *b, int8_t *out,
                               int fast)
{
    const int32_t *t1 = p->table1, *t2 = p->table2;
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

void tf_dsp_add_s8(const tf_dsp_add_s8_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const uint8_t *a = (const uint8_t *)input1;
    const uint8_t *b = (const uint8_t *)input2;
    if (p->fast) {
        tf_dsp_add_loop(p, a, b, output, 1);
    } else {
        tf_dsp_add_loop(p, a, b, output, 0);
    }
}
