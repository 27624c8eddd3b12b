/*
 * The A/B decision of the bench bootloader built with a key (portable C99, no I/O, no heap):
 * which of two MCUboot slots to start, with rollback of images that were tried and never
 * confirmed. Used by main.c on the target and by host/boot_sim.c in the host tests.
 *
 * Each slot ends with MCUboot's trailer (max_align 8): the 16-byte magic at the end, image_ok 24
 * bytes before the end, copy_done 32 before, and tinyforge's install sequence number in the
 * swap-size word 48 before the end (the RAM-load scheme does not swap).
 *
 *   no magic                 the image was written but never marked for boot: not started
 *   magic                    pending: started once, copy_done set first
 *   magic + copy_done        tried and not confirmed: rolled back (magic cleared) at the next boot
 *   magic + image_ok         confirmed (the application called tf_image_confirm())
 *
 * Order of preference: a pending slot (the newest install first), then confirmed slots, newest
 * install first. The first of them whose image is valid (hash, signer, signature, checked after
 * it is copied to the load address: what runs is what was checked) is started; a slot that holds
 * an image and cannot be started is named on the console line.
 */
#ifndef TINYFORGE_BL_BOOT_H
#define TINYFORGE_BL_BOOT_H

#include <stdint.h>

#include "bl_image.h"
#include "tf_boot.h"

#define BL_TRAILER_MAGIC_OFFSET 16u /* from the end of the slot */
#define BL_TRAILER_IMAGE_OK_OFFSET 24u
#define BL_TRAILER_COPY_DONE_OFFSET 32u
#define BL_TRAILER_SEQUENCE_OFFSET 48u
#define BL_BOOT_FLAG_SET 0x01u
#define BL_LINE_BYTES 200u

extern const uint8_t bl_boot_magic[16];

typedef struct {
    uint8_t *slot[2];          /* each slot's bytes (writable: copy_done, rollback) */
    uint32_t slot_cpu_addr[2]; /* their CPU addresses (for the application's image_ok) */
    uint32_t slot_size;
    uint8_t *load;             /* where the chosen image is copied to run */
    uint32_t load_addr;        /* its CPU address: the images' load address */
    uint32_t load_size;        /* room there */
    const uint8_t *public_key; /* 32 bytes */
    const uint8_t *key_hash;   /* 32 bytes: SHA-256 of its DER SubjectPublicKeyInfo */
} bl_boot_config_t;

typedef struct {
    uint32_t chosen;              /* slot started (or that would start), TF_BOOT_NONE if none */
    uint32_t entry;               /* CPU address of its vector table (load address + header) */
    char line[BL_LINE_BYTES];     /* the console line: "TF BOOT slot=..." (no newline) */
} bl_boot_result_t;

/* Look at both slots and fill `status` (everything but strap/request). With `boot`: roll back
 * tried-and-unconfirmed images, copy the chosen image to the load address, validate the copy and
 * mark it started (copy_done) if it was pending; the caller then starts `entry`. Without: only
 * look (validating in place), for the flasher, changing nothing in the flash. */
void bl_boot_evaluate(const bl_boot_config_t *cfg, tf_boot_shared_t *status, int boot, bl_boot_result_t *out);

/* The trailer state of a slot (TF_BOOT_TRAILER_*) and its install sequence (0 if unset). */
unsigned bl_trailer_state(const uint8_t *slot, uint32_t slot_size, uint32_t *sequence);

#endif /* TINYFORGE_BL_BOOT_H */
