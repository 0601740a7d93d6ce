#include "unit.h"

#include "migrations/migrations.h"

static struct migration_script sc;
static struct migration_exec x;
static struct dd_error err;

static int prepare(const char *sql, bool strict)
{
    memset(&sc, 0, sizeof(sc));
    sc.present = true;
    sc.path = "migrations/1_a.sql";
    dd_buf_init(&sc.sql);
    dd_buf_adds(&sc.sql, sql);
    err = (struct dd_error)DD_ERROR_INIT;
    return migration_exec_prepare(&x, &sc, strict, &err);
}

static int teardown(void **state)
{
    (void)state;
    migration_exec_release(&x);
    dd_buf_release(&sc.sql);
    dd_error_release(&err);
    return 0;
}

static void test_plain_file_runs_in_one_transaction(void **state)
{
    (void)state;
    assert_int_equal(prepare("create table a (id int);\ncreate table b (id int);\n", false), 0);
    assert_int_equal(x.mode, MIGRATION_EXEC_TX);
    assert_false(x.unwrapped);
    assert_int_equal(x.stmts.n, 2);
    assert_string_equal(x.text.buf, sc.sql.buf);
}

static void test_outer_begin_commit_is_blanked_keeping_positions(void **state)
{
    const char *f = "BEGIN;\ncreate table a (id int);\nCOMMIT ;\n";

    (void)state;
    assert_int_equal(prepare(f, false), 0);
    assert_int_equal(x.mode, MIGRATION_EXEC_TX);
    assert_true(x.unwrapped);
    assert_string_equal(x.text.buf, "      \ncreate table a (id int);\n        \n");
    assert_int_equal(x.text.len, strlen(f));
    assert_int_equal(x.stmts.n, 1);
    assert_int_equal(x.stmts.stmts[0].line, 2);
}

static void test_end_also_closes_the_wrapper(void **state)
{
    (void)state;
    assert_int_equal(prepare("begin transaction;\nselect 1;\nend;", false), 0);
    assert_true(x.unwrapped);
}

static void test_several_transaction_blocks_run_without_wrapping(void **state)
{
    (void)state;
    assert_int_equal(prepare("BEGIN;\nselect 1;\nCOMMIT;\nBEGIN;\nselect 2;\nCOMMIT;\n", false), 0);
    assert_int_equal(x.mode, MIGRATION_EXEC_NO_TX);
    assert_true(x.own_transactions);
    assert_string_equal(x.why_no_tx, "COMMIT");
    assert_int_equal(x.why_line, 3);
    assert_int_equal(x.stmts.n, 6);
}

static void test_concurrently_switches_to_no_transaction(void **state)
{
    (void)state;
    assert_int_equal(prepare("set statement_timeout = 0;\n\ncreate index concurrently i on t (a);\n", false), 0);
    assert_int_equal(x.mode, MIGRATION_EXEC_NO_TX);
    assert_false(x.own_transactions);
    assert_string_equal(x.why_no_tx, "CREATE INDEX CONCURRENTLY");
    assert_int_equal(x.why_line, 3);
}

static void test_strict_refuses_with_file_and_line(void **state)
{
    (void)state;
    assert_int_equal(prepare("select 1;\nvacuum t;\n", true), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_string_equal(dd_error_msg(&err), "migrations/1_a.sql:2: VACUUM cannot run inside a transaction, and "
                                            "strict-transactions is on");
}

static void test_annotation_wins_even_in_strict_mode(void **state)
{
    (void)state;
    memset(&sc, 0, sizeof(sc));
    sc.present = true;
    sc.path = "migrations/1_a.sql";
    sc.directives.no_transaction = true;
    dd_buf_init(&sc.sql);
    dd_buf_adds(&sc.sql, "-- dbdeploy:no-transaction\ncreate index concurrently i on t (a);");
    err = (struct dd_error)DD_ERROR_INIT;
    assert_int_equal(migration_exec_prepare(&x, &sc, true, &err), 0);
    assert_int_equal(x.mode, MIGRATION_EXEC_NO_TX);
    assert_string_equal(x.why_no_tx, "annotation");
}

static void test_meta_command_error_names_file_line_col(void **state)
{
    (void)state;
    assert_int_equal(prepare("select 1;\n\\set x 1\n", false), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_string_equal(dd_error_msg(&err), "migrations/1_a.sql:2:1: psql meta-command '\\set' is not supported in "
                                            "migrations");
}

/* A file `dbdeploy new` wrote (comments only), or an outer BEGIN/COMMIT with nothing inside. */
static void test_comment_only_file_is_refused(void **state)
{
    (void)state;
    assert_int_equal(prepare("-- 0001_a: up\n-- write the change here\n/* later */\n", false), 0);
    assert_int_equal(migration_exec_check_empty(&x, &sc, &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_string_equal(dd_error_msg(&err),
                        "migrations/1_a.sql: the migration has no SQL statement (it is empty or only comments)");
    assert_non_null(strstr(err.hint, "dbdeploy:allow empty"));
    migration_exec_release(&x);
    dd_error_release(&err);
    dd_buf_release(&sc.sql);
    assert_int_equal(prepare("BEGIN;\nCOMMIT;\n", false), 0);
    assert_int_equal(migration_exec_check_empty(&x, &sc, &err), -1);
}

static void test_allow_empty_and_real_sql_pass(void **state)
{
    (void)state;
    assert_int_equal(prepare("select 1;\n", false), 0);
    assert_int_equal(migration_exec_check_empty(&x, &sc, &err), 0);
    migration_exec_release(&x);
    dd_buf_release(&sc.sql);
    assert_int_equal(prepare("", false), 0);
    sc.directives.allow_empty = true;
    assert_int_equal(migration_exec_check_empty(&x, &sc, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_plain_file_runs_in_one_transaction, teardown),
        cmocka_unit_test_teardown(test_outer_begin_commit_is_blanked_keeping_positions, teardown),
        cmocka_unit_test_teardown(test_end_also_closes_the_wrapper, teardown),
        cmocka_unit_test_teardown(test_several_transaction_blocks_run_without_wrapping, teardown),
        cmocka_unit_test_teardown(test_concurrently_switches_to_no_transaction, teardown),
        cmocka_unit_test_teardown(test_strict_refuses_with_file_and_line, teardown),
        cmocka_unit_test_teardown(test_annotation_wins_even_in_strict_mode, teardown),
        cmocka_unit_test_teardown(test_meta_command_error_names_file_line_col, teardown),
        cmocka_unit_test_teardown(test_comment_only_file_is_refused, teardown),
        cmocka_unit_test_teardown(test_allow_empty_and_real_sql_pass, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
