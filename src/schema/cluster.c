/*
 * A throwaway PostgreSQL cluster for `schema check` when no [schema] scratch-url is set: initdb
 * into a private temporary directory, the server listening on a Unix socket in it only, stopped
 * and removed on every path out.
 */
#include "schema/internal.h"

#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fs.h"
#include "util/interrupt.h"
#include "util/out.h"

#define CLUSTER_START_MS 60000
#define CLUSTER_PORT     "5432"

static bool has_initdb(const char *dir)
{
    char *p = dd_path_join(dir, "initdb");
    bool ok = access(p, X_OK) == 0;

    free(p);
    return ok;
}

/* Where initdb and postgres live: PATH first, then Debian's versioned directories, newest first. */
static char *find_bindir(void)
{
    const char *path = getenv("PATH");
    glob_t g;
    char *found = NULL;

    if (path) {
        char *copy = dd_xstrdup(path), *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save))
            if (*d && has_initdb(d))
                found = dd_xstrdup(d);
        free(copy);
    }
    if (!found && glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) == 0) {
        /* glob sorts by name: "15" after "14", but "9.6" after "15", so compare numerically */
        long best = -1;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);
            if (v > best && has_initdb(g.gl_pathv[i])) {
                best = v;
                free(found);
                found = dd_xstrdup(g.gl_pathv[i]);
            }
        }
        globfree(&g);
    }
    return found;
}

static int run_initdb(const char *bindir, const char *data, struct dd_error *err)
{
    struct dd_proc p = DD_PROC_INIT;
    int rc;

    dd_strv_pushf(&p.argv, "%s/initdb", bindir);
    dd_strv_pushf(&p.argv, "--pgdata=%s", data);
    dd_strv_push(&p.argv, "--username=" SCHEMA_CLUSTER_USER);
    dd_strv_push(&p.argv, "--auth=trust");
    dd_strv_push(&p.argv, "--encoding=UTF8");
    dd_strv_push(&p.argv, "--no-locale");
    dd_strv_push(&p.argv, "--no-sync");
    dd_proc_env_set(&p, "TZ", "UTC");
    p.stdin_mode = DD_PROC_NULLDEV;
    p.stdout_mode = DD_PROC_NULLDEV;
    p.stderr_mode = DD_PROC_CAPTURE;
    rc = dd_proc_run(&p, err);
    dd_proc_release(&p);
    return rc;
}

/* postmaster.pid's eighth line says "ready" once the server accepts connections (as pg_ctl reads it). */
static bool server_ready(const char *data)
{
    char *pidfile = dd_path_join(data, "postmaster.pid");
    struct dd_buf b = DD_BUF_INIT;
    struct dd_error ignored = DD_ERROR_INIT;
    bool ready = false;

    if (dd_read_file(&b, pidfile, &ignored) == 0) {
        const char *line = b.buf;
        for (int i = 1; line && i < 8; i++) {
            line = strchr(line, '\n');
            if (line)
                line++;
        }
        ready = line && strncmp(line, "ready", 5) == 0;
    }
    dd_error_release(&ignored);
    dd_buf_release(&b);
    free(pidfile);
    return ready;
}

static int start_server(struct schema_cluster *c, const char *bindir, struct dd_error *err)
{
    char *log = dd_path_join(c->dir, "server.log");
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    uint64_t deadline;
    int rc = -1;

    if (fd < 0) {
        dd_error_errno(err, DD_EIO, "cannot create '%s'", log);
        goto cleanup;
    }
    dd_strv_pushf(&c->server.argv, "%s/postgres", bindir);
    dd_strv_pushf(&c->server.argv, "-D%s", c->data);
    dd_strv_pushf(&c->server.argv, "-k%s", c->dir);
    dd_strv_push(&c->server.argv, "-p" CLUSTER_PORT);
    /* no TCP at all; durability is pointless for a schema that lives a few seconds */
    dd_strv_push(&c->server.argv, "-clisten_addresses=");
    dd_strv_push(&c->server.argv, "-cfsync=off");
    dd_strv_push(&c->server.argv, "-csynchronous_commit=off");
    dd_strv_push(&c->server.argv, "-cfull_page_writes=off");
    dd_strv_push(&c->server.argv, "-ctimezone=UTC");
    c->server.stdin_mode = DD_PROC_NULLDEV;
    c->server.stdout_mode = DD_PROC_NULLDEV; /* the server logs to stderr */
    c->server.stderr_mode = DD_PROC_FD;
    c->server.stderr_fd = fd;
    if (dd_proc_start(&c->server, err) < 0)
        goto cleanup;
    /* the borrowed descriptor is the child's now; forget it so release does not close it twice */
    c->server.stderr_fd = -1;
    deadline = dd_now_ms() + CLUSTER_START_MS;
    while (!server_ready(c->data)) {
        if (dd_proc_exited(&c->server) || dd_now_ms() > deadline || dd_interrupt_pending()) {
            struct dd_buf tail = DD_BUF_INIT;
            struct dd_error ignored = DD_ERROR_INIT;
            dd_read_file(&tail, log, &ignored);
            dd_buf_rtrim(&tail);
            dd_error_set(err, dd_interrupt_pending() ? DD_EINTERRUPTED : DD_ECHILD,
                         "the temporary PostgreSQL server did not start: %s",
                         tail.len ? strrchr(tail.buf, '\n') ? strrchr(tail.buf, '\n') + 1 : tail.buf : "no message");
            dd_error_release(&ignored);
            dd_buf_release(&tail);
            goto cleanup;
        }
        usleep(20000);
    }
    rc = 0;
cleanup:
    if (fd >= 0)
        close(fd);
    free(log);
    return rc;
}

int schema_cluster_start(struct schema_cluster *c, struct dd_error *err)
{
    char *bindir = NULL;
    int rc = -1;

    if (geteuid() == 0) {
        dd_error_set(err, DD_ECONFIG,
                     "cannot start a temporary PostgreSQL server as root (PostgreSQL refuses to run as root)");
        dd_error_hint(err,
                      "Run this as an unprivileged user, or set [schema] scratch-url to a server where dbdeploy may "
                      "create databases.");
        return -1;
    }
    bindir = find_bindir();
    if (!bindir) {
        dd_error_set(err, DD_ECONFIG, "no PostgreSQL server programs (initdb, postgres) found for a temporary server");
        dd_error_hint(err, "Install the server package (Debian: postgresql), put its bin directory on PATH, or set "
                           "[schema] scratch-url.");
        return -1;
    }
    if (dd_mkdtemp(&c->dir, "dbdeploy-schema", err) < 0)
        goto cleanup;
    c->data = dd_path_join(c->dir, "data");
    log_detail("starting a temporary PostgreSQL server in '%s' (%s)", c->dir, bindir);
    if (run_initdb(bindir, c->data, err) < 0) {
        dd_error_hint(err, "initdb failed; check that '%s' can write to its temporary directory.", bindir);
        goto cleanup;
    }
    if (start_server(c, bindir, err) < 0)
        goto cleanup;
    c->conninfo = dd_xasprintf("host='%s' port=" CLUSTER_PORT " user=" SCHEMA_CLUSTER_USER " dbname=postgres", c->dir);
    rc = 0;
cleanup:
    free(bindir);
    if (rc < 0)
        schema_cluster_stop(c);
    return rc;
}

void schema_cluster_stop(struct schema_cluster *c)
{
    /* SIGTERM: a smart shutdown, immediate once our sessions are closed */
    if (c->server.pid > 0)
        dd_proc_kill(&c->server, 10000);
    dd_proc_release(&c->server);
    if (c->dir)
        dd_rm_rf(c->dir);
    free(c->dir);
    free(c->data);
    free(c->conninfo);
    c->dir = c->data = c->conninfo = NULL;
}
