/* header.json / manifest.json: what we write, what we accept back, and what never gets in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backup/internal.h"
#include "util/mask.h"

#define COMMIT "1a2b3c4d5e6f708192a3b4c5d6e7f80912a3b4c5"
#define SHA    "4a1826bcff7f42d5311185b28a089b1997c1d28b043b445dab4b6e4a80cff1f7"

static int64_t applied[] = {1, 2, 20261120093000};

static struct backup_manifest sample(bool complete)
{
    struct backup_manifest m = BACKUP_MANIFEST_INIT;

    m.env = dd_xstrdup("prod");
    m.database = dd_xstrdup("app \"main\"\n");
    m.server_version = dd_xstrdup("15.4");
    m.server_version_num = 150004;
    m.pg_dump_version = dd_xstrdup("16.1");
    m.git_commit = dd_xstrdup(COMMIT);
    m.applied = dd_xmalloc(sizeof(applied));
    memcpy(m.applied, applied, sizeof(applied));
    m.n_applied = 3;
    m.dbdeploy_version = dd_xstrdup("0.1.0");
    m.started_at = dd_xstrdup("2026-11-21T10:15:00Z");
    m.level = 3;
    m.part_size = BACKUP_PART_SIZE;
    if (complete) {
        m.complete = true;
        m.finished_at = dd_xstrdup("2026-11-21T10:15:41Z");
        m.parts = 12;
        m.dump_size = 48000000;
        memcpy(m.dump_sha256, SHA, sizeof(SHA));
        memcpy(m.header_sha256, SHA, sizeof(SHA));
    }
    return m;
}

static void roundtrip(bool complete)
{
    struct backup_manifest m = sample(complete), back = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf json = DD_BUF_INIT;

    bk_manifest_json(&json, &m);
    assert_int_equal(bk_manifest_parse(&back, json.buf, json.len, "test", &err), 0);
    assert_string_equal(back.env, "prod");
    assert_string_equal(back.database, "app \"main\"\n");
    assert_string_equal(back.server_version, "15.4");
    assert_int_equal(back.server_version_num, 150004);
    assert_string_equal(back.pg_dump_version, "16.1");
    assert_string_equal(back.git_commit, COMMIT);
    assert_int_equal(back.n_applied, 3);
    assert_true(back.applied[2] == INT64_C(20261120093000));
    assert_string_equal(back.started_at, "2026-11-21T10:15:00Z");
    assert_int_equal(back.part_size, BACKUP_PART_SIZE);
    assert_int_equal(back.complete, complete);
    if (complete) {
        assert_string_equal(back.finished_at, "2026-11-21T10:15:41Z");
        assert_int_equal(back.parts, 12);
        assert_int_equal(back.dump_size, 48000000);
        assert_string_equal(back.dump_sha256, SHA);
    } else {
        assert_null(back.finished_at);
        assert_string_equal(back.dump_sha256, "");
    }
    assert_int_equal(bk_manifest_match(&m, &back, "test", &err), 0);
    backup_manifest_release(&m);
    backup_manifest_release(&back);
    dd_buf_release(&json);
}

static void test_manifest_header_round_trips(void **state)
{
    (void)state;
    roundtrip(false);
}

static void test_manifest_complete_round_trips(void **state)
{
    (void)state;
    roundtrip(true);
}

/*
 * The manifest is a machine file that holds no secrets: a database named like a registered
 * secret (password = user = dbname = "shop") must be written exactly, or the archive no longer
 * matches the database it describes (every backup failed that way).
 */
static void test_manifest_values_are_exact(void **state)
{
    struct backup_manifest m = sample(true);
    struct dd_buf json = DD_BUF_INIT;

    (void)state;
    dd_mask_register("shop");
    free(m.database);
    m.database = dd_xstrdup("shop");
    bk_manifest_json(&json, &m);
    assert_non_null(strstr(json.buf, "\"database\":\"shop\""));
    dd_mask_clear();
    backup_manifest_release(&m);
    dd_buf_release(&json);
}

/* Replace the first `from` in the JSON of a complete sample with `to` and parse that. */
static int parse_edited(const char *from, const char *to, struct dd_error *err)
{
    struct backup_manifest m = sample(true), back = BACKUP_MANIFEST_INIT;
    struct dd_buf json = DD_BUF_INIT, edited = DD_BUF_INIT;
    char *at;
    int rc;

    bk_manifest_json(&json, &m);
    at = strstr(json.buf, from);
    assert_non_null(at);
    dd_buf_add(&edited, json.buf, (size_t)(at - json.buf));
    dd_buf_adds(&edited, to);
    dd_buf_adds(&edited, at + strlen(from));
    rc = bk_manifest_parse(&back, edited.buf, edited.len, "'x.tar.zst': manifest.json", err);
    backup_manifest_release(&m);
    backup_manifest_release(&back);
    dd_buf_release(&json);
    dd_buf_release(&edited);
    return rc;
}

static void expect_rejected(const char *from, const char *to, const char *message_part)
{
    struct dd_error err = DD_ERROR_INIT;

    assert_int_equal(parse_edited(from, to, &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    if (!strstr(dd_error_msg(&err), message_part))
        fail_msg("message '%s' lacks '%s'", dd_error_msg(&err), message_part);
    dd_error_release(&err);
}

static void test_manifest_rejects_bad_documents(void **state)
{
    (void)state;
    expect_rejected("\"dbdeploy-backup\"", "\"other-tool\"", "format 'other-tool'");
    expect_rejected("\"format_version\":1", "\"format_version\":2", "format version 2 is not supported");
    expect_rejected("\"env\":\"prod\",", "", "field 'env' is missing");
    expect_rejected("\"env\":\"prod\"", "\"env\":7", "field 'env' is not a string");
    expect_rejected(SHA, "nothex", "not a SHA-256");
    expect_rejected("\"started_at\":\"2026-11-21T10", "\"started_at\":\"2026-11-21 10",
                    "'started_at' is not a UTC time");
    expect_rejected("\"finished_at\":\"2026", "\"finished_at\":\"2025", "'finished_at' is before started_at");
    expect_rejected("[1,2,", "[1.5,2,", "whole numbers");
    expect_rejected("\"size\":48000000", "\"size\":-1", "'size' is not a whole number in range");
    expect_rejected("\"size\":48000000", "\"size\":99999999999999999999999", "'size' is not a whole number");
    expect_rejected("\"git_commit\":\"" COMMIT "\"", "\"git_commit\":\"HEAD\"", "not a commit id");
    expect_rejected("{\"format\"", "{{\"format\"", "not valid JSON");
    expect_rejected("\"prod\"", "\"pr\\qod\"", "a malformed string");
    expect_rejected("\"prod\"", "\"pr\\ud800od\"", "a malformed string");
    expect_rejected("\"prod\"", "\"pr\\u0000od\"", "a malformed string");
    expect_rejected("\"prod\"", "\"pr\nod\"", "a malformed string");
    /* found by tests/fuzz/fuzz_backup_manifest.c: raw invalid UTF-8 was accepted, then written back as U+FFFD */
    expect_rejected("\"prod\"", "\"pr\xffod\"", "not valid UTF-8");
    expect_rejected("\"prod\"", "\"pr\xc0\xafod\"", "not valid UTF-8");
    expect_rejected("\"prod\"", "\"pr\xed\xa0\x80od\"", "not valid UTF-8");
    expect_rejected("\"prod\"", "\"pr\xe2\x82\"", "not valid UTF-8");
    expect_rejected("\"prod\"", "[[[[[[[[[[[[1]]]]]]]]]]]]", "too deeply nested");
    expect_rejected("\"prod\"", "tru", "unknown word");
}

static void test_manifest_rejects_trailing_data_and_truncation(void **state)
{
    struct backup_manifest m = sample(true), back = BACKUP_MANIFEST_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf json = DD_BUF_INIT;

    (void)state;
    bk_manifest_json(&json, &m);
    dd_buf_adds(&json, "x");
    assert_int_equal(bk_manifest_parse(&back, json.buf, json.len, "t", &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "trailing data"));
    dd_error_release(&err);
    for (size_t cut = 0; cut + 2 < json.len; cut += 7) {
        assert_int_equal(bk_manifest_parse(&back, json.buf, cut, "t", &err), -1);
        dd_error_release(&err);
    }
    backup_manifest_release(&m);
    dd_buf_release(&json);
}

static void test_manifest_reads_unicode_escapes(void **state)
{
    struct dd_error err = DD_ERROR_INIT;
    struct backup_manifest m = sample(true), back = BACKUP_MANIFEST_INIT;
    struct dd_buf json = DD_BUF_INIT, edited = DD_BUF_INIT;
    char *at;

    (void)state;
    bk_manifest_json(&json, &m);
    at = strstr(json.buf, "\"prod\"");
    dd_buf_add(&edited, json.buf, (size_t)(at - json.buf));
    dd_buf_adds(&edited, "\"caf\\u00e9 \\ud83d\\ude00\"");
    dd_buf_adds(&edited, at + 6);
    assert_int_equal(bk_manifest_parse(&back, edited.buf, edited.len, "t", &err), 0);
    assert_string_equal(back.env, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    backup_manifest_release(&back);
    /* raw UTF-8 is read as it is */
    dd_buf_setlen(&edited, 0);
    dd_buf_add(&edited, json.buf, (size_t)(at - json.buf));
    dd_buf_adds(&edited, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
    dd_buf_adds(&edited, at + 6);
    assert_int_equal(bk_manifest_parse(&back, edited.buf, edited.len, "t", &err), 0);
    assert_string_equal(back.env, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    backup_manifest_release(&m);
    backup_manifest_release(&back);
    dd_buf_release(&json);
    dd_buf_release(&edited);
}

static void test_manifest_match_names_the_differing_field(void **state)
{
    struct backup_manifest a = sample(false), b = sample(true);
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    assert_int_equal(bk_manifest_match(&a, &b, "x", &err), 0);
    b.applied[1] = 3;
    assert_int_equal(bk_manifest_match(&a, &b, "x", &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "'applied_versions'"));
    dd_error_release(&err);
    b.applied[1] = 2;
    free(b.git_commit);
    b.git_commit = NULL;
    assert_int_equal(bk_manifest_match(&a, &b, "x", &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "'git_commit'"));
    dd_error_release(&err);
    backup_manifest_release(&a);
    backup_manifest_release(&b);
}

static void test_server_version_text(void **state)
{
    char v[32];

    (void)state;
    bk_server_version_text(v, sizeof(v), 150004);
    assert_string_equal(v, "15.4");
    bk_server_version_text(v, sizeof(v), 90624);
    assert_string_equal(v, "9.6.24");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_header_round_trips),
        cmocka_unit_test(test_manifest_complete_round_trips),
        cmocka_unit_test(test_manifest_values_are_exact),
        cmocka_unit_test(test_manifest_rejects_bad_documents),
        cmocka_unit_test(test_manifest_rejects_trailing_data_and_truncation),
        cmocka_unit_test(test_manifest_reads_unicode_escapes),
        cmocka_unit_test(test_manifest_match_names_the_differing_field),
        cmocka_unit_test(test_server_version_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
