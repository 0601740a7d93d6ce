/*
 * Every rule fires on a minimal example and stays silent on its safe rewrite; context (tables
 * created by the run), catalog sizes, severities and suppressions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "lint/lint.h"

struct rule_case {
    const char *rule;
    const char *bad;  /* fires `rule` on the existing table orders */
    const char *safe; /* its rewrite: no finding at all */
    bool single_tx;   /* how dbdeploy would run the file */
};

static const struct rule_case cases[] = {
    {"syntax-error", "CREATE TABEL x ();", "CREATE TABLE x ();", true},
    /* a UTF-8 byte-order mark before the first statement or a suppression is skipped, as psql does */
    {"index-without-concurrently",
     "\xef\xbb\xbf"
     "CREATE INDEX orders_a ON orders (a);",
     "\xef\xbb\xbf"
     "CREATE INDEX CONCURRENTLY orders_a ON orders (a);",
     false},
    {"drop-table",
     "\xef\xbb\xbf"
     "DROP TABLE orders;",
     "\xef\xbb\xbf"
     "-- dbdeploy:allow drop-table archived to s3://backups/orders\nDROP TABLE orders;",
     true},
    {"index-without-concurrently", "CREATE INDEX orders_a ON orders (a);",
     "CREATE INDEX CONCURRENTLY orders_a ON orders (a);", false},
    {"drop-index-without-concurrently", "DROP INDEX orders_a;", "DROP INDEX CONCURRENTLY orders_a;", false},
    {"constraint-without-not-valid",
     "ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id);",
     "ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;",
     true},
    {"constraint-without-not-valid", "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0);",
     "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0) NOT VALID;", true},
    {"validate-in-same-transaction",
     "ALTER TABLE orders ADD CONSTRAINT positive CHECK (total > 0) NOT VALID;\n"
     "ALTER TABLE orders VALIDATE CONSTRAINT positive;",
     "ALTER TABLE orders VALIDATE CONSTRAINT positive;", true},
    {"alter-column-type", "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);",
     "ALTER TABLE orders ALTER COLUMN note TYPE text;", true},
    {"set-not-null", "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;",
     "ALTER TABLE orders ADD CONSTRAINT total_nn CHECK (total IS NOT NULL) NOT VALID;", true},
    {"volatile-default", "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();",
     "ALTER TABLE orders ADD COLUMN created timestamptz DEFAULT now();", true},
    {"volatile-default", "ALTER TABLE orders ADD COLUMN seq bigserial;", "ALTER TABLE orders ADD COLUMN seq bigint;",
     true},
    {"unique-without-index", "ALTER TABLE orders ADD CONSTRAINT orders_ref UNIQUE (ref);",
     "ALTER TABLE orders ADD CONSTRAINT orders_ref UNIQUE USING INDEX orders_ref_idx;", true},
    {"unique-without-index", "ALTER TABLE orders ADD PRIMARY KEY (id);",
     "ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY USING INDEX orders_id_idx;", true},
    {"drop-table", "DROP TABLE orders;",
     "-- dbdeploy:allow drop-table archived to s3://backups/orders\nDROP TABLE orders;", true},
    {"drop-column", "ALTER TABLE orders DROP COLUMN note;",
     "-- dbdeploy:allow data-loss the application stopped reading note in 4.2\nALTER TABLE orders DROP COLUMN note;",
     true},
    {"drop-schema", "DROP SCHEMA legacy;", "-- dbdeploy:allow drop-schema emptied in 0041\nDROP SCHEMA legacy;", true},
    {"truncate", "TRUNCATE orders;", "DELETE FROM orders WHERE created < now() - interval '1 year';", true},
    {"delete-without-where", "DELETE FROM orders;", "DELETE FROM orders WHERE id = 1;", true},
    {"update-without-where", "UPDATE orders SET total = 0;", "UPDATE orders SET total = 0 WHERE total IS NULL;", true},
    {"rename-table", "ALTER TABLE orders RENAME TO purchases;", "CREATE VIEW purchases AS SELECT * FROM orders;", true},
    {"rename-column", "ALTER TABLE orders RENAME COLUMN note TO comment;",
     "ALTER TABLE orders ADD COLUMN comment text;", true},
    {"cascade", "DROP VIEW order_totals CASCADE;", "DROP VIEW order_totals;", true},
    {"lock-table", "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;", "SET lock_timeout = '5s';", true},
    {"vacuum-full", "VACUUM FULL orders;", "VACUUM orders;", false},
    {"cluster", "CLUSTER orders USING orders_pkey;", "VACUUM (ANALYZE) orders;", false},
    {"concurrently-in-transaction", "BEGIN;\nCREATE INDEX CONCURRENTLY orders_a ON orders (a);\nCOMMIT;",
     "CREATE INDEX CONCURRENTLY orders_a ON orders (a);", false},
    {"bad-suppression", "-- dbdeploy:allow truncate\nTRUNCATE orders;",
     "-- dbdeploy:allow truncate test data only\nTRUNCATE orders;", true},
};

static void lint_text(struct lint_run *r, const char *sql, bool single_tx)
{
    lint_script(r, "m.sql", sql, strlen(sql), single_tx);
}

static size_t count_rule(const struct lint_run *r, const char *rule)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n; i++)
        n += strcmp(lint_rules[r->v[i].rule].id, rule) == 0;
    return n;
}

static void test_every_rule_fires_and_its_rewrite_is_silent(void **state)
{
    bool covered[64] = {false};

    (void)state;
    for (size_t i = 0; i < DD_ARRAY_SIZE(cases); i++) {
        struct lint_run r;
        lint_run_init(&r);
        lint_text(&r, cases[i].bad, cases[i].single_tx);
        if (count_rule(&r, cases[i].rule) < 1)
            fail_msg("%s did not fire on: %s", cases[i].rule, cases[i].bad);
        lint_run_release(&r);

        lint_run_init(&r);
        lint_text(&r, cases[i].safe, cases[i].single_tx);
        if (r.n)
            fail_msg("%s: the rewrite got %s: %s", cases[i].rule, lint_rules[r.v[0].rule].id, r.v[0].message);
        lint_run_release(&r);
        covered[lint_rule_index(cases[i].rule)] = true;
    }
    for (size_t i = 0; i < lint_rule_count; i++)
        if (!covered[i])
            fail_msg("rule %s has no case", lint_rules[i].id);
}

static void test_message_names_table_and_position(void **state)
{
    struct lint_run r;

    (void)state;
    lint_run_init(&r);
    lint_text(&r, "-- header\n\n  CREATE INDEX orders_a ON shop.orders (a);", true);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].file, "m.sql");
    assert_int_equal(r.v[0].line, 3);
    assert_int_equal(r.v[0].col, 3);
    assert_int_equal(r.v[0].severity, LINT_ERROR);
    assert_string_equal(r.v[0].message,
                        "shop.orders: CREATE INDEX orders_a without CONCURRENTLY blocks writes for the whole build");
    assert_int_equal(r.errors, 1);
    lint_run_release(&r);
}

static void test_table_created_earlier_is_new(void **state)
{
    struct lint_run r;

    (void)state;
    lint_run_init(&r);
    /* same file, then a later file, then after a rename: all new */
    lint_text(&r, "CREATE TABLE orders (a int);\nCREATE INDEX orders_a ON orders (a);", true);
    lint_text(&r, "ALTER TABLE orders ADD CONSTRAINT positive CHECK (a > 0);\nALTER TABLE public.orders DROP COLUMN a;",
              true);
    lint_text(&r,
              "ALTER TABLE orders RENAME TO purchases;\nCREATE INDEX purchases_a ON purchases (a);\n"
              "DROP INDEX purchases_a;\nTRUNCATE purchases;",
              true);
    lint_text(&r, "CREATE TABLE tmp AS SELECT 1 AS x;\nUPDATE tmp SET x = 2;", true);
    assert_int_equal(r.n, 0);
    /* a table the run did not create still counts */
    lint_text(&r, "CREATE INDEX customers_a ON customers (a);", true);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.statements, 11);
    lint_run_release(&r);
}

static void test_catalog_sizes_decide_lock_rules(void **state)
{
    struct lint_run r;

    (void)state;
    lint_run_init(&r);
    lint_run_add_table(&r, "orders", 200000, 3328599654LL);
    lint_run_add_table(&r, "small", 100, 8192);
    lint_text(&r, "CREATE INDEX orders_a ON orders (a);", true);
    lint_text(&r, "CREATE INDEX small_a ON small (a);", true);
    lint_text(&r, "CREATE TABLE fresh (a int);\nCREATE INDEX fresh_a ON fresh (a);", true);
    lint_text(&r, "DROP TABLE IF EXISTS never_existed;", true);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].message, "orders: ~200.0k rows, 3.1 GB: CREATE INDEX orders_a without CONCURRENTLY "
                                        "blocks writes for the whole build");
    /* data loss on a small table still counts: its rows are gone all the same */
    lint_text(&r, "TRUNCATE small;", true);
    assert_int_equal(count_rule(&r, "truncate"), 1);
    lint_run_release(&r);

    lint_run_init(&r);
    r.small_table = 50;
    lint_run_add_table(&r, "small", 100, 8192);
    lint_text(&r, "CREATE INDEX small_a ON small (a);", true);
    assert_int_equal(r.n, 1);
    lint_run_release(&r);
}

static void test_severity_overrides(void **state)
{
    struct lint_run r;

    (void)state;
    lint_run_init(&r);
    assert_int_equal(lint_run_set_severity(&r, "truncate", LINT_WARNING), 0);
    assert_int_equal(lint_run_set_severity(&r, "delete-without-where", LINT_OFF), 0);
    assert_int_equal(lint_run_set_severity(&r, "no-such-rule", LINT_OFF), -1);
    lint_text(&r, "TRUNCATE orders;\nDELETE FROM orders;", true);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0].severity, LINT_WARNING);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.warnings, 1);
    lint_run_release(&r);
}

static void test_suppression_placement(void **state)
{
    struct lint_run r;

    (void)state;
    lint_run_init(&r);
    /* the line before covers only the next statement */
    lint_text(&r,
              "SELECT 1;\n-- dbdeploy:allow truncate emptied on purpose\nTRUNCATE orders;\nTRUNCATE customers;\n"
              "DELETE FROM orders; -- dbdeploy:allow delete-without-where same line, after the statement\n"
              "DELETE FROM customers;",
              true);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.v[0].message, "customers: TRUNCATE deletes every row");
    assert_int_equal(r.v[0].line, 4);
    assert_string_equal(r.v[1].message, "customers: DELETE without WHERE changes every row");
    assert_int_equal(r.nsup, 2);
    assert_int_equal(r.sup[0].used, 1);
    assert_string_equal(r.sup[0].reason, "emptied on purpose");
    assert_int_equal(r.sup[0].line, 2);
    lint_run_release(&r);

    /* the file header covers the whole file */
    lint_run_init(&r);
    lint_text(&r, "-- cleanup\n-- dbdeploy:allow data-loss retired feature, see ADR-12\n\nTRUNCATE a;\nDROP TABLE b;",
              true);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.sup[0].used, 2);
    lint_run_release(&r);
}

static void test_bad_suppressions_are_errors(void **state)
{
    struct lint_run r;

    (void)state;
    lint_run_init(&r);
    lint_text(&r, "-- dbdeploy:allow truncate\nTRUNCATE a;\n-- dbdeploy:allow no-such-rule because\nSELECT 1;", true);
    assert_int_equal(count_rule(&r, "bad-suppression"), 2);
    assert_int_equal(count_rule(&r, "truncate"), 1); /* without a reason it silences nothing */
    assert_string_equal(r.v[0].message, "dbdeploy:allow truncate has no reason");
    assert_int_equal(r.v[0].line, 1);
    lint_run_release(&r);
}

static void test_validate_in_a_later_transaction_is_fine(void **state)
{
    struct lint_run r;

    (void)state;
    lint_run_init(&r);
    /* no-transaction file: each statement commits on its own */
    lint_text(&r, "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT c;",
              false);
    assert_int_equal(r.n, 0);
    /* but an explicit BEGIN ... COMMIT around both is one transaction */
    lint_text(&r,
              "BEGIN;\nALTER TABLE t ADD CONSTRAINT d CHECK (a > 0) NOT VALID;\nALTER TABLE t VALIDATE CONSTRAINT d;\n"
              "COMMIT;",
              false);
    assert_int_equal(count_rule(&r, "validate-in-same-transaction"), 1);
    lint_run_release(&r);
}

static void test_set_not_null_after_validated_check(void **state)
{
    struct lint_run r;

    (void)state;
    lint_run_init(&r);
    lint_text(&r, "ALTER TABLE orders ADD CONSTRAINT total_nn CHECK (total IS NOT NULL) NOT VALID;", true);
    lint_text(&r, "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;", true); /* other column: fires */
    lint_text(&r, "ALTER TABLE orders VALIDATE CONSTRAINT total_nn;", true);
    lint_text(&r, "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;", true);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].message, "orders: ALTER COLUMN note SET NOT NULL scans every row under an ACCESS "
                                        "EXCLUSIVE lock");
    lint_run_release(&r);
}

static void test_renders_text_github_json(void **state)
{
    struct lint_run r;
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    lint_run_init(&r);
    lint_script(&r, "db/m,1.sql", "DELETE FROM orders;", 19, true);
    lint_render_text(&b, &r);
    assert_string_equal(b.buf, "db/m,1.sql:1:1: error: delete-without-where: orders: DELETE without WHERE changes "
                               "every row\n  hint: Add a WHERE clause naming the rows to delete.\n");
    dd_buf_reset(&b);
    lint_render_github(&b, &r);
    assert_string_equal(b.buf, "::error file=db/m%2C1.sql,line=1,col=1,title=delete-without-where::orders: DELETE "
                               "without WHERE changes every row%0Ahint: Add a WHERE clause naming the rows to "
                               "delete.\n");
    dd_buf_reset(&b);
    lint_render_json(&b, &r);
    assert_non_null(strstr(b.buf, "\"rule\":\"delete-without-where\""));
    assert_non_null(strstr(b.buf, "\"errors\":1"));
    dd_buf_release(&b);
    lint_run_release(&r);
}

/* [lint] settings as config/ keeps them, and the suppressions the deploy lists. */
static void test_configure_and_allowed(void **state)
{
    struct lint_run r;
    struct dd_strv rules = DD_STRV_INIT;
    struct dd_buf b = DD_BUF_INIT;
    const char *sql = "-- dbdeploy:allow truncate nothing reads orders any more\n"
                      "TRUNCATE orders;\n"
                      "-- dbdeploy:allow drop-table never used here\n"
                      "DELETE FROM orders WHERE id = 1;\n"
                      "DELETE FROM orders;\n";

    (void)state;
    lint_run_init(&r);
    dd_strv_push(&rules, "delete-without-where=warning");
    dd_strv_push(&rules, "cascade=off");
    lint_run_configure(&r, &rules, 500);
    assert_int_equal(r.small_table, 500);
    lint_script(&r, "m/1.sql", sql, strlen(sql), true);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.warnings, 1); /* the DELETE, now a warning */
    assert_int_equal(r.v[0].severity, LINT_WARNING);
    assert_int_equal(r.nsup, 2);
    assert_int_equal(lint_allowed_count(&r), 1); /* the unused drop-table suppression is not listed */
    lint_render_allowed(&b, &r);
    assert_string_equal(b.buf, "allowed: truncate at m/1.sql:1 (1 finding): nothing reads orders any more\n");
    dd_buf_release(&b);
    dd_strv_release(&rules);
    lint_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rule_fires_and_its_rewrite_is_silent),
        cmocka_unit_test(test_message_names_table_and_position),
        cmocka_unit_test(test_table_created_earlier_is_new),
        cmocka_unit_test(test_catalog_sizes_decide_lock_rules),
        cmocka_unit_test(test_severity_overrides),
        cmocka_unit_test(test_suppression_placement),
        cmocka_unit_test(test_bad_suppressions_are_errors),
        cmocka_unit_test(test_validate_in_a_later_transaction_is_fine),
        cmocka_unit_test(test_set_not_null_after_validated_check),
        cmocka_unit_test(test_renders_text_github_json),
        cmocka_unit_test(test_configure_and_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
