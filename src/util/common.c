#include "util/common.h"

#include <stdarg.h>
#include <stdio.h>

void dd_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "BUG: %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

static DD_NORETURN void oom(void)
{
    fputs("fatal: out of memory\n", stderr);
    abort();
}

void *dd_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        oom();
    return p;
}

void *dd_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

    if (!p)
        oom();
    return p;
}

void *dd_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (!q)
        oom();
    return q;
}

char *dd_xstrdup(const char *s)
{
    return dd_xstrndup(s, strlen(s));
}

char *dd_xstrndup(const char *s, size_t n)
{
    char *p = dd_xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *dd_xasprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    int n;
    char *p;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        DD_BUG("bad format '%s'", fmt);
    p = dd_xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void dd_free_secret(char *s)
{
    if (!s)
        return;
    /* volatile keeps the compiler from dropping the wipe of memory about to be freed */
    for (volatile char *v = s; *v; v++)
        *v = 0;
    free(s);
}
