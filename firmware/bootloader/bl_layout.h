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

/*
 * Signed images (the bootloader built with BL_SECURE, i.e. with a public key): two A/B slots of
 * MCUboot-format images in the flash above, the RAM-load scheme (the chosen image is copied to
 * BL_LOAD_ADDR and runs there), and the status block at TF_BOOT_SHARED_ADDR (firmware/bsp/
 * tf_boot.h). The board profile's [flash_methods.stm32-uart.image_slots] holds the same numbers;
 * tinyforge passes them as -D options. On the emulated bench the flash's bytes live at
 * BL_STORAGE_BASE (QEMU PSRAM backed by a file, so they survive the emulator being killed).
 */
#ifndef BL_SLOT0_OFFSET
#define BL_SLOT0_OFFSET 0x10000u
#endif
#ifndef BL_SLOT1_OFFSET
#define BL_SLOT1_OFFSET 0x80000u
#endif
#ifndef BL_SLOT_SIZE
#define BL_SLOT_SIZE 0x70000u
#endif
#ifndef BL_LOAD_ADDR
#define BL_LOAD_ADDR 0x10000u
#endif
#ifndef BL_STORAGE_BASE
#define BL_STORAGE_BASE 0x21000000u
#endif
#ifndef TF_BOOT_SHARED_ADDR
#define TF_BOOT_SHARED_ADDR 0xff00u
#endif

#endif /* TINYFORGE_BL_LAYOUT_H */
