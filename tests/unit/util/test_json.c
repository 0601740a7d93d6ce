#include "unit.h"

#include "util/json.h"

static void test_document_with_nesting_and_commas(void **state)
{
    struct dd_buf b = DD_BUF_INIT;
    struct dd_json j;

    (void)state;
    dd_json_init(&j, &b);
    dd_json_obj_begin(&j, NULL);
    dd_json_int(&j, "schema", 1);
    dd_json_str(&j, "env", "prod");
    dd_json_str(&j, "none", NULL);
    dd_json_arr_begin(&j, "items");
    dd_json_int(&j, NULL, -3);
    dd_json_bool(&j, NULL, true);
    dd_json_obj_begin(&j, NULL);
    dd_json_double(&j, "secs", 1.5);
    dd_json_obj_end(&j);
    dd_json_arr_end(&j);
    dd_json_obj_end(&j);
    assert_string_equal(b.buf, "{\"schema\":1,\"env\":\"prod\",\"none\":null,\"items\":[-3,true,{\"secs\":1.500}]}\n");
    dd_buf_release(&b);
}

static void test_escaping(void **state)
{
    struct dd_buf b = DD_BUF_INIT;

    (void)state;
    dd_json_escape(&b, "q\" b\\ n\n t\t c\x01 u\xc3\xa9 bad\xff end");
    assert_string_equal(b.buf, "\"q\\\" b\\\\ n\\n t\\t c\\u0001 u\xc3\xa9 bad\\ufffd end\"");
    dd_buf_release(&b);
}

static void test_error_object_or_null(void **state)
{
    struct dd_buf b = DD_BUF_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_json j;

    (void)state;
    dd_json_init(&j, &b);
    dd_json_obj_begin(&j, NULL);
    dd_json_error(&j, "none", NULL);
    dd_json_error(&j, "unset", &err);
    dd_error_set(&err, DD_EDB, "relation \"t\" exists");
    dd_error_detail(&err, "in 0002");
    dd_error_wrap(&err, "applying 0002");
    dd_error_hint(&err, "Drop it.");
    dd_json_error(&j, "error", &err);
    dd_json_obj_end(&j);
    assert_string_equal(b.buf, "{\"none\":null,\"unset\":null,\"error\":{\"message\":\"relation "
                               "\\\"t\\\" exists\",\"details\":[\"in 0002\"],\"context\":[\"applying 0002\"],"
                               "\"hint\":\"Drop it.\"}}\n");
    dd_error_release(&err);
    dd_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_with_nesting_and_commas),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_error_object_or_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
