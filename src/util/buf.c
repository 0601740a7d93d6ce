#include "util/buf.h"

#include <stdio.h>

char dd_buf_empty[1];

void dd_buf_init(struct dd_buf *b)
{
    b->buf = dd_buf_empty;
    b->len = 0;
    b->alloc = 0;
    b->cap = 0;
}

void dd_buf_init_capped(struct dd_buf *b, size_t cap)
{
    dd_buf_init(b);
    b->cap = cap;
}

void dd_buf_grow(struct dd_buf *b, size_t extra)
{
    size_t need;

    if (extra > SIZE_MAX - b->len - 1)
        DD_BUG("dd_buf size overflow");
    need = b->len + extra + 1;
    if (need <= b->alloc)
        return;
    if (!b->alloc)
        b->buf = NULL;
    DD_ALLOC_GROW(b->buf, need, b->alloc);
    if (!b->len)
        b->buf[0] = '\0';
}

/* For capped buffers: drop the oldest bytes so that at most cap remain. */
static void trim_to_cap(struct dd_buf *b)
{
    if (!b->cap || b->len <= b->cap)
        return;
    memmove(b->buf, b->buf + (b->len - b->cap), b->cap);
    b->len = b->cap;
    b->buf[b->len] = '\0';
}

void dd_buf_add(struct dd_buf *b, const void *data, size_t len)
{
    if (!len)
        return;
    if (b->cap && len > b->cap) {
        data = (const char *)data + (len - b->cap);
        len = b->cap;
    }
    dd_buf_grow(b, len);
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    b->buf[b->len] = '\0';
    trim_to_cap(b);
}

void dd_buf_adds(struct dd_buf *b, const char *s)
{
    dd_buf_add(b, s, strlen(s));
}

void dd_buf_add_padded(struct dd_buf *b, const char *s, size_t width)
{
    static const char spaces[] = "                                ";
    size_t len = strlen(s);

    dd_buf_add(b, s, len);
    while (len < width) {
        size_t k = width - len < sizeof(spaces) - 1 ? width - len : sizeof(spaces) - 1;
        dd_buf_add(b, spaces, k);
        len += k;
    }
}

void dd_buf_addch(struct dd_buf *b, char c)
{
    dd_buf_add(b, &c, 1);
}

void dd_buf_vaddf(struct dd_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        DD_BUG("bad format '%s'", fmt);
    dd_buf_grow(b, (size_t)n);
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    trim_to_cap(b);
}

void dd_buf_addf(struct dd_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void dd_buf_add_replaced(struct dd_buf *b, const char *s, const char *from, const char *to)
{
    size_t flen = strlen(from);
    const char *hit;

    if (!flen) {
        dd_buf_adds(b, s);
        return;
    }
    while ((hit = strstr(s, from))) {
        dd_buf_add(b, s, (size_t)(hit - s));
        dd_buf_adds(b, to);
        s = hit + flen;
    }
    dd_buf_adds(b, s);
}

void dd_buf_setlen(struct dd_buf *b, size_t len)
{
    if (len > b->len)
        DD_BUG("dd_buf_setlen beyond length");
    if (!b->alloc)
        return;
    b->len = len;
    b->buf[len] = '\0';
}

void dd_buf_reset(struct dd_buf *b)
{
    dd_buf_setlen(b, 0);
}

void dd_buf_rtrim(struct dd_buf *b)
{
    size_t n = b->len;

    while (n && (b->buf[n - 1] == ' ' || b->buf[n - 1] == '\t' || b->buf[n - 1] == '\n' || b->buf[n - 1] == '\r'))
        n--;
    dd_buf_setlen(b, n);
}

char *dd_buf_detach(struct dd_buf *b, size_t *len_out)
{
    char *p;

    if (!b->alloc)
        dd_buf_grow(b, 0);
    p = b->buf;
    if (len_out)
        *len_out = b->len;
    b->buf = dd_buf_empty;
    b->len = 0;
    b->alloc = 0;
    return p;
}

void dd_buf_release(struct dd_buf *b)
{
    if (b->alloc)
        free(b->buf);
    b->buf = dd_buf_empty;
    b->len = 0;
    b->alloc = 0;
}
