/*
 * tinyforge kernel library: STRIDED_SLICE (and SLICE-like gathers) as a 5-D strided copy.
 *
 * The compiler resolves begin/end/strides and the masks to, per output axis, an element count and
 * a signed input step (in elements), plus the input offset of the first element. Output elements
 * are written in order, so out and in must not overlap.
 */
#ifndef TF_SLICE_H
#define TF_SLICE_H

#include <stdint.h>

#define TF_SLICE_MAX_DIMS 5

typedef struct {
    int32_t start;                      /* input element offset of the first output element */
    int32_t count[TF_SLICE_MAX_DIMS];   /* output extent per axis, outermost first */
    int32_t step[TF_SLICE_MAX_DIMS];    /* input element step per axis (may be negative) */
    uint32_t elem_bytes;                /* 1 for int8 */
} tf_strided_slice_params_t;

void tf_strided_slice(const tf_strided_slice_params_t *p, const int8_t *in, int8_t *out);

#endif /* TF_SLICE_H */
