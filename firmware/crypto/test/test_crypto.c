/*
 * Host tests of tinyforge's crypto (firmware/crypto/): SHA-256 and SHA-512 against the FIPS 180
 * / RFC 6234 examples, Ed25519 verification against RFC 8032 section 7.1 TEST 1, 2, 3, 1024 and
 * SHA(abc), and the ways a signature must fail (every bit of TEST 1's signature flipped, S + L,
 * keys and R off the curve or not canonical, another message). Built with -Wall -Wextra
 * -Werror and run under -fsanitize=address,undefined by tests/toolchain/test_crypto.py.
 *
 * It then reads more cases from stdin, one per line, as the Python test writes them:
 *     sha256 <message hex or -> <digest hex>
 *     sha512 <message hex or -> <digest hex>
 *     ed25519 <public key hex> <message hex or -> <signature hex> <0|1>
 * and ends with "N passed, M failed" (exit status 1 if any failed).
 */
#include <stdio.h>
#include <string.h>

#include "tf_ed25519.h"
#include "tf_sha256.h"
#include "tf_sha512.h"

#define MAX_BYTES 4096u

static unsigned g_passed, g_failed;

static void check(int ok, const char *what)
{
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        printf("FAIL: %s\n", what);
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decode hex into out (at most cap bytes); -1 if malformed. "-" is the empty string. */
static long unhex(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    if (strcmp(s, "-") == 0) {
        return 0;
    }
    while (s[0] != '\0' && s[1] != '\0') {
        int hi = hexval(s[0]), lo = hexval(s[1]);
        if (hi < 0 || lo < 0 || n >= cap) {
            return -1;
        }
        out[n++] = (unsigned char)(hi * 16 + lo);
        s += 2;
    }
    return s[0] == '\0' ? (long)n : -1;
}

static void sha256_case(const void *msg, size_t n, const char *want_hex, const char *what)
{
    unsigned char want[32], got[32];
    int ok = unhex(want_hex, want, sizeof want) == 32;
    tf_sha256(msg, n, got);
    check(ok && memcmp(got, want, 32) == 0, what);
}

static void sha512_case(const void *msg, size_t n, const char *want_hex, const char *what)
{
    unsigned char want[64], got[64];
    int ok = unhex(want_hex, want, sizeof want) == 64;
    tf_sha512(msg, n, got);
    check(ok && memcmp(got, want, 64) == 0, what);
}

static void test_sha(void)
{
    static unsigned char million[1000000];
    static const char *const k_abc_448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    static const char *const k_abc_896 =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
        "mnopqrstnopqrstu";
    unsigned char rfc6234_t4[640];
    unsigned i;
    tf_sha256_t h;
    unsigned char a[32], b[32];

    memset(million, 'a', sizeof million);
    for (i = 0; i < sizeof rfc6234_t4; ++i) {
        rfc6234_t4[i] = (unsigned char)('0' + (i % 8u));
    }
    /* FIPS 180-2 appendix B / RFC 6234 section 8.5 TEST1..TEST4 */
    sha256_case("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256 empty");
    sha256_case("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 abc");
    sha256_case(k_abc_448, strlen(k_abc_448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                "sha256 448-bit message");
    sha256_case(million, sizeof million, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
                "sha256 one million a");
    sha256_case(rfc6234_t4, sizeof rfc6234_t4, "594847328451bdfa85056225462cc1d867d877fb388df0ce35f25ab5562bfbb5",
                "sha256 RFC 6234 TEST4");
    /* FIPS 180-2 appendix C / RFC 6234 TEST1, TEST2_2, TEST3 for SHA-512 */
    sha512_case("abc", 3,
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
                "454d4423643ce80e2a9ac94fa54ca49f",
                "sha512 abc");
    sha512_case(k_abc_896, strlen(k_abc_896),
                "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433a"
                "c7d329eeb6dd26545e96e55b874be909",
                "sha512 896-bit message");
    sha512_case(million, sizeof million,
                "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31b"
                "eb009c5c2c49aa2e4eadb217ad8cc09b",
                "sha512 one million a");

    /* streaming in uneven pieces gives the one-shot digest */
    tf_sha256_init(&h);
    for (i = 0; i < sizeof million;) {
        size_t step = 1u + (i * 7u) % 131u;
        if (step > sizeof million - i) {
            step = sizeof million - i;
        }
        tf_sha256_update(&h, million + i, step);
        i += (unsigned)step;
    }
    tf_sha256_final(&h, a);
    tf_sha256(million, sizeof million, b);
    check(memcmp(a, b, 32) == 0, "sha256 streamed in pieces == one shot");
}

typedef struct {
    const char *name;
    const char *pub;
    const char *msg;
    const char *sig;
} ed_vector_t;

/* RFC 8032 section 7.1 */
static const ed_vector_t k_rfc8032[] = {
    {"TEST 1",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
        "d25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c"
        "387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc659"
        "4a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST 1024",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1"
        "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
        "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a"
        "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
        "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10"
        "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
        "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d"
        "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
        "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b"
        "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
        "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b"
        "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
        "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d"
        "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
        "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7"
        "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
        "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09"
        "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
        "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161"
        "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
        "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca"
        "c60c905c15fc910840b94c00a0b9d0",
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b"
        "5e8fcd4f681e30a6ac00a9704a188a03"},
    {"TEST SHA(abc)",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
        "454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e030"
        "3dca179c138ac17ad9bef1177331a704"},
};

static unsigned char g_msg[MAX_BYTES];

static void test_ed25519(void)
{
    /* L, little-endian: S + L must be refused though it is the same scalar mod L */
    static const unsigned char k_l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                          0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                          0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    unsigned v, bit;
    unsigned char pub[32], sig[64], bad[64], key[32];
    long n;

    for (v = 0; v < sizeof k_rfc8032 / sizeof k_rfc8032[0]; ++v) {
        const ed_vector_t *t = &k_rfc8032[v];
        char what[96];
        n = unhex(t->msg[0] ? t->msg : "-", g_msg, sizeof g_msg);
        check(unhex(t->pub, pub, 32) == 32 && unhex(t->sig, sig, 64) == 64 && n >= 0, "vector decodes");
        snprintf(what, sizeof what, "RFC 8032 7.1 %s verifies", t->name);
        check(tf_ed25519_verify(sig, g_msg, (size_t)n, pub) == 1, what);
        check(tf_ed25519_public_key_valid(pub) == 1, "RFC 8032 public key decodes");
        if (n > 0) {
            g_msg[n - 1] ^= 0x01u;
            snprintf(what, sizeof what, "RFC 8032 %s with its last message byte changed fails", t->name);
            check(tf_ed25519_verify(sig, g_msg, (size_t)n, pub) == 0, what);
        }
        snprintf(what, sizeof what, "RFC 8032 %s with one more message byte fails", t->name);
        check(tf_ed25519_verify(sig, g_msg, (size_t)n + 1u, pub) == 0, what);
    }

    /* TEST 1: every single bit flipped in the signature, and in the key, fails */
    unhex(k_rfc8032[0].pub, pub, 32);
    unhex(k_rfc8032[0].sig, sig, 64);
    for (bit = 0; bit < 512u; ++bit) {
        memcpy(bad, sig, 64);
        bad[bit / 8u] ^= (unsigned char)(1u << (bit % 8u));
        if (tf_ed25519_verify(bad, NULL, 0, pub) != 0) {
            char what[64];
            snprintf(what, sizeof what, "TEST 1 with signature bit %u flipped fails", bit);
            check(0, what);
        } else {
            g_passed++;
        }
    }
    for (bit = 0; bit < 256u; ++bit) {
        memcpy(key, pub, 32);
        key[bit / 8u] ^= (unsigned char)(1u << (bit % 8u));
        if (tf_ed25519_verify(sig, NULL, 0, key) != 0) {
            char what[64];
            snprintf(what, sizeof what, "TEST 1 with key bit %u flipped fails", bit);
            check(0, what);
        } else {
            g_passed++;
        }
    }
    /* S + L (the same value mod L) is refused: S must be canonical */
    {
        unsigned i;
        unsigned carry = 0;
        memcpy(bad, sig, 64);
        for (i = 0; i < 32u; ++i) {
            unsigned s = (unsigned)bad[32 + i] + k_l[i] + carry;
            bad[32 + i] = (unsigned char)s;
            carry = s >> 8;
        }
        check(carry == 0u && tf_ed25519_verify(bad, NULL, 0, pub) == 0, "S + L is refused");
    }
    /* a y >= p (non-canonical) key, an off-curve key, x = 0 with the sign bit set */
    memset(key, 0xff, 32);
    key[0] = 0xed;
    key[31] = 0x7f; /* y = p */
    check(tf_ed25519_public_key_valid(key) == 0, "key with y = p is refused");
    memset(key, 0, 32);
    key[0] = 2; /* y = 2: (y^2-1)/(d y^2+1) is not a square */
    check(tf_ed25519_public_key_valid(key) == 0, "off-curve key is refused");
    memset(key, 0, 32);
    key[0] = 1;
    key[31] = 0x80; /* y = 1 (x = 0) with the sign bit: "negative zero" */
    check(tf_ed25519_public_key_valid(key) == 0, "x = 0 with the sign bit set is refused");
    key[31] = 0x00;
    check(tf_ed25519_public_key_valid(key) == 1, "the neutral element decodes");
    /* R off the curve */
    memcpy(bad, sig, 64);
    memset(bad, 0, 32);
    bad[0] = 2;
    check(tf_ed25519_verify(bad, NULL, 0, pub) == 0, "R off the curve is refused");
    /* TEST 1's signature under TEST 2's key */
    unhex(k_rfc8032[1].pub, key, 32);
    check(tf_ed25519_verify(sig, NULL, 0, key) == 0, "another key fails");
    /* NULL arguments */
    check(tf_ed25519_verify(NULL, NULL, 0, pub) == 0 && tf_ed25519_verify(sig, NULL, 1, pub) == 0 &&
              tf_ed25519_verify(sig, NULL, 0, NULL) == 0,
          "NULL arguments fail");
}

/* The cases the Python test generated (random lengths, keys and messages, tampered ones). */
static void test_stdin(void)
{
    static char line[2 * MAX_BYTES + 512];
    static unsigned char msg[MAX_BYTES], digest[64], want[64], pub[32], sig[64];
    unsigned lineno = 0;
    while (fgets(line, sizeof line, stdin) != NULL) {
        char kind[16], a[2 * MAX_BYTES + 8], b[256], c[256];
        int expect = -1;
        long n;
        char what[64];
        lineno++;
        snprintf(what, sizeof what, "stdin line %u", lineno);
        if (sscanf(line, "%15s", kind) != 1) {
            continue;
        }
        if (strcmp(kind, "sha256") == 0 || strcmp(kind, "sha512") == 0) {
            int is256 = kind[3] == '2';
            unsigned dlen = is256 ? 32u : 64u;
            if (sscanf(line, "%*s %8199s %255s", a, b) != 2 || (n = unhex(a, msg, sizeof msg)) < 0 ||
                unhex(b, want, sizeof want) != (long)dlen) {
                check(0, what);
                continue;
            }
            if (is256) {
                tf_sha256(msg, (size_t)n, digest);
            } else {
                tf_sha512(msg, (size_t)n, digest);
            }
            check(memcmp(digest, want, dlen) == 0, what);
        } else if (strcmp(kind, "ed25519") == 0) {
            if (sscanf(line, "%*s %255s %8199s %255s %d", b, a, c, &expect) != 4 || unhex(b, pub, 32) != 32 ||
                (n = unhex(a, msg, sizeof msg)) < 0 || unhex(c, sig, 64) != 64) {
                check(0, what);
                continue;
            }
            check(tf_ed25519_verify(sig, msg, (size_t)n, pub) == expect, what);
        } else {
            check(0, what);
        }
    }
}

int main(int argc, char **argv)
{
    test_sha();
    test_ed25519();
    if (argc > 1 && strcmp(argv[1], "--stdin") == 0) {
        test_stdin();
    }
    printf("%u passed, %u failed\n", g_passed, g_failed);
    return g_failed == 0u ? 0 : 1;
}
