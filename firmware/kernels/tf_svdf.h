/*
 * SVDF (singular value decomposition filter), integer, as TFLite Micro's reference kernel
 * computes it for int8 input and output:
 *
 *   state <<= 1 (per batch row, [filters][memory], oldest value dropped)
 *   state[f][memory-1] = wrap(zp_s + sat(rescale1(sum_i W_feature[f][i] * (x[i] - zp_x))))
 *   y[u] = sat8(zp_y + rescale2(bias[u] + sum_{r < rank} sum_m W_time[u*rank+r][m] *
 *                                          (state[u*rank+r][m] - zp_s)))
 *
 * (The tflite_micro reference adds the state zero point after the saturation and narrows the sum
 * to the state type, wrapping; newer TFLM sources add it before. The reference is the contract.)
 * tf_svdf_s8: int16 state and time weights (TFLM's EvalInt16SvdfReference, the common case);
 * tf_svdf_s8_state8: int8 state and time weights (EvalInt8SvdfReference). The state is a
 * variable tensor in the arena and carries over from one call to the next. The fused
 * activation is not applied, as in TFLM's integer kernel.
 */
#ifndef TF_SVDF_H
#define TF_SVDF_H

#include <stdint.h>

typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t filters; /* units * rank */
    int32_t units;
    int32_t rank;
    int32_t memory;
    int32_t input_offset; /* -input zero point */
    int32_t state_zero_point;
    int32_t output_zero_point;
    int32_t feature_mult, feature_shift; /* feature dot product -> state scale */
    int32_t output_mult, output_shift;   /* time dot products -> output scale */
    const int8_t *weights_feature;       /* [filters][input_size] */
    const void *weights_time;            /* [filters][memory]: int16_t (s8) or int8_t (s8_state8) */
    const int32_t *bias;                 /* [units] or NULL */
    /* DSP/Helium kernels only (int16 state): the feature weights packed as their inner loops read
     * them, dot products padded to kpad; per filter the constants that take the feature dot
     * product to the state before its zero point (dsp: folded bias, multiplier, rounding constant, right shift of
     * tf_dsp_requant; mve: bias + input_offset * row sum, multiplier, shift, 0);
     * per unit bias - state_zero_point * (sum of its rank filters' time weights). */
    int32_t kpad;
    const void *packed_feature;
    const int32_t *feature_q; /* [filters][4] */
    const int32_t *time_bias; /* [units] */
} tf_svdf_params_t;

void tf_svdf_s8(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, int16_t *state);
void tf_svdf_s8_state8(const tf_svdf_params_t *p, const int8_t *input, int8_t *output, int8_t *state);

#endif /* TF_SVDF_H */
