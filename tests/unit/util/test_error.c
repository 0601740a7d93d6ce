#include "unit.h"

#include "util/buf.h"
#include "util/error.h"

static void test_render_root_details_context_hint(void **state)
{
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    assert_int_equal(dd_error_set(&err, DD_EDB, "migrations/0042_x.sql:3:14: relation \"%s\" does not exist", "orders"),
                     -1);
    dd_error_detail(&err, "detail: %s", "none");
    assert_int_equal(dd_error_wrap(&err, "running stage '%s' for %s", "apply", "prod"), -1);
    dd_error_hint(&err, "The database was restored from %s; nothing changed.", "a.tar.zst");
    dd_error_render(&err, &b);
    assert_string_equal(b.buf, "error: migrations/0042_x.sql:3:14: relation \"orders\" does not exist\n"
                               "  detail: none\n"
                               "  while running stage 'apply' for prod\n"
                               "hint: The database was restored from a.tar.zst; nothing changed.\n");
    dd_buf_release(&b);
    dd_error_release(&err);
    dd_error_release(&err);
    assert_false(dd_error_isset(&err));
}

static void test_exit_status_mapping(void **state)
{
    static const struct {
        enum dd_errcode code;
        enum dd_exit exit;
    } map[] = {
        {DD_EOK, DD_EXIT_OK},
        {DD_EUSAGE, DD_EXIT_USAGE},
        {DD_ECONFIG, DD_EXIT_USAGE},
        {DD_EINPUT, DD_EXIT_USAGE},
        {DD_EBLOCKED, DD_EXIT_BLOCKED},
        {DD_EDB, DD_EXIT_FAILED},
        {DD_EIO, DD_EXIT_FAILED},
        {DD_EGIT, DD_EXIT_FAILED},
        {DD_EHTTP, DD_EXIT_FAILED},
        {DD_ECHILD, DD_EXIT_FAILED},
        {DD_EINTERRUPTED, DD_EXIT_FAILED},
        {DD_ERESTORED, DD_EXIT_RESTORED},
        {DD_ERESTOREFAIL, DD_EXIT_RESTORE_FAILED},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        struct dd_error err = DD_ERROR_INIT;
        if (map[i].code != DD_EOK)
            dd_error_set(&err, map[i].code, "x");
        assert_int_equal(dd_error_exit_status(&err), map[i].exit);
        dd_error_release(&err);
    }
    assert_int_equal(DD_EXIT_USAGE, 2);
    assert_int_equal(DD_EXIT_BLOCKED, 3);
    assert_int_equal(DD_EXIT_RESTORED, 4);
    assert_int_equal(DD_EXIT_RESTORE_FAILED, 5);
}

static void test_set_replaces_and_recode_keeps_message(void **state)
{
    struct dd_error err = DD_ERROR_INIT, moved = DD_ERROR_INIT;

    (void)state;
    dd_error_set(&err, DD_EIO, "first");
    dd_error_set(&err, DD_EDB, "second");
    assert_string_equal(dd_error_msg(&err), "second");
    dd_error_recode(&err, DD_ERESTORED);
    assert_int_equal(err.code, DD_ERESTORED);
    assert_string_equal(dd_error_msg(&err), "second");
    dd_error_move(&moved, &err);
    assert_false(dd_error_isset(&err));
    assert_string_equal(dd_error_msg(&moved), "second");
    dd_error_release(&moved);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_root_details_context_hint),
        cmocka_unit_test(test_exit_status_mapping),
        cmocka_unit_test(test_set_replaces_and_recode_keeps_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
