#ifndef DBDEPLOY_UTIL_STRV_H
#define DBDEPLOY_UTIL_STRV_H

/*
 * struct dd_strv: an owned, NULL-terminated array of strings (argv, environments, lists of
 * names). v is never NULL after DD_STRV_INIT; every element is owned by the strv.
 */
#include "util/common.h"

struct dd_strv {
    char **v;
    size_t n;
    size_t alloc;
};

extern char *dd_strv_empty[];
#define DD_STRV_INIT                                                                                                   \
    {                                                                                                                  \
        dd_strv_empty, 0, 0                                                                                            \
    }

void dd_strv_init(struct dd_strv *sv);
void dd_strv_push(struct dd_strv *sv, const char *s);
void dd_strv_pushf(struct dd_strv *sv, const char *fmt, ...) DD_PRINTF(2, 3);
/* Take ownership of a malloc'd string. */
void dd_strv_push_owned(struct dd_strv *sv, char *s);
void dd_strv_pushv(struct dd_strv *sv, const char *const *v);
void dd_strv_sort(struct dd_strv *sv);
bool dd_strv_contains(const struct dd_strv *sv, const char *s);
/* Join with sep into a new string the caller frees. */
char *dd_strv_join(const struct dd_strv *sv, const char *sep);
void dd_strv_clear(struct dd_strv *sv);
void dd_strv_release(struct dd_strv *sv);

#endif
