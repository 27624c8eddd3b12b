/*
 * QUANTIZE / DEQUANTIZE kernels (see tf_quantize.h).
 */
#include "tf_quantize.h"

#include "tf_common.h"

#define TF_REQUANTIZE(name, in_t, out_t, out_min, out_max)                                         \
    void name(const tf_requantize_params_t *p, const in_t *in, out_t *out)                         \
    {                                                                                              \
        uint32_t i;                                                                                \
        for (i = 0; i < p->size; ++i) {                                                            \
            const int32_t v = p->out_zp + tf_multiply_by_quantized_multiplier(                     \
                                              (int32_t)in[i] - p->in_zp, p->multiplier, (int)p->shift); \
            out[i] = (out_t)tf_clamp(v, (out_min), (out_max));                                     \
        }                                                                                          \
    }

TF_REQUANTIZE(tf_requantize_s8_s8, int8_t, int8_t, -128, 127)

void tf_requantize_s8_s8_lut(const tf_requantize_params_t *p, const int8_t *in, int8_t *out, void *scratch)
{
    int8_t *lut = (int8_t *)scratch;
    uint32_t i;
    int v;
    for (v = -128; v < 128; ++v) {
        const int32_t r = p->out_zp + tf_multiply_by_quantized_multiplier(v - p->in_zp, p->multiplier, (int)p->shift);
        lut[(uint8_t)v] = (int8_t)tf_clamp(r, -128, 127);
    }
    for (i = 0; i < p->size; ++i) {
        out[i] = lut[(uint8_t)in[i]];
    }
}
TF_REQUANTIZE(tf_requantize_s8_u8, int8_t, uint8_t, 0, 255)
TF_REQUANTIZE(tf_requantize_u8_s8, uint8_t, int8_t, -128, 127)
TF_REQUANTIZE(tf_requantize_s8_s16, int8_t, int16_t, INT16_MIN, INT16_MAX)
TF_REQUANTIZE(tf_requantize_s16_s8, int16_t, int8_t, -128, 127)
TF_REQUANTIZE(tf_requantize_s16_s16, int16_t, int16_t, INT16_MIN, INT16_MAX)

/* round(x) half away from zero (std::round), saturated to +-2^30; NaN -> 0. */
static int32_t round_to_int32(float x)
{
    int32_t t;
    float frac;
    if (!(x == x)) {
        return 0;
    }
    if (x >= 1073741824.0f) {
        return 1073741824;
    }
    if (x <= -1073741824.0f) {
        return -1073741824;
    }
    t = (int32_t)x; /* truncates toward zero */
    frac = x - (float)t; /* exact */
    if (frac >= 0.5f) {
        t += 1;
    } else if (frac <= -0.5f) {
        t -= 1;
    }
    return t;
}

#define TF_QUANTIZE(name, out_t, out_min, out_max)                                                 \
    void name(const tf_quantize_params_t *p, const float *in, out_t *out)                          \
    {                                                                                              \
        uint32_t i;                                                                                \
        for (i = 0; i < p->size; ++i) {                                                            \
            const int32_t v = round_to_int32(in[i] / p->scale) + p->zero_point;                    \
            out[i] = (out_t)tf_clamp(v, (out_min), (out_max));                                     \
        }                                                                                          \
    }

TF_QUANTIZE(tf_quantize_f32_s8, int8_t, -128, 127)
TF_QUANTIZE(tf_quantize_f32_s16, int16_t, INT16_MIN, INT16_MAX)

#define TF_DEQUANTIZE(name, in_t)                                                                  \
    void name(const tf_dequantize_params_t *p, const in_t *in, float *out)                         \
    {                                                                                              \
        uint32_t i;                                                                                \
        for (i = 0; i < p->size; ++i) {                                                            \
            out[i] = p->scale * (float)((int32_t)in[i] - p->zero_point);                           \
        }                                                                                          \
    }

TF_DEQUANTIZE(tf_dequantize_s8_f32, int8_t)
TF_DEQUANTIZE(tf_dequantize_s16_f32, int16_t)
