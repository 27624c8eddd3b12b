/*
 * What the emulated chip looks like over AN3155, shared by the target (main.c) and the host
 * simulator (host/an3155_sim.c): an STM32F405/407 (PID 0x413, bootloader version 3.1, extended
 * erase) with 1 MB of flash in the F4 sector layout. On the emulated board the flash bytes live
 * at CPU address 0x0 (where an STM32 aliases flash when it boots from it); the protocol accepts
 * them both at the STM32 address 0x08000000 and at 0x0. The first BL_APP_OFFSET bytes (sectors
 * 0-3 for 0x10000) hold the bootloader itself and are write-protected.
 */
#ifndef TINYFORGE_BL_LAYOUT_H
#define TINYFORGE_BL_LAYOUT_H

#include <stdint.h>

#include "an3155.h"

#ifndef BL_APP_OFFSET
#define BL_APP_OFFSET 0x10000u
#endif
#ifndef BL_PID
#define BL_PID 0x413u
#endif
#ifndef BL_VERSION
#define BL_VERSION 0x31u
#endif
#ifndef BL_ERASE_CMD
#define BL_ERASE_CMD AN3155_CMD_EXTENDED_ERASE
#endif
#ifndef BL_IDLE_TIMEOUT_MS
#define BL_IDLE_TIMEOUT_MS 1000u
#endif

#define BL_FLASH_BUS_BASE 0x08000000u /* STM32 flash address */
#define BL_FLASH_SIZE 0x00100000u     /* 1 MB */
#define BL_RAM_BUS_BASE 0x20003000u   /* RAM the host may use (stm32flash's reset stub goes here) */
#define BL_RAM_SIZE 0x0001D000u       /* up to 0x20020000, as on an F405 */

/* STM32F405/407 flash sectors: 4 x 16 KB, 1 x 64 KB, 7 x 128 KB */
#define BL_SECTORS                                                                                   \
    {                                                                                                \
        0x4000u, 0x4000u, 0x4000u, 0x4000u, 0x10000u, 0x20000u, 0x20000u, 0x20000u, 0x20000u, 0x20000u, \
            0x20000u, 0x20000u                                                                       \
    }
#define BL_N_SECTORS 12u

#endif /* TINYFORGE_BL_LAYOUT_H */
