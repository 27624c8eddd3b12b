/* FULLY_CONNECTED int8 reference kernel: see tf_fully_connected.h. */
#include "tf_fully_connected.h"

#include "tf_common.h"

void tf_fully_connected_s8(const tf_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output)
{
    int32_t b, oc, d;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->accum_depth;
        for (oc = 0; oc < p->out_depth; ++oc) {
            const int8_t *w = p->weights + oc * p->accum_depth;
            const int32_t q = p->per_channel ? oc : 0;
            int32_t acc = 0;
            for (d = 0; d < p->accum_depth; ++d) {
                acc += ((int32_t)w[d] + p->filter_offset) * ((int32_t)in[d] + p->input_offset);
            }
            if (p->bias) {
                acc += p->bias[oc];
            }
            output[b * p->out_depth + oc] =
                tf_requantize(acc, p->out_mult[q], (int)p->out_shift[q], p->output_offset, p->act_min, p->act_max);
        }
    }
}
