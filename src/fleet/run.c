/*
 * The runner. Each target is a child dbdeploy (`dbdeploy -C ROOT [--json] CMD ENV --target
 * NAME ...`), started with posix_spawn through util/proc: a fresh process image has its own
 * libpq and libgit2 state, which a fork of this process (threads, open sessions) would not.
 * A child's stdout and stderr go to files in a private directory rather than pipes, so a
 * chatty child can never block on a pipe we are not reading while we wait for another.
 */
#include "fleet/fleet.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fs.h"
#include "util/interrupt.h"
#include "util/proc.h"

struct job {
    struct dd_proc p;
    size_t idx; /* target */
    int out_fd, err_fd;
    uint64_t started_ms;
};

char *fleet_self_exe(struct dd_error *err)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0) {
        dd_error_errno(err, DD_EIO, "cannot find the dbdeploy executable to run per target");
        dd_error_hint(err, "A fleet runs one dbdeploy per target; /proc must be mounted for it to find itself.");
        return NULL;
    }
    buf[n] = '\0';
    return dd_xstrdup(buf);
}

static int open_out(const char *dir, size_t idx, const char *kind, struct dd_error *err)
{
    char *path = dd_xasprintf("%s/%zu.%s", dir, idx, kind);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0)
        dd_error_errno(err, DD_EIO, "cannot create '%s'", path);
    free(path);
    return fd;
}

static int start_job(struct job *j, const struct fleet_targets *t, size_t idx, const struct fleet_run_opts *o,
                     const char *dir, struct dd_error *err)
{
    struct dd_proc init = DD_PROC_INIT;

    j->p = init;
    j->idx = idx;
    j->out_fd = open_out(dir, idx, "out", err);
    j->err_fd = j->out_fd < 0 ? -1 : open_out(dir, idx, "err", err);
    if (j->err_fd < 0)
        return -1;
    dd_strv_push(&j->p.argv, o->exe);
    dd_strv_push(&j->p.argv, "-C");
    dd_strv_push(&j->p.argv, o->root);
    if (o->json)
        dd_strv_push(&j->p.argv, "--json");
    dd_strv_push(&j->p.argv, o->command);
    dd_strv_push(&j->p.argv, o->env);
    dd_strv_push(&j->p.argv, "--target");
    dd_strv_push(&j->p.argv, t->v[idx].name);
    if (o->extra)
        dd_strv_pushv(&j->p.argv, (const char *const *)o->extra->v);
    if (o->commit)
        dd_proc_env_set(&j->p, FLEET_COMMIT_ENV, o->commit);
    j->p.stdin_mode = DD_PROC_NULLDEV;
    j->p.stdout_mode = DD_PROC_FD;
    j->p.stdout_fd = j->out_fd;
    j->p.stderr_mode = DD_PROC_FD;
    j->p.stderr_fd = j->err_fd;
    j->started_ms = dd_now_ms();
    if (dd_proc_start(&j->p, err) < 0)
        return -1;
    j->p.stderr_fd = -1; /* borrowed: ours to close */
    return 0;
}

static void read_back(struct dd_buf *out, int fd, size_t keep_tail)
{
    char tmp[8192];
    ssize_t n;

    if (lseek(fd, 0, SEEK_SET) < 0)
        return;
    if (keep_tail)
        dd_buf_init_capped(out, keep_tail);
    while ((n = read(fd, tmp, sizeof(tmp))) > 0)
        dd_buf_add(out, tmp, (size_t)n);
}

static void finish_job(struct job *j, struct fleet_outcome *out)
{
    struct fleet_outcome *r = &out[j->idx];
    int st = j->p.wait_status;

    r->state = FLEET_DONE;
    r->ms = dd_now_ms() - j->started_ms;
    r->exit_status = j->p.wait_errno ? 1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    read_back(&r->out, j->out_fd, 0);
    read_back(&r->errs, j->err_fd, DD_PROC_TAIL);
    close(j->out_fd);
    close(j->err_fd);
    j->out_fd = j->err_fd = -1;
    dd_proc_release(&j->p);
}

static void release_job(struct job *j)
{
    dd_proc_release(&j->p);
    if (j->out_fd >= 0)
        close(j->out_fd);
    if (j->err_fd >= 0)
        close(j->err_fd);
    j->out_fd = j->err_fd = -1;
}

/* Reap the children that ended; returns how many of them failed. */
static size_t reap(struct job *jobs, size_t *running, struct fleet_outcome *out)
{
    size_t failed = 0;

    for (size_t i = 0; i < *running;) {
        if (!dd_proc_exited(&jobs[i].p)) {
            i++;
            continue;
        }
        finish_job(&jobs[i], out);
        failed += out[jobs[i].idx].exit_status != 0;
        jobs[i] = jobs[--*running];
    }
    return failed;
}

int fleet_run(struct fleet_outcome *out, const struct fleet_targets *t, const struct fleet_run_opts *o,
              struct dd_error *err)
{
    size_t all[1] = {t->n};
    const size_t *ends = o->wave_ends ? o->wave_ends : all;
    size_t nwaves = o->wave_ends ? o->nwaves : (t->n ? 1 : 0);
    size_t parallel = o->parallel ? o->parallel : 1, running = 0, failures = 0, next = 0;
    struct job *jobs = dd_xcalloc(parallel, sizeof(*jobs));
    char *dir = NULL;
    int waves = 0, rc = -1;
    bool halted = false;

    for (size_t i = 0; i < t->n; i++) {
        struct fleet_outcome init = {FLEET_SKIPPED, 0, 0, 0, DD_BUF_INIT, DD_BUF_INIT};
        out[i] = init;
    }
    if (dd_mkdtemp(&dir, "dbdeploy-fleet", err) < 0)
        goto cleanup;
    for (size_t w = 0; w < nwaves && !halted; w++) {
        waves++;
        for (size_t i = next; i < ends[w]; i++)
            out[i].wave = (unsigned)w + 1;
        /* the wave ends when its last child has: the next one starts only after a clean wave */
        while (next < ends[w] || running) {
            halted = halted || fleet_should_halt(failures, o->halt_failures) || dd_interrupt_pending();
            if (!halted && next < ends[w] && running < parallel) {
                if (start_job(&jobs[running], t, next, o, dir, err) < 0) {
                    release_job(&jobs[running]);
                    halted = true;
                    goto drain;
                }
                running++;
                next++;
                continue;
            }
            if (halted && !running)
                break;
            failures += reap(jobs, &running, out);
            if (running)
                dd_sleep_ms(5);
        }
        halted = halted || fleet_should_halt(failures, o->halt_failures) || dd_interrupt_pending();
    }
    rc = waves;
drain:
    while (running) {
        reap(jobs, &running, out);
        if (running)
            dd_sleep_ms(5);
    }
cleanup:
    if (dir)
        dd_rm_rf(dir);
    free(dir);
    free(jobs);
    return rc;
}

void fleet_outcome_release(struct fleet_outcome *o)
{
    dd_buf_release(&o->out);
    dd_buf_release(&o->errs);
}
