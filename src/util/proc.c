#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fs.h"
#include "util/interrupt.h"

extern char **environ;

void dd_proc_env_set(struct dd_proc *p, const char *name, const char *value)
{
    dd_strv_pushf(&p->env_set, "%s=%s", name, value);
}

void dd_proc_env_unset(struct dd_proc *p, const char *name)
{
    dd_strv_push(&p->env_unset, name);
}

const char *dd_proc_name(const struct dd_proc *p)
{
    return p->argv.n ? dd_basename(p->argv.v[0]) : "child";
}

static bool env_name_in(const char *entry, const struct dd_strv *names, bool names_have_values)
{
    size_t len = strcspn(entry, "=");

    for (size_t i = 0; i < names->n; i++) {
        const char *n = names->v[i];
        size_t nl = names_have_values ? strcspn(n, "=") : strlen(n);
        if (nl == len && strncmp(entry, n, len) == 0)
            return true;
    }
    return false;
}

static void build_env(const struct dd_proc *p, struct dd_strv *env)
{
    for (char **e = environ; e && *e; e++) {
        if (env_name_in(*e, &p->env_unset, false) || env_name_in(*e, &p->env_set, true))
            continue;
        dd_strv_push(env, *e);
    }
    for (size_t i = 0; i < p->env_set.n; i++)
        dd_strv_push(env, p->env_set.v[i]);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* posix_spawn_file_actions_* return their error code and leave errno alone. */
static int file_action_error(int code, const struct dd_proc *p, struct dd_error *err)
{
    if (!code)
        return 0;
    errno = code;
    return dd_error_errno(err, DD_ECHILD, "cannot prepare to run '%s'", dd_proc_name(p));
}

/* Wire one standard stream of the child. `child_end`/`our_end` come from a pipe when needed. */
static int plan_stream(const struct dd_proc *p, posix_spawn_file_actions_t *fa, enum dd_proc_mode mode, int target,
                       int borrowed_fd, int pipe_fds[2], bool child_reads, struct dd_error *err)
{
    switch (mode) {
    case DD_PROC_INHERIT:
        return 0;
    case DD_PROC_NULLDEV:
        return file_action_error(
            posix_spawn_file_actions_addopen(fa, target, "/dev/null", child_reads ? O_RDONLY : O_WRONLY, 0), p, err);
    case DD_PROC_FD:
        return file_action_error(posix_spawn_file_actions_adddup2(fa, borrowed_fd, target), p, err);
    case DD_PROC_PIPE:
    case DD_PROC_CAPTURE:
        if (pipe2(pipe_fds, O_CLOEXEC) < 0)
            return dd_error_errno(err, DD_ECHILD, "cannot create a pipe");
        return file_action_error(posix_spawn_file_actions_adddup2(fa, child_reads ? pipe_fds[0] : pipe_fds[1], target),
                                 p, err);
    }
    return 0;
}

int dd_proc_start(struct dd_proc *p, struct dd_error *err)
{
    posix_spawn_file_actions_t fa;
    struct dd_strv env = DD_STRV_INIT;
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    int rc = -1, e;
    pid_t pid;

    if (!p->argv.n)
        DD_BUG("dd_proc_start without argv");
    if (p->stdin_mode == DD_PROC_CAPTURE)
        DD_BUG("stdin cannot be captured");
    e = posix_spawn_file_actions_init(&fa);
    if (e) {
        errno = e;
        return dd_error_errno(err, DD_ECHILD, "cannot prepare to run '%s'", dd_proc_name(p));
    }
    if (plan_stream(p, &fa, p->stdin_mode, 0, p->stdin_fd, in_pipe, true, err) < 0 ||
        plan_stream(p, &fa, p->stdout_mode, 1, p->stdout_fd, out_pipe, false, err) < 0 ||
        plan_stream(p, &fa, p->stderr_mode, 2, p->stderr_mode == DD_PROC_FD ? p->stderr_fd : -1, err_pipe, false, err) <
            0)
        goto cleanup;
    build_env(p, &env);
    e = strchr(p->argv.v[0], '/') ? posix_spawn(&pid, p->argv.v[0], &fa, NULL, p->argv.v, env.v)
                                  : posix_spawnp(&pid, p->argv.v[0], &fa, NULL, p->argv.v, env.v);
    if (e) {
        errno = e;
        if (e == ENOENT)
            dd_error_set(err, DD_ECHILD, "cannot run '%s': not found%s", p->argv.v[0],
                         strchr(p->argv.v[0], '/') ? "" : " on PATH");
        else
            dd_error_errno(err, DD_ECHILD, "cannot run '%s'", p->argv.v[0]);
        goto cleanup;
    }
    p->pid = pid;
    p->reaped = false;
    if (p->stdin_mode == DD_PROC_PIPE) {
        p->stdin_fd = in_pipe[1];
        in_pipe[1] = -1;
    }
    if (p->stdout_mode == DD_PROC_PIPE || p->stdout_mode == DD_PROC_CAPTURE) {
        p->stdout_fd = out_pipe[0];
        out_pipe[0] = -1;
    }
    if (p->stderr_mode == DD_PROC_CAPTURE) {
        p->stderr_fd = err_pipe[0];
        err_pipe[0] = -1;
        if (!p->err_tail.cap)
            dd_buf_init_capped(&p->err_tail, DD_PROC_TAIL);
    }
    rc = 0;
cleanup:
    posix_spawn_file_actions_destroy(&fa);
    dd_strv_release(&env);
    for (int i = 0; i < 2; i++) {
        close_fd(&in_pipe[i]);
        close_fd(&out_pipe[i]);
        close_fd(&err_pipe[i]);
    }
    return rc;
}

/* Read what stderr has; returns false at EOF. */
static bool drain_stderr_once(struct dd_proc *p)
{
    char tmp[4096];
    ssize_t n = read(p->stderr_fd, tmp, sizeof(tmp));

    if (n > 0) {
        dd_buf_add(&p->err_tail, tmp, (size_t)n);
        return true;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    close_fd(&p->stderr_fd);
    return false;
}

static int interrupted(struct dd_proc *p, struct dd_error *err)
{
    return dd_error_set(err, DD_EINTERRUPTED, "interrupted by signal %d while '%s' was running", dd_interrupt_signal(),
                        dd_proc_name(p));
}

/*
 * Wait until fd is ready for `events`, draining the child's stderr meanwhile: a child blocked on
 * a full stderr pipe would never read or write again. 0 when ready; -1 on an error or a signal.
 */
static int wait_ready(struct dd_proc *p, int fd, short events, struct dd_error *err)
{
    for (;;) {
        struct pollfd fds[2] = {{fd, events, 0}, {p->stderr_fd, POLLIN, 0}};
        nfds_t nfds = p->stderr_fd >= 0 ? 2 : 1;

        if (dd_interrupt_pending())
            return interrupted(p, err);
        if (poll(fds, nfds, 250) < 0) {
            if (errno == EINTR)
                continue;
            return dd_error_errno(err, DD_ECHILD, "cannot poll '%s'", dd_proc_name(p));
        }
        if (nfds == 2 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)))
            drain_stderr_once(p);
        if (fds[0].revents & (events | POLLHUP | POLLERR))
            return 0;
    }
}

int dd_proc_read(struct dd_proc *p, void *buf, size_t len, size_t *nread, struct dd_error *err)
{
    *nread = 0;
    if (p->stdout_fd < 0)
        return 0;
    for (;;) {
        ssize_t n;

        if (wait_ready(p, p->stdout_fd, POLLIN, err) < 0)
            return -1;
        n = read(p->stdout_fd, buf, len);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return dd_error_errno(err, DD_ECHILD, "cannot read from '%s'", dd_proc_name(p));
        }
        if (n == 0)
            close_fd(&p->stdout_fd);
        *nread = (size_t)n;
        return 0;
    }
}

/* The child's stderr, trimmed to its last line or two, for error messages. */
static void add_stderr_tail(struct dd_proc *p, struct dd_buf *msg)
{
    struct dd_buf t = DD_BUF_INIT;

    dd_buf_add(&t, p->err_tail.buf, p->err_tail.len);
    dd_buf_rtrim(&t);
    if (t.len) {
        const char *s = t.buf;
        /* keep at most the last 600 bytes, starting at a line boundary when possible */
        if (t.len > 600) {
            s = t.buf + t.len - 600;
            const char *nl = strchr(s, '\n');
            if (nl && nl[1])
                s = nl + 1;
        }
        dd_buf_adds(msg, ": ");
        dd_buf_add_replaced(msg, s, "\n", " | ");
    }
    dd_buf_release(&t);
}

int dd_proc_write(struct dd_proc *p, const void *data, size_t len, struct dd_error *err)
{
    const char *d = data;

    if (p->stdin_fd < 0)
        DD_BUG("dd_proc_write without a stdin pipe");
    while (len) {
        ssize_t n;

        if (wait_ready(p, p->stdin_fd, POLLOUT, err) < 0)
            return -1;
        n = write(p->stdin_fd, d, len);
        if (n < 0) {
            struct dd_buf msg = DD_BUF_INIT;
            if (errno == EINTR || errno == EAGAIN)
                continue;
            dd_buf_addf(&msg, "cannot write to '%s': %s", dd_proc_name(p), strerror(errno));
            /* the child probably died; its stderr says why */
            while (p->stderr_fd >= 0 && drain_stderr_once(p))
                ;
            add_stderr_tail(p, &msg);
            dd_error_set(err, DD_ECHILD, "%s", msg.buf);
            dd_buf_release(&msg);
            return -1;
        }
        d += n;
        len -= (size_t)n;
    }
    return 0;
}

void dd_proc_close_stdin(struct dd_proc *p)
{
    if (p->stdin_mode == DD_PROC_PIPE)
        close_fd(&p->stdin_fd);
}

/* Read stdout (kept with CAPTURE, discarded with PIPE) and stderr to EOF. */
static void drain_all(struct dd_proc *p)
{
    bool own_stdout = p->stdout_mode == DD_PROC_PIPE || p->stdout_mode == DD_PROC_CAPTURE;

    while ((own_stdout && p->stdout_fd >= 0) || p->stderr_fd >= 0) {
        struct pollfd fds[2];
        nfds_t n = 0;
        int out_i = -1, err_i = -1;

        if (own_stdout && p->stdout_fd >= 0) {
            fds[n] = (struct pollfd){p->stdout_fd, POLLIN, 0};
            out_i = (int)n++;
        }
        if (p->stderr_fd >= 0) {
            fds[n] = (struct pollfd){p->stderr_fd, POLLIN, 0};
            err_i = (int)n++;
        }
        if (poll(fds, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (out_i >= 0 && (fds[out_i].revents & (POLLIN | POLLHUP | POLLERR))) {
            char tmp[8192];
            ssize_t r = read(p->stdout_fd, tmp, sizeof(tmp));
            if (r > 0 && p->stdout_mode == DD_PROC_CAPTURE)
                dd_buf_add(&p->out_capture, tmp, (size_t)r);
            else if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                close_fd(&p->stdout_fd);
        }
        if (err_i >= 0 && (fds[err_i].revents & (POLLIN | POLLHUP | POLLERR)))
            drain_stderr_once(p);
    }
    close_fd(&p->stdout_fd);
    close_fd(&p->stderr_fd);
}

static void reap(struct dd_proc *p)
{
    int status;

    if (p->reaped || p->pid <= 0)
        return;
    status = 0;
    while (waitpid(p->pid, &status, 0) < 0) {
        if (errno != EINTR) {
            /* not "exited 0": we do not know how it ended, and finish must say so */
            p->wait_errno = errno;
            break;
        }
    }
    p->wait_status = status;
    p->reaped = true;
}

int dd_proc_finish(struct dd_proc *p, struct dd_error *err)
{
    struct dd_buf msg = DD_BUF_INIT;
    int rc = 0;

    if (p->pid <= 0)
        DD_BUG("dd_proc_finish without a child");
    dd_proc_close_stdin(p);
    drain_all(p);
    reap(p);
    if (p->wait_errno) {
        errno = p->wait_errno;
        rc = dd_error_errno(err, DD_ECHILD, "cannot wait for '%s'", dd_proc_name(p));
        goto cleanup;
    }
    if (WIFEXITED(p->wait_status) && WEXITSTATUS(p->wait_status) == 0)
        goto cleanup;
    if (WIFSIGNALED(p->wait_status))
        dd_buf_addf(&msg, "%s was killed by signal %d", dd_proc_name(p), WTERMSIG(p->wait_status));
    else
        dd_buf_addf(&msg, "%s exited with status %d", dd_proc_name(p), WEXITSTATUS(p->wait_status));
    add_stderr_tail(p, &msg);
    rc = dd_error_set(err, DD_ECHILD, "%s", msg.buf);
cleanup:
    dd_buf_release(&msg);
    return rc;
}

void dd_proc_kill(struct dd_proc *p, unsigned grace_ms)
{
    uint64_t deadline;
    int status;

    if (p->pid <= 0 || p->reaped)
        goto close_fds;
    dd_proc_close_stdin(p);
    kill(p->pid, SIGTERM);
    deadline = dd_now_ms() + grace_ms;
    for (;;) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            p->wait_status = status;
            p->reaped = true;
            break;
        }
        if (r < 0 && errno != EINTR) {
            p->wait_errno = errno;
            p->reaped = true; /* nothing left to wait for */
            break;
        }
        if (dd_now_ms() >= deadline) {
            kill(p->pid, SIGKILL);
            reap(p);
            break;
        }
        usleep(10000);
    }
close_fds:
    close_fd(&p->stdout_fd);
    close_fd(&p->stderr_fd);
    dd_proc_close_stdin(p);
}

bool dd_proc_exited(struct dd_proc *p)
{
    int status;
    pid_t r;

    if (p->pid <= 0 || p->reaped)
        return true;
    r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid)
        p->wait_status = status;
    else if (r < 0 && errno != EINTR)
        p->wait_errno = errno;
    else
        return false;
    p->reaped = true;
    return true;
}

int dd_proc_run(struct dd_proc *p, struct dd_error *err)
{
    if (dd_proc_start(p, err) < 0)
        return -1;
    return dd_proc_finish(p, err);
}

void dd_proc_release(struct dd_proc *p)
{
    if (p->pid > 0 && !p->reaped)
        dd_proc_kill(p, 2000);
    if (p->stdin_mode == DD_PROC_PIPE)
        close_fd(&p->stdin_fd);
    if (p->stdout_mode == DD_PROC_PIPE || p->stdout_mode == DD_PROC_CAPTURE)
        close_fd(&p->stdout_fd);
    close_fd(&p->stderr_fd);
    dd_strv_release(&p->argv);
    dd_strv_release(&p->env_set);
    dd_strv_release(&p->env_unset);
    dd_buf_release(&p->out_capture);
    dd_buf_release(&p->err_tail);
    p->pid = 0;
}
