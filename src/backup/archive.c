/*
 * The libarchive boundary: a tar stream compressed with zstd, written to a descriptor we own and
 * read from a file. No other file includes archive.h.
 */
#include "backup/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

/* Output block size: the file sees 1 MiB writes instead of libarchive's 10 KiB default. */
#define BK_WRITE_BLOCK (1u << 20)
#define BK_READ_BLOCK  (1u << 20)

struct bk_writer {
    struct archive *a;
    int fd;
    char *path;
    int write_errno;      /* errno of a failed write(2): the real cause behind libarchive's message */
    struct bk_tail *tail; /* borrowed, may be NULL: told about every write */
};

struct bk_reader {
    struct archive *a;
    int fd;
    char *path;
    int64_t offset;       /* next expected data offset in the current entry */
    struct bk_tail *tail; /* borrowed: reading a file as it is written; NULL for a finished file */
    uint64_t pos;         /* with tail: next file offset to read */
    unsigned char *buf;   /* with tail: read buffer */
};

/*
 * A file written by one thread and read back by another as it grows: the writer publishes how
 * far it got, and the reader waits for more until the writer closes or gives up.
 */
struct bk_tail {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t written;
    bool closed, aborted;
};

struct bk_tail *bk_tail_new(void)
{
    struct bk_tail *t = dd_xcalloc(1, sizeof(*t));

    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    return t;
}

static void tail_update(struct bk_tail *t, uint64_t add, bool closed, bool aborted)
{
    pthread_mutex_lock(&t->mu);
    t->written += add;
    t->closed |= closed;
    t->aborted |= aborted;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void bk_tail_close(struct bk_tail *t)
{
    tail_update(t, 0, true, false);
}

void bk_tail_abort(struct bk_tail *t)
{
    tail_update(t, 0, false, true);
}

void bk_tail_free(struct bk_tail *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

static la_ssize_t write_cb(struct archive *a, void *arg, const void *buf, size_t len)
{
    struct bk_writer *w = arg;
    const char *p = buf;
    size_t left = len;

    while (left) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            w->write_errno = errno;
            archive_set_error(a, errno, "write failed");
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    if (w->tail)
        tail_update(w->tail, len, false, false);
    return (la_ssize_t)len;
}

static int writer_error(struct bk_writer *w, struct dd_error *err)
{
    if (w->write_errno)
        return dd_error_set(err, DD_EIO, "cannot write '%s': %s", w->path, strerror(w->write_errno));
    return dd_error_set(err, DD_EIO, "cannot write '%s': %s", w->path,
                        archive_error_string(w->a) ? archive_error_string(w->a) : "unknown libarchive error");
}

int bk_writer_open(struct bk_writer **out, int fd, const char *path, uint32_t level, struct bk_tail *tail,
                   struct dd_error *err)
{
    struct bk_writer *w = dd_xcalloc(1, sizeof(*w));
    char lv[16];

    *out = NULL;
    w->fd = fd;
    w->tail = tail;
    w->path = dd_xstrdup(path);
    w->a = archive_write_new();
    if (!w->a)
        DD_BUG("archive_write_new failed");
    snprintf(lv, sizeof(lv), "%u", (unsigned)level);
    /* pax_restricted writes plain ustar headers unless an entry needs more; ours never do */
    if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        archive_write_add_filter_zstd(w->a) != ARCHIVE_OK ||
        archive_write_set_filter_option(w->a, "zstd", "compression-level", lv) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(w->a, BK_WRITE_BLOCK) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK) {
        dd_error_set(err, DD_EIO, "cannot set up the archive writer: %s", archive_error_string(w->a));
        goto fail;
    }
    /*
     * No zstd worker threads: backups overlap compression with reading through their own relay
     * (relay.c), at a third of the memory zstd's multi-threaded buffers take.
     */
    if (archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) != ARCHIVE_OK) {
        writer_error(w, err);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    bk_writer_free(w);
    return -1;
}

int bk_writer_add(struct bk_writer *w, const char *name, const void *data, size_t len, time_t mtime,
                  struct dd_error *err)
{
    struct archive_entry *e = archive_entry_new();
    const char *p = data;
    int rc = -1;

    if (!e)
        DD_BUG("archive_entry_new failed");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_mtime(e, mtime, 0);
    if (archive_write_header(w->a, e) != ARCHIVE_OK) {
        writer_error(w, err);
        goto cleanup;
    }
    while (len) {
        la_ssize_t n = archive_write_data(w->a, p, len);
        if (n <= 0) {
            writer_error(w, err);
            goto cleanup;
        }
        p += n;
        len -= (size_t)n;
    }
    if (archive_write_finish_entry(w->a) != ARCHIVE_OK) {
        writer_error(w, err);
        goto cleanup;
    }
    rc = 0;
cleanup:
    archive_entry_free(e);
    return rc;
}

int bk_writer_close(struct bk_writer *w, struct dd_error *err)
{
    if (archive_write_close(w->a) != ARCHIVE_OK)
        return writer_error(w, err);
    return 0;
}

void bk_writer_free(struct bk_writer *w)
{
    if (!w)
        return;
    /* archive_write_free closes a still-open archive, which would write a trailer: fail it first */
    if (w->a) {
        archive_write_fail(w->a);
        archive_write_free(w->a);
    }
    free(w->path);
    free(w);
}

/* Damage in the data is bad input; a failing disk or file system is an I/O error. */
static int reader_error(struct bk_reader *r, struct dd_error *err)
{
    int e = archive_errno(r->a);
    const char *msg = archive_error_string(r->a);

    if (!msg)
        msg = "unknown libarchive error";
    /* libarchive reports format damage as EILSEQ (its ARCHIVE_ERRNO_FILE_FORMAT) or -1 */
    if (e > 0 && e != EILSEQ && e != EINVAL)
        return dd_error_set(err, DD_EIO, "cannot read '%s': %s", r->path, msg);
    return dd_error_set(err, DD_EINPUT, "'%s' is damaged: %s", r->path, msg);
}

/* With a tail: read what the writer has published, waiting for more until it closes. */
static la_ssize_t tail_read_cb(struct archive *a, void *arg, const void **buf)
{
    struct bk_reader *r = arg;
    struct bk_tail *t = r->tail;
    uint64_t avail;
    bool aborted;
    ssize_t n;

    pthread_mutex_lock(&t->mu);
    while (!t->aborted && !t->closed && t->written <= r->pos)
        pthread_cond_wait(&t->cv, &t->mu);
    aborted = t->aborted;
    avail = t->written - r->pos;
    pthread_mutex_unlock(&t->mu);
    if (aborted) {
        archive_set_error(a, ECANCELED, "the archive was not finished");
        return -1;
    }
    if (!avail)
        return 0;
    do
        n = pread(r->fd, r->buf, avail < BK_READ_BLOCK ? (size_t)avail : BK_READ_BLOCK, (off_t)r->pos);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        archive_set_error(a, errno, "read failed");
        return -1;
    }
    r->pos += (uint64_t)n;
    *buf = r->buf;
    return n;
}

static int reader_open(struct bk_reader **out, const char *path, struct bk_tail *tail, struct dd_error *err)
{
    struct bk_reader *r = dd_xcalloc(1, sizeof(*r));
    int rc;

    *out = NULL;
    r->path = dd_xstrdup(path);
    r->tail = tail;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        dd_error_errno(err, errno == ENOENT ? DD_EINPUT : DD_EIO, "cannot open '%s'", path);
        goto fail;
    }
    r->a = archive_read_new();
    if (!r->a)
        DD_BUG("archive_read_new failed");
    if (archive_read_support_filter_zstd(r->a) != ARCHIVE_OK || archive_read_support_format_tar(r->a) != ARCHIVE_OK) {
        dd_error_set(err, DD_EIO, "cannot set up the archive reader: %s", archive_error_string(r->a));
        goto fail;
    }
    if (tail) {
        r->buf = dd_xmalloc(BK_READ_BLOCK);
        rc = archive_read_open(r->a, r, NULL, tail_read_cb, NULL);
    } else {
        rc = archive_read_open_fd(r->a, r->fd, BK_READ_BLOCK);
    }
    if (rc != ARCHIVE_OK) {
        reader_error(r, err);
        goto fail;
    }
    *out = r;
    return 0;
fail:
    bk_reader_free(r);
    return -1;
}

int bk_reader_open(struct bk_reader **out, const char *path, struct dd_error *err)
{
    return reader_open(out, path, NULL, err);
}

int bk_reader_open_tail(struct bk_reader **out, const char *path, struct bk_tail *tail, struct dd_error *err)
{
    return reader_open(out, path, tail, err);
}

int bk_reader_next(struct bk_reader *r, const char **name, int64_t *size, struct dd_error *err)
{
    struct archive_entry *e;
    int rc = archive_read_next_header(r->a, &e);

    if (rc == ARCHIVE_EOF)
        return 0;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        return reader_error(r, err);
    *name = archive_entry_pathname(e);
    if (!*name)
        return dd_error_set(err, DD_EINPUT, "'%s' holds an entry without a name", r->path);
    if (archive_entry_filetype(e) != AE_IFREG)
        return dd_error_set(err, DD_EINPUT, "'%s' holds '%s', which is not a regular file", r->path, *name);
    *size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
    r->offset = 0;
    return 1;
}

int bk_reader_data(struct bk_reader *r, const void **data, size_t *len, struct dd_error *err)
{
    la_int64_t off;
    int rc = archive_read_data_block(r->a, data, len, &off);

    if (rc == ARCHIVE_EOF) {
        *len = 0;
        return 0;
    }
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
        return reader_error(r, err);
    /* tar entries are contiguous; a hole would mean a sparse entry we never write */
    if (off != r->offset)
        return dd_error_set(err, DD_EINPUT, "'%s' holds a sparse entry", r->path);
    r->offset += (int64_t)*len;
    return 0;
}

int bk_reader_slurp(struct bk_reader *r, struct dd_buf *out, size_t max, struct dd_error *err)
{
    for (;;) {
        const void *data;
        size_t len;

        if (bk_reader_data(r, &data, &len, err) < 0)
            return -1;
        if (!len)
            return 0;
        if (out->len + len > max)
            return dd_error_set(err, DD_EINPUT, "'%s' holds an entry larger than %zu bytes", r->path, max);
        dd_buf_add(out, data, len);
    }
}

void bk_reader_free(struct bk_reader *r)
{
    if (!r)
        return;
    if (r->a)
        archive_read_free(r->a);
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r->path);
    free(r);
}
