/* PAD int8 kernel: fill with the pad value, then copy every innermost input row into place. */
#include "tf_pad.h"

#include <string.h>

void tf_pad_rows(const tf_pad_s8_params_t *p, const uint8_t *input, uint8_t *output, int32_t elem)
{
    int32_t idx[TF_PAD_MAX_DIMS] = {0};
    int32_t out_strides[TF_PAD_MAX_DIMS];
    int32_t rows = 1;
    int32_t row_len;
    int32_t d, r;
    if (p->ndims == 0) {
        memcpy(output, input, (size_t)elem);
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
        memcpy(output + off * elem, input + r * row_len * elem, (size_t)(row_len * elem));
        for (d = p->ndims - 2; d >= 0; --d) {
            if (++idx[d] < p->in_shape[d]) {
                break;
            }
            idx[d] = 0;
        }
    }
}

void tf_pad_s8(const tf_pad_s8_params_t *p, const int8_t *input, int8_t *output)
{
    memset(output, (int)(int8_t)p->pad_value, (size_t)p->out_size);
    tf_pad_rows(p, (const uint8_t *)input, (uint8_t *)output, (int32_t)sizeof(int8_t));
}
