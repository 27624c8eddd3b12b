/*
 * tinyforge kernel library: a plain byte copy, for RESHAPE / SQUEEZE / EXPAND_DIMS when the
 * compiler cannot make the output an alias of the input. In place (out == in) is a no-op.
 */
#ifndef TF_COPY_H
#define TF_COPY_H

#include <stdint.h>

typedef struct {
    uint32_t bytes;
} tf_copy_params_t;

void tf_copy(const tf_copy_params_t *p, const int8_t *in, int8_t *out);

#endif /* TF_COPY_H */
