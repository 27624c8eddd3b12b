/*
 * Unit test of the AN3155 engine on the host: feed byte sequences, check the exact replies and
 * the memory afterwards. Prints "N passed, M failed" and exits non-zero on failure.
 */
#include <stdio.h>
#include <string.h>

#include "../an3155.h"
#include "../bl_layout.h"

#define ACK AN3155_ACK
#define NACK AN3155_NACK

static uint8_t g_flash[BL_FLASH_SIZE];
static uint8_t g_ram[256];
static uint8_t g_out[1024];
static unsigned g_nout;
static uint32_t g_go_vtor, g_go_msp, g_go_entry;
static int g_go_calls;
static int g_passed, g_failed;

static void t_tx(void *ctx, const uint8_t *data, unsigned n)
{
    (void)ctx;
    while (n-- > 0u) {
        if (g_nout < sizeof g_out) {
            g_out[g_nout++] = *data++;
        }
    }
}

static void t_go(void *ctx, uint32_t vtor, uint32_t msp, uint32_t entry)
{
    (void)ctx;
    g_go_vtor = vtor;
    g_go_msp = msp;
    g_go_entry = entry;
    g_go_calls++;
}

static const uint32_t k_sectors[] = BL_SECTORS;
static an3155_region_t g_regions[3];
static an3155_config_t g_cfg;
static an3155_t g_bl;
static uint32_t g_now;

static void setup(uint8_t erase_cmd)
{
    memset(g_flash, 0xFF, sizeof g_flash);
    memset(g_flash, 0xAA, BL_APP_OFFSET);
    memset(g_ram, 0, sizeof g_ram);
    g_regions[0].bus_base = BL_FLASH_BUS_BASE;
    g_regions[0].size = BL_FLASH_SIZE;
    g_regions[0].mem = g_flash;
    g_regions[0].cpu_base = 0u;
    g_regions[0].protect_below = BL_APP_OFFSET;
    g_regions[0].flags = AN3155_R | AN3155_W | AN3155_FLASH | AN3155_X;
    g_regions[1] = g_regions[0];
    g_regions[1].bus_base = 0u;
    g_regions[2].bus_base = 0x20003000u;
    g_regions[2].size = sizeof g_ram;
    g_regions[2].mem = g_ram;
    g_regions[2].cpu_base = 0x20003000u;
    g_regions[2].protect_below = 0u;
    g_regions[2].flags = AN3155_R | AN3155_W | AN3155_X;
    g_cfg.regions = g_regions;
    g_cfg.n_regions = 3u;
    g_cfg.sectors = k_sectors;
    g_cfg.n_sectors = BL_N_SECTORS;
    g_cfg.pid = 0x413u;
    g_cfg.version = 0x31u;
    g_cfg.erase_cmd = erase_cmd;
    g_cfg.idle_timeout_ms = 1000u;
    g_cfg.tx = t_tx;
    g_cfg.go = t_go;
    g_cfg.go_raw = NULL;
    g_cfg.ctx = NULL;
    an3155_init(&g_bl, &g_cfg);
    g_go_calls = 0;
    g_now = 0u;
}

static void feed(const uint8_t *b, unsigned n)
{
    unsigned i;
    g_nout = 0u;
    for (i = 0; i < n; ++i) {
        an3155_feed(&g_bl, b[i], g_now);
    }
}

static void check(int cond, const char *what, int line)
{
    if (cond) {
        g_passed++;
    } else {
        g_failed++;
        printf("FAIL line %d: %s\n", line, what);
    }
}
#define CHECK(c) check((c), #c, __LINE__)

static int out_is(const uint8_t *want, unsigned n)
{
    return g_nout == n && memcmp(g_out, want, n) == 0;
}
#define OUT_IS(...)                                                                                      \
    do {                                                                                               \
        static const uint8_t want_[] = {__VA_ARGS__};                                                  \
        check(out_is(want_, sizeof want_), "reply " #__VA_ARGS__, __LINE__);                           \
    } while (0)

static void sync_(void)
{
    static const uint8_t s[] = {0x7F};
    feed(s, 1);
}

static void cmd(uint8_t c)
{
    uint8_t b[2];
    b[0] = c;
    b[1] = (uint8_t)~c;
    feed(b, 2);
}

static void addr(uint32_t a)
{
    uint8_t b[5];
    b[0] = (uint8_t)(a >> 24);
    b[1] = (uint8_t)(a >> 16);
    b[2] = (uint8_t)(a >> 8);
    b[3] = (uint8_t)a;
    b[4] = (uint8_t)(b[0] ^ b[1] ^ b[2] ^ b[3]);
    feed(b, 5);
}

static void write_block(uint32_t a, const uint8_t *data, unsigned n, int corrupt)
{
    uint8_t b[258];
    uint8_t x = (uint8_t)(n - 1u);
    unsigned i;
    cmd(AN3155_CMD_WRITE_MEMORY);
    addr(a);
    b[0] = (uint8_t)(n - 1u);
    for (i = 0; i < n; ++i) {
        b[1 + i] = data[i];
        x ^= data[i];
    }
    b[1 + n] = (uint8_t)(x ^ (corrupt ? 1u : 0u));
    feed(b, n + 2u);
}

static void test_sync_and_info(void)
{
    setup(AN3155_CMD_EXTENDED_ERASE);
    {
        static const uint8_t junk[] = {0x00, 0x55};
        feed(junk, 2);
        CHECK(g_nout == 0u); /* nothing before the sync byte */
    }
    sync_();
    OUT_IS(ACK);
    sync_(); /* a second 0x7F is a command byte; with a wrong complement: NACK */
    CHECK(g_nout == 0u);
    sync_();
    OUT_IS(NACK);
    cmd(AN3155_CMD_GET);
    OUT_IS(ACK, 7, 0x31, 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, ACK);
    cmd(AN3155_CMD_GET_VERSION);
    OUT_IS(ACK, 0x31, 0x00, 0x00, ACK);
    cmd(AN3155_CMD_GET_ID);
    OUT_IS(ACK, 0x01, 0x04, 0x13, ACK);
    cmd(0x63); /* write protect: not supported */
    OUT_IS(NACK);
    cmd(AN3155_CMD_ERASE); /* the other erase command */
    OUT_IS(NACK);
    setup(AN3155_CMD_ERASE);
    sync_();
    cmd(AN3155_CMD_GET);
    OUT_IS(ACK, 7, 0x31, 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x43, ACK);
}

static void test_write_read(void)
{
    uint8_t data[256];
    unsigned i;
    setup(AN3155_CMD_EXTENDED_ERASE);
    sync_();
    for (i = 0; i < 256u; ++i) {
        data[i] = (uint8_t)(i * 3u);
    }
    cmd(AN3155_CMD_WRITE_MEMORY);
    OUT_IS(ACK);
    addr(0x08010000u);
    OUT_IS(ACK);
    {
        uint8_t b[258];
        uint8_t x = 0xFFu;
        b[0] = 0xFFu;
        for (i = 0; i < 256u; ++i) {
            b[1 + i] = data[i];
            x ^= data[i];
        }
        b[257] = x;
        feed(b, 258);
        OUT_IS(ACK);
    }
    CHECK(memcmp(g_flash + 0x10000u, data, 256) == 0);
    /* the same bytes through the 0x0 alias */
    cmd(AN3155_CMD_READ_MEMORY);
    addr(0x00010000u);
    {
        static const uint8_t n[] = {0x0F, 0xF0};
        feed(n, 2);
        CHECK(g_nout == 17u && g_out[0] == ACK && memcmp(g_out + 1, data, 16) == 0);
    }
    /* bad checksum: NACK, memory untouched */
    write_block(0x08010100u, data, 16, 1);
    CHECK(g_nout == 1u && g_out[0] == NACK);
    CHECK(g_flash[0x10100] == 0xFFu);
    /* NOR semantics: writing over written bytes ANDs them */
    {
        static const uint8_t ones[4] = {0x0F, 0x0F, 0x0F, 0x0F};
        write_block(0x08010004u, ones, 4, 0);
        CHECK(g_flash[0x10004] == (uint8_t)(data[4] & 0x0Fu));
    }
    /* the bootloader's own sectors are protected; unaligned and unmapped addresses refused */
    cmd(AN3155_CMD_WRITE_MEMORY);
    addr(0x08000100u);
    OUT_IS(NACK);
    cmd(AN3155_CMD_WRITE_MEMORY);
    addr(0x08010002u);
    OUT_IS(NACK);
    cmd(AN3155_CMD_WRITE_MEMORY);
    addr(0x30000000u);
    OUT_IS(NACK);
    /* a write running past the end of flash */
    write_block(0x080FFF00u + 0xF0u, data, 32, 0);
    CHECK(g_nout == 1u && g_out[0] == NACK);
    /* bad READ length complement */
    cmd(AN3155_CMD_READ_MEMORY);
    addr(0x08010000u);
    {
        static const uint8_t n[] = {0x0F, 0x0F};
        feed(n, 2);
        OUT_IS(NACK);
    }
    /* bad address checksum */
    cmd(AN3155_CMD_READ_MEMORY);
    {
        static const uint8_t a[] = {0x08, 0x01, 0x00, 0x00, 0x00};
        feed(a, 5);
        OUT_IS(NACK);
    }
    /* RAM: plain stores */
    write_block(0x20003000u, data, 8, 0);
    CHECK(memcmp(g_ram, data, 8) == 0);
}

static void test_erase(void)
{
    uint8_t data[16];
    memset(data, 0x11, sizeof data);
    setup(AN3155_CMD_EXTENDED_ERASE);
    sync_();
    write_block(0x08010000u, data, 16, 0);
    write_block(0x08020000u, data, 16, 0); /* sector 5 */
    write_block(0x08040000u, data, 16, 0); /* sector 6 */
    /* erase sector 4 only */
    cmd(AN3155_CMD_EXTENDED_ERASE);
    OUT_IS(ACK);
    {
        static const uint8_t e[] = {0x00, 0x00, 0x00, 0x04, 0x04};
        feed(e, sizeof e);
        OUT_IS(ACK);
    }
    CHECK(g_flash[0x10000] == 0xFFu && g_flash[0x20000] == 0x11u);
    /* sectors 5 and 6 */
    cmd(AN3155_CMD_EXTENDED_ERASE);
    {
        static const uint8_t e[] = {0x00, 0x01, 0x00, 0x05, 0x00, 0x06, 0x01 ^ 0x05 ^ 0x06};
        feed(e, sizeof e);
        OUT_IS(ACK);
    }
    CHECK(g_flash[0x20000] == 0xFFu && g_flash[0x40000] == 0xFFu);
    /* sector 0 holds the bootloader: refused, nothing erased */
    write_block(0x08010000u, data, 16, 0);
    cmd(AN3155_CMD_EXTENDED_ERASE);
    {
        static const uint8_t e[] = {0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x01 ^ 0x04};
        feed(e, sizeof e);
        OUT_IS(NACK);
    }
    CHECK(g_flash[0x10000] == 0x11u && g_flash[0] == 0xAAu);
    /* no sector 12 */
    cmd(AN3155_CMD_EXTENDED_ERASE);
    {
        static const uint8_t e[] = {0x00, 0x00, 0x00, 0x0C, 0x0C};
        feed(e, sizeof e);
        OUT_IS(NACK);
    }
    /* bad checksum */
    cmd(AN3155_CMD_EXTENDED_ERASE);
    {
        static const uint8_t e[] = {0x00, 0x00, 0x00, 0x04, 0x05};
        feed(e, sizeof e);
        OUT_IS(NACK);
    }
    CHECK(g_flash[0x10000] == 0x11u);
    /* mass erase: everything but the bootloader */
    cmd(AN3155_CMD_EXTENDED_ERASE);
    {
        static const uint8_t e[] = {0xFF, 0xFF, 0x00};
        feed(e, sizeof e);
        OUT_IS(ACK);
    }
    CHECK(g_flash[0x10000] == 0xFFu && g_flash[0] == 0xAAu);

    /* legacy ERASE 0x43 */
    setup(AN3155_CMD_ERASE);
    sync_();
    write_block(0x08010000u, data, 16, 0);
    write_block(0x08020000u, data, 16, 0);
    cmd(AN3155_CMD_ERASE);
    OUT_IS(ACK);
    {
        static const uint8_t e[] = {0x00, 0x04, 0x04};
        feed(e, sizeof e);
        OUT_IS(ACK);
    }
    CHECK(g_flash[0x10000] == 0xFFu && g_flash[0x20000] == 0x11u);
    cmd(AN3155_CMD_ERASE);
    {
        static const uint8_t e[] = {0xFF, 0x00};
        feed(e, sizeof e);
        OUT_IS(ACK);
    }
    CHECK(g_flash[0x20000] == 0xFFu && g_flash[0] == 0xAAu);
}

static void test_go_and_timeout(void)
{
    static const uint8_t vec[8] = {0x00, 0x00, 0x40, 0x20, 0x41, 0x01, 0x01, 0x00}; /* msp 0x20400000, entry 0x10141 */
    setup(AN3155_CMD_EXTENDED_ERASE);
    sync_();
    /* erased vector table: refused */
    cmd(AN3155_CMD_GO);
    addr(0x08010000u);
    OUT_IS(NACK);
    CHECK(g_go_calls == 0);
    write_block(0x08010000u, vec, 8, 0);
    cmd(AN3155_CMD_GO);
    OUT_IS(ACK);
    addr(0x08010000u);
    OUT_IS(ACK);
    CHECK(g_go_calls == 1 && g_go_vtor == 0x10000u && g_go_msp == 0x20400000u && g_go_entry == 0x10141u);

    /* a host that vanishes mid-WRITE: after the idle timeout the engine takes commands again */
    cmd(AN3155_CMD_WRITE_MEMORY);
    addr(0x08010100u);
    {
        static const uint8_t part[] = {0xFF, 1, 2, 3};
        feed(part, sizeof part);
    }
    g_now += 400u;
    an3155_poll(&g_bl, g_now);
    cmd(AN3155_CMD_GET_ID); /* still consumed as data */
    CHECK(g_nout == 0u);
    g_now += 1500u;
    an3155_poll(&g_bl, g_now);
    cmd(AN3155_CMD_GET_ID);
    OUT_IS(ACK, 0x01, 0x04, 0x13, ACK);
    CHECK(g_bl.stats.timeouts == 1u);
}

int main(void)
{
    test_sync_and_info();
    test_write_read();
    test_erase();
    test_go_and_timeout();
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
