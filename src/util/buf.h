#ifndef DBDEPLOY_UTIL_BUF_H
#define DBDEPLOY_UTIL_BUF_H

/*
 * struct dd_buf: a growable byte buffer. buf is never NULL and always NUL-terminated; it may hold
 * NUL bytes, and len excludes the terminator. DD_BUF_INIT is usable without allocating.
 * A capped buffer (dd_buf_init_capped) keeps only the last `cap` bytes added, which is how child
 * stderr and HTTP bodies are captured without unbounded memory.
 */
#include <stdarg.h>
#include <stddef.h>

#include "util/common.h"

struct dd_buf {
    char *buf;
    size_t len;
    size_t alloc; /* 0 while buf points at the shared empty string */
    size_t cap;   /* 0 = unlimited; else keep only the last cap bytes */
};

extern char dd_buf_empty[];
#define DD_BUF_INIT                                                                                                    \
    {                                                                                                                  \
        dd_buf_empty, 0, 0, 0                                                                                          \
    }

void dd_buf_init(struct dd_buf *b);
void dd_buf_init_capped(struct dd_buf *b, size_t cap);
void dd_buf_grow(struct dd_buf *b, size_t extra);
void dd_buf_add(struct dd_buf *b, const void *data, size_t len);
void dd_buf_adds(struct dd_buf *b, const char *s);
/* Add s, then spaces up to width bytes in all: printf's "%-*s" without printf (tables of 10,000 rows). */
void dd_buf_add_padded(struct dd_buf *b, const char *s, size_t width);
void dd_buf_addch(struct dd_buf *b, char c);
void dd_buf_addf(struct dd_buf *b, const char *fmt, ...) DD_PRINTF(2, 3);
void dd_buf_vaddf(struct dd_buf *b, const char *fmt, va_list ap) DD_PRINTF(2, 0);
/* Add `s` with every occurrence of `from` replaced by `to`. */
void dd_buf_add_replaced(struct dd_buf *b, const char *s, const char *from, const char *to);
void dd_buf_setlen(struct dd_buf *b, size_t len);
void dd_buf_reset(struct dd_buf *b);
/* Remove trailing whitespace. */
void dd_buf_rtrim(struct dd_buf *b);
/* Hand the bytes to the caller (free() them); the buffer is left empty and reusable. */
char *dd_buf_detach(struct dd_buf *b, size_t *len_out);
void dd_buf_release(struct dd_buf *b);

#endif
