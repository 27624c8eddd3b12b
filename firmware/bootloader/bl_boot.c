/* The A/B slot decision: see bl_boot.h. */
#include "bl_boot.h"

#include <stddef.h>
#include <string.h>

/* MCUboot's trailer magic for max_align 8 (imgtool's boot_magic). */
const uint8_t bl_boot_magic[16] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                   0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};

static const char *const k_image_reason[] = {
    "empty", "not a valid image header", "truncated image", "hash mismatch", "signed with another key",
    "bad signature", "valid", "unchecked",
};

/* ---- a bounded line builder (no libc stdio on the target) ------------------------------------ */

typedef struct {
    char *buf;
    unsigned n;
} line_t;

static void put(line_t *l, const char *s)
{
    while (*s != '\0' && l->n + 1u < BL_LINE_BYTES) {
        l->buf[l->n++] = *s++;
    }
    l->buf[l->n] = '\0';
}

static void put_uint(line_t *l, uint32_t v)
{
    char tmp[11];
    unsigned i = 0;
    do {
        tmp[i++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u && i < sizeof tmp);
    while (i > 0u) {
        char c[2];
        c[0] = tmp[--i];
        c[1] = '\0';
        put(l, c);
    }
}

static void put_version(line_t *l, const tf_boot_slot_t *s)
{
    put_uint(l, s->major);
    put(l, ".");
    put_uint(l, s->minor);
    put(l, ".");
    put_uint(l, s->revision);
    put(l, "+");
    put_uint(l, s->build);
}

/* ---- the trailer ------------------------------------------------------------------------------ */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

unsigned bl_trailer_state(const uint8_t *slot, uint32_t slot_size, uint32_t *sequence)
{
    const uint8_t *magic = slot + slot_size - BL_TRAILER_MAGIC_OFFSET;
    uint32_t seq = le32(slot + slot_size - BL_TRAILER_SEQUENCE_OFFSET);
    unsigned i, erased = 1u, good = 1u;
    *sequence = seq == 0xFFFFFFFFu ? 0u : seq;
    for (i = 0; i < 16u; ++i) {
        if (magic[i] != 0xFFu) {
            erased = 0u;
        }
        if (magic[i] != bl_boot_magic[i]) {
            good = 0u;
        }
    }
    if (erased) {
        return TF_BOOT_TRAILER_NONE;
    }
    if (!good) {
        return TF_BOOT_TRAILER_REVERTED;
    }
    if (slot[slot_size - BL_TRAILER_IMAGE_OK_OFFSET] == BL_BOOT_FLAG_SET) {
        return TF_BOOT_TRAILER_CONFIRMED;
    }
    if (slot[slot_size - BL_TRAILER_COPY_DONE_OFFSET] == BL_BOOT_FLAG_SET) {
        return TF_BOOT_TRAILER_TRYING;
    }
    return TF_BOOT_TRAILER_PENDING;
}

/* Flash semantics: a write can only clear bits. */
static void flash_write_byte(uint8_t *p, uint8_t v)
{
    *(volatile uint8_t *)p = (uint8_t)(*p & v);
}

/* ---- the decision ----------------------------------------------------------------------------- */

static void copy_bytes(uint8_t *dst, const uint8_t *src, uint32_t n)
{
    memcpy(dst, src, n); /* libc's word-at-a-time copy: the RAM load of a whole image */
}

/* 1 if slot a is preferred to slot b (both candidates). */
static int preferred(const tf_boot_shared_t *st, unsigned a, unsigned b)
{
    const tf_boot_slot_t *x = &st->slot[a], *y = &st->slot[b];
    uint32_t vx, vy;
    if ((x->trailer == TF_BOOT_TRAILER_PENDING) != (y->trailer == TF_BOOT_TRAILER_PENDING)) {
        return x->trailer == TF_BOOT_TRAILER_PENDING;
    }
    if (x->sequence != y->sequence) {
        return x->sequence > y->sequence;
    }
    vx = ((uint32_t)x->major << 24) | ((uint32_t)x->minor << 16) | x->revision;
    vy = ((uint32_t)y->major << 24) | ((uint32_t)y->minor << 16) | y->revision;
    if (vx != vy) {
        return vx > vy;
    }
    if (x->build != y->build) {
        return x->build > y->build;
    }
    return a < b;
}

void bl_boot_evaluate(const bl_boot_config_t *cfg, tf_boot_shared_t *st, int boot, bl_boot_result_t *out)
{
    const uint32_t capacity = cfg->slot_size - BL_TRAILER_SEQUENCE_OFFSET; /* the image ends before it */
    bl_image_info_t info[2];
    unsigned parsed[2], rolled_back[2] = {0u, 0u};
    unsigned order[2], n_candidates = 0u, s, i;
    uint32_t chosen = TF_BOOT_NONE;
    line_t line;
    line.buf = out->line;
    line.n = 0u;
    out->line[0] = '\0';
    out->entry = 0u;

    st->magic = TF_BOOT_MAGIC;
    st->layout = TF_BOOT_LAYOUT;
    st->booted_slot = TF_BOOT_NONE;
    st->selected_slot = TF_BOOT_NONE;
    st->image_ok_addr = TF_BOOT_NONE;
    copy_bytes(st->key_hash, cfg->key_hash, 32u);
    copy_bytes(st->public_key, cfg->public_key, 32u);

    for (s = 0; s < 2u; ++s) {
        tf_boot_slot_t *slot = &st->slot[s];
        uint8_t *mem = cfg->slot[s];
        uint32_t seq;
        for (i = 0; i < 32u; ++i) {
            slot->hash[i] = 0u;
        }
        slot->trailer = (uint8_t)bl_trailer_state(mem, cfg->slot_size, &seq);
        slot->sequence = seq;
        parsed[s] = bl_image_parse(mem, capacity, &info[s]);
        slot->image = (uint8_t)parsed[s];
        slot->major = slot->minor = 0u;
        slot->revision = 0u;
        slot->reserved = 0u;
        slot->build = 0u;
        slot->size = 0u;
        if (parsed[s] == TF_BOOT_IMAGE_UNCHECKED) {
            slot->major = info[s].major;
            slot->minor = info[s].minor;
            slot->revision = info[s].revision;
            slot->build = info[s].build;
            slot->size = info[s].total_size;
            if ((info[s].flags & BL_IMAGE_F_RAM_LOAD) == 0u || info[s].load_addr != cfg->load_addr ||
                info[s].total_size > cfg->load_size) {
                slot->image = TF_BOOT_IMAGE_BAD_HEADER; /* not built for this board's load address */
            }
        }
        /* an image started once and never confirmed is rolled back: its magic is cleared */
        if (boot && slot->trailer == TF_BOOT_TRAILER_TRYING) {
            for (i = 0; i < 16u; ++i) {
                flash_write_byte(mem + cfg->slot_size - BL_TRAILER_MAGIC_OFFSET + i, 0u);
            }
            slot->trailer = TF_BOOT_TRAILER_REVERTED;
            rolled_back[s] = 1u;
        }
        if (slot->image == TF_BOOT_IMAGE_UNCHECKED &&
            (slot->trailer == TF_BOOT_TRAILER_PENDING || slot->trailer == TF_BOOT_TRAILER_CONFIRMED)) {
            order[n_candidates++] = s;
        }
    }
    if (n_candidates == 2u && preferred(st, order[1], order[0])) {
        s = order[0];
        order[0] = order[1];
        order[1] = s;
    }

    if (!boot) {
        /* for the flasher: check every image that parses, not only until one is found */
        for (s = 0; s < 2u; ++s) {
            if (st->slot[s].image == TF_BOOT_IMAGE_UNCHECKED) {
                bl_image_info_t checked;
                st->slot[s].image = (uint8_t)bl_image_validate(cfg->slot[s], capacity, cfg->public_key,
                                                               cfg->key_hash, &checked, st->slot[s].hash);
            }
        }
    }
    for (i = 0; i < n_candidates && chosen == TF_BOOT_NONE; ++i) {
        tf_boot_slot_t *slot;
        unsigned state;
        bl_image_info_t checked;
        s = order[i];
        slot = &st->slot[s];
        if (boot) {
            /* RAM load: what runs is what is checked */
            copy_bytes(cfg->load, cfg->slot[s], info[s].total_size);
            state = bl_image_validate(cfg->load, info[s].total_size, cfg->public_key, cfg->key_hash, &checked,
                                      slot->hash);
        } else {
            state = slot->image; /* checked above */
            if (state == TF_BOOT_IMAGE_VALID) {
                (void)bl_image_parse(cfg->slot[s], capacity, &checked);
            }
        }
        slot->image = (uint8_t)state;
        if (state == TF_BOOT_IMAGE_VALID) {
            chosen = s;
            out->entry = cfg->load_addr + checked.header_size;
        }
    }

    /* the console line */
    put(&line, "TF BOOT slot=");
    if (chosen != TF_BOOT_NONE) {
        tf_boot_slot_t *slot = &st->slot[chosen];
        put_uint(&line, chosen);
        put(&line, " version=");
        put_version(&line, slot);
        put(&line, slot->trailer == TF_BOOT_TRAILER_PENDING ? " image=pending" : " image=confirmed");
        put(&line, " sequence=");
        put_uint(&line, slot->sequence);
    } else {
        put(&line, "none");
    }
    {
        unsigned noted = 0u;
        for (s = 0; s < 2u; ++s) {
            const tf_boot_slot_t *slot = &st->slot[s];
            const char *why = NULL;
            if (s == chosen) {
                continue;
            }
            if (rolled_back[s]) {
                why = "never confirmed, rolled back";
            } else if (slot->image != TF_BOOT_IMAGE_UNCHECKED && slot->image != TF_BOOT_IMAGE_VALID &&
                       (slot->image != TF_BOOT_IMAGE_EMPTY || chosen == TF_BOOT_NONE)) {
                why = k_image_reason[slot->image < 8u ? slot->image : 1u];
            } else if (slot->image != TF_BOOT_IMAGE_EMPTY && slot->trailer == TF_BOOT_TRAILER_NONE) {
                why = "not marked for boot";
            } else if (slot->image != TF_BOOT_IMAGE_EMPTY && slot->trailer == TF_BOOT_TRAILER_REVERTED) {
                why = "rolled back";
            } else if (chosen == TF_BOOT_NONE && slot->trailer == TF_BOOT_TRAILER_TRYING) {
                why = "tried, not confirmed";
            }
            if (why == NULL) {
                continue;
            }
            put(&line, noted ? "; slot " : (chosen != TF_BOOT_NONE ? " fallback=\"slot " : " reason=\"slot "));
            put_uint(&line, s);
            if (parsed[s] == TF_BOOT_IMAGE_UNCHECKED) {
                put(&line, " v");
                put_version(&line, slot);
            }
            put(&line, ": ");
            put(&line, why);
            noted = 1u;
        }
        if (noted) {
            put(&line, "\"");
        }
    }

    st->selected_slot = chosen;
    out->chosen = chosen;
    if (boot && chosen != TF_BOOT_NONE) {
        uint8_t *mem = cfg->slot[chosen];
        if (st->slot[chosen].trailer == TF_BOOT_TRAILER_PENDING) {
            /* started once from now on: unless the image confirms itself, the next boot rolls back */
            flash_write_byte(mem + cfg->slot_size - BL_TRAILER_COPY_DONE_OFFSET, BL_BOOT_FLAG_SET);
            st->slot[chosen].trailer = TF_BOOT_TRAILER_TRYING;
        }
        st->booted_slot = chosen;
        st->image_ok_addr = cfg->slot_cpu_addr[chosen] + cfg->slot_size - BL_TRAILER_IMAGE_OK_OFFSET;
        st->boots++;
    }
}
