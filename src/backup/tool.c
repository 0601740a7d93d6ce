/*
 * What pg_dump and pg_restore need around them: their versions, a password file, and a progress
 * line while they run.
 */
#include "backup/internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fs.h"
#include "util/out.h"
#include "util/parse.h"

/* Major versions compare as numbers: 15 -> 1500, 9.6 -> 906 (before 10, two numbers made one). */
int bk_server_major(int num)
{
    return num >= 100000 ? num / 10000 * 100 : num / 100;
}

void bk_major_text(char *out, size_t outsz, int major)
{
    if (major >= 1000)
        snprintf(out, outsz, "%d", major / 100);
    else
        snprintf(out, outsz, "%d.%d", major / 100, major % 100);
}

int bk_parse_tool_version(struct bk_tool_version *out, const char *text)
{
    /* "pg_dump (PostgreSQL) 15.4 (Debian 15.4-1)", "pg_dump (PostgreSQL) 17devel" */
    const char *p = strstr(text, ") ");
    long a, b = 0;
    char *end;
    size_t n;

    memset(out, 0, sizeof(*out));
    p = p ? p + 2 : text;
    while (*p && !isdigit((unsigned char)*p))
        p++;
    if (!*p)
        return -1;
    a = strtol(p, &end, 10);
    if (*end == '.' && isdigit((unsigned char)end[1]))
        b = strtol(end + 1, NULL, 10);
    if (a <= 0 || a > 999)
        return -1;
    out->major = a >= 10 ? (int)(a * 100) : (int)(a * 100 + b);
    n = strcspn(p, " \n\t");
    snprintf(out->text, sizeof(out->text), "%.*s", (int)(n < sizeof(out->text) ? n : sizeof(out->text) - 1), p);
    return 0;
}

int bk_tool_version(struct bk_tool_version *out, const char *program, const char *setting, struct dd_error *err)
{
    struct dd_proc p = DD_PROC_INIT;
    int rc = -1;

    dd_strv_push(&p.argv, program);
    dd_strv_push(&p.argv, "--version");
    p.stdin_mode = DD_PROC_NULLDEV;
    p.stdout_mode = DD_PROC_CAPTURE;
    p.stderr_mode = DD_PROC_CAPTURE;
    if (dd_proc_run(&p, err) < 0) {
        dd_error_hint(err, "Install the PostgreSQL client programs, or set %s to the program's path.", setting);
        goto cleanup;
    }
    if (bk_parse_tool_version(out, p.out_capture.buf) < 0) {
        struct dd_buf first = DD_BUF_INIT;
        dd_buf_add(&first, p.out_capture.buf, strcspn(p.out_capture.buf, "\n"));
        dd_error_set(err, DD_ECONFIG, "'%s --version' printed no version: '%s'", program, first.buf);
        dd_error_hint(err, "Set %s to a PostgreSQL client program.", setting);
        dd_buf_release(&first);
        goto cleanup;
    }
    rc = 0;
cleanup:
    dd_proc_release(&p);
    return rc;
}

int bk_passfile_line(struct dd_buf *out, const char *password)
{
    if (strpbrk(password, "\r\n"))
        return -1;
    /* every connection field matches; the child connects to one server only */
    dd_buf_adds(out, "*:*:*:*:");
    for (const char *c = password; *c; c++) {
        if (*c == ':' || *c == '\\')
            dd_buf_addch(out, '\\');
        dd_buf_addch(out, *c);
    }
    dd_buf_addch(out, '\n');
    return 0;
}

/*
 * "<dir>/.tmp/pg-<pid>.XXXXXX": a place the next run can find (backup_sweep) if we are killed
 * before removing it, with our pid so it can tell a dead run's from a live one's.
 */
static int passfile_dir(char **out, const char *dir, struct dd_error *err)
{
    char *root, *tmpl;

    if (!dir)
        return dd_mkdtemp(out, "dbdeploy-pg", err);
    root = dd_path_join(dir, BK_TMP_DIR);
    if (dd_mkdir_p(root, 0700, err) < 0 || chmod(root, 0700) < 0) {
        if (!dd_error_isset(err))
            dd_error_errno(err, DD_EIO, "cannot create '%s'", root);
        free(root);
        return -1;
    }
    tmpl = dd_xasprintf("%s/pg-%ld.XXXXXX", root, (long)getpid());
    free(root);
    if (!mkdtemp(tmpl)) {
        dd_error_errno(err, DD_EIO, "cannot create a private directory like '%s'", tmpl);
        free(tmpl);
        return -1;
    }
    *out = tmpl;
    return 0;
}

/*
 * db_child_conninfo's "key='value' ..." as pg_service.conf lines. The service file has no
 * quoting: a value is the rest of its line, so a line break cannot be carried.
 */
static int service_lines(struct dd_buf *out, const char *conninfo)
{
    const char *c = conninfo;

    while (*c) {
        while (*c == ' ')
            c++;
        if (!*c)
            break;
        while (*c && *c != '=')
            dd_buf_addch(out, *c++);
        if (c[0] != '=' || c[1] != '\'')
            return -1;
        dd_buf_addch(out, '=');
        for (c += 2; *c && *c != '\''; c++) {
            if (*c == '\\' && c[1])
                c++;
            if (*c == '\n' || *c == '\r')
                return -1;
            dd_buf_addch(out, *c);
        }
        if (*c != '\'')
            return -1;
        c++;
        dd_buf_addch(out, '\n');
    }
    return 0;
}

static int write_private(char **path, const char *dir, const char *name, struct dd_buf *content, struct dd_error *err)
{
    *path = dd_path_join(dir, name);
    return dd_write_file_atomic(*path, content->buf, content->len, 0600, err);
}

int bk_passfile_create(struct bk_passfile *pf, const char *conninfo, const char *password, const char *dir,
                       struct dd_error *err)
{
    struct dd_buf line = DD_BUF_INIT, service = DD_BUF_INIT;
    int rc = -1;

    if (!conninfo && !password)
        return 0; /* the child keeps the environment's own setup */
    if (password && bk_passfile_line(&line, password) < 0) {
        dd_error_set(err, DD_ECONFIG,
                     "the database password contains a line break, which a password file cannot "
                     "hold");
        goto cleanup;
    }
    dd_buf_addf(&service, "[%s]\n", BK_SERVICE_NAME);
    if (conninfo && service_lines(&service, conninfo) < 0) {
        dd_error_set(err, DD_ECONFIG, "a connection setting contains a line break, which pg_dump cannot be given");
        dd_error_hint(err, "Remove the line break from the [database] url.");
        goto cleanup;
    }
    if (passfile_dir(&pf->dir, dir, err) < 0)
        goto cleanup;
    /* every setting (sslpassword too) goes in a file: argv is world-readable in /proc */
    if (conninfo && write_private(&pf->service, pf->dir, "pg_service.conf", &service, err) < 0)
        goto cleanup;
    if (password && write_private(&pf->path, pf->dir, "pgpass", &line, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    if (line.len)
        memset(line.buf, 0, line.len);
    if (service.len)
        memset(service.buf, 0, service.len);
    dd_buf_release(&line);
    dd_buf_release(&service);
    if (rc < 0)
        bk_passfile_release(pf);
    return rc;
}

void bk_passfile_apply(const struct bk_passfile *pf, struct dd_proc *p)
{
    if (pf->service) {
        dd_proc_env_set(p, "PGSERVICEFILE", pf->service);
        dd_proc_env_unset(p, "PGSERVICE");
    }
    if (!pf->path)
        return;
    dd_proc_env_set(p, "PGPASSFILE", pf->path);
    /* PGPASSWORD would win over the file, and environments can be visible to other users */
    dd_proc_env_unset(p, "PGPASSWORD");
}

/* overwrite before unlinking: the file system may keep the blocks around */
static void wipe_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0 && st.st_size > 0) {
            char zeros[256] = {0};
            for (off_t left = st.st_size; left > 0; left -= (off_t)sizeof(zeros))
                if (write(fd, zeros, left < (off_t)sizeof(zeros) ? (size_t)left : sizeof(zeros)) < 0)
                    break;
            fsync(fd);
        }
        close(fd);
    }
    unlink(path);
}

void bk_passfile_release(struct bk_passfile *pf)
{
    if (pf->path)
        wipe_file(pf->path);
    if (pf->service)
        wipe_file(pf->service);
    if (pf->dir)
        dd_rm_rf(pf->dir);
    free(pf->path);
    free(pf->service);
    free(pf->dir);
    pf->path = pf->service = pf->dir = NULL;
}

/* ---- progress ------------------------------------------------------------------------------ */

#define BK_PROGRESS_EVERY_MS 200

void bk_progress_start(struct bk_progress *p, const char *verb, uint64_t total)
{
    p->verb = verb;
    p->start_ms = p->last_ms = dd_now_ms();
    p->total = total;
}

void bk_progress_update(struct bk_progress *p, uint64_t done)
{
    uint64_t now, elapsed;
    char bytes[32], rate[32], tot[32];

    if (!p->verb || !out_progress_enabled())
        return;
    now = dd_now_ms();
    if (now - p->last_ms < BK_PROGRESS_EVERY_MS)
        return;
    p->last_ms = now;
    elapsed = now - p->start_ms;
    dd_format_bytes(bytes, sizeof(bytes), done);
    dd_format_bytes(rate, sizeof(rate), elapsed ? done * 1000 / elapsed : 0);
    if (p->total) {
        dd_format_bytes(tot, sizeof(tot), p->total);
        out_progress("%-14s %s of %s (%d%%)  %s/s  %llus", p->verb, bytes, tot,
                     (int)(done * 100 / (p->total ? p->total : 1)), rate, (unsigned long long)(elapsed / 1000));
    } else {
        out_progress("%-14s %s  %s/s  %llus", p->verb, bytes, rate, (unsigned long long)(elapsed / 1000));
    }
}

void bk_progress_end(struct bk_progress *p)
{
    if (p->verb && out_progress_enabled())
        out_progress_end();
}
