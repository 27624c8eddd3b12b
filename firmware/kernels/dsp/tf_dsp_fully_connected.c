/* FULLY_CONNECTED int8 with the DSP extension: see tf_dsp_fully_connected.h. */
#include "tf_dsp_fully_connected.h"

#include "tf_acle.h"
#include "tf_dsp_common.h"
#include "tf_dsp_mac.h"

void tf_dsp_fully_connected_s8(const tf_dsp_fully_connected_s8_params_t *p, const int8_t *input, int8_t *output,
                               void *scratch)
{
    int32_t *x = (int32_t *)scratch;
    const int32_t depth = p->accum_depth;
    const int full = p->act_min == -128 && p->act_max == 127;
    int32_t b, oc, i;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * depth;
        int8_t *out = output + b * p->out_depth;
        const int32_t *w = p->weights;
        const int32_t *q = p->qparams;
        /* the row as int16 pairs; the padding (weights 0) reads 0 */
        tf_dsp_expand(in, depth >> 2, x, 2);
        if (depth & 3) {
            uint32_t tail = 0;
            for (i = depth & ~3; i < depth; ++i) {
                tail |= (uint32_t)(uint8_t)in[i] << (8 * (i & 3));
            }
            x[2 * (depth >> 2)] = tf_sxtb16(tail);
            x[2 * (depth >> 2) + 1] = tf_sxtb16_ror8(tail);
        }
        for (i = (depth + 3) >> 2; i < (p->kpad >> 2); ++i) {
            x[2 * i] = 0;
            x[2 * i + 1] = 0;
        }
        for (oc = 0; oc < p->out_depth; oc += 4) {
            int32_t acc[4];
            int32_t j;
            acc[0] = q[0];
            acc[1] = q[1];
            acc[2] = q[2];
            acc[3] = q[3];
            if (p->int8_weights) {
                tf_dsp_mac_1x4_w8(x, w, p->kpad >> 2, acc);
                w += p->kpad;
                for (j = 0; j < 4; ++j) {
                    acc[j] *= 2; /* int8 weights are not scaled by 2: double the sum instead */
                }
            } else {
                tf_dsp_mac_1x4(x, w, p->kpad >> 3, acc);
                w += p->kpad * 2;
            }
            if (full && oc + 4 <= p->out_depth) {
                int32_t v[4];
                for (j = 0; j < 4; ++j) {
                    v[j] = p->fast ? tf_dsp_requant_fast(acc[j], q[4 + j], q[8 + j], q[12 + j])
                                   : tf_ssat8(tf_dsp_requant(acc[j], q[4 + j], q[8 + j], q[12 + j]));
                }
                for (j = 0; j < 4; ++j) {
                    out[oc + j] = (int8_t)v[j];
                }
            } else {
                for (j = 0; j < 4 && oc + j < p->out_depth; ++j) {
                    out[oc + j] =
                        tf_dsp_clamp(tf_dsp_requant(acc[j], q[4 + j], q[8 + j], q[12 + j]), p->act_min, p->act_max);
                }
            }
            q += 16;
        }
    }
}
