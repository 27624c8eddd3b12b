/*
 * Board-independent part of the BSP: init order, console helpers, the SysTick time source with
 * overflow counting, semihosting exit.
 */
#include <stdint.h>

#include "bsp.h"
#include "bsp_internal.h"
#include "cortexm.h"

#define SYSTICK_RELOAD 0x00FFFFFFu /* 24-bit counter: one wrap every 2^24 cpu clocks */

/* Semihosting operations (ARM "Semihosting for AArch32 and AArch64", v2). */
#define SEMIHOST_SYS_EXIT 0x18u
#define SEMIHOST_SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023u

static volatile uint32_t g_systick_wraps;

void SysTick_Handler(void);
void SysTick_Handler(void)
{
    g_systick_wraps++;
}

__attribute__((weak)) void bsp_board_init(void)
{
}

static void stack_guard(void)
{
#if BSP_STACK_GUARD > 0u
    /* region 7 (highest priority), 32 bytes (SIZE = 4), AP = 000 no access, execute never; the
     * default memory map stays in force everywhere else (PRIVDEFENA) */
    if (((MPU_TYPE >> 8) & 0xFFu) > 7u) {
        MPU_RNR = 7u;
        MPU_RBAR = (uint32_t)(uintptr_t)&__tf_stack_bottom;
        MPU_RASR = MPU_RASR_XN | (4u << 1) | MPU_RASR_ENABLE;
        MPU_CTRL = MPU_CTRL_PRIVDEFENA | MPU_CTRL_ENABLE;
        tf_dsb_isb();
    }
#endif
}

void bsp_init(void)
{
    SCB_SHCSR |= SCB_SHCSR_MEMFAULTENA | SCB_SHCSR_BUSFAULTENA | SCB_SHCSR_USGFAULTENA;
    stack_guard();
    bsp_board_init();
    bsp_console_init();
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    /* The counter starts from 0 and loads the reload value on the first clock: wait for that,
     * so bsp_ticks() starts near 0 and never sees the initial 0 as a full period. */
    while (SYST_CVR == 0u) {
    }
    SCB_ICSR = SCB_ICSR_PENDSTCLR;
    g_systick_wraps = 0u;
    tf_irq_enable();
}

uint64_t bsp_ticks(void)
{
    uint32_t primask = tf_get_primask();
    uint32_t wraps;
    uint32_t value;
    tf_irq_disable();
    wraps = g_systick_wraps;
    value = SYST_CVR;
    if (SCB_ICSR & SCB_ICSR_PENDSTSET) {
        /* wrapped but the interrupt has not run yet: count it, and re-read after the wrap */
        value = SYST_CVR;
        wraps++;
    }
    tf_set_primask(primask);
    return (uint64_t)wraps * (SYSTICK_RELOAD + 1u) + (SYSTICK_RELOAD - value);
}

uint32_t bsp_tick_hz(void)
{
    return BSP_TICK_HZ;
}

const char *bsp_board_name(void)
{
    return BSP_BOARD_NAME;
}

void bsp_system_reset(void)
{
    bsp_console_flush();
    tf_dsb_isb();
    SCB_AIRCR = SCB_AIRCR_VECTKEY | (SCB_AIRCR & 0x700u) | SCB_AIRCR_SYSRESETREQ; /* PRIGROUP kept */
    tf_dsb_isb();
    for (;;) {
    }
}

void bsp_write(const char *s, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; ++i) {
        bsp_putc(s[i]);
    }
}

void bsp_puts(const char *s)
{
    while (*s != '\0') {
        bsp_putc(*s++);
    }
}

static const char k_hex[] = "0123456789abcdef";

void bsp_put_hex32(uint32_t v)
{
    int shift;
    bsp_putc('0');
    bsp_putc('x');
    for (shift = 28; shift >= 0; shift -= 4) {
        bsp_putc(k_hex[(v >> shift) & 15u]);
    }
}

void bsp_put_uint(uint64_t v)
{
    char buf[21];
    unsigned n = 0;
    do {
        /* 64-bit division by a constant: fine, it is not on a timed path */
        buf[n++] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0u) {
        bsp_putc(buf[--n]);
    }
}

void bsp_put_hex_bytes(const void *p, unsigned n)
{
    const uint8_t *b = (const uint8_t *)p;
    unsigned i;
    for (i = 0; i < n; ++i) {
        bsp_putc(k_hex[b[i] >> 4]);
        bsp_putc(k_hex[b[i] & 15u]);
    }
}

uint32_t bsp_semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void bsp_exit(int status)
{
    bsp_console_flush();
#if BSP_SEMIHOSTING
    {
        /* SYS_EXIT_EXTENDED carries the status; plain SYS_EXIT (older hosts) only pass/fail. */
        uint32_t block[2];
        block[0] = ADP_STOPPED_APPLICATION_EXIT;
        block[1] = (uint32_t)status;
        (void)bsp_semihost(SEMIHOST_SYS_EXIT_EXTENDED, block);
        (void)bsp_semihost(SEMIHOST_SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                                                   : ADP_STOPPED_RUN_TIME_ERROR));
    }
#else
    (void)status;
#endif
    tf_irq_disable();
    for (;;) {
        __asm__ volatile("wfi");
    }
}
