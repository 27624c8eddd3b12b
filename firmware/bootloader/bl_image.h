/*
 * MCUboot images, checked as the bench bootloader must before it starts one (portable C99, no
 * I/O, no heap; host-tested against images imgtool signs):
 *
 *     header (32 bytes, padded to ih_hdr_size)  magic 0x96f3b83d, load address, header size,
 *                                               protected-TLV size, image size, flags, version
 *     body (ih_img_size bytes)
 *     protected TLVs (optional, info magic 0x6908), then TLVs (info magic 0x6907):
 *         SHA256 0x10   SHA-256 of header + body + protected TLVs
 *         KEYHASH 0x01  SHA-256 of the signer's public key (DER), or PUBKEY 0x02 the key itself
 *         ED25519 0x24  Ed25519 signature of the SHA-256 (the hash is the signed message)
 *
 * Every offset and length read from the image is checked against the memory it lies in.
 */
#ifndef TINYFORGE_BL_IMAGE_H
#define TINYFORGE_BL_IMAGE_H

#include <stdint.h>

#include "tf_boot.h"

#define BL_IMAGE_MAGIC 0x96f3b83du
#define BL_TLV_INFO_MAGIC 0x6907u
#define BL_TLV_PROT_INFO_MAGIC 0x6908u
#define BL_TLV_KEYHASH 0x01u
#define BL_TLV_PUBKEY 0x02u
#define BL_TLV_SHA256 0x10u
#define BL_TLV_ED25519 0x24u
#define BL_TLV_SIG_PURE 0x25u
#define BL_IMAGE_F_NON_BOOTABLE 0x10u
#define BL_IMAGE_F_RAM_LOAD 0x20u
#define BL_IMAGE_F_ENCRYPTED 0x0cu

/* DER SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410): the key follows it. */
#define BL_ED25519_SPKI_PREFIX_BYTES 12u
extern const uint8_t bl_ed25519_spki_prefix[BL_ED25519_SPKI_PREFIX_BYTES];

typedef struct {
    uint32_t load_addr;
    uint32_t header_size;
    uint32_t protected_size;
    uint32_t image_size;
    uint32_t flags;
    uint8_t major, minor;
    uint16_t revision;
    uint32_t build;
    uint32_t hashed_size; /* header + body + protected TLVs */
    uint32_t total_size;  /* ... + the TLV area: what a RAM load copies */
    uint32_t tlv_offset;  /* the unprotected TLV area */
} bl_image_info_t;

/* Parse the image at mem[0 .. capacity): TF_BOOT_IMAGE_EMPTY (erased), TF_BOOT_IMAGE_BAD_HEADER,
 * TF_BOOT_IMAGE_TRUNCATED (the TLV area is not where the header says) or TF_BOOT_IMAGE_UNCHECKED
 * (well-formed; `info` filled). */
unsigned bl_image_parse(const uint8_t *mem, uint32_t capacity, bl_image_info_t *info);

/* Parse, then check the hash, the signer and the signature: TF_BOOT_IMAGE_VALID or why not.
 * `hash` (32 bytes, may be NULL) receives the image's SHA256 TLV when there is one. */
unsigned bl_image_validate(const uint8_t *mem, uint32_t capacity, const uint8_t public_key[32],
                           const uint8_t key_hash[32], bl_image_info_t *info, uint8_t *hash);

/* SHA-256 of the DER SubjectPublicKeyInfo of an Ed25519 public key (what KEYHASH holds). */
void bl_key_hash(const uint8_t public_key[32], uint8_t out[32]);

#endif /* TINYFORGE_BL_IMAGE_H */
