#include "unit.h"

#include "util/parse.h"

static void test_durations(void **state)
{
    uint64_t ms;
    char out[32];

    (void)state;
    assert_int_equal(dd_parse_duration_ms("500ms", &ms), 0);
    assert_int_equal(ms, 500);
    assert_int_equal(dd_parse_duration_ms("10s", &ms), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(dd_parse_duration_ms("1m30s", &ms), 0);
    assert_int_equal(ms, 90000);
    assert_int_equal(dd_parse_duration_ms("2h", &ms), 0);
    assert_int_equal(ms, 7200000);
    assert_int_equal(dd_parse_duration_ms("0", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(dd_parse_duration_ms("10", &ms), -1);
    assert_int_equal(dd_parse_duration_ms("ten", &ms), -1);
    assert_int_equal(dd_parse_duration_ms("5 s", &ms), -1);
    assert_int_equal(dd_parse_duration_ms("-1s", &ms), -1);
    assert_int_equal(dd_parse_duration_ms("", &ms), -1);
    dd_format_duration(out, sizeof(out), 90000);
    assert_string_equal(out, "90s");
    dd_format_duration(out, sizeof(out), 120000);
    assert_string_equal(out, "2m");
    dd_format_duration(out, sizeof(out), 250);
    assert_string_equal(out, "250ms");
}

static void test_numbers_and_bools(void **state)
{
    uint32_t u;
    int64_t i;
    bool b;

    (void)state;
    assert_int_equal(dd_parse_u32("42", &u), 0);
    assert_int_equal(u, 42);
    assert_int_equal(dd_parse_u32("4294967296", &u), -1);
    assert_int_equal(dd_parse_u32("4x", &u), -1);
    assert_int_equal(dd_parse_u32("-1", &u), -1);
    assert_int_equal(dd_parse_u32(" 1", &u), -1);
    assert_int_equal(dd_parse_i64("-9", &i), 0);
    assert_int_equal(i, -9);
    assert_int_equal(dd_parse_bool("Yes", &b), 0);
    assert_true(b);
    assert_int_equal(dd_parse_bool("off", &b), 0);
    assert_false(b);
    assert_int_equal(dd_parse_bool("maybe", &b), -1);
}

static void test_status_sets(void **state)
{
    struct dd_status_set s;

    (void)state;
    assert_int_equal(dd_parse_status_set("2xx", &s), 0);
    assert_true(dd_status_set_has(&s, 200));
    assert_true(dd_status_set_has(&s, 299));
    assert_false(dd_status_set_has(&s, 300));
    assert_int_equal(dd_parse_status_set("200, 204,300-302", &s), 0);
    assert_true(dd_status_set_has(&s, 204));
    assert_true(dd_status_set_has(&s, 301));
    assert_false(dd_status_set_has(&s, 201));
    assert_false(dd_status_set_has(&s, 99));
    assert_false(dd_status_set_has(&s, 600));
    assert_int_equal(dd_parse_status_set("6xx", &s), -1);
    assert_int_equal(dd_parse_status_set("200,", &s), -1);
    assert_int_equal(dd_parse_status_set("302-300", &s), -1);
    assert_int_equal(dd_parse_status_set("", &s), -1);
}

static void test_byte_sizes(void **state)
{
    char out[32];

    (void)state;
    dd_format_bytes(out, sizeof(out), 812);
    assert_string_equal(out, "812 B");
    dd_format_bytes(out, sizeof(out), 1288490189);
    assert_string_equal(out, "1.2 GiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_numbers_and_bools),
        cmocka_unit_test(test_status_sets),
        cmocka_unit_test(test_byte_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
