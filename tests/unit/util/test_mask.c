#include "unit.h"

#include "util/mask.h"

static char *m;

static int teardown(void **state)
{
    (void)state;
    free(m);
    m = NULL;
    dd_mask_clear();
    return 0;
}

static void test_url_password_is_masked_without_registration(void **state)
{
    (void)state;
    m = dd_mask_str("cannot connect to postgresql://app:hunter2@db.internal:5432/prod?sslmode=require");
    assert_string_equal(m, "cannot connect to postgresql://app:***@db.internal:5432/prod?sslmode=require");
}

static void test_url_without_password_is_unchanged(void **state)
{
    (void)state;
    m = dd_mask_str("postgresql://app@db/prod and http://host:8080/healthz and postgresql:///x?host=/tmp");
    assert_string_equal(m, "postgresql://app@db/prod and http://host:8080/healthz and postgresql:///x?host=/tmp");
}

static void test_conninfo_and_query_passwords(void **state)
{
    (void)state;
    m = dd_mask_str("host=db password=abc123 user=x; url?user=a&password=zz9&x=1; password='q w'");
    assert_string_equal(m, "host=db password=*** user=x; url?user=a&password=***&x=1; password=***");
}

static void test_registered_secrets_anywhere(void **state)
{
    (void)state;
    dd_mask_register("tok-abcdef");
    dd_mask_register("ab"); /* too short to register */
    m = dd_mask_str("header was tok-abcdef, ab stays");
    assert_string_equal(m, "header was ***, ab stays");
}

static void test_longest_registered_secret_wins(void **state)
{
    (void)state;
    dd_mask_register("secret");
    dd_mask_register("secret-longer");
    m = dd_mask_str("x secret-longer y secret z");
    assert_string_equal(m, "x *** y *** z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_url_password_is_masked_without_registration, teardown),
        cmocka_unit_test_teardown(test_url_without_password_is_unchanged, teardown),
        cmocka_unit_test_teardown(test_conninfo_and_query_passwords, teardown),
        cmocka_unit_test_teardown(test_registered_secrets_anywhere, teardown),
        cmocka_unit_test_teardown(test_longest_registered_secret_wins, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
