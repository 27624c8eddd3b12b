/* MEAN int16 reference kernel: see tf_mean_s16.h; the loop is tf_mean_run (tf_mean.c). */
#include "tf_mean_s16.h"

void tf_mean_s16(const tf_mean_s16_params_t *p, const int16_t *input, int16_t *output)
{
    tf_mean_run(p, input, 1, output);
}
