/*
 * Reading an archive end to end: verification, the read-back after writing, and the stream a
 * restore feeds to pg_restore all go through bk_scan, so they check exactly the same things.
 */
#include "backup/internal.h"

#include <stdio.h>

#include "util/hash.h"
#include "util/interrupt.h"

/* Parse a JSON entry; sha (may be NULL) receives the SHA-256 of its bytes. */
static int read_json_entry(struct backup_manifest *out, struct bk_reader *r, const char *path, const char *entry,
                           char *sha, struct dd_error *err)
{
    struct dd_buf json = DD_BUF_INIT;
    char *what = dd_xasprintf("'%s': %s", path, entry);
    int rc = -1;

    if (bk_reader_slurp(r, &json, BK_JSON_MAX, err) < 0)
        goto cleanup;
    if (sha)
        dd_sha256_hex(json.buf, json.len, sha);
    rc = bk_manifest_parse(out, json.buf, json.len, what, err);
cleanup:
    free(what);
    dd_buf_release(&json);
    return rc;
}

int backup_read_header(struct backup_manifest *out, const char *path, struct dd_error *err)
{
    struct bk_reader *r = NULL;
    struct bk_layout layout = BK_LAYOUT_INIT;
    const char *name;
    int64_t size;
    int rc = -1, got;

    backup_manifest_release(out);
    if (bk_reader_open(&r, path, err) < 0)
        goto cleanup;
    got = bk_reader_next(r, &name, &size, err);
    if (got < 0)
        goto cleanup;
    if (got == 0) {
        dd_error_set(err, DD_EINPUT, "'%s' is an empty archive", path);
        goto cleanup;
    }
    if (bk_layout_entry(&layout, name, size, err) < 0) {
        dd_error_wrap(err, "reading '%s'", path);
        goto cleanup;
    }
    if (read_json_entry(out, r, path, BACKUP_HEADER_ENTRY, NULL, err) < 0)
        goto cleanup;
    out->complete = false;
    rc = 0;
cleanup:
    bk_reader_free(r);
    return rc;
}

/* Buffers of decompressed dump queued for hashing on the relay's worker. */
#define BK_HASH_BUFFERS 4
#define BK_HASH_BUFSIZE (1u << 20)

/* On the relay's worker: hashing overlaps with decompression. */
static int hash_block(void *arg, const void *data, size_t len, struct dd_error *err)
{
    (void)err;
    dd_sha256_update(arg, data, len);
    return 0;
}

/* The dump's bytes: handed to the sink, and hashed (on the worker when there is one). */
static int stream_part(struct bk_reader *r, struct dd_sha256 *h, struct bk_relay *hasher, const struct bk_sink *sink,
                       uint64_t *done, struct bk_progress *progress, struct dd_error *err)
{
    for (;;) {
        const void *data;
        size_t len;

        if (dd_interrupt_pending())
            return dd_error_set(err, DD_EINTERRUPTED, "interrupted by signal %d", dd_interrupt_signal());
        if (bk_reader_data(r, &data, &len, err) < 0)
            return -1;
        if (!len)
            return 0;
        if (sink && sink->write(sink->arg, data, len, err) < 0)
            return -1;
        if (!hasher)
            dd_sha256_update(h, data, len);
        else if (bk_relay_write(hasher, data, len, err) < 0)
            return -1;
        *done += len;
        if (progress)
            bk_progress_update(progress, *done);
    }
}

/*
 * The manifest against what was read: header.json byte for byte (its SHA-256), the fields both
 * carry, and the dump's parts, size and SHA-256.
 */
static int check_complete(const struct backup_manifest *header, const struct backup_manifest *m,
                          const struct bk_layout *layout, const char *sha, const char *header_sha, const char *path,
                          struct dd_error *err)
{
    if (strcmp(m->header_sha256, header_sha) != 0)
        return dd_error_set(err, DD_EINPUT,
                            "'%s': " BACKUP_HEADER_ENTRY " does not match its SHA-256 in " BACKUP_MANIFEST_ENTRY, path);
    if (bk_manifest_match(header, m, path, err) < 0)
        return -1;
    if (m->parts != layout->parts || m->dump_size != layout->size)
        return dd_error_set(err, DD_EINPUT,
                            "'%s' holds %u parts with %llu bytes of dump, but its manifest promises %u parts with "
                            "%llu bytes",
                            path, layout->parts, (unsigned long long)layout->size, m->parts,
                            (unsigned long long)m->dump_size);
    if (strcmp(m->dump_sha256, sha) != 0)
        return dd_error_set(err, DD_EINPUT, "'%s': the dump's SHA-256 is %s, but its manifest says %s", path, sha,
                            m->dump_sha256);
    return 0;
}

int bk_check_expected(const struct backup_manifest *m, const struct backup_manifest *expect, const char *path,
                      struct dd_error *err)
{
    if (bk_manifest_match(expect, m, path, err) < 0)
        return -1;
    if (m->dump_size != expect->dump_size || m->parts != expect->parts ||
        strcmp(m->dump_sha256, expect->dump_sha256) != 0 || strcmp(m->header_sha256, expect->header_sha256) != 0)
        return dd_error_set(err, DD_EINPUT, "'%s' changed: its dump is no longer the one that was checked", path);
    return 0;
}

/*
 * The whole check, on an open reader (freed here). verb NULL shows no progress and hashes on
 * this thread: the read-back already runs on a thread of its own, next to the backup's.
 */
static int scan_reader(struct backup_manifest *out, struct bk_reader *r, const char *path,
                       const struct backup_manifest *expect, const struct bk_sink *sink, const char *verb,
                       struct dd_error *err)
{
    struct backup_manifest header = BACKUP_MANIFEST_INIT, m = BACKUP_MANIFEST_INIT;
    struct bk_layout layout = BK_LAYOUT_INIT;
    struct dd_sha256 h = DD_SHA256_INIT;
    struct bk_relay *hasher = NULL;
    struct bk_progress progress;
    char sha[DD_SHA256_HEX_LEN + 1], header_sha[DD_SHA256_HEX_LEN + 1] = "";
    uint64_t done = 0;
    int rc = -1;

    backup_manifest_release(out);
    bk_progress_start(&progress, verb, expect ? expect->dump_size : 0);
    dd_sha256_begin(&h);
    if (verb && bk_relay_start(&hasher, BK_HASH_BUFSIZE, BK_HASH_BUFFERS, hash_block, &h, err) < 0)
        goto cleanup;
    for (;;) {
        const char *name;
        int64_t size;
        int got = bk_reader_next(r, &name, &size, err), kind;

        if (got < 0)
            goto cleanup;
        if (got == 0)
            break;
        kind = bk_layout_entry(&layout, name, size, err);
        if (kind < 0) {
            dd_error_wrap(err, "reading '%s'", path);
            goto cleanup;
        }
        if (kind == BK_ENTRY_HEADER) {
            if (read_json_entry(&header, r, path, BACKUP_HEADER_ENTRY, header_sha, err) < 0)
                goto cleanup;
            if (header.complete) {
                dd_error_set(err, DD_EINPUT, "'%s': " BACKUP_HEADER_ENTRY " claims to be complete", path);
                goto cleanup;
            }
            bk_layout_set_part_size(&layout, header.part_size);
        } else if (kind == BK_ENTRY_PART) {
            if (stream_part(r, &h, hasher, sink, &done, &progress, err) < 0)
                goto cleanup;
        } else {
            if (read_json_entry(&m, r, path, BACKUP_MANIFEST_ENTRY, NULL, err) < 0)
                goto cleanup;
            if (!m.complete) {
                dd_error_set(err, DD_EINPUT, "'%s': " BACKUP_MANIFEST_ENTRY " lacks the dump's size and checksum",
                             path);
                goto cleanup;
            }
        }
    }
    if (bk_layout_finish(&layout, err) < 0) {
        dd_error_wrap(err, "reading '%s'", path);
        goto cleanup;
    }
    if (hasher && bk_relay_finish(hasher, err) < 0)
        goto cleanup;
    dd_sha256_end_hex(&h, sha);
    if (check_complete(&header, &m, &layout, sha, header_sha, path, err) < 0 ||
        (expect && bk_check_expected(&m, expect, path, err) < 0))
        goto cleanup;
    *out = m;
    m = (struct backup_manifest)BACKUP_MANIFEST_INIT;
    rc = 0;
cleanup:
    /* the worker must be gone before the hash it updates is released */
    bk_relay_free(hasher);
    bk_progress_end(&progress);
    dd_sha256_release(&h);
    bk_reader_free(r);
    backup_manifest_release(&header);
    backup_manifest_release(&m);
    return rc;
}

int bk_scan(struct backup_manifest *out, const char *path, const struct backup_manifest *expect,
            const struct bk_sink *sink, struct dd_error *err)
{
    struct bk_reader *r = NULL;

    backup_manifest_release(out);
    if (bk_reader_open(&r, path, err) < 0)
        return -1;
    return scan_reader(out, r, path, expect, sink, sink ? "restore" : "verify", err);
}

int bk_scan_tail(struct backup_manifest *out, const char *path, struct bk_tail *tail, struct dd_error *err)
{
    struct bk_reader *r = NULL;

    backup_manifest_release(out);
    if (bk_reader_open_tail(&r, path, tail, err) < 0)
        return -1;
    return scan_reader(out, r, path, NULL, NULL, NULL, err);
}

int backup_verify(struct backup_manifest *out, const char *path, struct dd_error *err)
{
    return bk_scan(out, path, NULL, NULL, err);
}
