#include "util/strv.h"

#include <stdarg.h>

#include "util/buf.h"

char *dd_strv_empty[1];

void dd_strv_init(struct dd_strv *sv)
{
    sv->v = dd_strv_empty;
    sv->n = 0;
    sv->alloc = 0;
}

void dd_strv_push_owned(struct dd_strv *sv, char *s)
{
    if (!sv->alloc)
        sv->v = NULL;
    DD_ALLOC_GROW(sv->v, sv->n + 2, sv->alloc);
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

void dd_strv_push(struct dd_strv *sv, const char *s)
{
    dd_strv_push_owned(sv, dd_xstrdup(s));
}

void dd_strv_pushf(struct dd_strv *sv, const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    dd_strv_push_owned(sv, dd_buf_detach(&b, NULL));
}

void dd_strv_pushv(struct dd_strv *sv, const char *const *v)
{
    for (; v && *v; v++)
        dd_strv_push(sv, *v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void dd_strv_sort(struct dd_strv *sv)
{
    if (sv->n > 1)
        qsort(sv->v, sv->n, sizeof(*sv->v), cmp_str);
}

bool dd_strv_contains(const struct dd_strv *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return true;
    return false;
}

char *dd_strv_join(const struct dd_strv *sv, const char *sep)
{
    struct dd_buf b = DD_BUF_INIT;

    for (size_t i = 0; i < sv->n; i++) {
        if (i)
            dd_buf_adds(&b, sep);
        dd_buf_adds(&b, sv->v[i]);
    }
    return dd_buf_detach(&b, NULL);
}

void dd_strv_clear(struct dd_strv *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    sv->n = 0;
    if (sv->alloc)
        sv->v[0] = NULL;
}

void dd_strv_release(struct dd_strv *sv)
{
    dd_strv_clear(sv);
    if (sv->alloc)
        free(sv->v);
    dd_strv_init(sv);
}
