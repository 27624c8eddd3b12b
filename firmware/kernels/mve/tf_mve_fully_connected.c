/* FULLY_CONNECTED with Helium: see tf_mve_fully_connected.h. */
#include "tf_mve_fully_connected.h"

#include "tf_mve_gemm.h"

void tf_mve_fully_connected_s8(const tf_mve_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output)
{
    tf_mve_gemm_t g;
    g.k = p->accum_depth;
    g.out_c = p->out_depth;
    g.general = p->left_shifts;
    g.output_offset = p->output_offset;
    g.act_min = p->act_min;
    g.act_max = p->act_max;
    g.weights = p->weights;
    g.qparams = p->qparams;
    tf_mve_gemm_s8(&g, input, p->accum_depth, p->batches, output);
}
