/*
 * Host test program for the host link (firmware/bsp/tf_link.c): reads bytes on stdin, feeds them
 * to the receiver and answers on stdout the way a serving firmware would, so the Python side
 * (tinyforge/serial/frames.py) can check both codecs against each other (tests/toolchain/
 * test_tf_link.py, under -fsanitize=address,undefined):
 *   a frame            -> the same type | 0x80 with the same payload, read back from the segments
 *   a bad CRC          -> ERROR (code 1, the CRC received)
 *   too long a header  -> ERROR (code 2, the length announced)
 *   0x7F between frames-> ERROR (code 0x7F, 0)
 * Usage: link_echo N1 N2 ...   payload segments of N1, N2, ... bytes (the longest payload taken).
 */
#include <stdio.h>
#include <stdlib.h>

#include "tf_link.h"

#define MAX_SEGS 8
#define MAX_BYTES 65536

static uint8_t g_mem[MAX_BYTES];

static void put(const uint8_t *p, uint32_t n)
{
    (void)fwrite(p, 1, n, stdout);
}

static void answer(uint8_t type, const tf_link_rx_t *rx)
{
    uint32_t crc = tf_link_send_begin(put, type, rx->length);
    uint32_t left = rx->length;
    unsigned s;
    for (s = 0; s < rx->nsegs && left > 0u; ++s) {
        uint32_t n = rx->segs[s].n < left ? rx->segs[s].n : left;
        crc = tf_link_send_part(put, crc, rx->segs[s].p, n);
        left -= n;
    }
    tf_link_send_end(put, crc);
}

static void error(uint8_t code, uint32_t detail)
{
    uint8_t body[5];
    uint32_t crc;
    body[0] = code;
    tf_link_put_u32(body + 1, detail);
    crc = tf_link_send_begin(put, TF_LINK_ERROR, 5u);
    crc = tf_link_send_part(put, crc, body, 5u);
    tf_link_send_end(put, crc);
}

int main(int argc, char **argv)
{
    tf_link_seg_t segs[MAX_SEGS];
    tf_link_rx_t rx;
    unsigned nsegs = 0;
    uint32_t used = 0;
    int c;
    int i;

    for (i = 1; i < argc && nsegs < MAX_SEGS; ++i) {
        uint32_t n = (uint32_t)strtoul(argv[i], NULL, 10);
        if (used + n > MAX_BYTES) {
            return 2;
        }
        segs[nsegs].p = g_mem + used;
        segs[nsegs].n = n;
        used += n;
        ++nsegs;
    }
    tf_link_rx_init(&rx, segs, nsegs);
    while ((c = getchar()) != EOF) {
        switch (tf_link_feed(&rx, (uint8_t)c)) {
        case TF_LINK_FRAME:
            answer((uint8_t)(rx.type | 0x80u), &rx);
            break;
        case TF_LINK_BAD_CRC:
            error(TF_LINK_ERR_CRC, rx.rx_crc);
            break;
        case TF_LINK_TOO_LONG:
            error(TF_LINK_ERR_LENGTH, rx.length);
            break;
        case TF_LINK_SYNC_BYTE:
            error(0x7Fu, 0u);
            break;
        default:
            break;
        }
        (void)fflush(stdout);
    }
    return tf_link_rx_busy(&rx) ? 3 : 0; /* 3: input ended inside a frame */
}
