/*
 * TRANSPOSE (see tf_transpose.h).
 */
#include "tf_transpose.h"

#include <string.h>

void tf_transpose(const tf_transpose_params_t *p, const int8_t *in, int8_t *out)
{
    const uint32_t eb = p->elem_bytes;
    const int32_t *c = p->count;
    const int32_t *s = p->step;
    int32_t i0, i1, i2, i3, i4, i5;
    for (i0 = 0; i0 < c[0]; ++i0) {
        for (i1 = 0; i1 < c[1]; ++i1) {
            for (i2 = 0; i2 < c[2]; ++i2) {
                for (i3 = 0; i3 < c[3]; ++i3) {
                    const int32_t o3 = i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
                    for (i4 = 0; i4 < c[4]; ++i4) {
                        const int32_t o4 = o3 + i4 * s[4];
                        if (eb == 1u) {
                            for (i5 = 0; i5 < c[5]; ++i5) {
                                *out++ = in[o4 + i5 * s[5]];
                            }
                        } else {
                            for (i5 = 0; i5 < c[5]; ++i5) {
                                memcpy(out, in + (int32_t)eb * (o4 + i5 * s[5]), eb);
                                out += eb;
                            }
                        }
                    }
                }
            }
        }
    }
}
