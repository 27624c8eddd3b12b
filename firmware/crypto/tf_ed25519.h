/*
 * Ed25519 signature verification (RFC 8032, section 5.1.7), written for tinyforge's bootloader.
 * Verification only: no key generation, no signing. Not constant-time (nothing secret is
 * involved in checking a signature). C99, no heap, no undefined behaviour on any input.
 *
 *     if (tf_ed25519_verify(signature, message, length, public_key)) { ... valid ... }
 *
 * It decodes the public key A and the signature's R strictly (RFC 8032 5.1.3: y < p, and x = 0
 * with the sign bit set is refused), requires S < L, computes k = SHA-512(R || A || M) mod L and
 * checks the group equation [S]B = R + [k]A (the cofactorless form) in extended coordinates.
 */
#ifndef TINYFORGE_ED25519_H
#define TINYFORGE_ED25519_H

#include <stddef.h>
#include <stdint.h>

#define TF_ED25519_PUBLIC_KEY_BYTES 32u
#define TF_ED25519_SIGNATURE_BYTES 64u

/* 1 if `signature` is a valid Ed25519 signature of message[0..length) by `public_key`, else 0. */
int tf_ed25519_verify(const uint8_t signature[64], const uint8_t *message, size_t length,
                      const uint8_t public_key[32]);

/* 1 if `public_key` decodes to a curve point (a key worth compiling into a bootloader), else 0. */
int tf_ed25519_public_key_valid(const uint8_t public_key[32]);

#endif /* TINYFORGE_ED25519_H */
