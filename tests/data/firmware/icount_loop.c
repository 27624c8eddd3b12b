/* Times a loop of exactly 2 * LOOPS + 1 instructions with bsp_ticks(), and an empty interval
 * to measure the overhead of bsp_ticks() itself. Under QEMU -icount shift=0 one instruction is
 * one nanosecond, so ticks * 1e9 / tick_hz must give back the instruction count. */
#include <stdint.h>

#include "bsp.h"

#ifndef LOOPS
#define LOOPS 500000u
#endif

static void report(const char *name, uint64_t ticks)
{
    bsp_puts("TF LOG ");
    bsp_puts(name);
    bsp_puts("=");
    bsp_put_uint(ticks);
    bsp_puts("\n");
}

int main(void)
{
    uint64_t t0;
    uint64_t t1;
    uint64_t empty;
    uint32_t n = LOOPS;

    bsp_init();
    t0 = bsp_ticks();
    t1 = bsp_ticks();
    empty = t1 - t0;
    t0 = bsp_ticks();
    __asm__ volatile(
        "1:\n\t"
        "subs %0, %0, #1\n\t"
        "bne 1b\n\t"
        : "+r"(n)
        :
        : "cc");
    t1 = bsp_ticks();
    report("empty_ticks", empty);
    report("loop_ticks", t1 - t0);
    report("loops", LOOPS);
    report("tick_hz", bsp_tick_hz());
    bsp_puts("TF DONE status=pass count=0\n");
    return 0;
}
