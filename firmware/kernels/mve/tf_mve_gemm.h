/*
 * Helium int8 matrix core shared by CONV_2D and FULLY_CONNECTED (tf_mve_conv.c,
 * tf_mve_fully_connected.c): rows of k int8 inputs times out_c filters, requantized per channel.
 *
 * The input offset is folded into the bias at build time (bias' = bias + input_offset * sum(w)),
 * so the inner loop is a plain int8 dot product: VMLADAVA.S8, 16 MACs per instruction, on 2 rows
 * x 4 filters at a time. Packed layouts (tinyforge/kernels/ops/mve/pack.py writes them):
 *   weights  [ceil(out_c/4)][ceil(k/16)][4][16] int8, zero padded
 *   qparams  general: [ceil(out_c/4)][4][4] int32: bias'[4], multiplier[4], left shift[4],
 *            -right shift[4]; otherwise (every channel shifts right) [ceil(out_c/4)][3][4]:
 *            bias'[4], multiplier[4], -right shift[4]
 */
#ifndef TF_MVE_GEMM_H
#define TF_MVE_GEMM_H

#include <stdint.h>

typedef struct {
    int32_t k; /* dot product length */
    int32_t out_c; /* outputs per row */
    int32_t general; /* 1 if some channel's shift is >= 0 (a left shift or none): the general
                        requantization and q params layout */
    int32_t output_offset;
    int32_t act_min, act_max;
    const int8_t *weights;
    const int32_t *qparams;
} tf_mve_gemm_t;

/* y[r * out_c + c] for rows r < rows: row r of the inputs is x + r * x_stride (k bytes). */
void tf_mve_gemm_s8(const tf_mve_gemm_t *g, const int8_t *x, int32_t x_stride, int32_t rows, int8_t *y);

#endif /* TF_MVE_GEMM_H */
