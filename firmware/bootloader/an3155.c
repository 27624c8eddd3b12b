/* AN3155 device-side state machine: see an3155.h. */
#include "an3155.h"

#include <stddef.h>

enum {
    S_SYNC = 0,  /* waiting for the first 0x7F */
    S_CMD,       /* waiting for a command byte */
    S_CMD_CHK,   /* waiting for its complement */
    S_ADDR,      /* 4 address bytes + XOR checksum */
    S_RM_LEN,    /* READ_MEMORY: N and ~N */
    S_WM_LEN,    /* WRITE_MEMORY: N */
    S_WM_DATA,   /* N+1 data bytes + checksum */
    S_ER_N,      /* ERASE: N (0xFF = global) */
    S_ER_LIST,   /* ERASE: N+1 page bytes + checksum, or the checksum of a global erase */
    S_EE_N,      /* EXTENDED_ERASE: 2 bytes N */
    S_EE_LIST,   /* EXTENDED_ERASE: 2*(N+1) page bytes + checksum */
    S_EE_SPECIAL /* EXTENDED_ERASE: checksum after 0xFFFF / 0xFFFE / 0xFFFD */
};

static const uint8_t k_commands[] = {
    AN3155_CMD_GET,     AN3155_CMD_GET_VERSION,  AN3155_CMD_GET_ID,
    AN3155_CMD_READ_MEMORY, AN3155_CMD_GO, AN3155_CMD_WRITE_MEMORY,
};

static void tx(an3155_t *bl, const uint8_t *data, unsigned n)
{
    bl->cfg->tx(bl->cfg->ctx, data, n);
}

static void tx1(an3155_t *bl, uint8_t b)
{
    tx(bl, &b, 1u);
}

static void ack(an3155_t *bl)
{
    tx1(bl, AN3155_ACK);
}

static void nack(an3155_t *bl)
{
    bl->stats.nacks++;
    tx1(bl, AN3155_NACK);
}

/* The region holding [addr, addr + len) entirely, with all of `flags`, or NULL. */
static const an3155_region_t *find_region(const an3155_config_t *cfg, uint32_t addr, uint32_t len, uint8_t flags)
{
    unsigned i;
    for (i = 0; i < cfg->n_regions; ++i) {
        const an3155_region_t *r = &cfg->regions[i];
        if (addr >= r->bus_base && addr - r->bus_base < r->size && len <= r->size - (addr - r->bus_base)) {
            if ((r->flags & flags) == flags) {
                return r;
            }
            return NULL;
        }
    }
    return NULL;
}

static const an3155_region_t *flash_region(const an3155_config_t *cfg)
{
    unsigned i;
    for (i = 0; i < cfg->n_regions; ++i) {
        if (cfg->regions[i].flags & AN3155_FLASH) {
            return &cfg->regions[i];
        }
    }
    return NULL;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void start_field(an3155_t *bl, int state, unsigned need)
{
    bl->state = state;
    bl->have = 0u;
    bl->need = need;
    bl->xor_acc = 0u;
}

static void to_cmd(an3155_t *bl)
{
    start_field(bl, S_CMD, 1u);
}

void an3155_init(an3155_t *bl, const an3155_config_t *cfg)
{
    unsigned i;
    bl->cfg = cfg;
    bl->cmd = 0u;
    bl->addr = 0u;
    bl->count = 0u;
    bl->msb = 0u;
    bl->n_list = 0u;
    bl->last_ms = 0u;
    bl->stats.commands = 0u;
    bl->stats.nacks = 0u;
    bl->stats.bytes_written = 0u;
    bl->stats.bytes_read = 0u;
    bl->stats.timeouts = 0u;
    for (i = 0; i < sizeof bl->buf; ++i) {
        bl->buf[i] = 0u;
    }
    start_field(bl, S_SYNC, 1u);
}

int an3155_synced(const an3155_t *bl)
{
    return bl->state != S_SYNC;
}

/* ---- commands without arguments ---------------------------------------------------------- */

static void do_get(an3155_t *bl)
{
    uint8_t out[2 + sizeof k_commands + 1];
    unsigned n = 0, i;
    out[n++] = (uint8_t)(sizeof k_commands + 1u); /* bytes that follow - 1: version + commands - 1 */
    out[n++] = bl->cfg->version;
    for (i = 0; i < sizeof k_commands; ++i) {
        out[n++] = k_commands[i];
    }
    out[n++] = bl->cfg->erase_cmd;
    ack(bl);
    tx(bl, out, n);
    ack(bl);
}

static void do_get_version(an3155_t *bl)
{
    uint8_t out[3];
    out[0] = bl->cfg->version;
    out[1] = 0u; /* option bytes: read protection disabled */
    out[2] = 0u;
    ack(bl);
    tx(bl, out, 3u);
    ack(bl);
}

static void do_get_id(an3155_t *bl)
{
    uint8_t out[3];
    out[0] = 1u; /* N = bytes - 1 */
    out[1] = (uint8_t)(bl->cfg->pid >> 8);
    out[2] = (uint8_t)(bl->cfg->pid & 0xFFu);
    ack(bl);
    tx(bl, out, 3u);
    ack(bl);
}

/* ---- address phase ----------------------------------------------------------------------- */

/* Resolve the vector table at bus address `addr` for GO: 1 and msp/entry if it is startable. */
static int go_target(const an3155_config_t *cfg, uint32_t addr, uint32_t *vtor, uint32_t *msp, uint32_t *entry)
{
    const an3155_region_t *r = find_region(cfg, addr, 8u, AN3155_X);
    const uint8_t *p;
    uint32_t pc;
    unsigned i;
    if (r == NULL || (addr & 3u) != 0u) {
        return 0;
    }
    p = r->mem + (addr - r->bus_base);
    *vtor = r->cpu_base + (addr - r->bus_base);
    *msp = le32(p);
    *entry = le32(p + 4);
    if (*msp == 0xFFFFFFFFu || (*msp & 3u) != 0u || (*entry & 1u) == 0u) {
        return 0;
    }
    pc = *entry & ~1u;
    for (i = 0; i < cfg->n_regions; ++i) {
        const an3155_region_t *x = &cfg->regions[i];
        if ((x->flags & AN3155_X) && pc >= x->cpu_base && pc - x->cpu_base < x->size) {
            return 1;
        }
    }
    return 0;
}

static void address_done(an3155_t *bl)
{
    const an3155_config_t *cfg = bl->cfg;
    uint32_t a = ((uint32_t)bl->buf[0] << 24) | ((uint32_t)bl->buf[1] << 16) | ((uint32_t)bl->buf[2] << 8) |
                 (uint32_t)bl->buf[3];
    uint8_t chk = (uint8_t)(bl->buf[0] ^ bl->buf[1] ^ bl->buf[2] ^ bl->buf[3]);
    if (chk != bl->buf[4]) {
        nack(bl);
        to_cmd(bl);
        return;
    }
    bl->addr = a;
    if (bl->cmd == AN3155_CMD_READ_MEMORY) {
        if (find_region(cfg, a, 1u, AN3155_R) == NULL) {
            nack(bl);
            to_cmd(bl);
            return;
        }
        ack(bl);
        start_field(bl, S_RM_LEN, 2u);
    } else if (bl->cmd == AN3155_CMD_WRITE_MEMORY) {
        const an3155_region_t *r = find_region(cfg, a, 1u, AN3155_W);
        if (r == NULL || ((r->flags & AN3155_FLASH) && (a & 3u) != 0u) || a - r->bus_base < r->protect_below) {
            nack(bl);
            to_cmd(bl);
            return;
        }
        ack(bl);
        start_field(bl, S_WM_LEN, 1u);
    } else { /* GO */
        uint32_t vtor, msp, entry;
        if (cfg->go_raw != NULL) {
            ack(bl);
            to_cmd(bl);
            cfg->go_raw(cfg->ctx, a);
            return;
        }
        if (!go_target(cfg, a, &vtor, &msp, &entry)) {
            nack(bl);
            to_cmd(bl);
            return;
        }
        ack(bl);
        to_cmd(bl);
        cfg->go(cfg->ctx, vtor, msp, entry);
    }
}

/* ---- READ / WRITE ------------------------------------------------------------------------ */

static void read_len_done(an3155_t *bl)
{
    uint8_t n = bl->buf[0];
    uint32_t len = (uint32_t)n + 1u;
    const an3155_region_t *r;
    if (((unsigned)n ^ (unsigned)bl->buf[1]) != 0xFFu || (r = find_region(bl->cfg, bl->addr, len, AN3155_R)) == NULL) {
        nack(bl);
        to_cmd(bl);
        return;
    }
    ack(bl);
    tx(bl, r->mem + (bl->addr - r->bus_base), (unsigned)len);
    bl->stats.bytes_read += len;
    to_cmd(bl);
}

static void write_data_done(an3155_t *bl)
{
    uint32_t len = (uint32_t)bl->buf[0] + 1u;
    const an3155_region_t *r = find_region(bl->cfg, bl->addr, len, AN3155_W);
    uint8_t *dst;
    uint32_t i;
    /* xor_acc covers N, the data and the checksum: zero when they agree */
    if (bl->xor_acc != 0u || r == NULL) {
        nack(bl);
        to_cmd(bl);
        return;
    }
    dst = r->mem + (bl->addr - r->bus_base);
    if (r->flags & AN3155_FLASH) {
        for (i = 0; i < len; ++i) {
            dst[i] &= bl->buf[1u + i];
        }
    } else {
        for (i = 0; i < len; ++i) {
            dst[i] = bl->buf[1u + i];
        }
    }
    bl->stats.bytes_written += len;
    ack(bl);
    to_cmd(bl);
}

/* ---- ERASE ------------------------------------------------------------------------------- */

/* Offset of sector k in the flash region, or -1 if there is no such sector. */
static int32_t sector_offset(const an3155_config_t *cfg, unsigned k, uint32_t *size)
{
    uint32_t off = 0u;
    unsigned i;
    if (k >= cfg->n_sectors) {
        return -1;
    }
    for (i = 0; i < k; ++i) {
        off += cfg->sectors[i];
    }
    *size = cfg->sectors[k];
    return (int32_t)off;
}

static int sector_erasable(const an3155_config_t *cfg, const an3155_region_t *flash, unsigned k)
{
    uint32_t size = 0u;
    int32_t off = sector_offset(cfg, k, &size);
    return flash != NULL && off >= 0 && (uint32_t)off >= flash->protect_below &&
           (uint32_t)off + size <= flash->size;
}

static void erase_sector(const an3155_config_t *cfg, const an3155_region_t *flash, unsigned k)
{
    uint32_t size = 0u, i;
    int32_t off = sector_offset(cfg, k, &size);
    for (i = 0; i < size; ++i) {
        flash->mem[(uint32_t)off + i] = 0xFFu;
    }
}

/* Erase the listed sectors (all or nothing), or every unprotected sector when `all`. */
static void erase_done(an3155_t *bl, int all)
{
    const an3155_config_t *cfg = bl->cfg;
    const an3155_region_t *flash = flash_region(cfg);
    unsigned i;
    if (bl->xor_acc != 0u || flash == NULL) {
        nack(bl);
        to_cmd(bl);
        return;
    }
    if (all) {
        for (i = 0; i < cfg->n_sectors; ++i) {
            if (sector_erasable(cfg, flash, i)) {
                erase_sector(cfg, flash, i);
            }
        }
        ack(bl);
        to_cmd(bl);
        return;
    }
    if (bl->n_list != (unsigned)bl->count + 1u || bl->n_list > AN3155_MAX_ERASE_LIST) {
        nack(bl); /* more pages than we keep: no chip we emulate has them */
        to_cmd(bl);
        return;
    }
    for (i = 0; i < bl->n_list; ++i) {
        if (!sector_erasable(cfg, flash, bl->list[i])) {
            nack(bl);
            to_cmd(bl);
            return;
        }
    }
    for (i = 0; i < bl->n_list; ++i) {
        erase_sector(cfg, flash, bl->list[i]);
    }
    ack(bl);
    to_cmd(bl);
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static void command(an3155_t *bl)
{
    uint8_t c = bl->cmd;
    bl->stats.commands++;
    switch (c) {
    case AN3155_CMD_GET:
        do_get(bl);
        to_cmd(bl);
        return;
    case AN3155_CMD_GET_VERSION:
        do_get_version(bl);
        to_cmd(bl);
        return;
    case AN3155_CMD_GET_ID:
        do_get_id(bl);
        to_cmd(bl);
        return;
    case AN3155_CMD_READ_MEMORY:
    case AN3155_CMD_WRITE_MEMORY:
    case AN3155_CMD_GO:
        ack(bl);
        start_field(bl, S_ADDR, 5u);
        return;
    default:
        break;
    }
    if (c == bl->cfg->erase_cmd && c == AN3155_CMD_ERASE) {
        ack(bl);
        start_field(bl, S_ER_N, 1u);
    } else if (c == bl->cfg->erase_cmd && c == AN3155_CMD_EXTENDED_ERASE) {
        ack(bl);
        start_field(bl, S_EE_N, 2u);
    } else {
        nack(bl);
        to_cmd(bl);
    }
}

void an3155_feed(an3155_t *bl, uint8_t byte, uint32_t now_ms)
{
    bl->last_ms = now_ms;
    switch (bl->state) {
    case S_SYNC:
        if (byte == AN3155_SYNC) {
            ack(bl);
            to_cmd(bl);
        }
        return;
    case S_CMD:
        bl->cmd = byte;
        start_field(bl, S_CMD_CHK, 1u);
        return;
    case S_CMD_CHK:
        if ((uint8_t)(bl->cmd ^ byte) != 0xFFu) {
            nack(bl);
            to_cmd(bl);
            return;
        }
        command(bl);
        return;
    default:
        break;
    }

    /* multi-byte fields: collect, keep a running XOR */
    if (bl->have < sizeof bl->buf) {
        bl->buf[bl->have] = byte;
    }
    bl->xor_acc ^= byte;
    bl->have++;

    switch (bl->state) {
    case S_WM_LEN:
        bl->need = (unsigned)byte + 1u + 1u + 1u; /* N, N+1 data bytes, the checksum */
        bl->state = S_WM_DATA;
        return;
    case S_ER_LIST:
        /* have 2 .. need-1: one byte per page (have 1 was N) */
        if (bl->have >= 2u && bl->have < bl->need) {
            if (bl->n_list < AN3155_MAX_ERASE_LIST) {
                bl->list[bl->n_list] = byte;
            }
            bl->n_list++;
        }
        break;
    case S_EE_LIST:
        /* have 3 .. need-1: two bytes per page, MSB first (have 1-2 were N) */
        if (bl->have >= 3u && bl->have < bl->need) {
            if ((bl->have & 1u) != 0u) {
                bl->msb = byte;
            } else {
                if (bl->n_list < AN3155_MAX_ERASE_LIST) {
                    bl->list[bl->n_list] = (uint16_t)(((unsigned)bl->msb << 8) | byte);
                }
                bl->n_list++;
            }
        }
        break;
    default:
        break;
    }
    if (bl->have < bl->need) {
        return;
    }

    switch (bl->state) {
    case S_ADDR:
        address_done(bl);
        return;
    case S_RM_LEN:
        read_len_done(bl);
        return;
    case S_WM_DATA:
        write_data_done(bl);
        return;
    case S_ER_N:
        bl->count = byte;
        bl->n_list = 0u;
        if (byte == 0xFFu) {
            /* global erase: the checksum byte that follows must be 0x00 */
            start_field(bl, S_ER_LIST, 1u);
            bl->count = 0xFFFFu;
        } else {
            bl->state = S_ER_LIST;
            bl->need = 1u + ((unsigned)byte + 1u) + 1u;
        }
        return;
    case S_ER_LIST:
        if (bl->count == 0xFFFFu) {
            if (bl->xor_acc != 0u) {
                nack(bl);
                to_cmd(bl);
                return;
            }
            erase_done(bl, 1);
        } else {
            erase_done(bl, 0);
        }
        return;
    case S_EE_N: {
        uint16_t n = (uint16_t)(((unsigned)bl->buf[0] << 8) | bl->buf[1]);
        bl->count = n;
        bl->n_list = 0u;
        if (n >= 0xFFF0u) {
            start_field(bl, S_EE_SPECIAL, 1u);
            bl->xor_acc = (uint8_t)(bl->buf[0] ^ bl->buf[1]);
        } else {
            bl->state = S_EE_LIST;
            bl->need = 2u + 2u * ((unsigned)n + 1u) + 1u;
        }
        return;
    }
    case S_EE_LIST:
        erase_done(bl, 0);
        return;
    case S_EE_SPECIAL:
        /* 0xFFFF mass erase, 0xFFFE / 0xFFFD bank erase (one bank here); others reserved */
        if (bl->count < 0xFFFDu) {
            nack(bl);
            to_cmd(bl);
            return;
        }
        erase_done(bl, 1);
        return;
    default:
        to_cmd(bl);
        return;
    }
}

void an3155_poll(an3155_t *bl, uint32_t now_ms)
{
    if (bl->state == S_SYNC || bl->state == S_CMD || bl->cfg->idle_timeout_ms == 0u) {
        return;
    }
    if ((uint32_t)(now_ms - bl->last_ms) >= bl->cfg->idle_timeout_ms) {
        bl->stats.timeouts++;
        to_cmd(bl);
    }
}
