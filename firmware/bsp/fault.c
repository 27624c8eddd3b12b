/*
 * Fault handlers: print one protocol line and stop.
 *
 *   TF FAULT kind=HardFault pc=0x.. lr=0x.. xpsr=0x.. cfsr=0x.. hfsr=0x.. mmfar=0x.. bfar=0x.. sp=0x..
 *
 * pc/lr/xpsr come from the exception frame the core stacked; sp is the stack pointer before the
 * exception. The handler switches to its own small stack first, so a stack overflow still gets
 * reported (with pc=lr=xpsr=0 when the core could not stack the frame). tinyforge/faults.py decodes the line (kind, function and source line via addr2line).
 */
#include <stdint.h>

#include "bsp.h"
#include "bsp_internal.h"
#include "cortexm.h"

#define FAULT_EXIT_STATUS 3

void HardFault_Handler(void);
void Default_Handler(void);
void MemManage_Handler(void);
void BusFault_Handler(void);
void UsageFault_Handler(void);
void SecureFault_Handler(void);
void bsp_fault_entry(void);
void bsp_fault_report(const uint32_t *frame, uint32_t kind, uint32_t exc_return);

uint32_t bsp_fault_stack[96] __attribute__((aligned(8)));

static const char *const k_kinds[] = {"HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault"};

/* r0 = stacked frame (MSP or PSP by EXC_RETURN bit 2), r1 = kind, r2 = EXC_RETURN. */
__attribute__((naked, used)) void bsp_fault_entry(void)
{
    __asm__ volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "mov r2, lr\n\t"
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
        "movs r3, #0\n\t"
        "msr msplim, r3\n\t" /* the fault stack lies below the main stack's limit */
#endif
        "ldr r3, =bsp_fault_stack + 384\n\t"
        "msr msp, r3\n\t"
        "b bsp_fault_report\n\t"
        ".ltorg\n\t");
}

__attribute__((naked)) void HardFault_Handler(void)
{
    __asm__ volatile("movs r1, #0\n\tb bsp_fault_entry\n\t");
}

/* An interrupt nobody enabled: reported like a HardFault (xpsr's low bits hold its number). */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile("movs r1, #0\n\tb bsp_fault_entry\n\t");
}

__attribute__((naked)) void MemManage_Handler(void)
{
    __asm__ volatile("movs r1, #1\n\tb bsp_fault_entry\n\t");
}

__attribute__((naked)) void BusFault_Handler(void)
{
    __asm__ volatile("movs r1, #2\n\tb bsp_fault_entry\n\t");
}

__attribute__((naked)) void UsageFault_Handler(void)
{
    __asm__ volatile("movs r1, #3\n\tb bsp_fault_entry\n\t");
}

__attribute__((naked)) void SecureFault_Handler(void)
{
    __asm__ volatile("movs r1, #4\n\tb bsp_fault_entry\n\t");
}

static void put_field(const char *name, uint32_t value)
{
    bsp_putc(' ');
    bsp_puts(name);
    bsp_putc('=');
    bsp_put_hex32(value);
}

__attribute__((noreturn, used)) void bsp_fault_report(const uint32_t *frame, uint32_t kind, uint32_t exc_return)
{
    /* Exception frame: r0 r1 r2 r3 r12 lr pc xpsr [s0-s15 fpscr reserved]. When the core could
     * not stack it (stack overflow) the frame pointer lies outside the stack: report zeros
     * rather than fault again reading it. */
    uintptr_t at = (uintptr_t)frame;
    int valid = at >= (uintptr_t)&__tf_stack_bottom + BSP_STACK_GUARD && at + 32u <= (uintptr_t)&__tf_stack_top;
    uint32_t lr = valid ? frame[5] : 0u;
    uint32_t pc = valid ? frame[6] : 0u;
    uint32_t xpsr = valid ? frame[7] : 0u;
    uint32_t words = 8u;
    if ((exc_return & (1u << 4)) == 0u) {
        words += 18u; /* the core stacked the FP context too */
    }
    if (!valid) {
        words = 0u;
    }
    if (xpsr & (1u << 9)) {
        words += 1u; /* the core aligned the stack to 8 bytes */
    }
    bsp_puts("\nTF FAULT kind=");
    bsp_puts(k_kinds[kind < 5u ? kind : 0u]);
    put_field("pc", pc);
    put_field("lr", lr);
    put_field("xpsr", xpsr);
    put_field("cfsr", SCB_CFSR);
    put_field("hfsr", SCB_HFSR);
    put_field("mmfar", SCB_MMFAR);
    put_field("bfar", SCB_BFAR);
    put_field("sp", (uint32_t)(uintptr_t)(frame + words));
    bsp_puts("\n");
    bsp_exit(FAULT_EXIT_STATUS);
    for (;;) {
    }
}
