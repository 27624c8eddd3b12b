/* QUANTIZE to and from int32: see tf_requantize_s32.h. */
#include "tf_requantize_s32.h"

#include "tf_common.h"

/* (in - in_zp) * M * 2^shift + out_zp, every addition wrapping as the reference's int32 ones. */
static int32_t tf_requantize_one(const tf_requantize_params_t *p, int32_t v)
{
    const int32_t scaled = tf_multiply_by_quantized_multiplier(tf_sub_wrap(v, p->in_zp), p->multiplier, (int)p->shift);
    return tf_add_wrap(scaled, p->out_zp);
}

void tf_requantize_s8_s32(const tf_requantize_params_t *p, const int8_t *in, int32_t *out)
{
    uint32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = tf_requantize_one(p, in[i]);
    }
}

void tf_requantize_s16_s32(const tf_requantize_params_t *p, const int16_t *in, int32_t *out)
{
    uint32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = tf_requantize_one(p, in[i]);
    }
}

void tf_requantize_s32_s8(const tf_requantize_params_t *p, const int32_t *in, int8_t *out)
{
    uint32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = (int8_t)tf_clamp(tf_requantize_one(p, in[i]), INT8_MIN, INT8_MAX);
    }
}

void tf_requantize_s32_s16(const tf_requantize_params_t *p, const int32_t *in, int16_t *out)
{
    uint32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = (int16_t)tf_clamp(tf_requantize_one(p, in[i]), INT16_MIN, INT16_MAX);
    }
}
