/*
 * tinyforge host link: framed messages over the console UART, for validation on the target
 * (`tinyforge test --port`). Portable C99, no I/O of its own: the receiver is fed one byte at a
 * time, the sender writes through a callback, so the same code runs in the firmware and in the
 * host unit test. The frame (both directions; integers little-endian):
 *
 *     0xA5 0x5A | type (1) | length (4) | payload (length bytes) | CRC-32 (4)
 *
 * The CRC is CRC-32/ISO-HDLC (zlib's crc32) over type, length and payload. The magic bytes are not
 * ASCII, so text lines between frames never look like one; a receiver skips anything before a
 * magic. The message types and payloads are in tinyforge/serial/frames.py (the host side).
 */
#ifndef TINYFORGE_TF_LINK_H
#define TINYFORGE_TF_LINK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TF_LINK_MAGIC0 0xA5u
#define TF_LINK_MAGIC1 0x5Au
#define TF_LINK_HEADER_BYTES 7u /* magic, type, length */
#define TF_LINK_SYNC 0x7Fu      /* AN3155's bootloader sync byte */

/* Host -> board */
#define TF_LINK_HELLO 0x01u /* empty: answered with INFO */
#define TF_LINK_INFER 0x02u /* u32 index, one input record: answered with RESULT */
#define TF_LINK_END 0x03u   /* empty: answered with BYE, then the serve loop returns */
/* Board -> host */
#define TF_LINK_INFO 0x81u
#define TF_LINK_RESULT 0x82u
#define TF_LINK_BYE 0x83u
#define TF_LINK_ERROR 0xEEu /* u8 code, u32 detail */

/* ERROR codes */
#define TF_LINK_ERR_CRC 1u     /* detail: the CRC received */
#define TF_LINK_ERR_LENGTH 2u  /* detail: the length announced (more than the buffer holds) */
#define TF_LINK_ERR_TYPE 3u    /* detail: the type */
#define TF_LINK_ERR_PAYLOAD 4u /* detail: the payload length the type needs */

/* What tf_link_feed() reports for a byte. */
#define TF_LINK_NONE 0       /* nothing complete yet */
#define TF_LINK_FRAME 1      /* a frame: rx->type, rx->length; its payload is in the segments */
#define TF_LINK_BAD_CRC 2    /* a frame whose CRC did not match (rx->type/length as received) */
#define TF_LINK_TOO_LONG 3   /* a header announcing more than the buffer holds: dropped */
#define TF_LINK_SYNC_BYTE 4  /* 0x7F between frames: the host wants the bootloader */

/* Where a payload goes: its bytes fill the segments in order (an index word, then the model's
 * input tensors in place in the arena, for instance: no copy of an input record in RAM). */
typedef struct {
    uint8_t *p;
    uint32_t n;
} tf_link_seg_t;

typedef struct {
    const tf_link_seg_t *segs;
    unsigned nsegs;
    uint32_t cap;     /* the segments' total size: the longest payload taken */
    unsigned seg;     /* the segment being filled, and the position in it */
    uint32_t seg_pos;
    uint32_t state;   /* 0 hunting, 1 magic seen, 2 header, 3 payload, 4 crc */
    uint32_t pos;     /* bytes of the current field received */
    uint8_t type;
    uint32_t length;
    uint32_t crc;     /* running CRC (not yet inverted) */
    uint32_t rx_crc;  /* the CRC as received */
} tf_link_rx_t;

/* CRC-32/ISO-HDLC: start with crc = 0xFFFFFFFF, update, finish with ~crc. */
uint32_t tf_crc32_update(uint32_t crc, const uint8_t *p, uint32_t n);

void tf_link_rx_init(tf_link_rx_t *rx, const tf_link_seg_t *segs, unsigned nsegs);
int tf_link_feed(tf_link_rx_t *rx, uint8_t byte);
void tf_link_rx_drop(tf_link_rx_t *rx); /* forget a partial frame (the line went quiet) */
int tf_link_rx_busy(const tf_link_rx_t *rx);

/* Sending: begin (header), any number of parts adding up to `length`, end (CRC). */
typedef void (*tf_link_put_fn)(const uint8_t *p, uint32_t n);
uint32_t tf_link_send_begin(tf_link_put_fn put, uint8_t type, uint32_t length);
uint32_t tf_link_send_part(tf_link_put_fn put, uint32_t crc, const void *p, uint32_t n);
void tf_link_send_end(tf_link_put_fn put, uint32_t crc);

void tf_link_put_u32(uint8_t *dst, uint32_t v);
uint32_t tf_link_get_u32(const uint8_t *src);

#ifdef __cplusplus
}
#endif

#endif /* TINYFORGE_TF_LINK_H */
