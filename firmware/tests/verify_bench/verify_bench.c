/*
 * What the secure bench bootloader spends checking an image, for benchmarks/bootloader_verify.py:
 * run under QEMU -icount shift=0 (1 instruction = 1 ns), so timer ticks give instructions. The
 * script preloads a signed MCUboot image at VB_IMAGE_ADDR and writes the public key to
 * bench_key.h. Steps, as the bootloader does them at boot: copy the image to the load area (RAM
 * load), validate it there (SHA-256 of header + body, key hash, Ed25519 signature); then the
 * SHA-256 and the Ed25519 verification alone.
 */
#include <stdint.h>
#include <string.h>

#include "bench_key.h" /* bench_public_key[32] */
#include "bl_image.h"
#include "bsp.h"
#include "tf_ed25519.h"
#include "tf_sha256.h"

#ifndef VB_IMAGE_ADDR
#define VB_IMAGE_ADDR 0x00200000u
#endif
#ifndef VB_LOAD_ADDR
#define VB_LOAD_ADDR 0x00300000u
#endif
#ifndef VB_CAPACITY
#define VB_CAPACITY 0x70000u
#endif

static uint8_t *mem_at(uint32_t a)
{
    uintptr_t p = (uintptr_t)a;
    __asm__("" : "+r"(p));
    return (uint8_t *)p;
}

static void report(const char *name, uint64_t ticks)
{
    bsp_puts(" ");
    bsp_puts(name);
    bsp_puts("=");
    bsp_put_uint(ticks);
}

int main(void)
{
    const uint8_t *image = mem_at(VB_IMAGE_ADDR);
    uint8_t *load = mem_at(VB_LOAD_ADDR);
    uint8_t key_hash[32], hash[32], digest[32];
    const uint8_t *signature = 0;
    bl_image_info_t info;
    uint64_t t0, t1, t2, t3, t4, t5;
    unsigned state;
    uint32_t i, p;

    bsp_init();
    t0 = bsp_ticks();
    bl_key_hash(bench_public_key, key_hash);
    t1 = bsp_ticks();
    state = bl_image_parse(image, VB_CAPACITY, &info);
    if (state != TF_BOOT_IMAGE_UNCHECKED) {
        bsp_puts("TF LOG verify_bench no image\nTF DONE status=fail count=0\n");
        return 1;
    }
    memcpy(load, image, info.total_size); /* as bl_boot.c copies it */
    t2 = bsp_ticks();
    state = bl_image_validate(load, info.total_size, bench_public_key, key_hash, &info, hash);
    t3 = bsp_ticks();
    tf_sha256(load, info.hashed_size, digest);
    t4 = bsp_ticks();
    for (p = info.tlv_offset + 4u; p + 4u <= info.total_size;) {
        uint32_t type = load[p], len = (uint32_t)load[p + 2] | ((uint32_t)load[p + 3] << 8);
        if (type == BL_TLV_ED25519 && len == 64u) {
            signature = load + p + 4u;
        }
        p += 4u + len;
    }
    t5 = bsp_ticks();
    i = signature != 0 && tf_ed25519_verify(signature, digest, 32u, bench_public_key);
    t5 = bsp_ticks() - t5;
    bsp_puts("TF LOG verify_bench");
    report("state", state);
    report("bytes", info.total_size);
    report("hashed", info.hashed_size);
    report("key_hash_ticks", t1 - t0);
    report("copy_ticks", t2 - t1);
    report("validate_ticks", t3 - t2);
    report("sha256_ticks", t4 - t3);
    report("ed25519_ticks", t5);
    report("ed25519_ok", i);
    report("tick_hz", bsp_tick_hz());
    bsp_puts("\n");
    bsp_puts(state == TF_BOOT_IMAGE_VALID && i ? "TF DONE status=pass count=0\n" : "TF DONE status=fail count=0\n");
    return 0;
}
