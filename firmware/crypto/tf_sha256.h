/*
 * SHA-256 (FIPS 180-4, section 6.2), streaming. C99, no heap, no tables outside this file.
 *
 *     tf_sha256_t h;
 *     tf_sha256_init(&h);
 *     tf_sha256_update(&h, data, n);       (any number of times, any lengths)
 *     tf_sha256_final(&h, digest);         (32 bytes)
 */
#ifndef TINYFORGE_SHA256_H
#define TINYFORGE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define TF_SHA256_DIGEST_BYTES 32u
#define TF_SHA256_BLOCK_BYTES 64u

typedef struct {
    uint32_t state[8];
    uint64_t length;    /* bytes hashed so far */
    uint8_t block[64];  /* the partial block */
    unsigned fill;      /* bytes in `block` */
} tf_sha256_t;

void tf_sha256_init(tf_sha256_t *h);
void tf_sha256_update(tf_sha256_t *h, const void *data, size_t n);
void tf_sha256_final(tf_sha256_t *h, uint8_t digest[32]);

/* One call for a whole buffer. */
void tf_sha256(const void *data, size_t n, uint8_t digest[32]);

#endif /* TINYFORGE_SHA256_H */
