#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "migrations/sql.h"

struct split {
    struct sql_script s;
    struct sql_lex_error e;
    int rc;
    const char *text;
};

static void split(struct split *sp, const char *text)
{
    sp->s = (struct sql_script)SQL_SCRIPT_INIT;
    sp->text = text;
    sp->rc = sql_split(&sp->s, text, strlen(text), &sp->e);
}

/* The text of statement k (without surrounding whitespace), in a static buffer. */
static const char *stmt_text(const struct split *sp, size_t k)
{
    static char buf[512];
    const struct sql_stmt *st = &sp->s.stmts[k];
    snprintf(buf, sizeof(buf), "%.*s", (int)(st->end - st->start), sp->text + st->start);
    return buf;
}

static void test_splits_simple_statements(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "create table a (id int);\n\ninsert into a values (1);  select 1");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 3);
    assert_string_equal(stmt_text(&sp, 0), "create table a (id int);");
    assert_string_equal(stmt_text(&sp, 1), "insert into a values (1);");
    assert_string_equal(stmt_text(&sp, 2), "select 1");
    assert_int_equal(sp.s.stmts[1].line, 3);
    assert_int_equal(sp.s.stmts[1].col, 1);
    assert_int_equal(sp.s.stmts[2].line, 3);
    assert_int_equal(sp.s.stmts[2].col, 28);
    sql_script_release(&sp.s);
}

static void test_comment_only_text_has_no_statements(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "-- nothing here; really\n/* nor ; here /* nested; */ still */\n;;\n");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 0);
    sql_script_release(&sp.s);
}

static void test_semicolons_inside_quotes_and_comments_do_not_split(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "insert into t values ('a;b', \"we;ird\", E'it\\'s; ok', U&'x;y', B'01', X'0f');\n"
               "select 1 /* ; */ -- ;\n + 2;");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 2);
    assert_int_equal(sp.s.stmts[1].line, 2);
    sql_script_release(&sp.s);
}

static void test_dollar_quotes_with_tags(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "do $$ begin perform 1; end $$;\n"
               "create function f() returns int as $fn$ select 1; $x$ not the end; $fn$ language sql;\n"
               "select $1, a$b from t;");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 3);
    assert_int_equal(sp.s.stmts[2].line, 3);
    sql_script_release(&sp.s);
}

static void test_dollar_signs_inside_strings_are_not_tags(void **state)
{
    struct split sp;

    (void)state;
    /* rauthy stores argon2 hashes that look like dollar-quote tags */
    split(&sp, "insert into users values ('$argon2id$v=19$m=32768,t=3,p=2$PoAw$abc');\nselect 2;");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 2);
    sql_script_release(&sp.s);
}

static void test_extended_string_backslash_quote(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "select e'a\\';b', 'c\\';\nselect 3;");
    /* in a standard string the backslash is literal, so 'c\' ends there */
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 2);
    assert_string_equal(stmt_text(&sp, 0), "select e'a\\';b', 'c\\';");
    sql_script_release(&sp.s);
}

static void test_begin_atomic_body_is_one_statement(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "create or replace function f(a int) returns int language sql\n"
               "begin atomic\n  select case when a > 0 then 1 else 0 end;\n  select 2;\nend;\n"
               "create procedure p() begin atomic insert into t values (1); end;\n"
               "select 'after';");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 3);
    assert_int_equal(sp.s.stmts[1].line, 6);
    assert_int_equal(sp.s.stmts[2].line, 7);
    sql_script_release(&sp.s);
}

static void test_plain_begin_end_are_transaction_control(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "BEGIN;\ncreate table x (id int);\nEND;\nstart transaction isolation level serializable;\n"
               "commit work;\nrollback;\nrollback to savepoint s;\nabort;\ncommit and chain;\ncommit prepared 'x';");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 10);
    assert_int_equal(sp.s.stmts[0].kind, SQL_KIND_BEGIN);
    assert_int_equal(sp.s.stmts[1].kind, SQL_KIND_OTHER);
    assert_int_equal(sp.s.stmts[2].kind, SQL_KIND_COMMIT);
    assert_int_equal(sp.s.stmts[3].kind, SQL_KIND_BEGIN);
    assert_int_equal(sp.s.stmts[4].kind, SQL_KIND_COMMIT);
    assert_int_equal(sp.s.stmts[5].kind, SQL_KIND_ROLLBACK);
    assert_int_equal(sp.s.stmts[6].kind, SQL_KIND_OTHER);
    assert_int_equal(sp.s.stmts[7].kind, SQL_KIND_ROLLBACK);
    assert_int_equal(sp.s.stmts[8].kind, SQL_KIND_TX_OTHER);
    assert_int_equal(sp.s.stmts[9].kind, SQL_KIND_NO_TX);
    sql_script_release(&sp.s);
}

static void test_detects_statements_that_cannot_run_in_a_transaction(void **state)
{
    static const struct {
        const char *sql;
        const char *what;
    } cases[] = {
        {"CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a)", "CREATE INDEX CONCURRENTLY"},
        {"create unique index concurrently i on t (a)", "CREATE INDEX CONCURRENTLY"},
        {"drop index concurrently if exists i", "DROP INDEX CONCURRENTLY"},
        {"reindex (verbose) table concurrently t", "REINDEX CONCURRENTLY"},
        {"vacuum analyze t", "VACUUM"},
        {"alter system set work_mem = '64MB'", "ALTER SYSTEM"},
        {"create database x", "CREATE DATABASE"},
        {"alter database x set tablespace ts", "ALTER DATABASE SET TABLESPACE"},
        {"alter table p detach partition c concurrently", "DETACH PARTITION CONCURRENTLY"},
        {"create tablespace ts location '/x'", "CREATE TABLESPACE"},
        {"discard all", "DISCARD ALL"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct split sp;
        split(&sp, cases[i].sql);
        assert_int_equal(sp.rc, 0);
        assert_int_equal(sp.s.n, 1);
        assert_int_equal(sp.s.stmts[0].kind, SQL_KIND_NO_TX);
        assert_string_equal(sp.s.stmts[0].what, cases[i].what);
        sql_script_release(&sp.s);
    }
}

static void test_transactional_lookalikes_stay_transactional(void **state)
{
    static const char *const sqls[] = {
        "create index i on t (a)",
        "create index concurrently_named on t (a)", /* an index called concurrently_named */
        "refresh materialized view concurrently mv",
        "alter type e add value 'x'",
        "select 'create index concurrently'",
        "alter database x set work_mem = '1MB'",
        "cluster t using i",
        "comment on table t is 'vacuum'",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
        struct split sp;
        split(&sp, sqls[i]);
        assert_int_equal(sp.rc, 0);
        assert_int_equal(sp.s.n, 1);
        assert_int_not_equal(sp.s.stmts[0].kind, SQL_KIND_NO_TX);
        sql_script_release(&sp.s);
    }
}

static void test_meta_command_is_rejected_with_position(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "select 1;\n  \\i other.sql\n");
    assert_int_equal(sp.rc, -1);
    assert_int_equal(sp.e.line, 2);
    assert_int_equal(sp.e.col, 3);
    assert_non_null(strstr(sp.e.message, "'\\i'"));
    sql_script_release(&sp.s);
}

static void test_backslash_inside_string_is_not_a_meta_command(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "select '\\set x', E'\\\\connect';");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 1);
    sql_script_release(&sp.s);
}

static void test_unterminated_constructs_are_errors(void **state)
{
    static const struct {
        const char *sql;
        unsigned line, col;
        const char *needle;
    } cases[] = {
        {"select 1;\nselect 'abc", 2, 8, "quoted string"},
        {"select \"abc", 1, 8, "quoted identifier"},
        {"/* a /* b */", 1, 1, "comment"},
        {"do $body$ begin end; $bod$", 1, 4, "$body$"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct split sp;
        split(&sp, cases[i].sql);
        assert_int_equal(sp.rc, -1);
        assert_int_equal(sp.e.line, cases[i].line);
        assert_int_equal(sp.e.col, cases[i].col);
        assert_non_null(strstr(sp.e.message, cases[i].needle));
        sql_script_release(&sp.s);
    }
}

static void test_nul_byte_is_rejected(void **state)
{
    struct sql_script s = SQL_SCRIPT_INIT;
    struct sql_lex_error e;

    (void)state;
    assert_int_equal(sql_split(&s, "select 1;\0", 10, &e), -1);
    assert_non_null(strstr(e.message, "NUL"));
    sql_script_release(&s);
}

static void test_positions_count_characters_not_bytes(void **state)
{
    const char *t = "-- caf\xc3\xa9 \xe2\x86\x92\nselect x\xc3\xa9 from y;";
    unsigned line, col;
    size_t b;

    (void)state;
    /* character 14 is the 's' of select: "-- café →" is 9 chars plus the newline */
    b = sql_char_to_byte(t, strlen(t), 11);
    assert_int_equal(t[b], 's');
    sql_linecol(t, strlen(t), b + 8, &line, &col);
    assert_int_equal(line, 2);
    assert_int_equal(col, 9);
    assert_int_equal(sql_char_count("\xc3\xa9t\xc3\xa9", 5), 3);
}

static void test_crlf_line_endings(void **state)
{
    struct split sp;

    (void)state;
    split(&sp, "create table a (id int);\r\n\r\ncreate table b (id int);\r\n");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 2);
    assert_int_equal(sp.s.stmts[1].line, 3);
    assert_int_equal(sp.s.stmts[1].col, 1);
    sql_script_release(&sp.s);
}

/* psql skips a leading UTF-8 byte-order mark; it takes no column either (editors do not show it). */
static void test_byte_order_mark_is_skipped(void **state)
{
    struct split sp;
    unsigned line, col;
    const char *t = "\xef\xbb\xbf"
                    "create table a (id int);\nselect 1;";

    (void)state;
    split(&sp, t);
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 2);
    assert_int_equal(sp.s.stmts[0].start, 3);
    assert_string_equal(stmt_text(&sp, 0), "create table a (id int);");
    assert_int_equal(sp.s.stmts[0].line, 1);
    assert_int_equal(sp.s.stmts[0].col, 1);
    assert_int_equal(sp.s.stmts[0].kind, SQL_KIND_OTHER);
    sql_linecol(t, strlen(t), 10, &line, &col);
    assert_int_equal(line, 1);
    assert_int_equal(col, 8);
    sql_script_release(&sp.s);
    /* only at the very start: elsewhere it is an identifier character, as for the server */
    split(&sp, "select 1;\xef\xbb\xbf");
    assert_int_equal(sp.rc, 0);
    assert_int_equal(sp.s.n, 2);
    sql_script_release(&sp.s);
    assert_int_equal(sql_bom_len("\xef\xbb", 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splits_simple_statements),
        cmocka_unit_test(test_comment_only_text_has_no_statements),
        cmocka_unit_test(test_semicolons_inside_quotes_and_comments_do_not_split),
        cmocka_unit_test(test_dollar_quotes_with_tags),
        cmocka_unit_test(test_dollar_signs_inside_strings_are_not_tags),
        cmocka_unit_test(test_extended_string_backslash_quote),
        cmocka_unit_test(test_begin_atomic_body_is_one_statement),
        cmocka_unit_test(test_plain_begin_end_are_transaction_control),
        cmocka_unit_test(test_detects_statements_that_cannot_run_in_a_transaction),
        cmocka_unit_test(test_transactional_lookalikes_stay_transactional),
        cmocka_unit_test(test_meta_command_is_rejected_with_position),
        cmocka_unit_test(test_backslash_inside_string_is_not_a_meta_command),
        cmocka_unit_test(test_unterminated_constructs_are_errors),
        cmocka_unit_test(test_nul_byte_is_rejected),
        cmocka_unit_test(test_positions_count_characters_not_bytes),
        cmocka_unit_test(test_crlf_line_endings),
        cmocka_unit_test(test_byte_order_mark_is_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
