#ifndef DBDEPLOY_UTIL_MASK_H
#define DBDEPLOY_UTIL_MASK_H

/*
 * Secret masking. Text that leaves the process (stdout, stderr, changelog cells, ledger error
 * text) passes through dd_mask_*: registered secret values are replaced by "***", and
 * credentials embedded in URLs ("postgres://app:pw@db") or conninfo strings ("password=pw",
 * "sslpassword = pw") are masked even when nobody registered them. JSON is masked value by
 * value before it is rendered (util/json), never as a whole document, so masking can never
 * touch JSON syntax; machine files that hold no secrets (backup manifests) are not masked.
 *
 * The registry is process-global: config loading registers the database password and
 * health-check header values. Secrets shorter than DD_MASK_MIN_LEN are not registered (masking
 * every "a" would destroy the output); URL and conninfo masking still covers them.
 */
#include "util/buf.h"

#define DD_MASK_MIN_LEN 3
#define DD_MASK_TEXT    "***"
/* Registered secrets shorter than this are masked as whole words only (see mask.c). */
#define DD_MASK_WORD_LEN 8

void dd_mask_register(const char *secret);
/*
 * Register the values of secret parameters in a conninfo string or URL query ("password = x",
 * "sslpassword='a b'", "?password=a%23b"), as written, unquoted and percent-decoded.
 */
void dd_mask_register_params(const char *s);
/* Forget all registered secrets (wiping them). */
void dd_mask_clear(void);
/* Append a masked copy of s[0..len) to out. */
void dd_mask_add(struct dd_buf *out, const char *s, size_t len);
/* A masked copy of s, owned by the caller. */
char *dd_mask_str(const char *s);

#endif
