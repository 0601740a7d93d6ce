#include "util/hash.h"

#include <stdio.h>

#include <openssl/evp.h>

/*
 * OpenSSL 3 looks the algorithm up in its provider table on every implicit fetch; fetching once
 * keeps hashing a thousand small migration files cheap. The static stays reachable until exit.
 */
static const EVP_MD *sha256_md(void)
{
    static EVP_MD *md;

    if (!md)
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!md)
        DD_BUG("OpenSSL has no SHA-256");
    return md;
}

void dd_sha256_begin(struct dd_sha256 *h)
{
    EVP_MD_CTX *ctx;

    dd_sha256_release(h);
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, sha256_md(), NULL) != 1)
        DD_BUG("cannot initialise SHA-256");
    h->ctx = ctx;
}

void dd_sha256_update(struct dd_sha256 *h, const void *data, size_t len)
{
    if (!h->ctx)
        DD_BUG("dd_sha256_update before begin");
    if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
        DD_BUG("SHA-256 update failed");
}

void dd_sha256_end_hex(struct dd_sha256 *h, char out[DD_SHA256_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!h->ctx || EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
        DD_BUG("SHA-256 final failed");
    for (unsigned int i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[DD_SHA256_HEX_LEN] = '\0';
    dd_sha256_release(h);
}

void dd_sha256_release(struct dd_sha256 *h)
{
    if (h->ctx)
        EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
}

void dd_sha256_hex(const void *data, size_t len, char out[DD_SHA256_HEX_LEN + 1])
{
    struct dd_sha256 h = DD_SHA256_INIT;

    dd_sha256_begin(&h);
    dd_sha256_update(&h, data, len);
    dd_sha256_end_hex(&h, out);
}

void dd_checksum(const void *data, size_t len, char out[DD_CHECKSUM_LEN + 1])
{
    char hex[DD_SHA256_HEX_LEN + 1];

    dd_sha256_hex(data, len, hex);
    snprintf(out, DD_CHECKSUM_LEN + 1, "%s%s", DD_CHECKSUM_PREFIX, hex);
}
