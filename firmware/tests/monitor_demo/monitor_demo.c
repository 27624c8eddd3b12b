/*
 * Test firmware for `tinyforge monitor` (tests/emulator/test_monitor*.py), written on the BSP API.
 * One source, one behaviour per build, chosen with -DDEMO_MODE=<n>:
 *
 *   1 DEMO_CI       self-test lines, 100 TF RESULT lines with known ticks (1000..100000 in a
 *                   shuffled order: p50 50000, p95 95000, p99 99000), TF DONE, "ALL TESTS PASSED"
 *   2 DEMO_FAULT    a few lines, then an undefined instruction in demo_fault_here() (UsageFault)
 *   3 DEMO_BURST    1 MiB of counter lines (16384 x 64 bytes), a 100000-byte line, the 256 byte
 *                   values, then TF DONE
 *   4 DEMO_COUNTER  TF BEGIN, then "line <n>" every 10 ms, forever (the reconnection test)
 *   5 DEMO_ECHO     echoes every received byte, upper-cased, forever (the interactive test)
 *
 * C99, no libc stdio, no malloc. The helpers are `static inline` so each mode builds warning-free.
 */
#include <stdint.h>

#include "bsp.h"

#define DEMO_CI 1
#define DEMO_FAULT 2
#define DEMO_BURST 3
#define DEMO_COUNTER 4
#define DEMO_ECHO 5

#ifndef DEMO_MODE
#error "build with -DDEMO_MODE=<1..5>"
#endif

#define CI_RESULTS 100u
#define BURST_LINES 16384u
#define BURST_LINE_BYTES 64u
#define LONG_LINE_BYTES 100000u

static const char k_hex[] = "0123456789abcdef";

static inline void put_hex_digits(uint32_t v, int digits)
{
    int shift;
    for (shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        bsp_putc(k_hex[(v >> shift) & 15u]);
    }
}

static inline void banner(const char *mode)
{
    bsp_puts("monitor_demo ");
    bsp_puts(mode);
    bsp_puts(" on ");
    bsp_puts(bsp_board_name());
    bsp_puts("\n");
}

static inline void begin(const char *model, unsigned inputs)
{
    bsp_puts("TF BEGIN board=");
    bsp_puts(bsp_board_name());
    bsp_puts(" model=");
    bsp_puts(model);
    bsp_puts(" inputs=");
    bsp_put_uint(inputs);
    bsp_puts("\n");
}

static inline void done(unsigned count)
{
    bsp_puts("TF DONE status=pass count=");
    bsp_put_uint(count);
    bsp_puts("\n");
}

static inline void delay_ms(uint32_t ms)
{
    uint64_t start = bsp_ticks();
    uint64_t wait = (uint64_t)bsp_tick_hz() / 1000u * ms;
    while (bsp_ticks() - start < wait) {
    }
}

#if DEMO_MODE == DEMO_CI
static int run(void)
{
    unsigned i;
    banner("ci");
    bsp_puts("selftest uart ok\n");
    bsp_puts("selftest timer ok\n");
    bsp_puts("selftest sensor SKIPPED (no sensor on this board)\n");
    begin("monitor-demo", CI_RESULTS);
    for (i = 0; i < CI_RESULTS; ++i) {
        /* 37 is coprime with 100: k runs through 0..99 exactly once, shuffled */
        uint32_t k = (uint32_t)((i * 37u) % CI_RESULTS);
        uint8_t out = (uint8_t)k;
        bsp_puts("TF RESULT idx=");
        bsp_put_uint(i);
        bsp_puts(" ticks=");
        bsp_put_uint((uint64_t)(k + 1u) * 1000u);
        bsp_puts(" out0=");
        bsp_put_hex_bytes(&out, 1u);
        bsp_puts("\n");
    }
    bsp_puts("TF LOG all inferences done\n");
    done(CI_RESULTS);
    bsp_puts("ALL TESTS PASSED\n");
    return 0;
}
#elif DEMO_MODE == DEMO_FAULT
void demo_fault_here(void);
__attribute__((noinline)) void demo_fault_here(void)
{
    __asm__ volatile("udf #0"); /* FAULT-HERE */
}

static int run(void)
{
    banner("fault");
    begin("monitor-demo-fault", 1u);
    bsp_puts("about to fault\n");
    demo_fault_here();
    bsp_puts("not reached\n");
    return 1;
}
#elif DEMO_MODE == DEMO_BURST
static int run(void)
{
    uint32_t i;
    uint32_t k;
    banner("burst");
    bsp_puts("TF LOG burst begin lines=16384 bytes=1048576\n");
    for (i = 0; i < BURST_LINES; ++i) {
        /* 8 hex digits + ' ' + 54 letters + '\n' = 64 bytes */
        put_hex_digits(i, 8);
        bsp_putc(' ');
        for (k = 0; k < BURST_LINE_BYTES - 10u; ++k) {
            bsp_putc((char)('A' + (i + k) % 26u));
        }
        bsp_putc('\n');
    }
    bsp_puts("TF LOG burst end\n");
    bsp_puts("long ");
    for (k = 0; k < LONG_LINE_BYTES; ++k) {
        bsp_putc((char)('0' + k % 10u));
    }
    bsp_puts(" END\n");
    bsp_puts("noise ");
    for (k = 0; k < 256u; ++k) {
        if (k != '\n') {
            bsp_putc((char)k);
        }
    }
    bsp_puts(" END\n");
    done(0u);
    return 0;
}
#elif DEMO_MODE == DEMO_COUNTER
static int run(void)
{
    uint32_t n = 0;
    banner("counter");
    begin("counter", 0u);
    for (;;) {
        bsp_puts("line ");
        bsp_put_uint(n++);
        bsp_puts("\n");
        delay_ms(10u);
    }
    return 0; /* not reached */
}
#elif DEMO_MODE == DEMO_ECHO
static int run(void)
{
    banner("echo");
    bsp_puts("TF LOG echo ready\n");
    for (;;) {
        int c = bsp_getc();
        if (c >= 'a' && c <= 'z') {
            c = c - 'a' + 'A';
        }
        if (c >= 0) {
            bsp_putc((char)c);
        }
    }
    return 0; /* not reached */
}
#else
#error "unknown DEMO_MODE"
#endif

int main(void)
{
    bsp_init();
    return run();
}
