/* PAD int16 kernel: fill with the pad value, then copy every innermost input row into place
 * (tf_pad_rows, shared with the int8 kernel). */
#include "tf_pad_s16.h"

void tf_pad_s16(const tf_pad_s16_params_t *p, const int16_t *input, int16_t *output)
{
    int32_t i;
    for (i = 0; i < p->out_size; ++i) {
        output[i] = (int16_t)p->pad_value;
    }
    tf_pad_rows(p, (const uint8_t *)input, (uint8_t *)output, (int32_t)sizeof(int16_t));
}
