/* Recurses until the stack runs out (the depth comes from a volatile, so the compiler cannot see
 * that it never stops): on ARMv8-M the BSP's MSPLIM turns that into a UsageFault (STKOF) instead
 * of silent corruption. */
#include <stdint.h>

#include "bsp.h"

static volatile uint32_t g_depth = 0xFFFFFFFFu;

static uint32_t deep(uint32_t n)
{
    volatile uint32_t frame[32];
    uint32_t r;
    frame[0] = n;
    if (n >= g_depth) {
        return frame[0];
    }
    r = deep(n + 1u);
    frame[1] = r; /* a volatile write after the call: the frame must outlive it (no tail call) */
    return frame[1] + frame[0];
}

int main(void)
{
    bsp_init();
    bsp_puts("TF LOG recursing\n");
    return (int)deep(0u);
}
