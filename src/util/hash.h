#ifndef DBDEPLOY_UTIL_HASH_H
#define DBDEPLOY_UTIL_HASH_H

/*
 * SHA-256 through OpenSSL's EVP interface; the only file that includes OpenSSL. Checksums are
 * always printed as lowercase hex, and stored with an algorithm prefix ("sha256:<hex>") so a
 * stored value can never be silently compared against a different algorithm.
 */
#include "util/common.h"

#define DD_SHA256_HEX_LEN  64
#define DD_CHECKSUM_PREFIX "sha256:"
#define DD_CHECKSUM_LEN    (sizeof(DD_CHECKSUM_PREFIX) - 1 + DD_SHA256_HEX_LEN)

struct dd_sha256 {
    void *ctx; /* EVP_MD_CTX *, owned */
};
#define DD_SHA256_INIT                                                                                                 \
    {                                                                                                                  \
        NULL                                                                                                           \
    }

void dd_sha256_begin(struct dd_sha256 *h);
void dd_sha256_update(struct dd_sha256 *h, const void *data, size_t len);
/* Write 64 hex digits and a NUL into out; the context is released and may be begun again. */
void dd_sha256_end_hex(struct dd_sha256 *h, char out[DD_SHA256_HEX_LEN + 1]);
void dd_sha256_release(struct dd_sha256 *h);

void dd_sha256_hex(const void *data, size_t len, char out[DD_SHA256_HEX_LEN + 1]);
/* "sha256:<hex>" of data, into out (DD_CHECKSUM_LEN + 1 bytes). */
void dd_checksum(const void *data, size_t len, char out[DD_CHECKSUM_LEN + 1]);

#endif
