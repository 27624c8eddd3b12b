/* Runs Helium (MVE) instructions on the Cortex-M55: a vector add of 16 int8 lanes and an
 * across-vector sum. Without CP10/CP11 enabled in CPACR this is a NOCP UsageFault. */
#include <arm_mve.h>
#include <stdint.h>

#include "bsp.h"

static const int8_t k_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const int8_t k_b[16] = { 100, 100, 100, 100, 100, 100, 100, 100, -1, -2, -3, -4, -5, -6, -7, -8 };

int main(void)
{
    int8x16_t a;
    int8x16_t b;
    int32_t sum;

    bsp_init();
    a = vld1q_s8(k_a);
    b = vld1q_s8(k_b);
    sum = vaddvq_s8(vqaddq_s8(a, b)); /* saturating: 101..108, 127 x 0; then 8, 8, ... */
    bsp_puts("TF LOG mve_sum=");
    bsp_put_uint((uint64_t)(uint32_t)sum);
    bsp_puts("\nTF DONE status=pass count=0\n");
    return 0;
}
