#ifndef DBDEPLOY_UTIL_PARSE_H
#define DBDEPLOY_UTIL_PARSE_H

/*
 * Strict parsers for numbers, booleans, durations and sizes. Each returns 0 on success and -1
 * when the whole string is not a valid value in range (no leading/trailing junk, no sign where
 * none is allowed). They set no error: the caller knows the file, section and key to name.
 */
#include "util/common.h"

int dd_parse_u32(const char *s, uint32_t *out);
int dd_parse_u64(const char *s, uint64_t *out);
int dd_parse_i64(const char *s, int64_t *out);
/* git-config booleans: true/yes/on/1 and false/no/off/0, case-insensitive. */
int dd_parse_bool(const char *s, bool *out);
/* "250ms", "10s", "5m", "1h", "1m30s", or "0" (meaning none); result in milliseconds. */
int dd_parse_duration_ms(const char *s, uint64_t *out);
/* Render milliseconds the way dd_parse_duration_ms reads them ("1m30s", "250ms", "0"). */
void dd_format_duration(char *out, size_t outsz, uint64_t ms);
/* A set of HTTP status codes (100..599), e.g. "2xx", "200,204", "200-299,304". */
struct dd_status_set {
    uint64_t bits[8]; /* bit (code - 100) */
};
int dd_parse_status_set(const char *s, struct dd_status_set *out);
bool dd_status_set_has(const struct dd_status_set *set, long code);
/* Human-readable byte count: "812 B", "1.2 MiB". */
void dd_format_bytes(char *out, size_t outsz, uint64_t bytes);

#endif
