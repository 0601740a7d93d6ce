#include "unit.h"

#include "util/json.h"
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

/* Passwords with unencoded reserved characters are masked whole, however libpq would split them. */
static void test_url_password_with_reserved_characters_is_masked_whole(void **state)
{
    static const char *const cases[][2] = {
        {"postgres://u:p@ss@127.0.0.1/db", "postgres://u:***@127.0.0.1/db"},
        {"postgres://u:Pw9x?Zq7k@h/db", "postgres://u:***@h/db"},
        {"postgres://u:Pw9x#Zq7k@h/db", "postgres://u:***@h/db"},
        {"postgres://u:Pw9x@Zq?7k@h/db", "postgres://u:***@h/db"},
        {"postgres://u:Pw9x:Zq7k@h/db", "postgres://u:***@h/db"},
        {"postgres://u:Pw9x/Zq7k@h/db", "postgres://u:***@h/db"},
        {"postgres://u:Pw9x/Zq7k@h", "postgres://u:***@h"},
        /* a numeric port is a port, and '@' without a password is not a secret */
        {"http://host:8080/users/@me", "http://host:8080/users/@me"},
        {"https://registry.example:443/@scope/pkg", "https://registry.example:443/@scope/pkg"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        free(m);
        m = dd_mask_str(cases[i][0]);
        assert_string_equal(m, cases[i][1]);
    }
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

/* A short secret is also a word: masked where it stands alone, not inside names. */
static void test_short_secret_only_as_a_whole_word(void **state)
{
    (void)state;
    dd_mask_register("shop");
    m = dd_mask_str("user shop on shop: migrations/0001_shop_orders.sql, shopping, 'shop'");
    assert_string_equal(m, "user *** on ***: migrations/0001_shop_orders.sql, shopping, '***'");
}

static void test_spaced_and_ssl_passwords(void **state)
{
    (void)state;
    m = dd_mask_str("host=db password = Hunter2Secret sslpassword='a b' user=x ?sslpassword=zz&y=1");
    assert_string_equal(m, "host=db password = *** sslpassword=*** user=x ?sslpassword=***&y=1");
}

static void test_register_params_decodes(void **state)
{
    (void)state;
    dd_mask_register_params("postgresql://u@h/db?sslpassword=Qm%3FPass%23W0rd&password = 'it''s'");
    free(m);
    m = dd_mask_str("libpq saw Qm?Pass#W0rd and Qm%3FPass%23W0rd");
    assert_string_equal(m, "libpq saw *** and ***");
}

/* JSON is masked value by value: literals and syntax are never touched. */
static void test_json_masks_values_not_syntax(void **state)
{
    struct dd_buf b = DD_BUF_INIT;
    struct dd_json j;

    (void)state;
    dd_mask_register("true");
    dd_json_init(&j, &b);
    dd_json_obj_begin(&j, NULL);
    dd_json_bool(&j, "ledger_exists", true);
    dd_json_str(&j, "flag", "true");
    dd_json_str(&j, "quote", "password=ab\"cd");
    dd_json_obj_end(&j);
    assert_string_equal(b.buf, "{\"ledger_exists\":true,\"flag\":\"***\",\"quote\":\"password=***\"}\n");
    dd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_url_password_is_masked_without_registration, teardown),
        cmocka_unit_test_teardown(test_url_password_with_reserved_characters_is_masked_whole, teardown),
        cmocka_unit_test_teardown(test_url_without_password_is_unchanged, teardown),
        cmocka_unit_test_teardown(test_conninfo_and_query_passwords, teardown),
        cmocka_unit_test_teardown(test_registered_secrets_anywhere, teardown),
        cmocka_unit_test_teardown(test_longest_registered_secret_wins, teardown),
        cmocka_unit_test_teardown(test_short_secret_only_as_a_whole_word, teardown),
        cmocka_unit_test_teardown(test_spaced_and_ssl_passwords, teardown),
        cmocka_unit_test_teardown(test_register_params_decodes, teardown),
        cmocka_unit_test_teardown(test_json_masks_values_not_syntax, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
