/*
 * SHA-512 (FIPS 180-4, section 6.4), streaming; ed25519 needs it (RFC 8032 5.1). C99, no heap.
 */
#ifndef TINYFORGE_SHA512_H
#define TINYFORGE_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define TF_SHA512_DIGEST_BYTES 64u

typedef struct {
    uint64_t state[8];
    uint64_t length;    /* bytes hashed so far (2^64 bytes is far beyond any image) */
    uint8_t block[128]; /* the partial block */
    unsigned fill;
} tf_sha512_t;

void tf_sha512_init(tf_sha512_t *h);
void tf_sha512_update(tf_sha512_t *h, const void *data, size_t n);
void tf_sha512_final(tf_sha512_t *h, uint8_t digest[64]);
void tf_sha512(const void *data, size_t n, uint8_t digest[64]);

#endif /* TINYFORGE_SHA512_H */
