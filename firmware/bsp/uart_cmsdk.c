/*
 * ARM CMSDK APB UART (MPS2 / MPS3 FPGA images): polled console.
 * Registers: DATA 0x00, STATE 0x04 (bit0 TX full, bit1 RX full), CTRL 0x08 (bit0 TX enable,
 * bit1 RX enable), INTSTATUS 0x0C, BAUDDIV 0x10 (>= 16).
 */
#include <stdint.h>

#include "bsp.h"
#include "bsp_internal.h"
#include "cortexm.h"

#define UART_DATA TF_REG32(BSP_CONSOLE_BASE + 0x00u)
#define UART_STATE TF_REG32(BSP_CONSOLE_BASE + 0x04u)
#define UART_CTRL TF_REG32(BSP_CONSOLE_BASE + 0x08u)
#define UART_BAUDDIV TF_REG32(BSP_CONSOLE_BASE + 0x10u)

#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)

void bsp_console_init(void)
{
    uint32_t div = BSP_CONSOLE_CLOCK_HZ / BSP_CONSOLE_BAUD;
    UART_BAUDDIV = div < 16u ? 16u : div;
    UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN;
}

void bsp_putc(char c)
{
    while (UART_STATE & UART_STATE_TX_FULL) {
    }
    UART_DATA = (uint8_t)c;
}

int bsp_getc(void)
{
    if (UART_STATE & UART_STATE_RX_FULL) {
        return (int)(UART_DATA & 0xFFu);
    }
    return -1;
}

void bsp_console_flush(void)
{
    while (UART_STATE & UART_STATE_TX_FULL) {
    }
}
