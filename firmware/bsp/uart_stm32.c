/*
 * STM32 USART / LPUART: polled console, shared by the STM32 family.
 *
 * Two register layouts exist:
 *   v1 (F1/F2/F4):  SR 0x00, DR 0x04, BRR 0x08, CR1 0x0C (UE bit 13, TE bit 3, RE bit 2)
 *   v2 (F0/F7/L4/G4/H7, and every LPUART): CR1 0x00 (UE bit 0, RE bit 2, TE bit 3), BRR 0x0C,
 *                   ISR 0x1C, ICR 0x20, RDR 0x24, TDR 0x28
 * Status bits are the same in SR and ISR: TXE 7, TC 6, RXNE 5, ORE 3.
 * BSP_STM32_USART_V2 selects v2; BSP_STM32_LPUART selects v2 with the LPUART baud formula
 * (BRR = 256 * fck / baud). The board file (board_<name>.c) enables clocks and pins first.
 */
#include <stdint.h>

#include "bsp.h"
#include "bsp_internal.h"
#include "cortexm.h"

#if defined(BSP_STM32_LPUART) && !defined(BSP_STM32_USART_V2)
#define BSP_STM32_USART_V2 1
#endif

#if defined(BSP_STM32_USART_V2)
#define USART_CR1 TF_REG32(BSP_CONSOLE_BASE + 0x00u)
#define USART_BRR TF_REG32(BSP_CONSOLE_BASE + 0x0Cu)
#define USART_STATUS TF_REG32(BSP_CONSOLE_BASE + 0x1Cu)
#define USART_ICR TF_REG32(BSP_CONSOLE_BASE + 0x20u)
#define USART_RX TF_REG32(BSP_CONSOLE_BASE + 0x24u)
#define USART_TX TF_REG32(BSP_CONSOLE_BASE + 0x28u)
#define USART_CR1_UE (1u << 0)
#else
#define USART_STATUS TF_REG32(BSP_CONSOLE_BASE + 0x00u)
#define USART_RX TF_REG32(BSP_CONSOLE_BASE + 0x04u)
#define USART_TX TF_REG32(BSP_CONSOLE_BASE + 0x04u)
#define USART_BRR TF_REG32(BSP_CONSOLE_BASE + 0x08u)
#define USART_CR1 TF_REG32(BSP_CONSOLE_BASE + 0x0Cu)
#define USART_CR1_UE (1u << 13)
#endif

#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_TXE (1u << 7)
#define USART_TC (1u << 6)
#define USART_RXNE (1u << 5)
#define USART_ORE (1u << 3)

void bsp_console_init(void)
{
#if defined(BSP_STM32_LPUART)
    uint32_t brr = (uint32_t)(((uint64_t)BSP_CONSOLE_CLOCK_HZ * 256u + BSP_CONSOLE_BAUD / 2u) / BSP_CONSOLE_BAUD);
#else
    uint32_t brr = (BSP_CONSOLE_CLOCK_HZ + BSP_CONSOLE_BAUD / 2u) / BSP_CONSOLE_BAUD; /* oversampling by 16 */
#endif
    USART_CR1 = 0u;
    USART_BRR = brr;
    USART_CR1 = USART_CR1_TE | USART_CR1_RE;
    USART_CR1 |= USART_CR1_UE;
}

void bsp_putc(char c)
{
    while ((USART_STATUS & USART_TXE) == 0u) {
    }
    USART_TX = (uint8_t)c;
}

int bsp_getc(void)
{
    uint32_t status = USART_STATUS;
    if (status & USART_RXNE) {
        return (int)(USART_RX & 0xFFu);
    }
    if (status & USART_ORE) {
#if defined(BSP_STM32_USART_V2)
        USART_ICR = USART_ORE; /* ORECF */
#else
        (void)USART_RX; /* reading SR then DR clears ORE */
#endif
    }
    return -1;
}

void bsp_console_flush(void)
{
    while ((USART_STATUS & USART_TC) == 0u) {
    }
}
