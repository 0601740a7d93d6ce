/*
 * The archive container without a database: entry layout rules, and libarchive round trips
 * through bk_scan with intact, damaged, truncated and rearranged files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/internal.h"
#include "util/fs.h"
#include "util/hash.h"

#define PART 1024u

static char *tmpdir;

static int setup(void **state)
{
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    return dd_mkdtemp(&tmpdir, "dbdeploy-test-archive", &err);
}

static int teardown(void **state)
{
    (void)state;
    dd_rm_rf(tmpdir);
    free(tmpdir);
    return 0;
}

/* ---- layout ------------------------------------------------------------------------------ */

static void test_layout_accepts_header_parts_manifest(void **state)
{
    struct bk_layout l = BK_LAYOUT_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    assert_int_equal(bk_layout_entry(&l, "header.json", 300, &err), BK_ENTRY_HEADER);
    bk_layout_set_part_size(&l, PART);
    assert_int_equal(bk_layout_entry(&l, "dump/part-000001", PART, &err), BK_ENTRY_PART);
    assert_int_equal(bk_layout_entry(&l, "dump/part-000002", PART, &err), BK_ENTRY_PART);
    assert_int_equal(bk_layout_entry(&l, "dump/part-000003", 10, &err), BK_ENTRY_PART);
    assert_int_equal(bk_layout_entry(&l, "manifest.json", 500, &err), BK_ENTRY_MANIFEST);
    assert_int_equal(bk_layout_finish(&l, &err), 0);
    assert_int_equal(l.parts, 3);
    assert_int_equal(l.size, 2 * PART + 10);
}

static void expect_layout_error(const char *const *names, const int64_t *sizes, size_t n, const char *msg_part)
{
    struct bk_layout l = BK_LAYOUT_INIT;
    struct dd_error err = DD_ERROR_INIT;
    int rc = 0;

    for (size_t i = 0; i < n && rc >= 0; i++) {
        rc = bk_layout_entry(&l, names[i], sizes[i], &err);
        if (rc == BK_ENTRY_HEADER)
            bk_layout_set_part_size(&l, PART);
    }
    if (rc >= 0)
        rc = bk_layout_finish(&l, &err);
    assert_int_equal(rc, -1);
    assert_int_equal(err.code, DD_EINPUT);
    if (!strstr(dd_error_msg(&err), msg_part))
        fail_msg("message '%s' lacks '%s'", dd_error_msg(&err), msg_part);
    dd_error_release(&err);
}

static void test_layout_rejects_wrong_arrangements(void **state)
{
    (void)state;
    {
        const char *n[] = {"dump/part-000001"};
        const int64_t s[] = {PART};
        expect_layout_error(n, s, 1, "not header.json");
    }
    {
        const char *n[] = {"header.json", "dump/part-000002"};
        const int64_t s[] = {10, PART};
        expect_layout_error(n, s, 2, "out of order: expected part 1");
    }
    {
        const char *n[] = {"header.json", "dump/part-000001", "dump/part-000002"};
        const int64_t s[] = {10, 100, PART};
        expect_layout_error(n, s, 3, "follows a short part");
    }
    {
        const char *n[] = {"header.json", "dump/part-000001"};
        const int64_t s[] = {10, PART + 1};
        expect_layout_error(n, s, 2, "expected 1 to 1024");
    }
    {
        const char *n[] = {"header.json", "dump/part-000001"};
        const int64_t s[] = {10, 0};
        expect_layout_error(n, s, 2, "expected 1 to 1024");
    }
    {
        const char *n[] = {"header.json", "dump/part-000001"};
        const int64_t s[] = {10, PART};
        expect_layout_error(n, s, 2, "without manifest.json: it is truncated");
    }
    {
        const char *n[] = {"header.json", "manifest.json", "extra"};
        const int64_t s[] = {10, 10, 1};
        expect_layout_error(n, s, 3, "after manifest.json");
    }
    {
        const char *n[] = {"header.json", "etc/passwd"};
        const int64_t s[] = {10, 1};
        expect_layout_error(n, s, 2, "unexpected entry 'etc/passwd'");
    }
    {
        const char *n[] = {"header.json"};
        const int64_t s[] = {BK_JSON_MAX + 1};
        expect_layout_error(n, s, 1, "too large");
    }
    expect_layout_error(NULL, NULL, 0, "empty");
}

/* ---- archives on disk ----------------------------------------------------------------------- */

enum build_flags {
    SKIP_PART_2 = 1 << 0,
    NO_MANIFEST = 1 << 1,
    WRONG_SHA = 1 << 2,
    EXTRA_ENTRY = 1 << 3,
    OTHER_ENV_IN_MANIFEST = 1 << 4,
};

static struct backup_manifest sample_manifest(void)
{
    struct backup_manifest m = BACKUP_MANIFEST_INIT;

    m.env = dd_xstrdup("prod");
    m.database = dd_xstrdup("app");
    m.server_version = dd_xstrdup("15.4");
    m.server_version_num = 150004;
    m.pg_dump_version = dd_xstrdup("15.4");
    m.dbdeploy_version = dd_xstrdup("test");
    m.started_at = dd_xstrdup("2026-11-21T10:15:00Z");
    m.level = 3;
    m.part_size = PART;
    return m;
}

/* An archive with a dump of `size` pseudo-random bytes, cut into PART-byte parts; tail may be NULL. */
static char *build_tail(const char *name, size_t size, unsigned flags, struct backup_manifest *out_m,
                        struct bk_tail *tail)
{
    struct backup_manifest m = sample_manifest();
    struct dd_error err = DD_ERROR_INIT;
    struct bk_writer *w = NULL;
    struct dd_buf json = DD_BUF_INIT;
    unsigned char *dump = dd_xmalloc(size + 1);
    char *path = dd_path_join(tmpdir, name);
    uint32_t parts = 0;
    int fd;

    for (size_t i = 0; i < size; i++)
        dump[i] = (unsigned char)((i * 2654435761u) >> 13);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(bk_writer_open(&w, fd, path, 3, tail, &err), 0);
    bk_manifest_json(&json, &m);
    assert_int_equal(bk_writer_add(w, BACKUP_HEADER_ENTRY, json.buf, json.len, 0, &err), 0);
    dd_sha256_hex(json.buf, json.len, m.header_sha256);
    for (size_t off = 0; off < size; off += PART) {
        char pname[64];
        size_t n = size - off < PART ? size - off : PART;
        parts++;
        if (parts == 2 && (flags & SKIP_PART_2))
            continue;
        bk_part_name(pname, sizeof(pname), parts);
        assert_int_equal(bk_writer_add(w, pname, dump + off, n, 0, &err), 0);
    }
    m.complete = true;
    m.finished_at = dd_xstrdup("2026-11-21T10:16:00Z");
    m.parts = parts;
    m.dump_size = size;
    dd_sha256_hex(dump, size, m.dump_sha256);
    if (flags & WRONG_SHA)
        m.dump_sha256[0] = m.dump_sha256[0] == '0' ? '1' : '0';
    if (flags & OTHER_ENV_IN_MANIFEST) {
        free(m.env);
        m.env = dd_xstrdup("staging");
    }
    dd_buf_reset(&json);
    bk_manifest_json(&json, &m);
    if (!(flags & NO_MANIFEST))
        assert_int_equal(bk_writer_add(w, BACKUP_MANIFEST_ENTRY, json.buf, json.len, 0, &err), 0);
    if (flags & EXTRA_ENTRY)
        assert_int_equal(bk_writer_add(w, "notes.txt", "hi", 2, 0, &err), 0);
    assert_int_equal(bk_writer_close(w, &err), 0);
    bk_writer_free(w);
    close(fd);
    if (out_m)
        *out_m = m;
    else
        backup_manifest_release(&m);
    dd_buf_release(&json);
    free(dump);
    return path;
}

static char *build(const char *name, size_t size, unsigned flags, struct backup_manifest *out_m)
{
    return build_tail(name, size, flags, out_m, NULL);
}

static void expect_scan_error(const char *path, enum dd_errcode code, const char *msg_part)
{
    struct backup_manifest m = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf all = DD_BUF_INIT;

    assert_int_equal(backup_verify(&m, path, &err), -1);
    assert_int_equal(err.code, code);
    dd_error_render(&err, &all);
    if (!strstr(all.buf, msg_part))
        fail_msg("error '%s' lacks '%s'", all.buf, msg_part);
    dd_buf_release(&all);
    dd_error_release(&err);
}

struct collect {
    struct dd_buf data;
};

static int collect_write(void *arg, const void *data, size_t len, struct dd_error *err)
{
    struct collect *c = arg;

    (void)err;
    dd_buf_add(&c->data, data, len);
    return 0;
}

static void test_archive_round_trip_streams_the_exact_dump(void **state)
{
    struct backup_manifest written, read = BACKUP_MANIFEST_INIT, header = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct collect c = {DD_BUF_INIT};
    struct bk_sink sink = {collect_write, &c};
    char *path = build("ok.tar.zst", 5 * PART + 77, 0, &written);
    char sha[DD_SHA256_HEX_LEN + 1];

    (void)state;
    assert_int_equal(bk_scan(&read, path, &written, &sink, &err), 0);
    assert_int_equal(c.data.len, 5 * PART + 77);
    dd_sha256_hex(c.data.buf, c.data.len, sha);
    assert_string_equal(sha, written.dump_sha256);
    assert_int_equal(read.parts, 6);
    assert_true(read.complete);
    assert_int_equal(backup_read_header(&header, path, &err), 0);
    assert_false(header.complete);
    assert_string_equal(header.env, "prod");
    backup_manifest_release(&written);
    backup_manifest_release(&read);
    backup_manifest_release(&header);
    dd_buf_release(&c.data);
    free(path);
}

static void test_archive_exact_multiple_of_part_size(void **state)
{
    struct backup_manifest m = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;
    char *path = build("exact.tar.zst", 3 * PART, 0, NULL);

    (void)state;
    assert_int_equal(backup_verify(&m, path, &err), 0);
    assert_int_equal(m.parts, 3);
    backup_manifest_release(&m);
    free(path);
}

static void test_archive_rejects_rearranged_contents(void **state)
{
    char *p;

    (void)state;
    p = build("skip.tar.zst", 4 * PART, SKIP_PART_2, NULL);
    expect_scan_error(p, DD_EINPUT, "out of order: expected part 2");
    free(p);
    p = build("nomanifest.tar.zst", 4 * PART, NO_MANIFEST, NULL);
    expect_scan_error(p, DD_EINPUT, "it is truncated");
    free(p);
    p = build("sha.tar.zst", 4 * PART, WRONG_SHA, NULL);
    expect_scan_error(p, DD_EINPUT, "SHA-256");
    free(p);
    p = build("extra.tar.zst", 4 * PART, EXTRA_ENTRY, NULL);
    expect_scan_error(p, DD_EINPUT, "after manifest.json");
    free(p);
    p = build("env.tar.zst", 4 * PART, OTHER_ENV_IN_MANIFEST, NULL);
    expect_scan_error(p, DD_EINPUT, "disagree on 'env'");
    free(p);
}

static void test_archive_rejects_expectation_mismatch(void **state)
{
    struct backup_manifest written, m = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;
    char *path = build("expect.tar.zst", 2 * PART, 0, &written);

    (void)state;
    written.dump_sha256[5] = written.dump_sha256[5] == 'a' ? 'b' : 'a';
    assert_int_equal(bk_scan(&m, path, &written, NULL, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "changed"));
    dd_error_release(&err);
    backup_manifest_release(&written);
    free(path);
}

/*
 * One flipped byte, anywhere: verification fails, or (when the byte only fed tar padding or the
 * end time) everything that matters is provably what was written.
 */
static void check_flip_outcome(const char *p, const struct backup_manifest *written, off_t at)
{
    struct backup_manifest m = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;

    if (backup_verify(&m, p, &err) < 0) {
        assert_int_equal(err.code, DD_EINPUT);
        dd_error_release(&err);
        return;
    }
    if (bk_manifest_match(written, &m, p, &err) < 0 || strcmp(m.dump_sha256, written->dump_sha256) != 0 ||
        strcmp(m.header_sha256, written->header_sha256) != 0 || m.dump_size != written->dump_size)
        fail_msg("a flipped byte at offset %lld changed the archive unnoticed", (long long)at);
    backup_manifest_release(&m);
}

static void test_archive_rejects_damage_anywhere(void **state)
{
    struct backup_manifest written;
    struct stat st;
    char *clean = build("clean.tar.zst", 40 * PART, 0, &written);
    char *p = dd_path_join(tmpdir, "damaged.tar.zst");
    struct dd_buf orig = DD_BUF_INIT;
    struct dd_error err = DD_ERROR_INIT;
    unsigned caught = 0, tried = 0;

    (void)state;
    assert_int_equal(dd_read_file(&orig, clean, &err), 0);
    assert_int_equal(stat(clean, &st), 0);
    for (off_t at = 0; at < st.st_size; at += 7, tried++) {
        struct backup_manifest m = BACKUP_MANIFEST_INIT;
        orig.buf[at] ^= 0x5a;
        assert_int_equal(dd_write_file_atomic(p, orig.buf, orig.len, 0600, &err), 0);
        orig.buf[at] ^= 0x5a;
        check_flip_outcome(p, &written, at);
        if (backup_verify(&m, p, &err) < 0)
            caught++;
        dd_error_release(&err);
        backup_manifest_release(&m);
    }
    /* nearly every byte of a compressed stream matters */
    assert_true(caught * 10 >= tried * 9);
    for (size_t len = 0; len < (size_t)st.st_size; len += 5) {
        struct backup_manifest m = BACKUP_MANIFEST_INIT;
        assert_int_equal(dd_write_file_atomic(p, orig.buf, len, 0600, &err), 0);
        if (backup_verify(&m, p, &err) == 0)
            fail_msg("truncation to %zu bytes went unnoticed", len);
        assert_int_equal(err.code, DD_EINPUT);
        dd_error_release(&err);
    }
    backup_manifest_release(&written);
    dd_buf_release(&orig);
    free(clean);
    free(p);
}

struct tail_reader {
    char *path;
    struct bk_tail *tail;
    struct backup_manifest got;
    struct dd_error err;
    int rc;
};

static void *tail_reader_main(void *arg)
{
    struct tail_reader *t = arg;

    t->rc = bk_scan_tail(&t->got, t->path, t->tail, &t->err);
    return NULL;
}

static void test_archive_read_back_while_written(void **state)
{
    struct tail_reader t = {NULL, NULL, BACKUP_MANIFEST_INIT, DD_ERROR_INIT, -1};
    struct backup_manifest written;
    struct dd_error err = DD_ERROR_INIT;
    pthread_t th;
    char *path;

    (void)state;
    /* the reader starts before the file has a single byte, and keeps up as it grows */
    t.path = dd_path_join(tmpdir, "growing.tar.zst");
    unlink(t.path);
    close(open(t.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    t.tail = bk_tail_new();
    assert_int_equal(pthread_create(&th, NULL, tail_reader_main, &t), 0);
    path = build_tail("growing.tar.zst", 300 * PART + 5, 0, &written, t.tail);
    bk_tail_close(t.tail);
    pthread_join(th, NULL);
    if (t.rc < 0)
        fail_msg("read-back failed: %s", dd_error_msg(&t.err));
    assert_int_equal(bk_check_expected(&t.got, &written, path, &err), 0);
    backup_manifest_release(&t.got);
    bk_tail_free(t.tail);
    backup_manifest_release(&written);
    free(path);
    free(t.path);
}

static void test_archive_read_back_gives_up_when_the_writer_does(void **state)
{
    struct tail_reader t = {NULL, NULL, BACKUP_MANIFEST_INIT, DD_ERROR_INIT, 0};
    pthread_t th;

    (void)state;
    t.path = dd_path_join(tmpdir, "abandoned.tar.zst");
    close(open(t.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    t.tail = bk_tail_new();
    assert_int_equal(pthread_create(&th, NULL, tail_reader_main, &t), 0);
    bk_tail_abort(t.tail); /* the writer failed before writing anything: the reader must not wait forever */
    pthread_join(th, NULL);
    assert_int_equal(t.rc, -1);
    assert_non_null(strstr(dd_error_msg(&t.err), "not finished"));
    dd_error_release(&t.err);
    bk_tail_free(t.tail);
    free(t.path);
}

static void test_archive_missing_file_and_foreign_file(void **state)
{
    struct dd_error err = DD_ERROR_INIT;
    char *p = dd_path_join(tmpdir, "plain.txt");

    (void)state;
    expect_scan_error("/nonexistent/x.tar.zst", DD_EINPUT, "cannot open '/nonexistent/x.tar.zst'");
    assert_int_equal(dd_write_file_atomic(p, "hello, world\n", 13, 0600, &err), 0);
    expect_scan_error(p, DD_EINPUT, "is damaged");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_accepts_header_parts_manifest),
        cmocka_unit_test(test_layout_rejects_wrong_arrangements),
        cmocka_unit_test(test_archive_round_trip_streams_the_exact_dump),
        cmocka_unit_test(test_archive_exact_multiple_of_part_size),
        cmocka_unit_test(test_archive_rejects_rearranged_contents),
        cmocka_unit_test(test_archive_rejects_expectation_mismatch),
        cmocka_unit_test(test_archive_rejects_damage_anywhere),
        cmocka_unit_test(test_archive_read_back_while_written),
        cmocka_unit_test(test_archive_read_back_gives_up_when_the_writer_does),
        cmocka_unit_test(test_archive_missing_file_and_foreign_file),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
