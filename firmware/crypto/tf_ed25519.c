/*
 * Ed25519 verification from RFC 8032 section 5.1: see tf_ed25519.h.
 *
 * Field elements mod p = 2^255 - 19 are eight 32-bit limbs (little-endian) holding any integer
 * below 2^256 that is congruent to the value; 2^256 = 38 (mod p) folds carries back in. Only
 * unsigned arithmetic is used, so no input can trigger signed overflow. Points use the extended
 * coordinates of RFC 8032 5.1.4 (x = X/Z, y = Y/Z, x*y = T/Z) and its addition and doubling
 * formulas, which are complete for edwards25519 (they need no special cases).
 */
#include "tf_ed25519.h"

#include "tf_sha512.h"

typedef struct {
    uint32_t v[8];
} fe;

typedef struct {
    fe x, y, z, t;
} point;

/* d = -121665 / 121666 mod p, 2*d, and sqrt(-1) = 2^((p-1)/4) mod p (RFC 8032 5.1) */
static const fe k_d = {{0x135978a3u, 0x75eb4dcau, 0x4141d8abu, 0x00700a4du, 0x7779e898u, 0x8cc74079u,
                        0x2b6ffe73u, 0x52036ceeu}};
static const fe k_d2 = {{0x26b2f159u, 0xebd69b94u, 0x8283b156u, 0x00e0149au, 0xeef3d130u, 0x198e80f2u,
                         0x56dffce7u, 0x2406d9dcu}};
static const fe k_sqrtm1 = {{0x4a0ea0b0u, 0xc4ee1b27u, 0xad2fe478u, 0x2f431806u, 0x3dfbd7a7u, 0x2b4d0099u,
                             0x4fc1df0bu, 0x2b832480u}};

/* The base point B: y = 4/5, x even (RFC 8032 5.1), with T = x*y and Z = 1. */
static const point k_base = {
    {{0x8f25d51au, 0xc9562d60u, 0x9525a7b2u, 0x692cc760u, 0xfdd6dc5cu, 0xc0a4e231u, 0xcd6e53feu, 0x216936d3u}},
    {{0x66666658u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u, 0x66666666u}},
    {{1u, 0u, 0u, 0u, 0u, 0u, 0u, 0u}},
    {{0xa5b7dda3u, 0x6dde8ab3u, 0x775152f5u, 0x20f09f80u, 0x64abe37du, 0x66ea4e8eu, 0xd78b7665u, 0x67875f0fu}},
};

/* The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian words. */
static const uint32_t k_order[8] = {0x5cf5d3edu, 0x5812631au, 0xa2f79cd6u, 0x14def9deu,
                                    0x00000000u, 0x00000000u, 0x00000000u, 0x10000000u};

/* ==== field arithmetic mod p ================================================================ */

static void fe_set(fe *r, uint32_t n)
{
    unsigned i;
    r->v[0] = n;
    for (i = 1; i < 8u; ++i) {
        r->v[i] = 0u;
    }
}

/* r = r + 38 * c for a carry c out of bit 256 (c small); at most one more wrap, folded at once. */
static void fe_fold(fe *r, uint64_t c)
{
    unsigned i;
    c *= 38u;
    for (i = 0; i < 8u; ++i) {
        c += r->v[i];
        r->v[i] = (uint32_t)c;
        c >>= 32;
    }
    /* a second carry means the sum wrapped past 2^256, leaving r below 38 * 39: no third */
    r->v[0] += (uint32_t)(c * 38u);
}

static void fe_add(fe *r, const fe *a, const fe *b)
{
    uint64_t c = 0u;
    unsigned i;
    for (i = 0; i < 8u; ++i) {
        c += (uint64_t)a->v[i] + b->v[i];
        r->v[i] = (uint32_t)c;
        c >>= 32;
    }
    fe_fold(r, c);
}

static void fe_sub(fe *r, const fe *a, const fe *b)
{
    uint32_t borrow = 0u;
    unsigned i, round;
    for (i = 0; i < 8u; ++i) {
        uint64_t t = (uint64_t)a->v[i] - b->v[i] - borrow;
        r->v[i] = (uint32_t)t;
        borrow = (uint32_t)(t >> 32) & 1u;
    }
    /* A borrow out means r holds a - b + 2^256 = a - b + 38 (mod p): take 38 off. That can
     * borrow once more only when r < 38, and then r is at least 2^256 - 38: no third time. */
    for (round = 0; round < 2u && borrow; ++round) {
        uint64_t t = (uint64_t)r->v[0] - 38u;
        r->v[0] = (uint32_t)t;
        borrow = (uint32_t)(t >> 32) & 1u;
        for (i = 1; i < 8u; ++i) {
            t = (uint64_t)r->v[i] - borrow;
            r->v[i] = (uint32_t)t;
            borrow = (uint32_t)(t >> 32) & 1u;
        }
    }
}

/* r = t mod p for a 512-bit t: t = lo + 2^256 hi = lo + 38 hi (mod p) */
static void fe_fold512(fe *r, const uint32_t t[16])
{
    uint64_t c = 0u;
    unsigned i;
    for (i = 0; i < 8u; ++i) {
        c += (uint64_t)t[i] + (uint64_t)38u * t[i + 8u];
        r->v[i] = (uint32_t)c;
        c >>= 32;
    }
    fe_fold(r, c);
}

static void fe_mul(fe *r, const fe *a, const fe *b)
{
    uint32_t t[16];
    uint64_t c;
    unsigned i, j;
    for (i = 0; i < 16u; ++i) {
        t[i] = 0u;
    }
    /* schoolbook product: each step is at most (2^32-1)^2 + 2 (2^32-1) = 2^64 - 1 */
    for (i = 0; i < 8u; ++i) {
        c = 0u;
        for (j = 0; j < 8u; ++j) {
            c += (uint64_t)a->v[i] * b->v[j] + t[i + j];
            t[i + j] = (uint32_t)c;
            c >>= 32;
        }
        t[i + 8u] = (uint32_t)c;
    }
    fe_fold512(r, t);
}

/* a^2 with each cross product computed once: 36 word products instead of 64 */
static void fe_sq(fe *r, const fe *a)
{
    uint32_t t[16];
    uint64_t c;
    unsigned i, j;
    for (i = 0; i < 16u; ++i) {
        t[i] = 0u;
    }
    /* sum of a_i a_j 2^(32(i+j)) over i < j: below a^2 / 2 < 2^511 */
    for (i = 0; i < 7u; ++i) {
        c = 0u;
        for (j = i + 1u; j < 8u; ++j) {
            c += (uint64_t)a->v[i] * a->v[j] + t[i + j];
            t[i + j] = (uint32_t)c;
            c >>= 32;
        }
        t[i + 8u] = (uint32_t)c;
    }
    /* doubled (still below 2^512) */
    for (i = 15u; i > 0u; --i) {
        t[i] = (t[i] << 1) | (t[i - 1u] >> 31);
    }
    t[0] <<= 1;
    /* plus the squares a_i^2 2^(64 i); the carry between steps stays at most 1 */
    c = 0u;
    for (i = 0; i < 8u; ++i) {
        c += (uint64_t)a->v[i] * a->v[i] + t[2u * i];
        t[2u * i] = (uint32_t)c;
        c >>= 32;
        c += t[2u * i + 1u];
        t[2u * i + 1u] = (uint32_t)c;
        c >>= 32;
    }
    fe_fold512(r, t);
}

/* r = a^(2^k) */
static void fe_sq_times(fe *r, const fe *a, unsigned k)
{
    unsigned i;
    fe_sq(r, a);
    for (i = 1; i < k; ++i) {
        fe_sq(r, r);
    }
}

/* The unique representative in [0, p). */
static void fe_reduce(fe *r, const fe *a)
{
    fe s = *a;
    uint64_t c;
    unsigned i;
    /* bit 255 is worth 2^255 = 19 (mod p): below 2^255 + 19 afterwards */
    uint32_t top = s.v[7] >> 31;
    s.v[7] &= 0x7fffffffu;
    c = (uint64_t)19u * top;
    for (i = 0; i < 8u; ++i) {
        c += s.v[i];
        s.v[i] = (uint32_t)c;
        c >>= 32;
    }
    /* s >= p exactly when s + 19 reaches 2^255; then s - p = s + 19 - 2^255 */
    {
        fe t;
        c = 19u;
        for (i = 0; i < 8u; ++i) {
            c += s.v[i];
            t.v[i] = (uint32_t)c;
            c >>= 32;
        }
        if (t.v[7] >> 31) {
            t.v[7] &= 0x7fffffffu;
            s = t;
        }
    }
    *r = s;
}

static int fe_equal(const fe *a, const fe *b)
{
    fe x, y;
    uint32_t diff = 0u;
    unsigned i;
    fe_reduce(&x, a);
    fe_reduce(&y, b);
    for (i = 0; i < 8u; ++i) {
        diff |= x.v[i] ^ y.v[i];
    }
    return diff == 0u;
}

static int fe_is_zero(const fe *a)
{
    fe zero;
    fe_set(&zero, 0u);
    return fe_equal(a, &zero);
}

static unsigned fe_is_odd(const fe *a)
{
    fe x;
    fe_reduce(&x, a);
    return x.v[0] & 1u;
}

/* a^((p-5)/8) = a^(2^252 - 3), for the square root in point decoding. */
static void fe_pow2523(fe *r, const fe *a)
{
    fe x2, x5, x10, x20, x40, x50, x100, t;
    /* x_k = a^(2^k - 1) */
    fe_sq(&t, a);
    fe_mul(&x2, &t, a);        /* 2^2 - 1 */
    fe_sq_times(&t, &x2, 2u);  /* 2^4 - 4 */
    fe_mul(&t, &t, &x2);       /* 2^4 - 1 */
    fe_sq(&t, &t);             /* 2^5 - 2 */
    fe_mul(&x5, &t, a);        /* 2^5 - 1 */
    fe_sq_times(&t, &x5, 5u);
    fe_mul(&x10, &t, &x5);     /* 2^10 - 1 */
    fe_sq_times(&t, &x10, 10u);
    fe_mul(&x20, &t, &x10);    /* 2^20 - 1 */
    fe_sq_times(&t, &x20, 20u);
    fe_mul(&x40, &t, &x20);    /* 2^40 - 1 */
    fe_sq_times(&t, &x40, 10u);
    fe_mul(&x50, &t, &x10);    /* 2^50 - 1 */
    fe_sq_times(&t, &x50, 50u);
    fe_mul(&x100, &t, &x50);   /* 2^100 - 1 */
    fe_sq_times(&t, &x100, 100u);
    fe_mul(&t, &t, &x100);     /* 2^200 - 1 */
    fe_sq_times(&t, &t, 50u);
    fe_mul(&t, &t, &x50);      /* 2^250 - 1 */
    fe_sq_times(&t, &t, 2u);   /* 2^252 - 4 */
    fe_mul(r, &t, a);          /* 2^252 - 3 */
}

static void fe_load(fe *r, const uint8_t s[32])
{
    unsigned i;
    for (i = 0; i < 8u; ++i) {
        const uint8_t *p = s + 4u * i;
        r->v[i] = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    }
}

/* ==== points ================================================================================ */

/* RFC 8032 5.1.4, addition: r may be p or q. */
static void pt_add(point *r, const point *p, const point *q)
{
    fe a, b, c, d, e, f, g, h, t;
    fe_sub(&a, &p->y, &p->x);
    fe_sub(&t, &q->y, &q->x);
    fe_mul(&a, &a, &t);
    fe_add(&b, &p->y, &p->x);
    fe_add(&t, &q->y, &q->x);
    fe_mul(&b, &b, &t);
    fe_mul(&c, &p->t, &k_d2);
    fe_mul(&c, &c, &q->t);
    fe_mul(&d, &p->z, &q->z);
    fe_add(&d, &d, &d);
    fe_sub(&e, &b, &a);
    fe_sub(&f, &d, &c);
    fe_add(&g, &d, &c);
    fe_add(&h, &b, &a);
    fe_mul(&r->x, &e, &f);
    fe_mul(&r->y, &g, &h);
    fe_mul(&r->t, &e, &h);
    fe_mul(&r->z, &f, &g);
}

/* RFC 8032 5.1.4, doubling: r may be p. */
static void pt_double(point *r, const point *p)
{
    fe a, b, c, e, f, g, h, t;
    fe_sq(&a, &p->x);
    fe_sq(&b, &p->y);
    fe_sq(&c, &p->z);
    fe_add(&c, &c, &c);
    fe_add(&h, &a, &b);
    fe_add(&t, &p->x, &p->y);
    fe_sq(&t, &t);
    fe_sub(&e, &h, &t);
    fe_sub(&g, &a, &b);
    fe_add(&f, &c, &g);
    fe_mul(&r->x, &e, &f);
    fe_mul(&r->y, &g, &h);
    fe_mul(&r->t, &e, &h);
    fe_mul(&r->z, &f, &g);
}

/* RFC 8032 5.1.3: 1 and the point if `s` is a canonical encoding of a curve point, else 0. */
static int pt_decode(point *r, const uint8_t s[32])
{
    fe y, u, v, v3, x, vx2, t, one;
    unsigned sign = (unsigned)(s[31] >> 7);
    fe_load(&y, s);
    y.v[7] &= 0x7fffffffu;
    /* y must be below p: y < p exactly when reducing leaves it unchanged */
    fe_reduce(&t, &y);
    {
        uint32_t diff = 0u;
        unsigned i;
        for (i = 0; i < 8u; ++i) {
            diff |= t.v[i] ^ y.v[i];
        }
        if (diff != 0u) {
            return 0;
        }
    }
    /* x^2 = (y^2 - 1) / (d y^2 + 1) = u / v; candidate x = u v^3 (u v^7)^((p-5)/8) */
    fe_set(&one, 1u);
    fe_sq(&u, &y);
    fe_mul(&v, &u, &k_d);
    fe_sub(&u, &u, &one);
    fe_add(&v, &v, &one);
    fe_sq(&v3, &v);
    fe_mul(&v3, &v3, &v); /* v^3 */
    fe_sq(&t, &v3);
    fe_mul(&t, &t, &v);   /* v^7 */
    fe_mul(&t, &t, &u);   /* u v^7 */
    fe_pow2523(&t, &t);
    fe_mul(&x, &t, &v3);
    fe_mul(&x, &x, &u);
    fe_sq(&vx2, &x);
    fe_mul(&vx2, &vx2, &v);
    if (!fe_equal(&vx2, &u)) {
        fe zero, neg_u;
        fe_set(&zero, 0u);
        fe_sub(&neg_u, &zero, &u);
        if (!fe_equal(&vx2, &neg_u)) {
            return 0; /* u / v has no square root: not on the curve */
        }
        fe_mul(&x, &x, &k_sqrtm1);
    }
    if (fe_is_zero(&x) && sign) {
        return 0; /* x = 0 has no negative: a non-canonical encoding */
    }
    if (fe_is_odd(&x) != sign) {
        fe zero;
        fe_set(&zero, 0u);
        fe_sub(&x, &zero, &x);
    }
    r->x = x;
    r->y = y;
    fe_set(&r->z, 1u);
    fe_mul(&r->t, &x, &y);
    return 1;
}

/* ==== scalars mod L ========================================================================= */

static int words_ge(const uint32_t a[8], const uint32_t b[8])
{
    int i;
    for (i = 7; i >= 0; --i) {
        if (a[i] != b[i]) {
            return a[i] > b[i];
        }
    }
    return 1;
}

static void words_sub(uint32_t a[8], const uint32_t b[8])
{
    uint32_t borrow = 0u;
    unsigned i;
    for (i = 0; i < 8u; ++i) {
        uint64_t t = (uint64_t)a[i] - b[i] - borrow;
        a[i] = (uint32_t)t;
        borrow = (uint32_t)(t >> 32) & 1u;
    }
}

/* 1 if the little-endian 256-bit number s is below L (RFC 8032 5.1.7 step 1). */
static int scalar_canonical(const uint8_t s[32])
{
    fe w;
    fe_load(&w, s);
    return !words_ge(w.v, k_order);
}

/* r = (64-byte little-endian h) mod L, one bit at a time from the top (r < L < 2^253). */
static void scalar_reduce(uint32_t r[8], const uint8_t h[64])
{
    unsigned i;
    int bit;
    for (i = 0; i < 8u; ++i) {
        r[i] = 0u;
    }
    for (bit = 511; bit >= 0; --bit) {
        uint32_t in = (uint32_t)(h[bit >> 3] >> (bit & 7)) & 1u;
        for (i = 7u; i > 0u; --i) {
            r[i] = (r[i] << 1) | (r[i - 1u] >> 31);
        }
        r[0] = (r[0] << 1) | in;
        if (words_ge(r, k_order)) {
            words_sub(r, k_order);
        }
    }
}

static unsigned scalar_bit(const uint32_t s[8], unsigned i)
{
    return (s[i >> 5] >> (i & 31u)) & 1u;
}

/* ==== verification ========================================================================== */

int tf_ed25519_public_key_valid(const uint8_t public_key[32])
{
    point a;
    return pt_decode(&a, public_key);
}

int tf_ed25519_verify(const uint8_t signature[64], const uint8_t *message, size_t length,
                      const uint8_t public_key[32])
{
    point a, r, table[4], acc;
    fe s_words, rz;
    uint32_t k[8];
    uint8_t h[64];
    tf_sha512_t sha;
    int i, started = 0;

    if (signature == NULL || public_key == NULL || (message == NULL && length != 0u)) {
        return 0;
    }
    if (!scalar_canonical(signature + 32) || !pt_decode(&a, public_key) || !pt_decode(&r, signature)) {
        return 0;
    }
    /* k = SHA-512(R || A || M) mod L (no dom2 prefix for plain Ed25519) */
    tf_sha512_init(&sha);
    tf_sha512_update(&sha, signature, 32u);
    tf_sha512_update(&sha, public_key, 32u);
    if (length != 0u) {
        tf_sha512_update(&sha, message, length);
    }
    tf_sha512_final(&sha, h);
    scalar_reduce(k, h);
    fe_load(&s_words, signature + 32);

    /* [S]B + [k](-A), both scalars at once (Straus): table[bit of S | bit of k << 1] */
    table[1] = k_base;
    {
        fe zero;
        fe_set(&zero, 0u);
        table[2] = a;
        fe_sub(&table[2].x, &zero, &a.x);
        fe_sub(&table[2].t, &zero, &a.t);
    }
    pt_add(&table[3], &table[1], &table[2]);
    fe_set(&acc.x, 0u); /* the neutral element (0, 1, 1, 0) */
    fe_set(&acc.y, 1u);
    fe_set(&acc.z, 1u);
    fe_set(&acc.t, 0u);
    for (i = 255; i >= 0; --i) {
        unsigned idx = scalar_bit(s_words.v, (unsigned)i) | (scalar_bit(k, (unsigned)i) << 1);
        if (started) {
            pt_double(&acc, &acc);
        }
        if (idx != 0u) {
            if (started) {
                pt_add(&acc, &acc, &table[idx]);
            } else {
                acc = table[idx];
                started = 1;
            }
        }
    }
    /* acc == R, with R's Z = 1: X_acc = X_R Z_acc and Y_acc = Y_R Z_acc */
    fe_mul(&rz, &r.x, &acc.z);
    if (!fe_equal(&rz, &acc.x)) {
        return 0;
    }
    fe_mul(&rz, &r.y, &acc.z);
    return fe_equal(&rz, &acc.y);
}
