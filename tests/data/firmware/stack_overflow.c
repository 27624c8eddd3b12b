/* Recurses until the stack runs out (the depth comes from a volatile, so the compiler cannot see
 * that it never stops): on ARMv8-M the BSP's MSPLIM turns that into a UsageFault (STKOF) instead
 * of silent corruption. */
#include <stdint.h>

#include "bsp.h"

static volatile uint32_t g_depth = 0xFFFFFFFFu;

static uint32_t deep(volatile uint32_t *prev, uint32_t n)
{
    volatile uint32_t frame[32];
    frame[0] = n + (prev != 0 ? prev[0] : 0u);
    if (n >= g_depth) {
        return frame[0];
    }
    return frame[0] + deep(frame, n + 1u);
}

int main(void)
{
    bsp_init();
    bsp_puts("TF LOG recursing\n");
    return (int)deep(0, 0u);
}
