/* changelog/parse.c: reading the dbdeploy:applied lines back from a CHANGELOG.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "changelog/changelog.h"

#define LINE "<!-- dbdeploy:applied env=prod version=7 checksum=sha256:ab file=migrations/0007 a b.sql -->"

static void test_parse_reads_applied_lines(void **state)
{
    const char *text = "# prod\n\n" LINE "\nplain text\n<!-- dbdeploy:applied env=prod version=8 -->\n";
    struct changelog_records r = CHANGELOG_RECORDS_INIT;

    (void)state;
    changelog_parse(&r, text, strlen(text));
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].env, "prod");
    assert_true(r.v[0].version == 7);
    assert_string_equal(r.v[0].checksum, "sha256:ab");
    assert_string_equal(r.v[0].file, "migrations/0007 a b.sql");
    changelog_records_release(&r);
}

/*
 * Found by tests/fuzz/fuzz_changelog_parse.c: the closing " -->" was searched with strstr, past
 * len (a read beyond the buffer when the text is not NUL-terminated) and past the line.
 */
static void test_parse_stays_within_len(void **state)
{
    struct changelog_records r = CHANGELOG_RECORDS_INIT;
    size_t len = strlen(LINE) - 3; /* cut inside the closing " -->" */
    char *exact = dd_xmalloc(len);

    (void)state;
    memcpy(exact, LINE, len);
    changelog_parse(&r, exact, len);
    assert_int_equal(r.n, 0);
    /* the same cut inside a longer, NUL-terminated buffer */
    changelog_parse(&r, LINE, len);
    assert_int_equal(r.n, 0);
    changelog_records_release(&r);
    free(exact);
}

static void test_parse_needs_the_close_on_the_same_line(void **state)
{
    const char *text = "<!-- dbdeploy:applied env=prod version=7 checksum=c file=f\nx -->\n";
    struct changelog_records r = CHANGELOG_RECORDS_INIT;

    (void)state;
    changelog_parse(&r, text, strlen(text));
    assert_int_equal(r.n, 0);
    changelog_records_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_reads_applied_lines),
        cmocka_unit_test(test_parse_stays_within_len),
        cmocka_unit_test(test_parse_needs_the_close_on_the_same_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
