/*
 * MEAN of an int8 tensor over a set of axes (keep_dims or not: the output bytes are the same).
 * Bit-exact with TFLite Micro's reference: the int32 sum minus count * input zero point is
 * requantized with a multiplier that already includes 1/count (also when input and output share
 * their quantization).
 *
 * The input is seen as kept dimensions (kept_shape / kept_strides, in input elements, in output
 * order) and reduced dimensions (red_shape / red_strides).
 */
#ifndef TF_MEAN_H
#define TF_MEAN_H

#include <stdint.h>

#define TF_MEAN_MAX_DIMS 6

typedef struct {
    int32_t n_kept;
    int32_t kept_shape[TF_MEAN_MAX_DIMS];
    int32_t kept_strides[TF_MEAN_MAX_DIMS];
    int32_t n_red;
    int32_t red_shape[TF_MEAN_MAX_DIMS];
    int32_t red_strides[TF_MEAN_MAX_DIMS];
    int32_t out_size;
    int32_t count; /* elements per mean */
    int32_t input_zp;
    int32_t output_zp;
    int32_t multiplier, shift;
} tf_mean_s8_params_t;

/* The mean loop for int8 (`wide` 0) or int16 (`wide` 1) tensors; the kernels below call it. */
void tf_mean_run(const tf_mean_s8_params_t *p, const void *input, int wide, void *output);

void tf_mean_s8(const tf_mean_s8_params_t *p, const int8_t *input, int8_t *output);

#endif /* TF_MEAN_H */
