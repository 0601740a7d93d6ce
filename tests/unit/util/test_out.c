#include "unit.h"

#include "util/out.h"

static void test_escape_controls(void **state)
{
    struct dd_buf b = DD_BUF_INIT;
    const char *s = "0001_a\rb\033[2Kc\x7f\td\n";

    (void)state;
    out_escape_controls(&b, s, strlen(s), false);
    assert_string_equal(b.buf, "0001_a\\rb\\x1b[2Kc\\x7f\td\n");
    dd_buf_release(&b);
}

static void test_only_our_colour_codes_pass(void **state)
{
    struct dd_buf b = DD_BUF_INIT;
    const char *s = "\033[31merror:\033[0m x\033[2Ky";

    (void)state;
    out_escape_controls(&b, s, strlen(s), true);
    assert_string_equal(b.buf, "\033[31merror:\033[0m x\\x1b[2Ky");
    dd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_controls),
        cmocka_unit_test(test_only_our_colour_codes_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
