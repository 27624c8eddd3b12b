/*
 * A small application for the flashing bench tests: linked at the bootloader's application
 * offset, prints the tinyforge protocol lines and a checksum of a constant table (so a flash with
 * a wrong byte shows), then exits. Build: build_program(board, [this], out, app_offset=0x10000).
 */
#include <stdint.h>

#include "bsp.h"

/* Wait before printing: stm32flash flushes the port's input when it exits after GO, which would
 * swallow output printed at once. */
#ifndef HELLO_DELAY_MS
#define HELLO_DELAY_MS 300u
#endif

/* Keep running this long after TF BEGIN, printing a TF LOG line every 100 ms (the process clean-up
 * tests signal `tinyforge flash --follow` while the application runs). */
#ifndef HELLO_TAIL_MS
#define HELLO_TAIL_MS 0u
#endif

#ifndef HELLO_PAD_BYTES
#define HELLO_PAD_BYTES 4096
#endif

/* Constant data so the image has some size; its sum is printed. */
static const uint8_t k_table[HELLO_PAD_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, [HELLO_PAD_BYTES - 1] = 0xA5};

int main(void)
{
    uint32_t sum = 0u;
    unsigned i;
    uint64_t until;
    uint64_t next;
    bsp_init();
    until = bsp_ticks() + (uint64_t)bsp_tick_hz() / 1000u * HELLO_DELAY_MS;
    while (bsp_ticks() < until) {
    }
    for (i = 0; i < sizeof k_table; ++i) {
        sum = sum * 31u + k_table[i];
    }
    bsp_puts("TF BEGIN board=");
    bsp_puts(bsp_board_name());
    bsp_puts(" model=flash-hello inputs=0\n");
    until = bsp_ticks() + (uint64_t)bsp_tick_hz() / 1000u * HELLO_TAIL_MS;
    next = bsp_ticks();
    while (bsp_ticks() < until) {
        if (bsp_ticks() >= next) {
            bsp_puts("TF LOG still running\n");
            next += bsp_tick_hz() / 10u;
        }
    }
    bsp_puts("TF LOG hello from the flashed application, table sum ");
    bsp_put_hex32(sum);
    bsp_puts("\n");
    bsp_puts("TF DONE status=pass count=0\n");
    return 0;
}
