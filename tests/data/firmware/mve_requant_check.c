/* Checks the Helium requantization of firmware/kernels/mve/tf_mve_common.h against the scalar
 * code of firmware/kernels/tf_common.h (the one bit-exact with TFLite Micro), lane by lane:
 *   VQRDMULH            vs tf_sat_rounding_doubling_high_mul  (ties: multiplier 2^30, odd x)
 *   tf_mve_rounding_divide vs tf_rounding_divide_by_pot       (exact halves, +-1 around them)
 *   tf_mve_mul_by_quantized_multiplier(_r) vs tf_multiply_by_quantized_multiplier
 * on edge values and a pseudo-random sweep of inputs, multipliers in [2^30, 2^31) and shifts
 * -31..+8. Prints `TF LOG checks=N mismatches=M` (and the first mismatch). */
#include <stdint.h>

#include "bsp.h"
#include "mve/tf_mve_common.h"
#include "tf_common.h"

static uint32_t g_state = 0x12345678u;
static uint32_t g_checks;
static uint32_t g_mismatches;

static uint32_t next_random(void)
{
    g_state ^= g_state << 13;
    g_state ^= g_state >> 17;
    g_state ^= g_state << 5;
    return g_state;
}

static void put_int(int32_t v)
{
    if (v < 0) {
        bsp_puts("-");
        bsp_put_uint((uint64_t)(-(int64_t)v));
    } else {
        bsp_put_uint((uint64_t)v);
    }
}

static void report(const char *what, int32_t x, int32_t m, int32_t s, int32_t got, int32_t want)
{
    if (g_mismatches++ == 0) {
        bsp_puts("TF LOG first_mismatch=");
        bsp_puts(what);
        bsp_puts(" x=");
        put_int(x);
        bsp_puts(" m=");
        put_int(m);
        bsp_puts(" s=");
        put_int(s);
        bsp_puts(" got=");
        put_int(got);
        bsp_puts(" want=");
        put_int(want);
        bsp_puts("\n");
    }
}

static void check_lanes(const char *what, const int32_t *x, int32_t m, int32_t s, int32x4_t got, const int32_t *want)
{
    int32_t lanes[4];
    int i;
    vst1q_s32(lanes, got);
    for (i = 0; i < 4; ++i) {
        ++g_checks;
        if (lanes[i] != want[i]) {
            report(what, x[i], m, s, lanes[i], want[i]);
        }
    }
}

/* Four inputs against one (multiplier, shift): the three stages and the whole. */
static void check4(const int32_t *x, int32_t m, int32_t shift)
{
    const int32x4_t vx = vld1q_s32(x);
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : shift; /* negated right shift */
    int32_t want[4];
    int i;
    for (i = 0; i < 4; ++i) {
        want[i] = tf_sat_rounding_doubling_high_mul(x[i], m);
    }
    check_lanes("vqrdmulh", x, m, shift, vqrdmulhq_s32(vx, vdupq_n_s32(m)), want);
    for (i = 0; i < 4; ++i) {
        want[i] = tf_rounding_divide_by_pot(x[i], -right);
    }
    check_lanes("rounding_divide", x, m, shift, tf_mve_rounding_divide(vx, vdupq_n_s32(right)), want);
    for (i = 0; i < 4; ++i) {
        want[i] = tf_multiply_by_quantized_multiplier(x[i], m, (int)shift);
    }
    check_lanes("multiply", x, m, shift,
                tf_mve_mul_by_quantized_multiplier(vx, vdupq_n_s32(m), vdupq_n_s32(left), vdupq_n_s32(right)), want);
    if (left == 0) {
        check_lanes("multiply_r", x, m, shift, tf_mve_mul_by_quantized_multiplier_r(vx, vdupq_n_s32(m), vdupq_n_s32(right)),
                    want);
    }
}

static const int32_t k_multipliers[] = {
    0, 1073741824, 1073741825, 1431655765, 1518500250, 1717986918, 2147483646, 2147483647,
};

int main(void)
{
    int32_t x[4];
    int32_t e, s, k, n;
    unsigned mi;
    bsp_init();
    /* exact halves of every power of two, and their neighbours, both signs */
    for (e = 1; e <= 31; ++e) {
        const int32_t half = (int32_t)(1u << (e - 1));
        for (k = -3; k <= 3; ++k) {
            const int64_t base = (int64_t)k * ((int64_t)1 << e);
            x[0] = (int32_t)(base + half);
            x[1] = (int32_t)(base - half);
            x[2] = (int32_t)(base + half + 1);
            x[3] = (int32_t)(base - half - 1);
            for (mi = 0; mi < sizeof k_multipliers / sizeof k_multipliers[0]; ++mi) {
                check4(x, k_multipliers[mi], -e);
            }
        }
    }
    /* extremes and ties of the doubling high multiply (multiplier 2^30: odd x are halves) */
    for (s = -31; s <= 8; ++s) {
        const int32_t edges[12] = {INT32_MIN, INT32_MIN + 1, INT32_MAX, INT32_MAX - 1, -1, 1, 0, 3, -3, 12345, -12345,
                                   1 << 30};
        for (k = 0; k < 12; k += 4) {
            for (mi = 0; mi < sizeof k_multipliers / sizeof k_multipliers[0]; ++mi) {
                check4(&edges[k], k_multipliers[mi], s);
            }
        }
    }
    /* a sweep: random multipliers, shifts and inputs of every magnitude */
    for (n = 0; n < 40000; ++n) {
        const int32_t m = (int32_t)(0x40000000u | (next_random() & 0x3fffffffu));
        const int32_t shift = (int32_t)(next_random() % 40u) - 31;
        for (k = 0; k < 4; ++k) {
            const uint32_t bits = next_random() % 32u;
            x[k] = (int32_t)(next_random() >> bits);
            if (next_random() & 1u) {
                x[k] = -x[k];
            }
        }
        check4(x, m, shift);
    }
    bsp_puts("TF LOG checks=");
    bsp_put_uint(g_checks);
    bsp_puts(" mismatches=");
    bsp_put_uint(g_mismatches);
    bsp_puts("\nTF DONE status=pass count=0\n");
    return 0;
}
