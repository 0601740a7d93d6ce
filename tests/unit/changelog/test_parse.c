#include "unit.h"

#include <time.h>

#include "changelog/changelog.h"

#define SUM "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_records_and_other_text(void **state)
{
    struct changelog_records r = CHANGELOG_RECORDS_INIT;
    const char *text = "# Deployments to prod\n\n"
                       "<!-- dbdeploy:applied env=prod version=2 checksum=" SUM " file=migrations/0002 a b.sql -->\n"
                       "<!-- dbdeploy:applied env=prod version=3 checksum=x file=unclosed\n"
                       "text -->\n"
                       "<!-- dbdeploy:applied env=prod version=4 checksum=y -->\n"
                       "<!-- dbdeploy:applied env=prod version=5 checksum=z file=m/5.sql -->";

    (void)state;
    changelog_parse(&r, text, strlen(text));
    assert_int_equal(r.n, 2);
    assert_string_equal(r.v[0].env, "prod");
    assert_int_equal(r.v[0].version, 2);
    assert_string_equal(r.v[0].checksum, SUM);
    assert_string_equal(r.v[0].file, "migrations/0002 a b.sql");
    assert_int_equal(r.v[1].version, 5);
    assert_string_equal(r.v[1].file, "m/5.sql");
    changelog_records_release(&r);
}

/*
 * A 5 MB changelog whose marker lines have no " -->" (a truncated or hand-edited file): the old
 * parser searched for the close past the end of every line, to the end of the text, which is
 * quadratic (2.4 MB took 1.3 s). Linear, this takes milliseconds.
 */
static void test_large_changelog_is_linear(void **state)
{
    struct changelog_records r = CHANGELOG_RECORDS_INIT;
    struct dd_buf b = DD_BUF_INIT;
    size_t good = 0;
    double t0, took;
    char *last;
    int i;

    (void)state;
    for (i = 1; b.len < 5u * 1024 * 1024; i++) {
        if (i <= 3) {
            dd_buf_addf(&b, "<!-- dbdeploy:applied env=prod version=%d checksum=" SUM " file=m/%d.sql -->\n", i, i);
            good++;
        } else {
            dd_buf_addf(&b, "<!-- dbdeploy:applied env=prod version=%d checksum=" SUM " file=m/%d.sql\n", i, i);
        }
    }
    dd_buf_addf(&b, "<!-- dbdeploy:applied env=prod version=%d checksum=" SUM " file=m/%d.sql -->\n", i, i);
    good++;
    t0 = now_s();
    changelog_parse(&r, b.buf, b.len);
    took = now_s() - t0;
    print_message("parsed %zu bytes in %.3f s\n", b.len, took);
    assert_int_equal(r.n, good);
    assert_int_equal(r.v[0].version, 1);
    last = dd_xasprintf("m/%d.sql", i);
    assert_string_equal(r.v[good - 1].file, last);
    free(last);
    assert_true(took < 2.0);
    changelog_records_release(&r);
    dd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_and_other_text),
        cmocka_unit_test(test_large_changelog_is_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
