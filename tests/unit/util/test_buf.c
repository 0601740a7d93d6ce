#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/strv.h"

static void test_buf_init_is_empty_string(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    assert_non_null(b.buf);
    assert_string_equal(b.buf, "");
    assert_int_equal(b.len, 0);
    dd_buf_release(&b);
    dd_buf_release(&b); /* twice is fine */
}

static void test_buf_addf_appends_and_terminates(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    dd_buf_adds(&b, "abc");
    dd_buf_addf(&b, "-%d-%s", 42, "x");
    assert_string_equal(b.buf, "abc-42-x");
    assert_int_equal(b.len, 8);
    dd_buf_release(&b);
}

static void test_buf_holds_nul_bytes(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    dd_buf_add(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.buf, "a\0b", 3);
    assert_int_equal(b.buf[3], '\0');
    dd_buf_release(&b);
}

static void test_buf_capped_keeps_last_bytes(void **state)
{
    struct dd_buf b;

    (void)state;
    dd_buf_init_capped(&b, 5);
    dd_buf_adds(&b, "hello ");
    dd_buf_adds(&b, "world");
    assert_string_equal(b.buf, "world");
    dd_buf_addf(&b, "%s", "1234567");
    assert_string_equal(b.buf, "34567");
    dd_buf_release(&b);
}

static void test_buf_detach_hands_over_and_resets(void **state)
{
    struct dd_buf b = DD_BUF_INIT;
    size_t len = 0;
    char *p;

    (void)state;
    p = dd_buf_detach(&b, &len);
    assert_string_equal(p, "");
    free(p);
    dd_buf_adds(&b, "xyz");
    p = dd_buf_detach(&b, &len);
    assert_string_equal(p, "xyz");
    assert_int_equal(len, 3);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.buf, "");
    free(p);
}

static void test_buf_add_replaced(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    dd_buf_add_replaced(&b, "a\nb\n", "\n", " | ");
    assert_string_equal(b.buf, "a | b | ");
    dd_buf_release(&b);
}

static void test_strv_push_join_sort(void **state)
{
    struct dd_strv sv = DD_STRV_INIT;
    char *j;

    (void)state;
    assert_non_null(sv.v);
    assert_null(sv.v[0]);
    dd_strv_push(&sv, "b");
    dd_strv_pushf(&sv, "%c", 'a');
    dd_strv_sort(&sv);
    j = dd_strv_join(&sv, ",");
    assert_string_equal(j, "a,b");
    assert_null(sv.v[2]);
    assert_true(dd_strv_contains(&sv, "b"));
    assert_false(dd_strv_contains(&sv, "c"));
    free(j);
    dd_strv_release(&sv);
    dd_strv_release(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_init_is_empty_string),
        cmocka_unit_test(test_buf_addf_appends_and_terminates),
        cmocka_unit_test(test_buf_holds_nul_bytes),
        cmocka_unit_test(test_buf_capped_keeps_last_bytes),
        cmocka_unit_test(test_buf_detach_hands_over_and_resets),
        cmocka_unit_test(test_buf_add_replaced),
        cmocka_unit_test(test_strv_push_join_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
