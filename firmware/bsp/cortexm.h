/* Cortex-M system registers used by the tinyforge BSP (ARMv7-M / ARMv8-M mainline). */
#ifndef TINYFORGE_CORTEXM_H
#define TINYFORGE_CORTEXM_H

#include <stdint.h>

#define TF_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* System control block */
#define SCB_ICSR TF_REG32(0xE000ED04u)
#define SCB_VTOR TF_REG32(0xE000ED08u)
#define SCB_AIRCR TF_REG32(0xE000ED0Cu)
#define SCB_CCR TF_REG32(0xE000ED14u)
#define SCB_SHCSR TF_REG32(0xE000ED24u)
#define SCB_CFSR TF_REG32(0xE000ED28u)
#define SCB_HFSR TF_REG32(0xE000ED2Cu)
#define SCB_MMFAR TF_REG32(0xE000ED34u)
#define SCB_BFAR TF_REG32(0xE000ED38u)
#define SCB_CPACR TF_REG32(0xE000ED88u)
#define SCB_NSACR TF_REG32(0xE000ED8Cu)

#define SCB_ICSR_PENDSTSET (1u << 26)
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_SHCSR_MEMFAULTENA (1u << 16)
#define SCB_SHCSR_BUSFAULTENA (1u << 17)
#define SCB_SHCSR_USGFAULTENA (1u << 18)
#define SCB_AIRCR_VECTKEY (0x05FAu << 16)
#define SCB_AIRCR_SYSRESETREQ (1u << 2)

/* MPU (ARMv7-M layout) */
#define MPU_TYPE TF_REG32(0xE000ED90u)
#define MPU_CTRL TF_REG32(0xE000ED94u)
#define MPU_RNR TF_REG32(0xE000ED98u)
#define MPU_RBAR TF_REG32(0xE000ED9Cu)
#define MPU_RASR TF_REG32(0xE000EDA0u)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2)
#define MPU_RASR_ENABLE (1u << 0)
#define MPU_RASR_XN (1u << 28)

/* SysTick */
#define SYST_CSR TF_REG32(0xE000E010u)
#define SYST_RVR TF_REG32(0xE000E014u)
#define SYST_CVR TF_REG32(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* 1 = processor clock */

static inline uint32_t tf_get_primask(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, primask" : "=r"(v));
    return v;
}

static inline void tf_irq_disable(void)
{
    __asm__ volatile("cpsid i" ::: "memory");
}

static inline void tf_set_primask(uint32_t v)
{
    __asm__ volatile("msr primask, %0" ::"r"(v) : "memory");
}

static inline void tf_irq_enable(void)
{
    __asm__ volatile("cpsie i" ::: "memory");
}

static inline void tf_dsb_isb(void)
{
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

static inline uint32_t tf_get_msp(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, msp" : "=r"(v));
    return v;
}

#endif /* TINYFORGE_CORTEXM_H */
