/*
 * PAD / PADV2 of an int8 tensor (up to TF_PAD_MAX_DIMS dimensions) with a constant value:
 * the output zero point for PAD, the constant_values tensor for PADV2 (as TFLite Micro).
 */
#ifndef TF_PAD_H
#define TF_PAD_H

#include <stdint.h>

#define TF_PAD_MAX_DIMS 6

typedef struct {
    int32_t ndims;
    int32_t in_shape[TF_PAD_MAX_DIMS];
    int32_t out_shape[TF_PAD_MAX_DIMS];
    int32_t pad_before[TF_PAD_MAX_DIMS];
    int32_t out_size;
    int32_t pad_value;
} tf_pad_s8_params_t;

/* Copies the input's innermost rows into an output already filled with the pad value; `elem`
 * bytes per element (the int8 and int16 kernels share it). */
void tf_pad_rows(const tf_pad_s8_params_t *p, const uint8_t *input, uint8_t *output, int32_t elem);

void tf_pad_s8(const tf_pad_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_PAD_H */
