/*
 * Cortex-M startup: vector table, reset handler (.data copy, .bss zero, stack painting, FPU/MVE
 * enable), default handlers. The linker script (templates/linker.ld.j2) places `.isr_vector` at
 * the start of the application's flash and provides the __tf_* symbols.
 */
#include <stdint.h>

#include "bsp.h"
#include "bsp_internal.h"
#include "cortexm.h"

#ifndef BSP_NUM_IRQS
#define BSP_NUM_IRQS 64
#endif

extern uint32_t __tf_data_load;
extern uint32_t __tf_data_start;
extern uint32_t __tf_data_end;
extern uint32_t __tf_bss_start;
extern uint32_t __tf_bss_end;

int main(void);

void Reset_Handler(void);
void Default_Handler(void);
void bsp_reset(void);
void HardFault_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SecureFault_Handler(void);
void SysTick_Handler(void);
void NMI_Handler(void);
void SVC_Handler(void);
void DebugMon_Handler(void);
void PendSV_Handler(void);

typedef void (*bsp_vector_t)(void);

__attribute__((section(".isr_vector"), used)) const bsp_vector_t bsp_vectors[16 + BSP_NUM_IRQS] = {
    (bsp_vector_t)(uintptr_t)&__tf_stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    SecureFault_Handler, /* ARMv8-M only; reserved on ARMv7-M */
    0,
    0,
    0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    [16 ... 16 + BSP_NUM_IRQS - 1] = Default_Handler,
};

/* Exceptions firmware may take over (weak); by default they report like a fault. A tail branch
 * keeps EXC_RETURN in lr for the fault handler. */
__attribute__((weak, naked)) void NMI_Handler(void)
{
    __asm__ volatile("b Default_Handler");
}

__attribute__((weak, naked)) void SVC_Handler(void)
{
    __asm__ volatile("b Default_Handler");
}

__attribute__((weak, naked)) void DebugMon_Handler(void)
{
    __asm__ volatile("b Default_Handler");
}

__attribute__((weak, naked)) void PendSV_Handler(void)
{
    __asm__ volatile("b Default_Handler");
}

/* First code after reset: mask interrupts, MPU off, no stack limit; enable the FPU (and with it
 * MVE) before any C code can use it; take the stack from the linker script (a bootloader may
 * have jumped here with its own); go to C. bsp_init() unmasks interrupts. */
__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm__ volatile(
        /* a bootloader may have jumped here: start from a quiet core whatever it left behind */
        "cpsid i\n\t"
        "ldr r0, =0xE000ED94\n\t" /* MPU_CTRL: off until bsp_init sets this program's guard */
        "movs r1, #0\n\t"
        "str r1, [r0]\n\t"
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
        "msr msplim, r1\n\t"
#endif
        "dsb\n\t"
        "isb\n\t"
#if BSP_HAS_FPU
        "ldr r0, =0xE000ED88\n\t" /* CPACR: CP10 and CP11 full access */
        "ldr r1, [r0]\n\t"
        "orr r1, r1, #0x00F00000\n\t"
        "str r1, [r0]\n\t"
        "dsb\n\t"
        "isb\n\t"
#endif
        "ldr r0, =__tf_stack_top\n\t"
        "msr msp, r0\n\t"
        "b bsp_reset\n\t"
        ".ltorg\n\t");
}

static void paint_stack(void)
{
    /* Fill the unused part of the stack (bottom .. current sp - 64 bytes) with a pattern;
     * bsp_stack_used() finds the lowest overwritten word. */
    volatile uint32_t *p = &__tf_stack_bottom;
    uint32_t limit = tf_get_msp() - 64u;
    while ((uint32_t)(uintptr_t)p < limit) {
        *p++ = BSP_STACK_PAINT;
    }
}

__attribute__((noreturn, used)) void bsp_reset(void)
{
    uint32_t *src = &__tf_data_load;
    uint32_t *dst = &__tf_data_start;
    SCB_VTOR = (uint32_t)(uintptr_t)bsp_vectors;
#if BSP_HAS_FPU && defined(__ARM_FEATURE_CMSE)
    SCB_NSACR |= (3u << 10); /* let the non-secure world use CP10/CP11 (FPU, MVE) too */
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    /* ARMv8-M: the core itself faults (UsageFault STKOF) when the stack overflows */
    __asm__ volatile("msr msplim, %0" ::"r"((uint32_t)(uintptr_t)&__tf_stack_bottom));
#endif
    tf_dsb_isb();
    while (dst < &__tf_data_end) {
        *dst++ = *src++;
    }
    for (dst = &__tf_bss_start; dst < &__tf_bss_end; ++dst) {
        *dst = 0u;
    }
    paint_stack();
    bsp_exit(main());
    for (;;) {
    }
}

uint32_t bsp_stack_used(void)
{
    const uint32_t *p = &__tf_stack_bottom + BSP_STACK_GUARD / 4u;
    while (p < &__tf_stack_top && *p == BSP_STACK_PAINT) {
        ++p;
    }
    return (uint32_t)((uintptr_t)&__tf_stack_top - (uintptr_t)p);
}

uint32_t bsp_stack_size(void)
{
    return (uint32_t)((uintptr_t)&__tf_stack_top - (uintptr_t)&__tf_stack_bottom) - BSP_STACK_GUARD;
}
