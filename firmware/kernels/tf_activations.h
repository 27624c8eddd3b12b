/*
 * tinyforge kernel library: int8 activation functions, bit-exact with TFLite Micro's reference
 * kernels. Every kernel is elementwise, reads in[i] before writing out[i], and so may run in place
 * (out == in). A `_lut` variant computes the 256 possible outputs into a 256-byte scratch table
 * first and then looks every element up: the same bytes, faster for tensors of 512+ elements.
 *
 *   RELU, RELU_N1_TO_1  tf_relu_s8        rescale to the output scale, clamp to the activation range
 *   RELU6               tf_clamp_s8       TFLM clamps in the input's quantized domain (no rescale)
 *   LEAKY_RELU          tf_leaky_relu_s8  two requantizations: identity (x >= 0) and alpha (x < 0)
 *   LOGISTIC            tf_logistic_s8    gemmlowp fixed-point logistic on a Q4.27 input
 *   TANH                tf_tanh_s8        gemmlowp fixed-point tanh on a Q4.27 input
 *   HARD_SWISH          tf_hard_swish_s8  16-bit fixed point with "reluish" and output multipliers
 */
#ifndef TF_ACTIVATIONS_H
#define TF_ACTIVATIONS_H

#include <stdint.h>

/* out = clamp(out_zp + (in - in_zp) * multiplier * 2^shift, act_min, act_max) */
typedef struct {
    int32_t in_zp;
    int32_t out_zp;
    int32_t multiplier;
    int32_t shift;
    int32_t act_min;
    int32_t act_max;
    uint32_t size;
} tf_relu_s8_params_t;

void tf_relu_s8(const tf_relu_s8_params_t *p, const int8_t *in, int8_t *out);
void tf_relu_s8_lut(const tf_relu_s8_params_t *p, const int8_t *in, int8_t *out, void *scratch);

/* out = clamp(in, lower, upper) */
typedef struct {
    int32_t lower;
    int32_t upper;
    uint32_t size;
} tf_clamp_s8_params_t;

void tf_clamp_s8(const tf_clamp_s8_params_t *p, const int8_t *in, int8_t *out);

typedef struct {
    int32_t in_zp;
    int32_t out_zp;
    int32_t mult_identity;
    int32_t shift_identity;
    int32_t mult_alpha;
    int32_t shift_alpha;
    uint32_t size;
} tf_leaky_relu_s8_params_t;

void tf_leaky_relu_s8(const tf_leaky_relu_s8_params_t *p, const int8_t *in, int8_t *out);
void tf_leaky_relu_s8_lut(const tf_leaky_relu_s8_params_t *p, const int8_t *in, int8_t *out, void *scratch);

/* LOGISTIC (output scale 1/256, zero point -128) and TANH (output scale 1/128, zero point 0).
 * `multiplier`/`left_shift` map (in - in_zp) to Q4.27; |in - in_zp| >= radius saturates. */
typedef struct {
    int32_t in_zp;
    int32_t radius;
    int32_t multiplier;
    int32_t left_shift;
    uint32_t size;
} tf_sigmoid_s8_params_t;

typedef tf_sigmoid_s8_params_t tf_logistic_s8_params_t;
typedef tf_sigmoid_s8_params_t tf_tanh_s8_params_t;

void tf_logistic_s8(const tf_logistic_s8_params_t *p, const int8_t *in, int8_t *out);
void tf_logistic_s8_lut(const tf_logistic_s8_params_t *p, const int8_t *in, int8_t *out, void *scratch);
void tf_tanh_s8(const tf_tanh_s8_params_t *p, const int8_t *in, int8_t *out);
void tf_tanh_s8_lut(const tf_tanh_s8_params_t *p, const int8_t *in, int8_t *out, void *scratch);

/* HARD_SWISH: x * relu6(x + 3) / 6 in 16-bit fixed point (TFLM's reference algorithm). */
typedef struct {
    int32_t in_zp;
    int32_t out_zp;
    int32_t out_multiplier;     /* int16 fixed-point multiplier */
    int32_t out_exponent;       /* <= 0 */
    int32_t reluish_multiplier; /* int16 fixed-point multiplier */
    int32_t reluish_exponent;
    uint32_t size;
} tf_hard_swish_s8_params_t;

void tf_hard_swish_s8(const tf_hard_swish_s8_params_t *p, const int8_t *in, int8_t *out);
void tf_hard_swish_s8_lut(const tf_hard_swish_s8_params_t *p, const int8_t *in, int8_t *out, void *scratch);

#endif /* TF_ACTIVATIONS_H */
