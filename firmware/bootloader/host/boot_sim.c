/*
 * The secure bootloader's image checks and A/B decision (bl_image.c, bl_boot.c) on the host, for
 * tests/toolchain/test_bootloader_slots.py (built with ASan/UBSan there):
 *
 *     boot_sim check PUBKEY_HEX IMAGE              the image's state: "image=<n> <name>"
 *     boot_sim boot|look PUBKEY_HEX SLOT0 SLOT1    the decision over two slot files
 *
 * Slot files hold a whole slot (BL_SLOT_SIZE bytes; shorter ones are padded with 0xFF as erased
 * flash). `boot` changes them as the target would (copy_done of a started image, the magic of a
 * rolled-back one) and writes them back; `look` changes nothing. It prints the console line, then
 * "chosen=<slot|none> entry=0x..", then one "slotN image=.. trailer=.. sequence=.." per slot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_boot.h"
#include "bl_layout.h"

static uint8_t g_slot[2][BL_SLOT_SIZE];
static uint8_t g_load[BL_SLOT_SIZE];
static tf_boot_shared_t g_status;

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static int parse_key(const char *hex, uint8_t key[32])
{
    unsigned i;
    if (strlen(hex) != 64u) {
        return 0;
    }
    for (i = 0; i < 32u; ++i) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return 0;
        }
        key[i] = (uint8_t)(hi * 16 + lo);
    }
    return 1;
}

/* Read a file into buf (erased-padded); its length, or -1. */
static long load_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    memset(buf, 0xFF, cap);
    if (f == NULL) {
        return -1;
    }
    n = fread(buf, 1, cap, f);
    if (fgetc(f) != EOF) {
        fclose(f);
        return -1; /* larger than a slot */
    }
    fclose(f);
    return (long)n;
}

static int save_file(const char *path, const uint8_t *buf, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) {
        return 0;
    }
    ok = fwrite(buf, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static const char *const k_images[] = {"empty", "bad-header", "truncated", "bad-hash",
                                       "bad-key", "bad-signature", "valid", "unchecked"};
static const char *const k_trailers[] = {"none", "pending", "trying", "confirmed", "reverted"};

int main(int argc, char **argv)
{
    uint8_t key[32], key_hash[32];
    if (argc < 4 || !parse_key(argv[2], key)) {
        fprintf(stderr, "usage: boot_sim check PUBKEY_HEX IMAGE | boot|look PUBKEY_HEX SLOT0 SLOT1\n");
        return 2;
    }
    bl_key_hash(key, key_hash);
    if (strcmp(argv[1], "check") == 0) {
        bl_image_info_t info;
        uint8_t hash[32];
        long n = load_file(argv[3], g_slot[0], sizeof g_slot[0]);
        unsigned state;
        if (n < 0) {
            fprintf(stderr, "cannot read %s\n", argv[3]);
            return 2;
        }
        /* exactly the file's bytes: a cut image must not be completed by padding */
        state = bl_image_validate(g_slot[0], (uint32_t)n, key, key_hash, &info, hash);
        printf("image=%u %s\n", state, k_images[state]);
        return 0;
    }
    if ((strcmp(argv[1], "boot") == 0 || strcmp(argv[1], "look") == 0) && argc == 5) {
        bl_boot_config_t cfg;
        bl_boot_result_t result;
        int boot = argv[1][0] == 'b';
        unsigned s;
        for (s = 0; s < 2u; ++s) {
            if (load_file(argv[3 + s], g_slot[s], sizeof g_slot[s]) < 0) {
                fprintf(stderr, "cannot read %s\n", argv[3 + s]);
                return 2;
            }
            cfg.slot[s] = g_slot[s];
            cfg.slot_cpu_addr[s] = BL_STORAGE_BASE + (s == 0u ? BL_SLOT0_OFFSET : BL_SLOT1_OFFSET);
        }
        cfg.slot_size = BL_SLOT_SIZE;
        cfg.load = g_load;
        cfg.load_addr = BL_LOAD_ADDR;
        cfg.load_size = sizeof g_load;
        cfg.public_key = key;
        cfg.key_hash = key_hash;
        memset(&g_status, 0, sizeof g_status);
        bl_boot_evaluate(&cfg, &g_status, boot, &result);
        printf("%s\n", result.line);
        if (result.chosen == TF_BOOT_NONE) {
            printf("chosen=none entry=0x0\n");
        } else {
            printf("chosen=%u entry=0x%08x\n", (unsigned)result.chosen, (unsigned)result.entry);
        }
        for (s = 0; s < 2u; ++s) {
            const tf_boot_slot_t *st = &g_status.slot[s];
            printf("slot%u image=%s trailer=%s sequence=%u version=%u.%u.%u+%u\n", s, k_images[st->image & 7u],
                   k_trailers[st->trailer < 5u ? st->trailer : 0u], (unsigned)st->sequence, st->major, st->minor,
                   st->revision, (unsigned)st->build);
        }
        if (boot && result.chosen != TF_BOOT_NONE &&
            memcmp(g_load, g_slot[result.chosen], g_status.slot[result.chosen].size) != 0) {
            printf("the load area does not hold the chosen image\n");
            return 1;
        }
        if (boot) {
            for (s = 0; s < 2u; ++s) {
                if (!save_file(argv[3 + s], g_slot[s], sizeof g_slot[s])) {
                    fprintf(stderr, "cannot write %s\n", argv[3 + s]);
                    return 2;
                }
            }
        }
        return 0;
    }
    fprintf(stderr, "usage: boot_sim check PUBKEY_HEX IMAGE | boot|look PUBKEY_HEX SLOT0 SLOT1\n");
    return 2;
}
