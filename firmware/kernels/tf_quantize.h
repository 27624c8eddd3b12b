/*
 * tinyforge kernel library: QUANTIZE and DEQUANTIZE, bit-exact with TFLite Micro's reference.
 *
 *   tf_requantize_<in>_<out>  integer -> integer: out = clamp(out_zp + (in - in_zp) * M * 2^shift)
 *   tf_quantize_f32_<out>     float -> integer:   out = clamp(round_half_away(in / scale) + zp)
 *   tf_dequantize_<in>_f32    integer -> float:   out = scale * (in - zp), in float32
 *
 * Every kernel is elementwise; the ones whose element sizes agree may run in place (out == in).
 * Float arithmetic is plain IEEE single precision (no libm): build without -ffast-math.
 * Floats too large for int32 saturate, NaN maps to the zero point (TFLM's behaviour there is
 * undefined and differs between hosts).
 */
#ifndef TF_QUANTIZE_H
#define TF_QUANTIZE_H

#include <stdint.h>

typedef struct {
    int32_t in_zp;
    int32_t out_zp;
    int32_t multiplier;
    int32_t shift;
    uint32_t size;
} tf_requantize_params_t;

void tf_requantize_s8_s8(const tf_requantize_params_t *p, const int8_t *in, int8_t *out);
/* the same through a 256-entry table built in `scratch` (256 bytes): faster for 512+ elements */
void tf_requantize_s8_s8_lut(const tf_requantize_params_t *p, const int8_t *in, int8_t *out, void *scratch);
void tf_requantize_s8_u8(const tf_requantize_params_t *p, const int8_t *in, uint8_t *out);
void tf_requantize_u8_s8(const tf_requantize_params_t *p, const uint8_t *in, int8_t *out);
void tf_requantize_s8_s16(const tf_requantize_params_t *p, const int8_t *in, int16_t *out);
void tf_requantize_s16_s8(const tf_requantize_params_t *p, const int16_t *in, int8_t *out);
void tf_requantize_s16_s16(const tf_requantize_params_t *p, const int16_t *in, int16_t *out);

typedef struct {
    float scale;
    int32_t zero_point;
    uint32_t size;
} tf_quantize_params_t;

void tf_quantize_f32_s8(const tf_quantize_params_t *p, const float *in, int8_t *out);
void tf_quantize_f32_s16(const tf_quantize_params_t *p, const float *in, int16_t *out);

typedef struct {
    float scale;
    int32_t zero_point;
    uint32_t size;
} tf_dequantize_params_t;

void tf_dequantize_s8_f32(const tf_dequantize_params_t *p, const int8_t *in, float *out);
void tf_dequantize_s16_f32(const tf_dequantize_params_t *p, const int16_t *in, float *out);

#endif /* TF_QUANTIZE_H */
