#ifndef DBDEPLOY_UTIL_JSON_H
#define DBDEPLOY_UTIL_JSON_H

/*
 * A small JSON writer (our own escaper, no dependency). It appends to a caller-owned dd_buf and
 * inserts commas itself. `key` is the member name inside an object and must be NULL inside an
 * array or at the top level. Strings are escaped per RFC 8259; invalid UTF-8 bytes become U+FFFD
 * so the document always parses.
 */
#include "util/buf.h"
#include "util/error.h"

#define DD_JSON_MAX_DEPTH 32

struct dd_json {
    struct dd_buf *out; /* borrowed */
    bool mask;          /* string values pass through util/mask first (dd_json_init sets it) */
    int depth;
    bool first[DD_JSON_MAX_DEPTH];
};

/*
 * Masking is on: every string value is masked before it is escaped, so secrets never show and
 * masking never touches JSON syntax. Clear j->mask for machine files that hold no secrets and
 * must keep their values exact (backup manifests).
 */
void dd_json_init(struct dd_json *j, struct dd_buf *out);
/* Start a --json document: {"schema":1,"command":"<command>", ... (close it with dd_json_obj_end). */
void dd_json_document_begin(struct dd_json *j, struct dd_buf *out, const char *command);
void dd_json_obj_begin(struct dd_json *j, const char *key);
void dd_json_obj_end(struct dd_json *j);
void dd_json_arr_begin(struct dd_json *j, const char *key);
void dd_json_arr_end(struct dd_json *j);
/* NULL value writes null */
void dd_json_str(struct dd_json *j, const char *key, const char *value);
void dd_json_int(struct dd_json *j, const char *key, int64_t value);
void dd_json_uint(struct dd_json *j, const char *key, uint64_t value);
void dd_json_double(struct dd_json *j, const char *key, double value);
void dd_json_bool(struct dd_json *j, const char *key, bool value);
void dd_json_null(struct dd_json *j, const char *key);
/*
 * err as {"message", "details": [...], "context": [...], "hint"} (context: what dd_error_wrap
 * added around the message, innermost first), or null when err is NULL or unset.
 */
void dd_json_error(struct dd_json *j, const char *key, const struct dd_error *err);
/*
 * A value that is already JSON (another dbdeploy's --json document, embedded whole); the caller
 * vouches that it parses and is masked. Empty text writes null.
 */
void dd_json_raw(struct dd_json *j, const char *key, const char *json, size_t len);
/* Length (1..4) of the valid UTF-8 sequence at s, which has avail bytes; 0 if invalid or cut. */
size_t dd_utf8_len(const char *s, size_t avail);
/* Append s as a quoted JSON string. */
void dd_json_escape(struct dd_buf *out, const char *s);

#endif
