/*
 * QUANTIZE between int32 and int8/int16 tensors, bit-exact with TFLite Micro's reference
 * Requantize: out = clamp(out_zp + (in - in_zp) * M * 2^shift) to the output type (int32 outputs
 * wrap like the reference's int32 additions). The params are those of tf_quantize.h.
 */
#ifndef TF_REQUANTIZE_S32_H
#define TF_REQUANTIZE_S32_H

#include <stdint.h>

#include "tf_quantize.h"

void tf_requantize_s8_s32(const tf_requantize_params_t *p, const int8_t *in, int32_t *out);
void tf_requantize_s16_s32(const tf_requantize_params_t *p, const int16_t *in, int32_t *out);
void tf_requantize_s32_s8(const tf_requantize_params_t *p, const int32_t *in, int8_t *out);
void tf_requantize_s32_s16(const tf_requantize_params_t *p, const int32_t *in, int16_t *out);

#endif /* TF_REQUANTIZE_S32_H */
