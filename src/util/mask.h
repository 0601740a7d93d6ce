#ifndef DBDEPLOY_UTIL_MASK_H
#define DBDEPLOY_UTIL_MASK_H

/*
 * Secret masking. Everything that leaves the process (stdout, stderr, --json, changelog,
 * manifest, ledger rows) passes through dd_mask_*: registered secret values are replaced by
 * "***" wherever they appear, and credentials embedded in URLs ("postgres://app:pw@db") or
 * conninfo strings ("password=pw") are masked even when nobody registered them.
 *
 * The registry is process-global: config loading registers the database password and
 * health-check header values. Secrets shorter than DD_MASK_MIN_LEN are not registered (masking
 * every "a" would destroy the output); URL and conninfo masking still covers them.
 */
#include "util/buf.h"

#define DD_MASK_MIN_LEN 3
#define DD_MASK_TEXT    "***"

void dd_mask_register(const char *secret);
/* Forget all registered secrets (wiping them). */
void dd_mask_clear(void);
/* Append a masked copy of s[0..len) to out. */
void dd_mask_add(struct dd_buf *out, const char *s, size_t len);
/* A masked copy of s, owned by the caller. */
char *dd_mask_str(const char *s);

#endif
