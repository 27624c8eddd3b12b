/* Internal interfaces between the BSP's files (not for firmware). */
#ifndef TINYFORGE_BSP_INTERNAL_H
#define TINYFORGE_BSP_INTERNAL_H

#include <stdint.h>

#include "bsp_config.h"

/* Console driver (uart_cmsdk.c or uart_stm32.c): configure and enable the UART. */
void bsp_console_init(void);

/* Wait until everything written has left the UART. */
void bsp_console_flush(void);

/* Board hook: clocks and pin muxing before the console starts. A weak default does nothing;
 * real boards provide it in board_<name>.c. */
void bsp_board_init(void);

/* Semihosting call (emulators only): returns r0. */
uint32_t bsp_semihost(uint32_t op, const void *arg);

/* Stack bounds from the linker script (stack painting). */
extern uint32_t __tf_stack_bottom;
extern uint32_t __tf_stack_top;

#define BSP_STACK_PAINT 0xC0FFEE55u

/* ARMv7-M: the lowest BSP_STACK_GUARD bytes of the stack are a no-access MPU region, so an
 * overflow faults (MemManage) instead of running over whatever lies below. ARMv8-M uses MSPLIM. */
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
#define BSP_STACK_GUARD 32u
#else
#define BSP_STACK_GUARD 0u
#endif

#endif /* TINYFORGE_BSP_INTERNAL_H */
