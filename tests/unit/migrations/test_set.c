#include "unit.h"

#include "migrations/migrations.h"

static struct migration_source src;
static struct migration_set set;
static struct dd_error err;

static int setup(void **state)
{
    (void)state;
    migration_source_init(&src, "migrations", NULL);
    memset(&set, 0, sizeof(set));
    err = (struct dd_error)DD_ERROR_INIT;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    migration_set_release(&set);
    migration_source_release(&src);
    dd_error_release(&err);
    return 0;
}

static void add(const char *name, const char *sql)
{
    migration_source_add(&src, name, sql, strlen(sql), NULL);
}

static bool has_detail(const char *needle)
{
    for (size_t i = 0; i < err.details.n; i++)
        if (strstr(err.details.v[i], needle))
            return true;
    return false;
}

static void test_name_parse_formats(void **state)
{
    struct migration_name n;
    char why[128];

    (void)state;
    assert_int_equal(migration_name_parse(&n, "000034_external_users.up.sql", why, sizeof(why)), 0);
    assert_int_equal(n.version, 34);
    assert_string_equal(n.version_text, "000034");
    assert_string_equal(n.name, "external_users");
    assert_int_equal(n.kind, MIGRATION_FILE_UP);
    migration_name_release(&n);
    assert_int_equal(migration_name_parse(&n, "00034_external_users.down.sql", why, sizeof(why)), 0);
    assert_int_equal(n.version, 34);
    assert_int_equal(n.kind, MIGRATION_FILE_DOWN);
    migration_name_release(&n);
    assert_int_equal(migration_name_parse(&n, "12_clients_force_mfa.sql", why, sizeof(why)), 0);
    assert_int_equal(n.kind, MIGRATION_FILE_SINGLE);
    migration_name_release(&n);
    assert_int_equal(migration_name_parse(&n, "README.md", why, sizeof(why)), 1);
    assert_int_equal(migration_name_parse(&n, ".hidden.sql", why, sizeof(why)), 1);
    assert_int_equal(migration_name_parse(&n, "V__init.sql", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "version number"));
    assert_int_equal(migration_name_parse(&n, "Vx_init.sql", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "version number"));
    assert_int_equal(migration_name_parse(&n, "1.sql", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "'_'"));
    assert_int_equal(migration_name_parse(&n, "1234567890123456789_x.sql", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "digits"));
}

/* Flyway's V<version>__<description>.sql and its undo U<version>__<description>.sql. */
static void test_name_parses_flyway(void **state)
{
    struct migration_name n;
    char why[128];
    (void)state;

    assert_int_equal(migration_name_parse(&n, "V12__add_users.sql", why, sizeof(why)), 0);
    assert_int_equal(n.version, 12);
    assert_string_equal(n.version_text, "12");
    assert_string_equal(n.name, "add_users");
    assert_int_equal(n.kind, MIGRATION_FILE_UP);
    assert_true(n.flyway);
    migration_name_release(&n);
    assert_int_equal(migration_name_parse(&n, "U12__add_users.sql", why, sizeof(why)), 0);
    assert_int_equal(n.kind, MIGRATION_FILE_DOWN);
    migration_name_release(&n);
    assert_int_equal(migration_name_parse(&n, "V1.1__x.sql", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "whole numbers"));
    assert_int_equal(migration_name_parse(&n, "V1_x.sql", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "whole numbers"));
    /* repeatable: not a versioned migration (migration_set_build keeps it in `rep`) */
    assert_int_equal(migration_name_parse(&n, "R__views.sql", why, sizeof(why)), 1);
    assert_int_equal(migration_name_parse(&n, "R1__views.sql", why, sizeof(why)), -1);
    assert_int_equal(migration_name_parse(&n, "V2__.sql", why, sizeof(why)), -1);
}

static void test_repeatables_are_named_and_ordered_apart(void **state)
{
    (void)state;
    assert_true(migration_is_repeatable("R__views.sql"));
    assert_true(migration_is_repeatable("repeatable/rls.sql"));
    assert_true(migration_is_repeatable("repeatable/10_grants.sql"));
    assert_false(migration_is_repeatable("R__.sql"));
    assert_false(migration_is_repeatable("repeatable/.hidden.sql"));
    assert_false(migration_is_repeatable("repeatable/notes.md"));
    assert_false(migration_is_repeatable("0001_init.sql"));

    add("0002_b.sql", "select 2;");
    add("repeatable/20_rls.sql", "-- dbdeploy:lock-timeout=5s\nselect 'rls';");
    add("R__views.sql", "select 'views';");
    add("repeatable/10_grants.sql", "select 'grants';");
    add("0001_a.sql", "select 1;");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(set.n, 2); /* a versioned-looking name under repeatable/ is still repeatable */
    assert_int_equal(set.nrep, 3);
    assert_string_equal(set.rep[0].name, "R__views.sql");
    assert_string_equal(set.rep[1].name, "repeatable/10_grants.sql");
    assert_string_equal(set.rep[2].name, "repeatable/20_rls.sql");
    assert_string_equal(set.rep[2].up.path, "migrations/repeatable/20_rls.sql");
    assert_true(set.rep[2].repeatable);
    assert_int_equal(set.rep[2].version, -1);
    assert_true(set.rep[2].up.directives.has_lock_timeout);
    assert_int_equal(strncmp(set.rep[0].checksum, "sha256:", 7), 0);
    assert_false(set.rep[0].down.present);
}

static int read_views(void *arg, const char *blob_id, struct dd_buf *out, struct dd_error *e)
{
    (void)arg;
    (void)e;
    assert_string_equal(blob_id, "b1");
    dd_buf_adds(out, "create view v as select 1;");
    return 0;
}

static void test_unread_repeatable_is_read_through_the_reader(void **state)
{
    char want[DD_CHECKSUM_LEN + 1];

    (void)state;
    migration_source_add_unread(&src, "R__views.sql", "b1");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(set.nrep, 1);
    assert_true(set.rep[0].unread);
    assert_string_equal(set.rep[0].checksum, "");
    set.reader.read = read_views;
    assert_int_equal(migration_set_read_repeatables(&set, &err), 0);
    assert_false(set.rep[0].unread);
    assert_true(set.rep[0].repeatable);
    assert_string_equal(set.rep[0].name, "R__views.sql");
    assert_string_equal(set.rep[0].up.path, "migrations/R__views.sql");
    assert_string_equal(set.rep[0].up.sql.buf, "create view v as select 1;");
    dd_checksum("create view v as select 1;", 26, want);
    assert_string_equal(set.rep[0].checksum, want);
}

static void test_versions_order_numerically(void **state)
{
    (void)state;
    add("10_c.sql", "select 10;");
    add("9_b.sql", "select 9;");
    add("1_a.sql", "select 1;");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(set.n, 3);
    assert_int_equal(set.v[0].version, 1);
    assert_int_equal(set.v[1].version, 9);
    assert_int_equal(set.v[2].version, 10);
    assert_string_equal(set.v[2].up.path, "migrations/10_c.sql");
    assert_ptr_equal(migration_set_find(&set, 9), &set.v[1]);
    assert_null(migration_set_find(&set, 5));
}

/* lint's sets: the same migrations and SQL, without hashing bytes no ledger will see */
static void test_no_checksums_builds_the_same_set_unhashed(void **state)
{
    (void)state;
    add("1_a.sql", "select 1;");
    add("2_b.up.sql", "create table b ();");
    add("2_b.down.sql", "drop table b;");
    add("R__views.sql", "create or replace view v as select 1;");
    src.no_checksums = true;
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(set.n, 2);
    assert_int_equal(set.nrep, 1);
    assert_string_equal(set.v[0].checksum, "");
    assert_string_equal(set.v[1].checksum, "");
    assert_string_equal(set.rep[0].checksum, "");
    assert_string_equal(set.v[1].up.sql.buf, "create table b ();");
    assert_true(set.v[1].down.present);
    migration_set_release(&set);
    src.no_checksums = false;
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(strncmp(set.v[0].checksum, "sha256:", 7), 0);
    assert_int_equal(strncmp(set.rep[0].checksum, "sha256:", 7), 0);
}

static void test_up_and_down_pair_despite_padding(void **state)
{
    (void)state;
    add("000034_x.up.sql", "create table x ();");
    add("00034_x.down.sql", "drop table x;");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(set.n, 1);
    assert_int_equal(set.v[0].format, MIGRATION_GOLANG);
    assert_true(set.v[0].down.present);
    assert_string_equal(set.v[0].down.sql.buf, "drop table x;");
    assert_string_equal(migration_display(&set.v[0]), "000034_x.up.sql");
}

static void test_flyway_pair_builds(void **state)
{
    (void)state;
    add("V2__users.sql", "create table users ();");
    add("U2__users.sql", "drop table users;");
    add("V1__init.sql", "-- dbdeploy:allow empty\n");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(set.n, 2);
    assert_int_equal(set.v[0].format, MIGRATION_FLYWAY);
    assert_false(set.v[0].down.present);
    assert_true(set.v[0].up.directives.allow_empty);
    assert_int_equal(set.v[1].format, MIGRATION_FLYWAY);
    assert_string_equal(set.v[1].down.sql.buf, "drop table users;");
    assert_string_equal(migration_display(&set.v[1]), "V2__users.sql");
}

static void test_problems_are_all_listed(void **state)
{
    (void)state;
    add("1_a.sql", "");
    add("001_a_again.up.sql", "");
    add("2_b.down.sql", "");
    add("nope.sql", "");
    add("notes.txt", "");
    assert_int_equal(migration_set_build(&set, &src, &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_string_equal(dd_error_msg(&err), "migrations: 3 migration files cannot be used");
    assert_true(has_detail("migrations/001_a_again.up.sql: version 1 is also used by '1_a.sql'"));
    assert_true(has_detail("migrations/2_b.down.sql: down migration without its up"));
    assert_true(has_detail("migrations/nope.sql: does not start with a version number"));
    assert_non_null(err.hint);
}

static void test_dbmate_sections_keep_line_numbers(void **state)
{
    const char *f = "-- header comment\n-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n"
                    "-- migrate:down\nDROP INDEX i;\n";

    (void)state;
    add("20240101000000_idx.sql", f);
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(set.v[0].format, MIGRATION_DBMATE);
    assert_true(set.v[0].up.directives.no_transaction);
    assert_false(set.v[0].down.directives.no_transaction);
    assert_string_equal(set.v[0].up.sql.buf, "\n\nCREATE INDEX CONCURRENTLY i ON t (a);\n\n\n\n");
    assert_string_equal(set.v[0].down.sql.buf, "\n\n\n\n\nDROP INDEX i;\n");
    assert_string_equal(set.v[0].down.path, "migrations/20240101000000_idx.sql");
}

static void test_plain_file_without_markers_is_up_only(void **state)
{
    (void)state;
    add("3_x.sql", "-- migrate is mentioned but not as a marker\nselect 1;");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_int_equal(set.v[0].format, MIGRATION_PLAIN);
    assert_false(set.v[0].down.present);
}

static void test_checksum_covers_exact_bytes(void **state)
{
    char lf[DD_CHECKSUM_LEN + 1], crlf[DD_CHECKSUM_LEN + 1];

    (void)state;
    add("1_a.sql", "select 1;\n");
    add("2_b.sql", "select 1;\r\n");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    memcpy(lf, set.v[0].checksum, sizeof(lf));
    memcpy(crlf, set.v[1].checksum, sizeof(crlf));
    assert_string_not_equal(lf, crlf);
    assert_memory_equal(lf, "sha256:", 7);
    /* printf 'select 1;\n' | sha256sum */
    assert_string_equal(lf, "sha256:4a45092ccf992ea92250053a80b931b787924ba61648f420555511b84f10ab6c");
}

/* A UTF-8 byte-order mark is not executed, but it is part of the bytes the checksum covers. */
static void test_byte_order_mark_skipped_but_checksummed(void **state)
{
    (void)state;
    add("1_a.sql", "\xef\xbb\xbf-- dbdeploy:no-transaction\nselect 1;\n");
    add("2_b.sql", "-- dbdeploy:no-transaction\nselect 1;\n");
    add("20240101000000_c.sql", "\xef\xbb\xbf-- migrate:up\nselect 1;\n-- migrate:down\nselect 2;\n");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_string_equal(set.v[0].up.sql.buf, "-- dbdeploy:no-transaction\nselect 1;\n");
    assert_true(set.v[0].up.directives.no_transaction);
    assert_string_not_equal(set.v[0].checksum, set.v[1].checksum);
    /* printf '\xef\xbb\xbf-- dbdeploy:no-transaction\nselect 1;\n' | sha256sum */
    assert_string_equal(set.v[0].checksum, "sha256:2932ee9686972b7111dc09aee5e1787ff9c08e15ca1c9e0d89b2fee9c09059b9");
    assert_int_equal(set.v[2].format, MIGRATION_DBMATE);
    assert_true(set.v[2].down.present);
    assert_string_equal(set.v[2].up.sql.buf, "\nselect 1;\n\n\n");
    assert_string_equal(set.v[2].down.sql.buf, "\n\n\nselect 2;\n");
}

static void test_directives_parsed_and_validated(void **state)
{
    (void)state;
    add("1_a.sql",
        "-- dbdeploy:statement-timeout=30m\n-- dbdeploy:lock-timeout=2s\n-- dbdeploy:no-transaction\nselect 1;");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    assert_true(set.v[0].up.directives.no_transaction);
    assert_true(set.v[0].up.directives.has_statement_timeout);
    assert_int_equal(set.v[0].up.directives.statement_timeout_ms, 30 * 60 * 1000);
    assert_int_equal(set.v[0].up.directives.lock_timeout_ms, 2000);
}

static void test_unknown_directive_is_an_error(void **state)
{
    (void)state;
    add("1_a.sql", "-- dbdeploy:no-transactoin\nselect 1;");
    assert_int_equal(migration_set_build(&set, &src, &err), -1);
    assert_string_equal(dd_error_msg(&err), "migrations/1_a.sql:1: unknown directive 'dbdeploy:no-transactoin'");
}

static void test_directive_after_a_statement_is_an_error(void **state)
{
    (void)state;
    add("1_a.sql", "select 1;\n-- dbdeploy:no-transaction\n");
    assert_int_equal(migration_set_build(&set, &src, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "1_a.sql:2: directive 'dbdeploy:no-transaction' must come before"));
}

static void test_bad_directive_duration(void **state)
{
    (void)state;
    add("1_a.sql", "-- dbdeploy:statement-timeout=ten\nselect 1;");
    assert_int_equal(migration_set_build(&set, &src, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "'ten' is not a duration"));
}

static void test_next_version_keeps_width_or_uses_timestamps(void **state)
{
    char v[32];

    (void)state;
    add("0007_a.sql", "");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    migration_next_version(v, sizeof(v), &set, 0, false);
    assert_string_equal(v, "0008");
    migration_set_release(&set);
    migration_source_release(&src);
    migration_source_init(&src, "migrations", NULL);
    add("20240101120000_a.sql", "");
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    migration_next_version(v, sizeof(v), &set, 1767225600, false); /* 2026-01-01T00:00:00Z */
    assert_string_equal(v, "20260101000000");
    migration_next_version(v, sizeof(v), &set, 0, false); /* clock behind the newest: still ascending */
    assert_string_equal(v, "20240101120001");
}

static void test_empty_set_starts_at_0001(void **state)
{
    char v[32];

    (void)state;
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    migration_next_version(v, sizeof(v), &set, 0, false);
    assert_string_equal(v, "0001");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_parse_formats),
        cmocka_unit_test(test_name_parses_flyway),
        cmocka_unit_test_setup_teardown(test_flyway_pair_builds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_checksums_builds_the_same_set_unhashed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeatables_are_named_and_ordered_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unread_repeatable_is_read_through_the_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions_order_numerically, setup, teardown),
        cmocka_unit_test_setup_teardown(test_up_and_down_pair_despite_padding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_problems_are_all_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dbmate_sections_keep_line_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_file_without_markers_is_up_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checksum_covers_exact_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_order_mark_skipped_but_checksummed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directives_parsed_and_validated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_directive_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directive_after_a_statement_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_directive_duration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_version_keeps_width_or_uses_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_set_starts_at_0001, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
