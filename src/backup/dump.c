/*
 * backup_create: pg_dump's stdout, cut into parts, through libarchive into a temporary file that
 * becomes the archive only after it has been read back and its checksum matched.
 */
#include "backup/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/out.h"
#include "util/parse.h"
#include "version.h"

/* Bigger pipe buffer: fewer wake-ups between pg_dump and us (the kernel caps it; failure is fine). */
#define BK_PIPE_SIZE (1 << 20)

void backup_result_release(struct backup_result *r)
{
    free(r->path);
    backup_manifest_release(&r->manifest);
    dd_strv_release(&r->pruned);
    *r = (struct backup_result)BACKUP_RESULT_INIT;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* The part of the manifest known before the dump starts. */
static void fill_header(struct backup_manifest *m, const struct backup_request *req, const char *pg_dump_version,
                        time_t started)
{
    char v[32], iso[32];

    m->env = dd_xstrdup(req->env);
    m->database = dd_xstrdup(req->database);
    bk_server_version_text(v, sizeof(v), req->server_version);
    m->server_version = dd_xstrdup(v);
    m->server_version_num = req->server_version;
    m->pg_dump_version = dd_xstrdup(pg_dump_version);
    m->git_commit = req->git_commit && *req->git_commit ? dd_xstrdup(req->git_commit) : NULL;
    if (req->n_applied) {
        m->applied = dd_xmalloc(req->n_applied * sizeof(*m->applied));
        memcpy(m->applied, req->applied, req->n_applied * sizeof(*m->applied));
        qsort(m->applied, req->n_applied, sizeof(*m->applied), cmp_i64);
    }
    m->n_applied = req->n_applied;
    m->dbdeploy_version = dd_xstrdup(DBDEPLOY_VERSION);
    dd_time_iso8601(iso, started);
    m->started_at = dd_xstrdup(iso);
    m->level = req->level;
    m->part_size = BACKUP_PART_SIZE;
}

/* pg_dump older than the server may refuse, or worse, succeed with part of the database. */
static int check_pg_dump(struct bk_tool_version *tv, const struct backup_request *req, struct dd_error *err)
{
    int server_major = bk_server_major(req->server_version);
    char sv[16], need[16];

    if (bk_tool_version(tv, req->pg_dump, "[backup] pg-dump", err) < 0)
        return -1;
    if (tv->major >= server_major)
        return 0;
    bk_server_version_text(sv, sizeof(sv), req->server_version);
    bk_major_text(need, sizeof(need), server_major);
    dd_error_set(err, DD_ECONFIG,
                 "pg_dump %s ('%s') is older than the server (PostgreSQL %s) and cannot dump it reliably", tv->text,
                 req->pg_dump, sv);
    dd_error_hint(err, "Install pg_dump %s or newer and set [backup] pg-dump to its path.", need);
    return -1;
}

static int start_pg_dump(struct dd_proc *p, const struct backup_request *req, const struct bk_passfile *pf,
                         struct dd_error *err)
{
    dd_strv_push(&p->argv, req->pg_dump);
    dd_strv_push(&p->argv, "--format=custom");
    /* compression happens once, in zstd: pg_dump's zlib is slower than the dump itself */
    dd_strv_push(&p->argv, "--compress=0");
    dd_strv_push(&p->argv, "--no-password");
    dd_strv_push(&p->argv, "--dbname=service=" BK_SERVICE_NAME);
    bk_passfile_apply(pf, p);
    p->stdin_mode = DD_PROC_NULLDEV;
    p->stdout_mode = DD_PROC_PIPE;
    p->stderr_mode = DD_PROC_CAPTURE;
    if (out_verbosity() == OUT_VERBOSE) {
        char *cmd = dd_strv_join(&p->argv, " ");
        log_detail("running %s", cmd);
        free(cmd);
    }
    if (dd_proc_start(p, err) < 0) {
        dd_error_hint(err, "Install the PostgreSQL client programs, or set [backup] pg-dump to pg_dump's path.");
        return -1;
    }
    fcntl(p->stdout_fd, F_SETPIPE_SZ, BK_PIPE_SIZE);
    return 0;
}

/* Parts in flight between the reading thread and the compressing one. */
#define BK_DUMP_BUFFERS 3

struct dump_stream {
    struct bk_writer *w; /* used by the relay's worker until the relay is finished */
    struct dd_sha256 h;  /* like w */
    uint32_t parts;
    uint64_t size;
    time_t mtime;
};

/* On the worker thread: hash, compress and write one part. */
static int write_part(void *arg, const void *data, size_t len, struct dd_error *err)
{
    struct dump_stream *s = arg;
    char name[64];

    dd_sha256_update(&s->h, data, len);
    bk_part_name(name, sizeof(name), ++s->parts);
    return bk_writer_add(s->w, name, data, len, s->mtime, err);
}

/*
 * pg_dump's stdout into parts. This thread only reads, so pg_dump never waits on a full pipe; a
 * worker hashes and compresses the previous part meanwhile.
 */
static int stream_dump(struct dump_stream *s, struct dd_proc *p, struct dd_error *err)
{
    struct bk_relay *relay = NULL;
    struct bk_progress progress;
    unsigned char *buf = NULL;
    size_t size = 0, fill = 0;
    int rc = -1;

    bk_progress_start(&progress, "backup", 0);
    if (bk_relay_start(&relay, BACKUP_PART_SIZE, BK_DUMP_BUFFERS, write_part, s, err) < 0)
        goto cleanup;
    for (;;) {
        size_t n;

        if (!buf && bk_relay_buffer(relay, &buf, &size, err) < 0)
            goto cleanup;
        if (dd_proc_read(p, buf + fill, size - fill, &n, err) < 0)
            goto cleanup;
        if (!n)
            break;
        fill += n;
        s->size += n;
        if (fill == size) {
            buf = NULL;
            if (bk_relay_put(relay, fill, err) < 0)
                goto cleanup;
            fill = 0;
        }
        bk_progress_update(&progress, s->size);
    }
    if (fill && bk_relay_put(relay, fill, err) < 0)
        goto cleanup;
    rc = bk_relay_finish(relay, err);
cleanup:
    bk_relay_free(relay);
    bk_progress_end(&progress);
    return rc;
}

/*
 * The read-back: a thread reads the temporary file through its own descriptor while it is being
 * written, and checks it exactly as backup_verify does. Reading it after the last byte instead
 * would add a full decompression and SHA-256 pass to every backup; this way the check overlaps
 * with the dump and only its tail is left when the writing ends.
 */
struct readback {
    pthread_t thread;
    bool started;
    struct bk_tail *tail;
    char *path;
    struct backup_manifest got;
    struct dd_error err;
    int rc;
};

static void *readback_main(void *arg)
{
    struct readback *rb = arg;

    rb->rc = bk_scan_tail(&rb->got, rb->path, rb->tail, &rb->err);
    return NULL;
}

static int readback_start(struct readback *rb, const char *path, struct dd_error *err)
{
    rb->tail = bk_tail_new();
    rb->path = dd_xstrdup(path);
    if (pthread_create(&rb->thread, NULL, readback_main, rb) != 0)
        return dd_error_set(err, DD_EIO, "cannot start the read-back thread");
    rb->started = true;
    return 0;
}

/* After the file is complete and synced: the archive on disk must be exactly what was written. */
static int readback_finish(struct readback *rb, const struct backup_manifest *m, struct dd_error *err)
{
    bk_tail_close(rb->tail);
    pthread_join(rb->thread, NULL);
    rb->started = false;
    if (rb->rc < 0)
        dd_error_move(err, &rb->err);
    else if (bk_check_expected(&rb->got, m, rb->path, err) == 0)
        return 0;
    dd_error_recode(err, DD_EIO);
    return dd_error_wrap(err, "reading back '%s'", rb->path);
}

static void readback_release(struct readback *rb)
{
    if (rb->started) {
        bk_tail_abort(rb->tail);
        pthread_join(rb->thread, NULL);
    }
    bk_tail_free(rb->tail);
    free(rb->path);
    backup_manifest_release(&rb->got);
    dd_error_release(&rb->err);
}

/*
 * <envdir>/<name> for a new archive. Within one second the -N suffix counts up past every
 * archive of that second, whatever its commit, so names sort in the order the archives were
 * made even after pruning removed some of them.
 */
static char *free_name(const char *dir, const char *env, time_t t, const char *commit, unsigned *seq)
{
    struct backup_list l = BACKUP_LIST_INIT;
    struct dd_error lerr = DD_ERROR_INIT;
    char *envdir = dd_path_join(dir, env);

    if (backup_list(&l, dir, env, 0, &lerr) == 0) {
        for (size_t i = 0; i < l.n; i++) {
            unsigned taken = l.v[i].seq ? l.v[i].seq : 1;
            if (l.v[i].time == t && taken >= *seq)
                *seq = taken + 1;
        }
    }
    backup_list_release(&l);
    dd_error_release(&lerr);
    for (;; *seq = *seq ? *seq + 1 : 2) {
        char *name = bk_name_format(t, commit, *seq);
        char *path = dd_path_join(envdir, name);
        free(name);
        if (!dd_path_exists(path)) {
            free(envdir);
            return path;
        }
        free(path);
    }
}

/* Rename without replacing: two backups in the same second must not overwrite each other. */
static int publish(char **final, const char *tmp, const struct backup_request *req, const char *envdir, time_t t,
                   unsigned seq, struct dd_error *err)
{
    for (;;) {
        int r = renameat2(AT_FDCWD, tmp, AT_FDCWD, *final, RENAME_NOREPLACE);
        if (r < 0 && (errno == EINVAL || errno == ENOSYS)) {
            /* a file system without RENAME_NOREPLACE: link() refuses to replace too */
            r = link(tmp, *final);
            if (r == 0)
                unlink(tmp);
        }
        if (r == 0)
            return dd_fsync_dir(envdir, err);
        if (errno != EEXIST)
            return dd_error_errno(err, DD_EIO, "cannot rename '%s' to '%s'", tmp, *final);
        free(*final);
        seq = seq ? seq + 1 : 2;
        *final = free_name(req->dir, req->env, t, req->git_commit, &seq);
    }
}

static int write_archive(struct backup_manifest *m, struct dump_stream *s, struct dd_proc *p, int fd, const char *tmp,
                         struct bk_tail *tail, const struct backup_request *req, const struct bk_passfile *pf,
                         struct dd_error *err)
{
    struct dd_buf json = DD_BUF_INIT;
    char iso[32];
    int rc = -1;

    if (bk_writer_open(&s->w, fd, tmp, req->level, tail, err) < 0)
        goto cleanup;
    bk_manifest_json(&json, m);
    if (bk_writer_add(s->w, BACKUP_HEADER_ENTRY, json.buf, json.len, s->mtime, err) < 0)
        goto cleanup;
    dd_sha256_hex(json.buf, json.len, m->header_sha256);
    if (start_pg_dump(p, req, pf, err) < 0)
        goto cleanup;
    if (stream_dump(s, p, err) < 0)
        goto cleanup;
    if (dd_proc_finish(p, err) < 0)
        goto cleanup;
    if (!s->size) {
        dd_error_set(err, DD_ECHILD, "pg_dump succeeded but wrote nothing");
        goto cleanup;
    }
    dd_time_iso8601(iso, time(NULL));
    m->finished_at = dd_xstrdup(iso);
    m->complete = true;
    m->parts = s->parts;
    m->dump_size = s->size;
    dd_sha256_end_hex(&s->h, m->dump_sha256);
    dd_buf_reset(&json);
    bk_manifest_json(&json, m);
    if (bk_writer_add(s->w, BACKUP_MANIFEST_ENTRY, json.buf, json.len, time(NULL), err) < 0 ||
        bk_writer_close(s->w, err) < 0)
        goto cleanup;
    if (fsync(fd) < 0) {
        dd_error_errno(err, DD_EIO, "cannot write '%s'", tmp);
        goto cleanup;
    }
    rc = 0;
cleanup:
    dd_buf_release(&json);
    return rc;
}

int backup_create(struct backup_result *out, const struct backup_request *req, struct dd_error *err)
{
    struct backup_manifest m = BACKUP_MANIFEST_INIT;
    struct readback rb = {.got = BACKUP_MANIFEST_INIT, .err = DD_ERROR_INIT};
    struct dump_stream s = {NULL, DD_SHA256_INIT, 0, 0, 0};
    struct bk_passfile pf = BK_PASSFILE_INIT;
    struct dd_proc p = DD_PROC_INIT;
    struct bk_tool_version tv;
    struct sigaction ign, old_xfsz;
    char *envdir = NULL, *final = NULL, *tmp = NULL;
    uint64_t t0 = dd_now_ms();
    unsigned seq = 0;
    int fd = -1, rc = -1;
    struct stat st;

    backup_result_release(out);
    /* a file-size limit must show up as EFBIG on write, not kill us before we clean up */
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGXFSZ, &ign, &old_xfsz);

    if (!config_env_name_valid(req->env)) {
        dd_error_set(err, DD_EINPUT, "'%s' is not a valid environment name", req->env ? req->env : "");
        goto cleanup;
    }
    if (check_pg_dump(&tv, req, err) < 0)
        goto cleanup;
    envdir = dd_path_join(req->dir, req->env);
    if (dd_mkdir_p(envdir, 0700, err) < 0) {
        dd_error_hint(err, "Check [backup] dir, or create the directory with write access for this user.");
        goto cleanup;
    }
    s.mtime = time(NULL);
    final = free_name(req->dir, req->env, s.mtime, req->git_commit, &seq);
    tmp = dd_xasprintf("%s/.%s.tmp-%ld", envdir, dd_basename(final), (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        dd_error_errno(err, DD_EIO, "cannot create '%s'", tmp);
        dd_error_hint(err, "Check [backup] dir, or give this user write access to '%s'.", envdir);
        free(tmp);
        tmp = NULL;
        goto cleanup;
    }
    if (fchmod(fd, 0600) < 0) {
        dd_error_errno(err, DD_EIO, "cannot set the mode of '%s'", tmp);
        goto cleanup;
    }
    fill_header(&m, req, tv.text, s.mtime);
    dd_sha256_begin(&s.h);
    if (bk_passfile_create(&pf, req->conninfo, req->password, req->dir, err) < 0 || readback_start(&rb, tmp, err) < 0 ||
        write_archive(&m, &s, &p, fd, tmp, rb.tail, req, &pf, err) < 0)
        goto cleanup;
    if (fstat(fd, &st) < 0) {
        dd_error_errno(err, DD_EIO, "cannot read '%s'", tmp);
        goto cleanup;
    }
    close(fd);
    fd = -1;
    log_detail("dumped %llu bytes into %llu in %llums", (unsigned long long)m.dump_size, (unsigned long long)st.st_size,
               (unsigned long long)(dd_now_ms() - t0));
    /* the read-back: what is on disk must decompress to exactly the dump we hashed */
    if (readback_finish(&rb, &m, err) < 0)
        goto cleanup;
    if (publish(&final, tmp, req, envdir, s.mtime, seq, err) < 0)
        goto cleanup;
    free(tmp);
    tmp = NULL;
    out->path = final;
    final = NULL;
    out->archive_size = (uint64_t)st.st_size;
    out->manifest = m;
    m = (struct backup_manifest)BACKUP_MANIFEST_INIT;
    if (req->keep) {
        struct dd_error perr = DD_ERROR_INIT;
        if (backup_prune(&out->pruned, req->dir, req->env, req->keep, out->path, &perr) < 0)
            log_warn("the backup succeeded, but pruning old archives failed: %s", dd_error_msg(&perr));
        dd_error_release(&perr);
    }
    out->ms = dd_now_ms() - t0;
    rc = 0;
cleanup:
    /* stop pg_dump first, so nothing writes while the partial file goes away */
    dd_proc_release(&p);
    bk_writer_free(s.w);
    readback_release(&rb);
    if (fd >= 0)
        close(fd);
    if (tmp)
        unlink(tmp);
    if (rc < 0) {
        dd_error_wrap(err, "backing up database '%s' of %s", req->database ? req->database : "?",
                      req->env ? req->env : "?");
        backup_result_release(out);
    }
    bk_passfile_release(&pf);
    dd_sha256_release(&s.h);
    free(envdir);
    free(final);
    free(tmp);
    backup_manifest_release(&m);
    sigaction(SIGXFSZ, &old_xfsz, NULL);
    return rc;
}
