/*
 * The status block tinyforge's bench bootloader (firmware/bootloader/, built with a key) keeps at
 * TF_BOOT_SHARED_ADDR: what the flasher reads over AN3155 before an update, and what the started
 * application reads to confirm itself (tf_image.c). Layout version 1; little-endian; 256 bytes at
 * most. tinyforge/secureboot/status.py reads the same layout.
 */
#ifndef TINYFORGE_TF_BOOT_H
#define TINYFORGE_TF_BOOT_H

#include <stdint.h>

#define TF_BOOT_MAGIC 0x54464231u         /* "1BFT": the block is filled in */
#define TF_BOOT_LAYOUT 1u
#define TF_BOOT_STRAP_SERIAL 0x53455249u  /* the bench's BOOT0 pin: stay in the serial bootloader */
#define TF_BOOT_REQUEST_BOOT 0x424f4f54u  /* set before a reset: start the slots next time */
#define TF_BOOT_NONE 0xffffffffu

/* slot.image: what the image in a slot is */
#define TF_BOOT_IMAGE_EMPTY 0u         /* erased header */
#define TF_BOOT_IMAGE_BAD_HEADER 1u    /* not an MCUboot header, or one this bootloader refuses */
#define TF_BOOT_IMAGE_TRUNCATED 2u     /* no TLV area where the header says (a cut-short image) */
#define TF_BOOT_IMAGE_BAD_HASH 3u      /* SHA256 TLV missing or not the hash of the image */
#define TF_BOOT_IMAGE_BAD_KEY 4u       /* signed by another key (KEYHASH is not ours) */
#define TF_BOOT_IMAGE_BAD_SIGNATURE 5u /* ED25519 TLV missing or not valid */
#define TF_BOOT_IMAGE_VALID 6u
#define TF_BOOT_IMAGE_UNCHECKED 7u     /* not looked at (another slot was chosen first) */

/* slot.trailer: MCUboot's trailer state */
#define TF_BOOT_TRAILER_NONE 0u      /* no magic: written but never marked for boot */
#define TF_BOOT_TRAILER_PENDING 1u   /* magic, not yet started */
#define TF_BOOT_TRAILER_TRYING 2u    /* started once (copy_done) and not confirmed */
#define TF_BOOT_TRAILER_CONFIRMED 3u /* image_ok */
#define TF_BOOT_TRAILER_REVERTED 4u  /* magic cleared: rolled back, or a bad magic */

typedef struct {
    uint8_t image;
    uint8_t trailer;
    uint8_t major;
    uint8_t minor;
    uint16_t revision;
    uint16_t reserved;
    uint32_t build;
    uint32_t sequence; /* install order (0 = unknown); the newest installed image wins */
    uint32_t size;     /* header + body + TLVs */
    uint8_t hash[32];  /* the image's SHA256 TLV */
} tf_boot_slot_t;     /* 52 bytes */

typedef struct {
    uint32_t magic;
    uint32_t layout;
    uint32_t strap;         /* written by the bench at every reset (QEMU loader device) */
    uint32_t request;       /* one-shot: TF_BOOT_REQUEST_BOOT before a reset the flasher asked for */
    uint32_t booted_slot;   /* the slot the running image came from, or TF_BOOT_NONE */
    uint32_t selected_slot; /* the slot the next boot would start, or TF_BOOT_NONE */
    uint32_t image_ok_addr; /* CPU address of the running image's image_ok flag */
    uint32_t boots;         /* images started since power-on */
    tf_boot_slot_t slot[2];
    uint8_t key_hash[32];   /* SHA-256 of the bootloader's public key (DER), as a KEYHASH TLV */
    uint8_t public_key[32]; /* the raw Ed25519 public key images must be signed with */
} tf_boot_shared_t;         /* 200 bytes */

#endif /* TINYFORGE_TF_BOOT_H */
