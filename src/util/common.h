#ifndef DBDEPLOY_UTIL_COMMON_H
#define DBDEPLOY_UTIL_COMMON_H

/*
 * Included by every dbdeploy source file after its own header and the system headers.
 * Allocation helpers never return NULL: running out of memory is fatal ("fatal: out of
 * memory", abort), and PostgreSQL rolls back any open transaction when we disappear.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DD_ARRAY_SIZE(a)     (sizeof(a) / sizeof((a)[0]))
#define DD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define DD_NORETURN          __attribute__((noreturn))
#define DD_UNUSED            __attribute__((unused))
/* "" or "s": "1 migration", "2 migrations" */
#define DD_PLURAL(n) ((n) == 1 ? "" : "s")

/* Broken invariant: prints file:line and aborts. One of the two exits outside main(). */
#define DD_BUG(...) dd_bug(__FILE__, __LINE__, __VA_ARGS__)
DD_NORETURN void dd_bug(const char *file, int line, const char *fmt, ...) DD_PRINTF(3, 4);

void *dd_xmalloc(size_t n);
void *dd_xcalloc(size_t nmemb, size_t size);
void *dd_xrealloc(void *p, size_t n);
char *dd_xstrdup(const char *s);
char *dd_xstrndup(const char *s, size_t n);
char *dd_xasprintf(const char *fmt, ...) DD_PRINTF(1, 2);

/* Grow *arr (element size sz) so that it can hold at least n elements; *alloc tracks capacity. */
#define DD_ALLOC_GROW(arr, n, alloc)                                                                                   \
    do {                                                                                                               \
        if ((size_t)(n) > (alloc)) {                                                                                   \
            size_t dd_new_alloc_ = (alloc) ? (alloc)*2 : 16;                                                           \
            while (dd_new_alloc_ < (size_t)(n))                                                                        \
                dd_new_alloc_ *= 2;                                                                                    \
            (arr) = dd_xrealloc((arr), dd_new_alloc_ * sizeof(*(arr)));                                                \
            (alloc) = dd_new_alloc_;                                                                                   \
        }                                                                                                              \
    } while (0)

/* Overwrite then free memory that held a secret; NULL is fine. */
void dd_free_secret(char *s);

static inline bool dd_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

#include "util/banned.h"

#endif
