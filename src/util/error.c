#include "util/error.h"

#include <errno.h>
#include <stdio.h>

#include "util/buf.h"

int dd_error_vset(struct dd_error *err, enum dd_errcode code, const char *fmt, va_list ap)
{
    struct dd_buf b = DD_BUF_INIT;

    if (code == DD_EOK)
        DD_BUG("dd_error_set with DD_EOK");
    dd_error_release(err);
    dd_buf_vaddf(&b, fmt, ap);
    err->code = code;
    dd_strv_push_owned(&err->chain, dd_buf_detach(&b, NULL));
    return -1;
}

int dd_error_set(struct dd_error *err, enum dd_errcode code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dd_error_vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int dd_error_errno(struct dd_error *err, enum dd_errcode code, const char *fmt, ...)
{
    int saved = errno;
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    dd_buf_addf(&b, ": %s", strerror(saved));
    dd_error_set(err, code, "%s", b.buf);
    dd_buf_release(&b);
    errno = saved;
    return -1;
}

int dd_error_wrap(struct dd_error *err, const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    if (!dd_error_isset(err))
        DD_BUG("dd_error_wrap without an error");
    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    dd_strv_push_owned(&err->chain, dd_buf_detach(&b, NULL));
    return -1;
}

void dd_error_hint(struct dd_error *err, const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    free(err->hint);
    err->hint = dd_buf_detach(&b, NULL);
}

void dd_error_detail(struct dd_error *err, const char *fmt, ...)
{
    struct dd_buf b = DD_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    dd_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    dd_strv_push_owned(&err->details, dd_buf_detach(&b, NULL));
}

void dd_error_recode(struct dd_error *err, enum dd_errcode code)
{
    if (dd_error_isset(err))
        err->code = code;
}

void dd_error_move(struct dd_error *dst, struct dd_error *src)
{
    dd_error_release(dst);
    *dst = *src;
    dd_strv_init(&src->chain);
    dd_strv_init(&src->details);
    src->hint = NULL;
    src->code = DD_EOK;
}

const char *dd_error_msg(const struct dd_error *err)
{
    return err->chain.n ? err->chain.v[0] : "unknown error";
}

void dd_error_render(const struct dd_error *err, struct dd_buf *out)
{
    dd_buf_addf(out, "error: %s\n", dd_error_msg(err));
    for (size_t i = 0; i < err->details.n; i++)
        dd_buf_addf(out, "  %s\n", err->details.v[i]);
    for (size_t i = 1; i < err->chain.n; i++)
        dd_buf_addf(out, "  while %s\n", err->chain.v[i]);
    if (err->hint)
        dd_buf_addf(out, "hint: %s\n", err->hint);
}

enum dd_exit dd_error_exit_status(const struct dd_error *err)
{
    switch (err->code) {
    case DD_EOK:
        return DD_EXIT_OK;
    case DD_EUSAGE:
    case DD_ECONFIG:
    case DD_EINPUT:
        return DD_EXIT_USAGE;
    case DD_EBLOCKED:
        return DD_EXIT_BLOCKED;
    case DD_ERESTORED:
        return DD_EXIT_RESTORED;
    case DD_ERESTOREFAIL:
        return DD_EXIT_RESTORE_FAILED;
    case DD_EIO:
    case DD_EDB:
    case DD_EGIT:
    case DD_EHTTP:
    case DD_ECHILD:
    case DD_EINTERRUPTED:
    case DD_ECHECK:
        return DD_EXIT_FAILED;
    }
    return DD_EXIT_FAILED;
}

void dd_error_release(struct dd_error *err)
{
    dd_strv_release(&err->chain);
    dd_strv_release(&err->details);
    free(err->hint);
    err->hint = NULL;
    err->code = DD_EOK;
}
