/* The applied-version lines at the end of a schema file, as `setup` reads them back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "schema/internal.h"

static void test_trailer_round_trips(void **state)
{
    const int64_t versions[] = {1, 20240101120000};
    const char *const files[] = {"migrations/0001_a.up.sql", "db/20240101120000_b.sql"};
    struct dd_buf b = DD_BUF_INIT;
    struct schema_applied a;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    dd_buf_adds(&b, "CREATE TABLE t ();\n-- dbdeploy:applied is only a prefix when a version follows\n");
    schema_trailer(&b, versions, files, 2);
    assert_int_equal(schema_applied_parse(&a, b.buf, b.len, "schema.sql", &err), -1);
    assert_non_null(strstr(err.chain.v[0], "schema.sql:2:"));
    dd_error_release(&err);

    dd_buf_setlen(&b, 0);
    dd_buf_adds(&b, "CREATE TABLE t ();\n");
    schema_trailer(&b, versions, files, 2);
    assert_int_equal(schema_applied_parse(&a, b.buf, b.len, "schema.sql", &err), 0);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.versions[1], 20240101120000);
    assert_string_equal(a.files[0], "migrations/0001_a.up.sql");
    assert_string_equal(a.files[1], "db/20240101120000_b.sql");
    schema_applied_release(&a);
    dd_buf_release(&b);
}

static void test_no_trailer_lists_nothing(void **state)
{
    struct schema_applied a;
    struct dd_error err = DD_ERROR_INIT;
    const char *text = "CREATE TABLE t ();\n";

    (void)state;
    assert_int_equal(schema_applied_parse(&a, text, strlen(text), "schema.sql", &err), 0);
    assert_int_equal(a.n, 0);
    schema_applied_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trailer_round_trips),
        cmocka_unit_test(test_no_trailer_lists_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
