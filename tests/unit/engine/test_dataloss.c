/* When an ALTER COLUMN TYPE can lose what the column holds (the guard's narrowing rule). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/dataloss.h"

#define VARCHAR(n)    ((n) + 4)
#define NUMERIC(p, s) ((((p) << 16) | (s)) + 4)

static void test_narrowing_smaller_lengths_and_precisions(void **state)
{
    (void)state;
    assert_true(engine_type_narrows("varchar", VARCHAR(10), "varchar", VARCHAR(2)));
    assert_false(engine_type_narrows("varchar", VARCHAR(2), "varchar", VARCHAR(10)));
    assert_false(engine_type_narrows("varchar", VARCHAR(2), "varchar", -1));
    assert_true(engine_type_narrows("varchar", -1, "varchar", VARCHAR(5)));
    assert_true(engine_type_narrows("numeric", NUMERIC(12, 2), "numeric", NUMERIC(12, 1)));
    assert_true(engine_type_narrows("numeric", NUMERIC(12, 2), "numeric", NUMERIC(8, 2)));
    assert_false(engine_type_narrows("numeric", NUMERIC(8, 2), "numeric", NUMERIC(12, 4)));
    assert_true(engine_type_narrows("timestamptz", 6, "timestamptz", 0));
}

static void test_narrowing_smaller_types(void **state)
{
    (void)state;
    assert_true(engine_type_narrows("int8", -1, "int4", -1));
    assert_true(engine_type_narrows("int4", -1, "int2", -1));
    assert_false(engine_type_narrows("int4", -1, "int8", -1));
    assert_true(engine_type_narrows("numeric", -1, "int8", -1));
    assert_true(engine_type_narrows("float8", -1, "float4", -1));
    assert_false(engine_type_narrows("float4", -1, "float8", -1));
    assert_true(engine_type_narrows("text", -1, "varchar", VARCHAR(20)));
    assert_false(engine_type_narrows("varchar", VARCHAR(20), "text", -1));
    assert_true(engine_type_narrows("timestamptz", -1, "date", -1));
    assert_false(engine_type_narrows("date", -1, "timestamptz", -1));
    assert_false(engine_type_narrows("int4", -1, "text", -1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_narrowing_smaller_lengths_and_precisions),
        cmocka_unit_test(test_narrowing_smaller_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
