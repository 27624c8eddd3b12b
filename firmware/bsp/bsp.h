/*
 * tinyforge board support: the small API every tinyforge firmware (model harness, serial
 * bootloader, test firmware) is written against. One implementation per console driver and
 * time source; the board is chosen at build time by bsp_config.h (generated from the board TOML).
 *
 *   bsp_init()      clocks, console UART, tick timer, fault handlers. Call first in main().
 *   bsp_putc/bsp_write/bsp_puts   blocking console output, bytes as given (no "\r" added).
 *   bsp_getc()      next received byte, or -1 if none (never blocks).
 *   bsp_ticks()     monotonic 64-bit tick count at bsp_tick_hz() (SysTick with overflow counting).
 *   bsp_exit(s)     end the program: semihosting exit with status s on emulators, else halt.
 *   bsp_system_reset()  restart the chip (boot ROM / bootloader first, as after a reset).
 *
 * C99, no malloc, no libc stdio.
 */
#ifndef TINYFORGE_BSP_H
#define TINYFORGE_BSP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void bsp_init(void);
void bsp_putc(char c);
int bsp_getc(void); /* -1 if none, non-blocking */
void bsp_write(const char *s, unsigned n);
void bsp_puts(const char *s);
uint64_t bsp_ticks(void);
uint32_t bsp_tick_hz(void);
void bsp_exit(int status);

/* Extras (not needed by most firmware). */
void bsp_put_hex32(uint32_t v);                      /* "0x" + 8 lowercase hex digits */
void bsp_put_uint(uint64_t v);                       /* decimal */
void bsp_put_hex_bytes(const void *p, unsigned n);   /* 2 lowercase hex digits per byte */
uint32_t bsp_stack_used(void);                       /* high-water mark of the painted stack, bytes */
uint32_t bsp_stack_size(void);
const char *bsp_board_name(void);
void bsp_system_reset(void) __attribute__((noreturn)); /* SYSRESETREQ: the chip restarts */

#ifdef __cplusplus
}
#endif

#endif /* TINYFORGE_BSP_H */
