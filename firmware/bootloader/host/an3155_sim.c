/*
 * Host simulator of the emulated board's bootloader: the same AN3155 engine over stdin/stdout
 * (raw bytes), with the flash and RAM in host arrays. For fast protocol tests of the Python
 * client and of stm32flash-compatible behaviour without QEMU.
 *
 *   an3155_sim [--erase-cmd 0x43|0x44] [--timeout-ms N] [--image FILE]
 *
 * GO prints "GO vtor=0x... msp=0x... entry=0x..." on stderr and the engine carries on.
 * --image FILE dumps the flash (from the application offset, up to the last non-0xFF byte)
 * to FILE at end of input.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../an3155.h"
#include "../bl_layout.h"

static uint8_t g_flash[BL_FLASH_SIZE];
static uint8_t g_ram[BL_RAM_SIZE];

static void sim_tx(void *ctx, const uint8_t *data, unsigned n)
{
    (void)ctx;
    while (n > 0u) {
        ssize_t w = write(STDOUT_FILENO, data, n);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            exit(3);
        }
        data += w;
        n -= (unsigned)w;
    }
}

static void sim_go(void *ctx, uint32_t vtor, uint32_t msp, uint32_t entry)
{
    (void)ctx;
    fprintf(stderr, "GO vtor=0x%08lx msp=0x%08lx entry=0x%08lx\n", (unsigned long)vtor, (unsigned long)msp,
            (unsigned long)entry);
    fflush(stderr);
}

static uint32_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

static void dump(const char *path)
{
    uint32_t end = BL_FLASH_SIZE;
    FILE *f;
    while (end > BL_APP_OFFSET && g_flash[end - 1u] == 0xFFu) {
        --end;
    }
    f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fwrite(g_flash + BL_APP_OFFSET, 1, end - BL_APP_OFFSET, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    static const uint32_t sectors[] = BL_SECTORS;
    an3155_region_t regions[3];
    an3155_config_t cfg;
    an3155_t bl;
    const char *image = NULL;
    unsigned erase_cmd = BL_ERASE_CMD;
    unsigned long timeout_ms = BL_IDLE_TIMEOUT_MS;
    int i;

    for (i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--erase-cmd") == 0 && i + 1 < argc) {
            erase_cmd = (unsigned)strtoul(argv[++i], NULL, 0);
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            timeout_ms = strtoul(argv[++i], NULL, 0);
        } else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc) {
            image = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--erase-cmd 0x43|0x44] [--timeout-ms N] [--image FILE]\n", argv[0]);
            return 2;
        }
    }

    memset(g_flash, 0xFF, sizeof g_flash);
    for (i = 0; i < (int)BL_APP_OFFSET; ++i) {
        g_flash[i] = (uint8_t)(i * 7 + 1); /* "the bootloader" */
    }
    memset(g_ram, 0, sizeof g_ram);

    regions[0].bus_base = BL_FLASH_BUS_BASE;
    regions[0].size = BL_FLASH_SIZE;
    regions[0].mem = g_flash;
    regions[0].cpu_base = 0x0u;
    regions[0].protect_below = BL_APP_OFFSET;
    regions[0].flags = AN3155_R | AN3155_W | AN3155_FLASH | AN3155_X;
    regions[1] = regions[0];
    regions[1].bus_base = 0x0u;
    regions[2].bus_base = BL_RAM_BUS_BASE;
    regions[2].size = BL_RAM_SIZE;
    regions[2].mem = g_ram;
    regions[2].cpu_base = BL_RAM_BUS_BASE;
    regions[2].protect_below = 0u;
    regions[2].flags = AN3155_R | AN3155_W | AN3155_X;

    cfg.regions = regions;
    cfg.n_regions = 3u;
    cfg.sectors = sectors;
    cfg.n_sectors = BL_N_SECTORS;
    cfg.pid = BL_PID;
    cfg.version = BL_VERSION;
    cfg.erase_cmd = (uint8_t)erase_cmd;
    cfg.idle_timeout_ms = (uint32_t)timeout_ms;
    cfg.tx = sim_tx;
    cfg.go = sim_go;
    cfg.go_raw = NULL;
    cfg.ctx = NULL;
    an3155_init(&bl, &cfg);

    for (;;) {
        struct pollfd pfd;
        uint8_t buf[512];
        ssize_t n;
        int r;
        pfd.fd = STDIN_FILENO;
        pfd.events = POLLIN;
        r = poll(&pfd, 1, 20);
        if (r < 0 && errno != EINTR) {
            return 3;
        }
        if (r > 0) {
            n = read(STDIN_FILENO, buf, sizeof buf);
            if (n <= 0) {
                break;
            }
            for (i = 0; i < (int)n; ++i) {
                an3155_feed(&bl, buf[i], now_ms());
            }
        }
        an3155_poll(&bl, now_ms());
    }
    if (image != NULL) {
        dump(image);
    }
    fprintf(stderr, "STATS commands=%lu nacks=%lu written=%lu read=%lu timeouts=%lu\n",
            (unsigned long)bl.stats.commands, (unsigned long)bl.stats.nacks, (unsigned long)bl.stats.bytes_written,
            (unsigned long)bl.stats.bytes_read, (unsigned long)bl.stats.timeouts);
    return 0;
}
