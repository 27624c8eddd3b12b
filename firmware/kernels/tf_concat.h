/*
 * CONCATENATION of up to TF_CONCAT_MAX_INPUTS int8 tensors along any axis (inputs share the
 * output's quantization, as TFLite Micro requires: a plain copy). The tensors are seen as
 * [outer][axis * inner]; input i contributes in_chunk[i] bytes to every outer row.
 * Unused input pointers (beyond num_inputs) are ignored.
 */
#ifndef TF_CONCAT_H
#define TF_CONCAT_H

#include <stdint.h>

#define TF_CONCAT_MAX_INPUTS 10

typedef struct {
    int32_t num_inputs;
    int32_t outer;
    int32_t out_chunk; /* bytes per outer row of the output */
    int32_t in_chunk[TF_CONCAT_MAX_INPUTS];
} tf_concat_s8_params_t;

void tf_concat_s8(const tf_concat_s8_params_t *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                  const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6, const int8_t *in7,
                  const int8_t *in8, const int8_t *in9, int8_t *output);

#endif /* TF_CONCAT_H */
