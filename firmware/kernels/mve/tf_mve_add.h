/*
 * ADD of two int8 tensors of the same shape for Cortex-M55 with Helium. Bit-exact with TFLite
 * Micro's reference kernel: each input byte's rescaled value, RDBP(SRDHM((x + offset) << 20,
 * mult), shift), depends on that byte only, so the packer tabulates it for all 256 bytes; the
 * kernel gathers two table entries per element (VLDRW gather), adds them and requantizes the sum
 * with VQRDMULH and a rounding shift, four elements per vector.
 */
#ifndef TF_MVE_ADD_H
#define TF_MVE_ADD_H

#include <stdint.h>

typedef struct {
    int32_t size; /* elements */
    int32_t output_offset;
    int32_t output_mult;
    int32_t output_shift; /* <= 0 */
    int32_t act_min, act_max;
    const int32_t *table1; /* [256]: rescaled input 1 by byte value (uint8 index) */
    const int32_t *table2; /* [256]: rescaled input 2 */
} tf_mve_add_s8_params_t;

void tf_mve_add_s8(const tf_mve_add_s8_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);

#endif /* TF_MVE_ADD_H */
