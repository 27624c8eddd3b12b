/*
 * tinyforge kernel library: TRANSPOSE as a 6-D strided gather.
 *
 * The compiler permutes the input strides into output order and merges axes that stay adjacent,
 * so the kernel walks the output sequentially and reads the input with per-axis steps.
 * out and in must not overlap.
 */
#ifndef TF_TRANSPOSE_H
#define TF_TRANSPOSE_H

#include <stdint.h>

#define TF_TRANSPOSE_MAX_DIMS 6

typedef struct {
    int32_t count[TF_TRANSPOSE_MAX_DIMS]; /* output extent per axis, outermost first */
    int32_t step[TF_TRANSPOSE_MAX_DIMS];  /* input element stride of each output axis */
    uint32_t elem_bytes;
} tf_transpose_params_t;

void tf_transpose(const tf_transpose_params_t *p, const int8_t *in, int8_t *out);

#endif /* TF_TRANSPOSE_H */
