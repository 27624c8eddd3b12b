/* MCUboot image checks: see bl_image.h. */
#include "bl_image.h"

#include <stddef.h>

#include "tf_ed25519.h"
#include "tf_sha256.h"

/* SEQUENCE { SEQUENCE { OID 1.3.101.112 (Ed25519) } BIT STRING (33 bytes: 0 unused bits + key) } */
const uint8_t bl_ed25519_spki_prefix[BL_ED25519_SPKI_PREFIX_BYTES] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                                      0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int equal(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    uint8_t diff = 0u;
    uint32_t i;
    for (i = 0; i < n; ++i) {
        diff |= (uint8_t)(a[i] ^ b[i]);
    }
    return diff == 0u;
}

void bl_key_hash(const uint8_t public_key[32], uint8_t out[32])
{
    tf_sha256_t h;
    tf_sha256_init(&h);
    tf_sha256_update(&h, bl_ed25519_spki_prefix, BL_ED25519_SPKI_PREFIX_BYTES);
    tf_sha256_update(&h, public_key, 32u);
    tf_sha256_final(&h, out);
}

/* A TLV area at `off` with `magic`: its end, or 0 when it is not there or does not fit. */
static uint32_t tlv_area_end(const uint8_t *mem, uint32_t capacity, uint32_t off, uint32_t magic)
{
    uint32_t total;
    if (off > capacity || capacity - off < 4u || le16(mem + off) != magic) {
        return 0u;
    }
    total = le16(mem + off + 2u);
    if (total < 4u || total > capacity - off) {
        return 0u;
    }
    return off + total;
}

unsigned bl_image_parse(const uint8_t *mem, uint32_t capacity, bl_image_info_t *info)
{
    uint32_t i, off, end;
    int erased = 1;
    if (capacity < 32u) {
        return TF_BOOT_IMAGE_BAD_HEADER;
    }
    for (i = 0; i < 32u; ++i) {
        if (mem[i] != 0xFFu) {
            erased = 0;
        }
    }
    if (erased) {
        return TF_BOOT_IMAGE_EMPTY;
    }
    if (le32(mem) != BL_IMAGE_MAGIC) {
        return TF_BOOT_IMAGE_BAD_HEADER;
    }
    info->load_addr = le32(mem + 4);
    info->header_size = le16(mem + 8);
    info->protected_size = le16(mem + 10);
    info->image_size = le32(mem + 12);
    info->flags = le32(mem + 16);
    info->major = mem[20];
    info->minor = mem[21];
    info->revision = (uint16_t)le16(mem + 22);
    info->build = le32(mem + 24);
    if (info->header_size < 32u) {
        return TF_BOOT_IMAGE_BAD_HEADER;
    }
    if (info->header_size > capacity || info->image_size > capacity - info->header_size) {
        return TF_BOOT_IMAGE_TRUNCATED; /* the header promises more than there is */
    }
    if ((info->flags & (BL_IMAGE_F_NON_BOOTABLE | BL_IMAGE_F_ENCRYPTED)) != 0u) {
        return TF_BOOT_IMAGE_BAD_HEADER; /* nothing this bootloader can start */
    }
    off = info->header_size + info->image_size;
    if (info->protected_size != 0u) {
        end = tlv_area_end(mem, capacity, off, BL_TLV_PROT_INFO_MAGIC);
        if (end == 0u || end - off != info->protected_size) {
            return TF_BOOT_IMAGE_TRUNCATED;
        }
        off = end;
    }
    info->hashed_size = off;
    end = tlv_area_end(mem, capacity, off, BL_TLV_INFO_MAGIC);
    if (end == 0u) {
        return TF_BOOT_IMAGE_TRUNCATED;
    }
    info->tlv_offset = off;
    info->total_size = end;
    return TF_BOOT_IMAGE_UNCHECKED;
}

unsigned bl_image_validate(const uint8_t *mem, uint32_t capacity, const uint8_t public_key[32],
                           const uint8_t key_hash[32], bl_image_info_t *info, uint8_t *hash)
{
    const uint8_t *sha = NULL, *signature = NULL, *keyhash = NULL, *pubkey = NULL;
    uint8_t digest[32];
    uint32_t p, end;
    int pure = 0;
    unsigned state = bl_image_parse(mem, capacity, info);
    if (state != TF_BOOT_IMAGE_UNCHECKED) {
        return state;
    }
    /* the TLVs: type (with its pad byte, little-endian), length, value; each inside the area */
    p = info->tlv_offset + 4u;
    end = info->total_size;
    while (p < end) {
        uint32_t type, len;
        if (end - p < 4u) {
            return TF_BOOT_IMAGE_TRUNCATED;
        }
        type = le16(mem + p);
        len = le16(mem + p + 2u);
        if (len > end - p - 4u) {
            return TF_BOOT_IMAGE_TRUNCATED;
        }
        if (type == BL_TLV_SHA256 && len == 32u) {
            sha = mem + p + 4u;
        } else if (type == BL_TLV_ED25519 && len == 64u) {
            signature = mem + p + 4u;
        } else if (type == BL_TLV_KEYHASH && len == 32u) {
            keyhash = mem + p + 4u;
        } else if (type == BL_TLV_PUBKEY && len == BL_ED25519_SPKI_PREFIX_BYTES + 32u) {
            pubkey = mem + p + 4u;
        } else if (type == BL_TLV_SIG_PURE) {
            pure = 1;
        }
        p += 4u + len;
    }
    if (sha != NULL && hash != NULL) {
        uint32_t i;
        for (i = 0; i < 32u; ++i) {
            hash[i] = sha[i];
        }
    }
    /* the hash first: it covers the header (version, sizes) and the body */
    tf_sha256(mem, info->hashed_size, digest);
    if (sha == NULL || !equal(digest, sha, 32u)) {
        return TF_BOOT_IMAGE_BAD_HASH;
    }
    if (keyhash != NULL) {
        if (!equal(keyhash, key_hash, 32u)) {
            return TF_BOOT_IMAGE_BAD_KEY;
        }
    } else if (pubkey != NULL) {
        if (!equal(pubkey, bl_ed25519_spki_prefix, BL_ED25519_SPKI_PREFIX_BYTES) ||
            !equal(pubkey + BL_ED25519_SPKI_PREFIX_BYTES, public_key, 32u)) {
            return TF_BOOT_IMAGE_BAD_KEY;
        }
    } else {
        return TF_BOOT_IMAGE_BAD_KEY; /* no signer named */
    }
    if (signature == NULL || pure || !tf_ed25519_verify(signature, digest, 32u, public_key)) {
        return TF_BOOT_IMAGE_BAD_SIGNATURE;
    }
    return TF_BOOT_IMAGE_VALID;
}
