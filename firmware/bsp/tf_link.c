/*
 * tinyforge host link: the frame receiver and sender (see tf_link.h). C99, no I/O, no malloc.
 */
#include "tf_link.h"

/* CRC-32/ISO-HDLC (reflected polynomial 0xEDB88320), four bits at a time: 64 bytes of table. */
static const uint32_t k_crc_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t tf_crc32_update(uint32_t crc, const uint8_t *p, uint32_t n)
{
    while (n-- > 0u) {
        crc ^= *p++;
        crc = (crc >> 4) ^ k_crc_nibble[crc & 15u];
        crc = (crc >> 4) ^ k_crc_nibble[crc & 15u];
    }
    return crc;
}

void tf_link_put_u32(uint8_t *dst, uint32_t v)
{
    dst[0] = (uint8_t)v;
    dst[1] = (uint8_t)(v >> 8);
    dst[2] = (uint8_t)(v >> 16);
    dst[3] = (uint8_t)(v >> 24);
}

uint32_t tf_link_get_u32(const uint8_t *src)
{
    return (uint32_t)src[0] | ((uint32_t)src[1] << 8) | ((uint32_t)src[2] << 16) | ((uint32_t)src[3] << 24);
}

enum { ST_HUNT = 0, ST_MAGIC = 1, ST_HEADER = 2, ST_PAYLOAD = 3, ST_CRC = 4 };

void tf_link_rx_init(tf_link_rx_t *rx, const tf_link_seg_t *segs, unsigned nsegs)
{
    unsigned i;
    rx->segs = segs;
    rx->nsegs = nsegs;
    rx->cap = 0u;
    for (i = 0; i < nsegs; ++i) {
        rx->cap += segs[i].n;
    }
    tf_link_rx_drop(rx);
}

void tf_link_rx_drop(tf_link_rx_t *rx)
{
    rx->state = ST_HUNT;
    rx->pos = 0u;
    rx->type = 0u;
    rx->length = 0u;
    rx->crc = 0xFFFFFFFFu;
    rx->rx_crc = 0u;
    rx->seg = 0u;
    rx->seg_pos = 0u;
}

int tf_link_rx_busy(const tf_link_rx_t *rx)
{
    return rx->state != ST_HUNT;
}

int tf_link_feed(tf_link_rx_t *rx, uint8_t byte)
{
    switch (rx->state) {
    case ST_HUNT:
        if (byte == TF_LINK_MAGIC0) {
            rx->state = ST_MAGIC;
        } else if (byte == TF_LINK_SYNC) {
            return TF_LINK_SYNC_BYTE;
        }
        return TF_LINK_NONE;
    case ST_MAGIC:
        if (byte == TF_LINK_MAGIC1) {
            rx->state = ST_HEADER;
            rx->pos = 0u;
            rx->crc = 0xFFFFFFFFu;
            rx->length = 0u;
        } else if (byte != TF_LINK_MAGIC0) {
            rx->state = ST_HUNT;
        }
        return TF_LINK_NONE;
    case ST_HEADER:
        rx->crc = tf_crc32_update(rx->crc, &byte, 1u);
        if (rx->pos == 0u) {
            rx->type = byte;
        } else {
            rx->length |= (uint32_t)byte << (8u * (rx->pos - 1u));
        }
        if (++rx->pos < 5u) {
            return TF_LINK_NONE;
        }
        rx->pos = 0u;
        if (rx->length > rx->cap) {
            rx->state = ST_HUNT;
            return TF_LINK_TOO_LONG;
        }
        rx->state = rx->length ? ST_PAYLOAD : ST_CRC;
        rx->rx_crc = 0u;
        rx->seg = 0u;
        rx->seg_pos = 0u;
        return TF_LINK_NONE;
    case ST_PAYLOAD:
        while (rx->seg_pos == rx->segs[rx->seg].n) { /* length <= cap: a segment is left */
            rx->seg++;
            rx->seg_pos = 0u;
        }
        rx->segs[rx->seg].p[rx->seg_pos++] = byte;
        rx->pos++;
        rx->crc = tf_crc32_update(rx->crc, &byte, 1u);
        if (rx->pos == rx->length) {
            rx->state = ST_CRC;
            rx->pos = 0u;
            rx->rx_crc = 0u;
        }
        return TF_LINK_NONE;
    default: /* ST_CRC */
        rx->rx_crc |= (uint32_t)byte << (8u * rx->pos);
        if (++rx->pos < 4u) {
            return TF_LINK_NONE;
        }
        rx->state = ST_HUNT;
        rx->pos = 0u;
        return rx->rx_crc == ~rx->crc ? TF_LINK_FRAME : TF_LINK_BAD_CRC;
    }
}

uint32_t tf_link_send_begin(tf_link_put_fn put, uint8_t type, uint32_t length)
{
    uint8_t head[TF_LINK_HEADER_BYTES];
    head[0] = TF_LINK_MAGIC0;
    head[1] = TF_LINK_MAGIC1;
    head[2] = type;
    tf_link_put_u32(head + 3, length);
    put(head, TF_LINK_HEADER_BYTES);
    return tf_crc32_update(0xFFFFFFFFu, head + 2, 5u);
}

uint32_t tf_link_send_part(tf_link_put_fn put, uint32_t crc, const void *p, uint32_t n)
{
    put((const uint8_t *)p, n);
    return tf_crc32_update(crc, (const uint8_t *)p, n);
}

void tf_link_send_end(tf_link_put_fn put, uint32_t crc)
{
    uint8_t tail[4];
    tf_link_put_u32(tail, ~crc);
    put(tail, 4u);
}
