#ifndef DBDEPLOY_UTIL_ERROR_H
#define DBDEPLOY_UTIL_ERROR_H

/*
 * The one error struct. A failing function sets it once, where the failure happens
 * (dd_error_set returns -1 so `return dd_error_set(...)` reads naturally); callers on the way up
 * may add one line of context each (dd_error_wrap). Only main() prints it and turns the code into
 * an exit status (see dd_error_exit_status).
 *
 * Messages start lowercase, have no trailing period and quote values with single quotes. A hint
 * is one full sentence. `details` are extra lines printed indented under the message (for
 * example the list of offending files).
 */
#include <stdarg.h>

#include "util/common.h"
#include "util/strv.h"

struct dd_buf;

enum dd_errcode {
    DD_EOK = 0,
    DD_EUSAGE,       /* bad command line */
    DD_ECONFIG,      /* bad configuration file or setting */
    DD_EINPUT,       /* bad migration files or other user-supplied input */
    DD_EBLOCKED,     /* refused before any change: checksum mismatch, dirty state, lock busy, gate */
    DD_EIO,          /* filesystem or stream failure */
    DD_EDB,          /* database failure */
    DD_EGIT,         /* repository failure */
    DD_EHTTP,        /* health check failure */
    DD_ECHILD,       /* a child process failed */
    DD_EINTERRUPTED, /* stopped by a signal */
    DD_ERESTORED,    /* failed, and the database was restored to its pre-deploy state */
    DD_ERESTOREFAIL, /* failed, and the restore failed too */
    DD_ECHECK,       /* a check ran and found a difference (a stale schema file) */
};

/* Exit statuses; chosen only in main.c through dd_error_exit_status(). */
enum dd_exit {
    DD_EXIT_OK = 0,
    DD_EXIT_FAILED = 1,
    DD_EXIT_USAGE = 2,
    DD_EXIT_BLOCKED = 3,
    DD_EXIT_RESTORED = 4,
    DD_EXIT_RESTORE_FAILED = 5,
};

struct dd_error {
    enum dd_errcode code;
    struct dd_strv chain;   /* [0] root cause, then each added context, innermost first */
    struct dd_strv details; /* extra lines printed under the root cause */
    char *hint;             /* optional full sentence */
};

#define DD_ERROR_INIT                                                                                                  \
    {                                                                                                                  \
        DD_EOK, DD_STRV_INIT, DD_STRV_INIT, NULL                                                                       \
    }

static inline bool dd_error_isset(const struct dd_error *err)
{
    return err->code != DD_EOK;
}

/* Set the root cause; any earlier error is replaced. Returns -1. */
int dd_error_set(struct dd_error *err, enum dd_errcode code, const char *fmt, ...) DD_PRINTF(3, 4);
int dd_error_vset(struct dd_error *err, enum dd_errcode code, const char *fmt, va_list ap) DD_PRINTF(3, 0);
/* Like dd_error_set, with ": <strerror(errno)>" appended (errno is read on entry). */
int dd_error_errno(struct dd_error *err, enum dd_errcode code, const char *fmt, ...) DD_PRINTF(3, 4);
/* Add one line of context, printed as "  while <text>". Returns -1. */
int dd_error_wrap(struct dd_error *err, const char *fmt, ...) DD_PRINTF(2, 3);
void dd_error_hint(struct dd_error *err, const char *fmt, ...) DD_PRINTF(2, 3);
void dd_error_detail(struct dd_error *err, const char *fmt, ...) DD_PRINTF(2, 3);
/* Change the category while keeping the message (e.g. a failure that was restored). */
void dd_error_recode(struct dd_error *err, enum dd_errcode code);
/* Move src into dst (dst released first); src is left empty. */
void dd_error_move(struct dd_error *dst, struct dd_error *src);
const char *dd_error_msg(const struct dd_error *err);
/* Render "error: ...\n  detail\n  while ...\nhint: ...\n" (unmasked; the caller masks). */
void dd_error_render(const struct dd_error *err, struct dd_buf *out);
enum dd_exit dd_error_exit_status(const struct dd_error *err);
void dd_error_release(struct dd_error *err);

#endif
