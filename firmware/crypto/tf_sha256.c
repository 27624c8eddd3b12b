/* SHA-256 as FIPS 180-4 section 6.2 specifies it: see tf_sha256.h. */
#include "tf_sha256.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
 * primes. */
static const uint32_t k_round[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

/* FIPS 180-4 5.3.3: the first 32 bits of the fractional parts of the square roots of the first
 * 8 primes. */
static const uint32_t k_initial[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32u - n));
}

static uint32_t load_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* FIPS 180-4 4.1.2 */
#define S0(x) (rotr((x), 2) ^ rotr((x), 13) ^ rotr((x), 22))
#define S1(x) (rotr((x), 6) ^ rotr((x), 11) ^ rotr((x), 25))
#define s0(x) (rotr((x), 7) ^ rotr((x), 18) ^ ((x) >> 3))
#define s1(x) (rotr((x), 17) ^ rotr((x), 19) ^ ((x) >> 10))
#define CH(x, y, z) (((x) & (y)) ^ (~(x) & (z)))
#define MAJ(x, y, z) (((x) & (y)) ^ ((x) & (z)) ^ ((y) & (z)))

/* One round of 6.2.2 step 3, with the working variables renamed instead of moved: after it, the
 * new a is in h's variable and the new e in d's. */
#define ROUND(a, b, c, d, e, f, g, h, i)                                                                    \
    do {                                                                                                 \
        uint32_t t1_ = (h) + S1(e) + CH((e), (f), (g)) + k_round[i] + w[i];                              \
        (d) += t1_;                                                                                      \
        (h) = t1_ + S0(a) + MAJ((a), (b), (c));                                                          \
    } while (0)

/* The compression function on one 64-byte block (6.2.2). */
static void compress(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[64];
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    unsigned t;
    for (t = 0; t < 16u; ++t) {
        w[t] = load_be32(block + 4u * t);
    }
    for (t = 16; t < 64u; ++t) {
        w[t] = s1(w[t - 2u]) + w[t - 7u] + s0(w[t - 15u]) + w[t - 16u];
    }
    for (t = 0; t < 64u; t += 8u) {
        ROUND(a, b, c, d, e, f, g, h, t);
        ROUND(h, a, b, c, d, e, f, g, t + 1u);
        ROUND(g, h, a, b, c, d, e, f, t + 2u);
        ROUND(f, g, h, a, b, c, d, e, t + 3u);
        ROUND(e, f, g, h, a, b, c, d, t + 4u);
        ROUND(d, e, f, g, h, a, b, c, t + 5u);
        ROUND(c, d, e, f, g, h, a, b, t + 6u);
        ROUND(b, c, d, e, f, g, h, a, t + 7u);
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

void tf_sha256_init(tf_sha256_t *h)
{
    unsigned i;
    for (i = 0; i < 8u; ++i) {
        h->state[i] = k_initial[i];
    }
    h->length = 0u;
    h->fill = 0u;
}

void tf_sha256_update(tf_sha256_t *h, const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    h->length += (uint64_t)n;
    if (h->fill > 0u) {
        while (n > 0u && h->fill < 64u) {
            h->block[h->fill++] = *p++;
            --n;
        }
        if (h->fill < 64u) {
            return;
        }
        compress(h->state, h->block);
        h->fill = 0u;
    }
    while (n >= 64u) {
        compress(h->state, p);
        p += 64;
        n -= 64u;
    }
    while (n > 0u) {
        h->block[h->fill++] = *p++;
        --n;
    }
}

void tf_sha256_final(tf_sha256_t *h, uint8_t digest[32])
{
    /* 5.1.1: a 1 bit, zeros, and the message length in bits as a 64-bit big-endian number */
    uint64_t bits = h->length * 8u;
    unsigned i;
    h->block[h->fill++] = 0x80u;
    if (h->fill > 56u) {
        while (h->fill < 64u) {
            h->block[h->fill++] = 0u;
        }
        compress(h->state, h->block);
        h->fill = 0u;
    }
    while (h->fill < 56u) {
        h->block[h->fill++] = 0u;
    }
    store_be32(h->block + 56, (uint32_t)(bits >> 32));
    store_be32(h->block + 60, (uint32_t)bits);
    compress(h->state, h->block);
    for (i = 0; i < 8u; ++i) {
        store_be32(digest + 4u * i, h->state[i]);
    }
    h->fill = 0u;
}

void tf_sha256(const void *data, size_t n, uint8_t digest[32])
{
    tf_sha256_t h;
    tf_sha256_init(&h);
    tf_sha256_update(&h, data, n);
    tf_sha256_final(&h, digest);
}
