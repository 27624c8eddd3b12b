/*
 * ST Nucleo-F446RE: clocks and console pins (RM0390, UM1724).
 *
 * SYSCLK 180 MHz from HSI 16 MHz: PLLM 8 (2 MHz), PLLN 180 (VCO 360 MHz), PLLP 2, with voltage
 * scale 1 and over-drive; flash 5 wait states; AHB 180 MHz, APB1 45 MHz (/4), APB2 90 MHz (/2).
 * Console: USART2 on PA2 (TX) / PA3 (RX), AF7 = the ST-LINK virtual COM port.
 * These values must match boards/nucleo-f446re.toml (clock_hz, console.clock_hz, timer.hz).
 */
#include <stdint.h>

#include "bsp_internal.h"
#include "cortexm.h"

#define RCC_BASE 0x40023800u
#define RCC_CR TF_REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR TF_REG32(RCC_BASE + 0x04u)
#define RCC_CFGR TF_REG32(RCC_BASE + 0x08u)
#define RCC_AHB1ENR TF_REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR TF_REG32(RCC_BASE + 0x40u)

#define PWR_CR TF_REG32(0x40007000u)
#define PWR_CSR TF_REG32(0x40007004u)
#define FLASH_ACR TF_REG32(0x40023C00u)

#define GPIOA_MODER TF_REG32(0x40020000u)
#define GPIOA_OSPEEDR TF_REG32(0x40020008u)
#define GPIOA_AFRL TF_REG32(0x40020020u)

#define RCC_CR_HSION (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_PLL 2u
#define RCC_CFGR_SWS_MASK (3u << 2)
#define RCC_CFGR_SWS_PLL (2u << 2)
#define RCC_CFGR_PPRE1_DIV4 (5u << 10)
#define RCC_CFGR_PPRE2_DIV2 (4u << 13)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB1ENR_USART2EN (1u << 17)
#define RCC_APB1ENR_PWREN (1u << 28)
#define PWR_CR_VOS_SCALE1 (3u << 14)
#define PWR_CR_ODEN (1u << 16)
#define PWR_CR_ODSWEN (1u << 17)
#define PWR_CSR_ODRDY (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)
#define FLASH_ACR_LATENCY_5WS 5u
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN (1u << 9)
#define FLASH_ACR_DCEN (1u << 10)

#define PLL_M 8u
#define PLL_N 180u
#define PLL_P_DIV2 0u
#define PLL_Q 7u
#define PLL_R 2u

/* Bounded wait: a clock that never becomes ready must not hang the board silently forever. */
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

void bsp_board_init(void)
{
    RCC_CR |= RCC_CR_HSION;
    (void)wait_set(&RCC_CR, RCC_CR_HSIRDY);
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR = (PWR_CR & ~(3u << 14)) | PWR_CR_VOS_SCALE1;

    RCC_PLLCFGR = PLL_M | (PLL_N << 6) | (PLL_P_DIV2 << 16) | (PLL_Q << 24) | (PLL_R << 28); /* PLLSRC = HSI */
    RCC_CR |= RCC_CR_PLLON;
    PWR_CR |= PWR_CR_ODEN;
    if (wait_set(&PWR_CSR, PWR_CSR_ODRDY)) {
        PWR_CR |= PWR_CR_ODSWEN;
        (void)wait_set(&PWR_CSR, PWR_CSR_ODSWRDY);
    }
    FLASH_ACR = FLASH_ACR_LATENCY_5WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    RCC_CFGR = RCC_CFGR_PPRE1_DIV4 | RCC_CFGR_PPRE2_DIV2; /* AHB /1, still on HSI */
    if (wait_set(&RCC_CR, RCC_CR_PLLRDY)) {
        RCC_CFGR |= RCC_CFGR_SW_PLL;
        while ((RCC_CFGR & RCC_CFGR_SWS_MASK) != RCC_CFGR_SWS_PLL) {
        }
    }

    /* USART2 on PA2/PA3, alternate function 7 */
    RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
    RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
    (void)RCC_APB1ENR;
    GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 4)) | (0xAu << 4);       /* PA2, PA3: alternate */
    GPIOA_OSPEEDR = (GPIOA_OSPEEDR & ~(0xFu << 4)) | (0xAu << 4);   /* fast */
    GPIOA_AFRL = (GPIOA_AFRL & ~(0xFFu << 8)) | (0x77u << 8);       /* AF7 */
}
