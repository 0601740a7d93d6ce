#include "unit.h"

#include "health/internal.h"

static enum health_redirect check(const char *from, const char *to, char *why)
{
    return health_redirect_check(from, to, why, HEALTH_REASON_MAX);
}

static void test_origins(void **state)
{
    char why[HEALTH_REASON_MAX];

    (void)state;
    assert_int_equal(check("http://a.example/x", "http://a.example:80/y?z", why), HEALTH_REDIRECT_SAME_ORIGIN);
    assert_int_equal(check("https://a.example/x", "https://A.example:443/y", why), HEALTH_REDIRECT_SAME_ORIGIN);
    assert_int_equal(check("http://a.example/x", "http://b.example/x", why), HEALTH_REDIRECT_CROSS_ORIGIN);
    assert_int_equal(check("http://a.example/x", "http://a.example:8080/x", why), HEALTH_REDIRECT_CROSS_ORIGIN);
    /* an upgrade is allowed, but it is another origin: the headers were meant for http://a */
    assert_int_equal(check("http://a.example/x", "https://a.example/x", why), HEALTH_REDIRECT_CROSS_ORIGIN);
}

static void test_refused(void **state)
{
    char why[HEALTH_REASON_MAX];

    (void)state;
    assert_int_equal(check("https://a.example/x", "http://a.example/x", why), HEALTH_REDIRECT_REFUSED);
    assert_non_null(strstr(why, "from https to http"));
    assert_int_equal(check("http://a.example/x", "ftp://a.example/x", why), HEALTH_REDIRECT_REFUSED);
    assert_non_null(strstr(why, "another protocol"));
    assert_int_equal(check("http://a.example/x", "not a url", why), HEALTH_REDIRECT_REFUSED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_origins),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
