/*
 * A faster TFLite MultiplyByQuantizedMultiplier for multipliers m >= 0 (QuantizeMultiplier's
 * always are): SaturatingRoundingDoublingHighMul(x, m) equals floor((x * m + 2^30) / 2^31) when m
 * cannot be INT32_MIN (so no saturation case), and RoundingDivideByPOT is a shift plus a
 * comparison of the remainder, all in 32-bit steps after one 32x32->64 multiply. Same results as
 * tf_multiply_by_quantized_multiplier (tf_common.h) for every x and every m >= 0; used by the
 * stateful kernels (LSTM, SVDF), whose per-element requantizations dominate their time.
 */
#ifndef TF_REQUANT_H
#define TF_REQUANT_H

#include <stdint.h>

#include "tf_common.h"

TF_INLINE int32_t tf_requant_fast(int32_t x, int32_t m, int32_t shift)
{
    int32_t v;
    if (shift > 0) {
        x = (int32_t)((uint32_t)x << shift);
    }
    v = (int32_t)(((int64_t)x * m + ((int64_t)1 << 30)) >> 31);
    if (shift < 0) {
        const uint32_t mask = (1u << -shift) - 1u;
        const uint32_t threshold = (mask >> 1) + (v < 0 ? 1u : 0u);
        v = (v >> -shift) + (((uint32_t)v & mask) > threshold ? 1 : 0);
    }
    return v;
}

#endif /* TF_REQUANT_H */
