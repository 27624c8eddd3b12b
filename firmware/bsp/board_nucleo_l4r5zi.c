/*
 * ST Nucleo-L4R5ZI: clocks and console pins (RM0432, UM2179).
 *
 * SYSCLK 120 MHz from MSI 4 MHz: PLLM 1, PLLN 60 (VCO 240 MHz), PLLR 2, in voltage range 1 boost
 * mode (PWR_CR5.R1MODE = 0); flash 5 wait states; AHB, APB1, APB2 at 120 MHz.
 * Console: LPUART1 on PG7 (TX) / PG8 (RX), AF8 = the ST-LINK virtual COM port; port G is
 * powered from VDDIO2, which must be declared valid (PWR_CR2.IOSV). LPUART1 clock = PCLK1.
 * These values must match boards/nucleo-l4r5zi.toml (clock_hz, console.clock_hz, timer.hz).
 */
#include <stdint.h>

#include "bsp_internal.h"
#include "cortexm.h"

#define RCC_BASE 0x40021000u
#define RCC_CR TF_REG32(RCC_BASE + 0x00u)
#define RCC_CFGR TF_REG32(RCC_BASE + 0x08u)
#define RCC_PLLCFGR TF_REG32(RCC_BASE + 0x0Cu)
#define RCC_AHB2ENR TF_REG32(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR1 TF_REG32(RCC_BASE + 0x58u)
#define RCC_APB1ENR2 TF_REG32(RCC_BASE + 0x5Cu)
#define RCC_CCIPR TF_REG32(RCC_BASE + 0x88u)

#define PWR_BASE 0x40007000u
#define PWR_CR2 TF_REG32(PWR_BASE + 0x04u)
#define PWR_SR2 TF_REG32(PWR_BASE + 0x14u)
#define PWR_CR5 TF_REG32(PWR_BASE + 0x80u)
#define FLASH_ACR TF_REG32(0x40022000u)

#define GPIOG_BASE 0x48001800u
#define GPIOG_MODER TF_REG32(GPIOG_BASE + 0x00u)
#define GPIOG_OSPEEDR TF_REG32(GPIOG_BASE + 0x08u)
#define GPIOG_AFRL TF_REG32(GPIOG_BASE + 0x20u)
#define GPIOG_AFRH TF_REG32(GPIOG_BASE + 0x24u)

#define RCC_CR_MSIRDY (1u << 1)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_MASK 3u
#define RCC_CFGR_SW_PLL 3u
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL (3u << 2)
#define RCC_CFGR_HPRE_MASK (0xFu << 4)
#define RCC_CFGR_HPRE_DIV2 (8u << 4)
#define RCC_PLLCFGR_SRC_MSI 1u
#define RCC_PLLCFGR_PLLREN (1u << 24)
#define RCC_AHB2ENR_GPIOGEN (1u << 6)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define RCC_APB1ENR2_LPUART1EN (1u << 0)
#define PWR_CR2_IOSV (1u << 9)
#define PWR_SR2_VOSF (1u << 10)
#define PWR_CR5_R1MODE (1u << 8)
#define FLASH_ACR_LATENCY_MASK 0xFu
#define FLASH_ACR_LATENCY_5WS 5u
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

#define PLL_M 1u  /* register value M-1 = 0 */
#define PLL_N 60u
#define PLL_R_DIV2 0u

static int wait_set(volatile uint32_t *reg, uint32_t mask)
{
    uint32_t n;
    for (n = 0; n < 1000000u; ++n) {
        if ((*reg & mask) == mask) {
            return 1;
        }
    }
    return 0;
}

static void wait_clear(volatile uint32_t *reg, uint32_t mask)
{
    uint32_t n;
    for (n = 0; n < 1000000u && (*reg & mask) != 0u; ++n) {
    }
}

static void delay_cycles(uint32_t n)
{
    while (n-- > 0u) {
        __asm__ volatile("nop");
    }
}

void bsp_board_init(void)
{
    (void)wait_set(&RCC_CR, RCC_CR_MSIRDY); /* MSI 4 MHz is the reset clock */
    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    (void)RCC_APB1ENR1;

    /* Range 1 boost mode (needed above 80 MHz), entered with the AHB divided by 2 */
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_HPRE_MASK) | RCC_CFGR_HPRE_DIV2;
    PWR_CR5 &= ~PWR_CR5_R1MODE;
    wait_clear(&PWR_SR2, PWR_SR2_VOSF);
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_MASK) | FLASH_ACR_LATENCY_5WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN |
                FLASH_ACR_DCEN;
    (void)wait_set(&FLASH_ACR, FLASH_ACR_LATENCY_5WS); /* the new latency reads back once active */

    RCC_PLLCFGR = RCC_PLLCFGR_SRC_MSI | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (PLL_R_DIV2 << 25) | RCC_PLLCFGR_PLLREN;
    RCC_CR |= RCC_CR_PLLON;
    if (wait_set(&RCC_CR, RCC_CR_PLLRDY)) {
        RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_MASK) | RCC_CFGR_SW_PLL;
        while ((RCC_CFGR & RCC_CFGR_SWS_MASK) != RCC_CFGR_SWS_PLL) {
        }
        delay_cycles(200u); /* >= 1 us at 60 MHz before removing the AHB divider */
    }
    RCC_CFGR &= ~RCC_CFGR_HPRE_MASK; /* AHB /1: 120 MHz; APB1, APB2 /1 (reset values) */

    /* LPUART1 on PG7/PG8 (AF8), port G on VDDIO2, LPUART1 clocked from PCLK1 */
    PWR_CR2 |= PWR_CR2_IOSV;
    RCC_AHB2ENR |= RCC_AHB2ENR_GPIOGEN;
    RCC_APB1ENR2 |= RCC_APB1ENR2_LPUART1EN;
    (void)RCC_APB1ENR2;
    RCC_CCIPR &= ~(3u << 10);
    GPIOG_MODER = (GPIOG_MODER & ~(0xFu << 14)) | (0xAu << 14);     /* PG7, PG8: alternate */
    GPIOG_OSPEEDR = (GPIOG_OSPEEDR & ~(0xFu << 14)) | (0xAu << 14); /* fast */
    GPIOG_AFRL = (GPIOG_AFRL & ~(0xFu << 28)) | (8u << 28);         /* PG7 AF8 */
    GPIOG_AFRH = (GPIOG_AFRH & ~0xFu) | 8u;                          /* PG8 AF8 */
}
