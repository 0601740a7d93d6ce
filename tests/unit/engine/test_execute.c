#include "unit.h"

#include "engine/execute.h"
#include "engine_fixture.h"

/* engine_decide: the same check and plan, before the lock and again under it. */

static void test_apply_goal_checks_then_plans_up_to_target(void **state)
{
    struct engine_plan plan = ENGINE_PLAN_INIT;
    const struct engine_goal all = {ENGINE_GOAL_APPLY, -1, 0, false}, to2 = {ENGINE_GOAL_APPLY, 2, 0, false};

    (void)state;
    file("1_a.sql", "select 1;");
    file("2_b.sql", "select 2;");
    file("3_c.sql", "select 3;");
    row(1, "1_a.sql", "select 1;", DB_LEDGER_APPLIED);
    build();
    assert_int_equal(engine_decide(&plan, &st, &opts, &all, &err), 0);
    assert_int_equal(plan.n, 2);
    engine_plan_release(&plan);
    assert_int_equal(engine_decide(&plan, &st, &opts, &to2, &err), 0);
    assert_int_equal(plan.n, 1);
    assert_int_equal(plan.v[0].m->version, 2);
    engine_plan_release(&plan);
}

static void test_apply_goal_refuses_a_changed_applied_file(void **state)
{
    struct engine_plan plan = ENGINE_PLAN_INIT;
    const struct engine_goal all = {ENGINE_GOAL_APPLY, -1, 0, false};

    (void)state;
    file("1_a.sql", "select 1; -- edited");
    file("2_b.sql", "select 2;");
    row(1, "1_a.sql", "select 1;", DB_LEDGER_APPLIED);
    build();
    assert_int_equal(engine_decide(&plan, &st, &opts, &all, &err), -1);
    assert_int_equal(err.code, DD_EBLOCKED);
    assert_int_equal(plan.n, 0);
}

static void test_rollback_goal_ignores_pending_order_and_honours_steps(void **state)
{
    struct engine_plan plan = ENGINE_PLAN_INIT;
    const struct engine_goal one = {ENGINE_GOAL_ROLLBACK, -1, 1, true}, all = {ENGINE_GOAL_ROLLBACK, 0, 0, true};

    (void)state;
    file("1_a.sql", "select 1;");
    file("2_b.sql", "select 2;"); /* pending below the newest applied: apply refuses, rollback does not care */
    file("3_c.sql", "select 3;");
    row(1, "1_a.sql", "select 1;", DB_LEDGER_APPLIED);
    row(3, "3_c.sql", "select 3;", DB_LEDGER_APPLIED);
    build();
    assert_int_equal(engine_decide(&plan, &st, &opts, &one, &err), 0);
    assert_int_equal(plan.n, 1);
    assert_int_equal(plan.v[0].m->version, 3);
    assert_true(plan.down);
    engine_plan_release(&plan);
    assert_int_equal(engine_decide(&plan, &st, &opts, &all, &err), 0);
    assert_int_equal(plan.n, 2);
    engine_plan_release(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_apply_goal_checks_then_plans_up_to_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_goal_refuses_a_changed_applied_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_goal_ignores_pending_order_and_honours_steps, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
