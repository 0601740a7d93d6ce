/* The canonical form of a schema dump: what differs between runs goes, nothing else does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backup/backup.h"

static char *canonical(const char *in)
{
    struct dd_buf b = DD_BUF_INIT;

    backup_schema_canonical(&b, in, strlen(in));
    return dd_buf_detach(&b, NULL);
}

static void test_version_comments_and_restrict_key_go(void **state)
{
    char *c = canonical("--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123XYZ\n\n"
                        "-- Dumped from database version 15.18\n-- Dumped by pg_dump version 15.18\n\n"
                        "SET lock_timeout = 0;\n\n\\unrestrict abc123XYZ\n\n");

    (void)state;
    assert_string_equal(c, "--\n-- PostgreSQL database dump\n--\n\nSET lock_timeout = 0;\n\n");
    free(c);
}

static void test_sql_and_comments_stay_byte_for_byte(void **state)
{
    const char *in = "CREATE TABLE public.t (\n    note text DEFAULT '-- Dumped from'::text\n);\n\n\n"
                     "-- a comment that mentions \\restrict\n";
    char *c = canonical(in);

    (void)state;
    /* only a blank run left behind by a removed line collapses; these two blank lines are the dump's own */
    assert_string_equal(c, "CREATE TABLE public.t (\n    note text DEFAULT '-- Dumped from'::text\n);\n\n"
                           "-- a comment that mentions \\restrict\n");
    free(c);
}

static void test_last_line_without_newline_gets_one(void **state)
{
    char *c = canonical("SELECT 1;");

    (void)state;
    assert_string_equal(c, "SELECT 1;\n");
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_comments_and_restrict_key_go),
        cmocka_unit_test(test_sql_and_comments_stay_byte_for_byte),
        cmocka_unit_test(test_last_line_without_newline_gets_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
