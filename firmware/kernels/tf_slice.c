/*
 * STRIDED_SLICE as a strided copy (see tf_slice.h).
 */
#include "tf_slice.h"

#include <string.h>

void tf_strided_slice(const tf_strided_slice_params_t *p, const int8_t *in, int8_t *out)
{
    const uint32_t eb = p->elem_bytes;
    /* the innermost axis is one contiguous run when its step is one element */
    const uint32_t run = p->step[4] == 1 ? (uint32_t)p->count[4] * eb : 0u;
    int32_t i0, i1, i2, i3, i4;
    for (i0 = 0; i0 < p->count[0]; ++i0) {
        const int32_t o0 = p->start + i0 * p->step[0];
        for (i1 = 0; i1 < p->count[1]; ++i1) {
            const int32_t o1 = o0 + i1 * p->step[1];
            for (i2 = 0; i2 < p->count[2]; ++i2) {
                const int32_t o2 = o1 + i2 * p->step[2];
                for (i3 = 0; i3 < p->count[3]; ++i3) {
                    const int32_t o3 = o2 + i3 * p->step[3];
                    if (run != 0u) {
                        memcpy(out, in + (int32_t)eb * o3, run);
                        out += run;
                    } else if (eb == 1u) {
                        for (i4 = 0; i4 < p->count[4]; ++i4) {
                            *out++ = in[o3 + i4 * p->step[4]];
                        }
                    } else {
                        for (i4 = 0; i4 < p->count[4]; ++i4) {
                            memcpy(out, in + (int32_t)eb * (o3 + i4 * p->step[4]), eb);
                            out += eb;
                        }
                    }
                }
            }
        }
    }
}
