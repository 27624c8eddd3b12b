/* PAD int16 kernel: fill with the pad value, then copy every innermost input row into place. */
#include "tf_pad_s16.h"

#include <string.h>

void tf_pad_s16(const tf_pad_s16_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t idx[TF_PAD_MAX_DIMS] = {0};
    int32_t out_strides[TF_PAD_MAX_DIMS];
    int32_t rows = 1;
    int32_t row_len;
    int32_t d, r, i;
    for (i = 0; i < p->out_size; ++i) {
        output[i] = (int16_t)p->pad_value;
    }
    if (p->ndims == 0) {
        output[0] = input[0];
        return;
    }
    out_strides[p->ndims - 1] = 1;
    for (d = p->ndims - 2; d >= 0; --d) {
        out_strides[d] = out_strides[d + 1] * p->out_shape[d + 1];
    }
    for (d = 0; d < p->ndims - 1; ++d) {
        rows *= p->in_shape[d];
    }
    row_len = p->in_shape[p->ndims - 1];
    for (r = 0; r < rows && row_len > 0; ++r) {
        int32_t off = p->pad_before[p->ndims - 1];
        for (d = 0; d < p->ndims - 1; ++d) {
            off += (idx[d] + p->pad_before[d]) * out_strides[d];
        }
        memcpy(output + off, input + r * row_len, (size_t)row_len * sizeof(int16_t));
        for (d = p->ndims - 2; d >= 0; --d) {
            if (++idx[d] < p->in_shape[d]) {
                break;
            }
            idx[d] = 0;
        }
    }
}
