/* CONCATENATION int8 kernel: see tf_concat.h. */
#include "tf_concat.h"

#include <string.h>

void tf_concat_s8(const tf_concat_s8_params_t *p, const int8_t *in0, const int8_t *in1, const int8_t *in2,
                  const int8_t *in3, const int8_t *in4, const int8_t *in5, const int8_t *in6, const int8_t *in7,
                  const int8_t *in8, const int8_t *in9, int8_t *output)
{
    const int8_t *inputs[TF_CONCAT_MAX_INPUTS];
    int32_t o, i;
    inputs[0] = in0;
    inputs[1] = in1;
    inputs[2] = in2;
    inputs[3] = in3;
    inputs[4] = in4;
    inputs[5] = in5;
    inputs[6] = in6;
    inputs[7] = in7;
    inputs[8] = in8;
    inputs[9] = in9;
    for (o = 0; o < p->outer; ++o) {
        int8_t *out = output + o * p->out_chunk;
        for (i = 0; i < p->num_inputs; ++i) {
            const int32_t n = p->in_chunk[i];
            memcpy(out, inputs[i] + o * n, (size_t)n);
            out += n;
        }
    }
}
