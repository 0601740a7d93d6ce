#ifndef DBDEPLOY_UTIL_PROC_H
#define DBDEPLOY_UTIL_PROC_H

/*
 * Child processes (pg_dump, pg_restore, git in tests): posix_spawn with an argv array and an
 * explicit environment, never a shell. Every descriptor we create is O_CLOEXEC; the child only
 * gets what the file actions dup2 onto 0, 1 and 2.
 *
 * Streams: INHERIT (ours), NULLDEV (/dev/null), PIPE (the caller reads stdout with dd_proc_read or
 * writes stdin with dd_proc_write), CAPTURE (stdout: kept whole in out_capture; stderr: the last
 * DD_PROC_TAIL bytes in err_tail, for error messages), FD (a descriptor the caller owns).
 * Reads and writes poll stderr at the same time, so a chatty stderr never stalls the stream.
 *
 * Every dd_proc_start that succeeded meets dd_proc_finish or dd_proc_kill (dd_proc_release kills
 * a child that is still running). dd_proc_finish puts the exit status into words:
 * "pg_dump exited with status 1: <stderr tail>", "pg_dump was killed by signal 9".
 */
#include <sys/types.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/strv.h"

#define DD_PROC_TAIL 8192

enum dd_proc_mode { DD_PROC_INHERIT, DD_PROC_NULLDEV, DD_PROC_PIPE, DD_PROC_CAPTURE, DD_PROC_FD };

struct dd_proc {
    struct dd_strv argv;      /* argv[0]: a path, or a name looked up in PATH */
    struct dd_strv env_set;   /* "NAME=value" added to (or replacing in) our environment */
    struct dd_strv env_unset; /* names removed from the child's environment */
    enum dd_proc_mode stdin_mode, stdout_mode, stderr_mode;
    int stdin_fd;  /* FD: borrowed descriptor; PIPE: our write end (owned) */
    int stdout_fd; /* FD: borrowed descriptor; PIPE/CAPTURE: our read end (owned) */
    int stderr_fd; /* FD: borrowed descriptor (set it to -1 after start); CAPTURE: our read end (owned) */
    struct dd_buf out_capture;
    struct dd_buf err_tail;
    pid_t pid;
    int wait_status; /* raw status from waitpid once reaped */
    bool reaped;
    int wait_errno; /* waitpid failed (ECHILD...): the exit status is unknown, finish fails */
};

#define DD_PROC_INIT                                                                                                   \
    {                                                                                                                  \
        DD_STRV_INIT, DD_STRV_INIT, DD_STRV_INIT, DD_PROC_INHERIT, DD_PROC_INHERIT, DD_PROC_INHERIT, -1, -1, -1,       \
            DD_BUF_INIT, DD_BUF_INIT, 0, 0, false, 0                                                                   \
    }

void dd_proc_env_set(struct dd_proc *p, const char *name, const char *value);
void dd_proc_env_unset(struct dd_proc *p, const char *name);
/* The child's name for messages: basename of argv[0]. */
const char *dd_proc_name(const struct dd_proc *p);

int dd_proc_start(struct dd_proc *p, struct dd_error *err);
/* Read up to len bytes of the child's stdout (PIPE). *nread = 0 at end of stream. */
int dd_proc_read(struct dd_proc *p, void *buf, size_t len, size_t *nread, struct dd_error *err);
/* Write all of data to the child's stdin (PIPE). A child that exited early gives an error
 * naming it and quoting its stderr. */
int dd_proc_write(struct dd_proc *p, const void *data, size_t len, struct dd_error *err);
void dd_proc_close_stdin(struct dd_proc *p);
/* Close stdin, drain stdout/stderr, reap. -1 unless the child exited with status 0. */
int dd_proc_finish(struct dd_proc *p, struct dd_error *err);
/* SIGTERM, up to grace_ms for it to exit, then SIGKILL; always reaps. */
void dd_proc_kill(struct dd_proc *p, unsigned grace_ms);
/* Whether a started child has exited (reaped then, without blocking); for long-running children. */
bool dd_proc_exited(struct dd_proc *p);
/* Start and finish in one call (for short commands such as "pg_dump --version"). */
int dd_proc_run(struct dd_proc *p, struct dd_error *err);
/* Kill a child still running, close descriptors, free everything. */
void dd_proc_release(struct dd_proc *p);

#endif
