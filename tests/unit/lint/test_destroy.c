/*
 * The data-loss guard's classification: which statement drops, empties, narrows or fills which
 * table or column, read from the parse tree; and the declarations that allow it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "lint/destroy.h"

struct read {
    struct sql_script stmts;
    struct lint_ops ops;
    char msg[256];
    unsigned line;
    int rc;
};

static void read_sql(struct read *r, const char *sql)
{
    struct sql_lex_error le;

    memset(r, 0, sizeof(*r));
    assert_int_equal(sql_split(&r->stmts, sql, strlen(sql), &le), 0);
    r->rc = lint_ops_read(&r->ops, sql, strlen(sql), &r->stmts, r->msg, sizeof(r->msg), &r->line);
}

static void release(struct read *r)
{
    lint_ops_release(&r->ops);
    sql_script_release(&r->stmts);
}

static void assert_op(const struct lint_op *op, enum lint_op_kind kind, size_t stmt, const char *schema,
                      const char *table, const char *column)
{
    assert_int_equal(op->kind, kind);
    assert_int_equal(op->stmt, stmt);
    if (schema)
        assert_string_equal(op->schema, schema);
    else
        assert_null(op->schema);
    assert_string_equal(op->table, table);
    if (column)
        assert_string_equal(op->column, column);
    else
        assert_null(op->column);
}

static void test_destroy_classifies_each_destructive_statement(void **state)
{
    struct read r;
    (void)state;

    read_sql(&r, "CREATE TABLE t (a int);\n"
                 "DROP TABLE IF EXISTS old, app.older;\n"
                 "ALTER TABLE orders DROP COLUMN note, ALTER COLUMN code TYPE varchar(2);\n"
                 "TRUNCATE items, logs;\n"
                 "DELETE FROM orders;\n"
                 "UPDATE Orders SET total = 0 WHERE id = 1;\n"
                 "INSERT INTO app.items VALUES (1);\n"
                 "DROP SCHEMA legacy CASCADE;\n"
                 "CREATE INDEX ON orders (total);\n");
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.ops.n, 11);
    assert_op(&r.ops.v[0], LINT_OP_CREATE_TABLE, 0, NULL, "t", NULL);
    assert_op(&r.ops.v[1], LINT_OP_DROP_TABLE, 1, NULL, "old", NULL);
    assert_op(&r.ops.v[2], LINT_OP_DROP_TABLE, 1, "app", "older", NULL);
    assert_op(&r.ops.v[3], LINT_OP_DROP_COLUMN, 2, NULL, "orders", "note");
    assert_op(&r.ops.v[4], LINT_OP_ALTER_TYPE, 2, NULL, "orders", "code");
    assert_op(&r.ops.v[5], LINT_OP_TRUNCATE, 3, NULL, "items", NULL);
    assert_op(&r.ops.v[6], LINT_OP_TRUNCATE, 3, NULL, "logs", NULL);
    assert_op(&r.ops.v[7], LINT_OP_DELETE, 4, NULL, "orders", NULL);
    assert_op(&r.ops.v[8], LINT_OP_UPDATE, 5, NULL, "orders", NULL); /* folded to lower case, as the server does */
    assert_op(&r.ops.v[9], LINT_OP_INSERT, 6, "app", "items", NULL);
    assert_op(&r.ops.v[10], LINT_OP_DROP_SCHEMA, 7, NULL, "legacy", NULL);
    release(&r);
}

static void test_destroy_ignores_safe_statements(void **state)
{
    struct read r;
    (void)state;

    read_sql(&r, "ALTER TABLE orders ADD COLUMN x int;\nDROP INDEX orders_x;\nDROP VIEW v;\nSELECT 1;\n"
                 "CREATE INDEX CONCURRENTLY ON orders (x);\n");
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.ops.n, 0);
    release(&r);
}

/* Whether the guard must compare invalid indexes and NOT VALID constraints around sql. */
static bool may_leave_invalid(const char *sql)
{
    struct read r;
    bool v;

    read_sql(&r, sql);
    assert_int_equal(r.rc, 0);
    v = r.ops.may_leave_invalid;
    release(&r);
    return v;
}

static void test_destroy_knows_what_may_leave_invalid_objects(void **state)
{
    (void)state;
    /* the everyday migration: a table, its index, its first rows, a view, a grant */
    assert_false(may_leave_invalid("CREATE TABLE t (id int PRIMARY KEY, n text NOT NULL);\n"
                                   "CREATE INDEX t_n ON t (n);\nINSERT INTO t VALUES (1, 'a');\n"
                                   "CREATE VIEW v AS SELECT * FROM t;\nGRANT SELECT ON t TO PUBLIC;\n"
                                   "DROP INDEX t_n;\nCOMMENT ON TABLE t IS 'x';\n"));
    assert_true(may_leave_invalid("ALTER TABLE t ADD CONSTRAINT c CHECK (id > 0) NOT VALID;\n"));
    assert_true(may_leave_invalid("CREATE TABLE a (x int);\nALTER TABLE t ADD FOREIGN KEY (id) REFERENCES a;\n"));
    assert_true(may_leave_invalid("CREATE INDEX CONCURRENTLY t_n ON t (n);\n"));
    assert_true(may_leave_invalid("CREATE INDEX p_n ON ONLY p (n);\n"));
    assert_true(may_leave_invalid("DROP INDEX CONCURRENTLY t_n;\n"));
    assert_true(may_leave_invalid("REINDEX INDEX CONCURRENTLY t_n;\n"));
    assert_true(may_leave_invalid("ALTER DOMAIN d ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID;\n"));
    /* code the parse tree cannot see into */
    assert_true(may_leave_invalid("DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD CHECK (id > 0) NOT VALID'; END $$;\n"));
    assert_true(may_leave_invalid("SELECT make_partitions();\n"));
    assert_true(may_leave_invalid("CALL migrate_things();\n"));
}

static void test_destroy_statement_numbers_follow_the_splitter(void **state)
{
    struct read r;
    (void)state;

    /* an outer BEGIN/COMMIT, comments and a dollar-quoted body: still statement 2 */
    read_sql(&r, "BEGIN;\n-- x; y\nDO $$ BEGIN PERFORM 1; END $$;\nDELETE FROM t WHERE a = ';';\nCOMMIT;\n");
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.ops.n, 1);
    assert_op(&r.ops.v[0], LINT_OP_DELETE, 2, NULL, "t", NULL);
    release(&r);
}

static void test_destroy_reads_declarations_and_their_scope(void **state)
{
    struct read r;
    const struct lint_decl *d;
    (void)state;

    read_sql(&r, "-- dbdeploy:allow not-valid validated in 0042\n"
                 "ALTER TABLE a ADD CONSTRAINT c CHECK (x > 0) NOT VALID;\n"
                 "-- dbdeploy:allow data-loss archived to s3\n"
                 "DELETE FROM a;\n"
                 "TRUNCATE b; -- dbdeploy:allow truncate rebuilt nightly\n"
                 "INSERT INTO b VALUES (1);\n"
                 "-- dbdeploy:allow index-without-concurrently tiny table\n"
                 "CREATE INDEX ON b (x);\n");
    assert_int_equal(r.rc, 0);
    /* the header covers the whole file */
    d = lint_ops_declared(&r.ops, LINT_DECL_NOT_VALID, 3);
    assert_non_null(d);
    assert_string_equal(d->reason, "validated in 0042");
    assert_int_equal(d->line, 1);
    /* a statement's own declaration covers it, not the others */
    d = lint_ops_declared(&r.ops, LINT_DECL_DATA_LOSS, 1);
    assert_non_null(d);
    assert_string_equal(d->reason, "archived to s3");
    /* a data-loss lint rule id declares data loss too, on the line it ends */
    d = lint_ops_declared(&r.ops, LINT_DECL_DATA_LOSS, 2);
    assert_non_null(d);
    assert_string_equal(d->reason, "rebuilt nightly");
    assert_null(lint_ops_declared(&r.ops, LINT_DECL_DATA_LOSS, 3));
    assert_null(lint_ops_declared(&r.ops, LINT_DECL_ROW_CHANGES, 3));
    /* lint-only suppressions declare nothing to the guard */
    assert_int_equal(r.ops.ndecls, 3);
    release(&r);
}

static void test_destroy_declaration_without_reason_is_an_error(void **state)
{
    struct read r;
    (void)state;

    read_sql(&r, "SELECT 1;\n-- dbdeploy:allow row-changes\nINSERT INTO t VALUES (1);\n");
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.line, 2);
    assert_string_equal(r.msg, "dbdeploy:allow row-changes has no reason");
    release(&r);
}

static void test_destroy_syntax_error_names_the_line(void **state)
{
    struct read r;
    (void)state;

    read_sql(&r, "SELECT 1;\nDELETE FORM t;\n");
    assert_int_equal(r.rc, -1);
    assert_int_equal(r.line, 2);
    release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_destroy_classifies_each_destructive_statement),
        cmocka_unit_test(test_destroy_ignores_safe_statements),
        cmocka_unit_test(test_destroy_knows_what_may_leave_invalid_objects),
        cmocka_unit_test(test_destroy_statement_numbers_follow_the_splitter),
        cmocka_unit_test(test_destroy_reads_declarations_and_their_scope),
        cmocka_unit_test(test_destroy_declaration_without_reason_is_an_error),
        cmocka_unit_test(test_destroy_syntax_error_names_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
