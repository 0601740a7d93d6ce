#include "unit.h"

#include "engine_fixture.h"

static void test_join_marks_every_state(void **state)
{
    (void)state;
    file("1_a.sql", "a");
    file("2_b.sql", "b changed");
    file("3_c2.sql", "c");
    file("4_d.sql", "d");
    file("6_f.sql", "f");
    file("8_h.sql", "h");
    row(1, "1_a.sql", "a", DB_LEDGER_APPLIED);
    row(2, "2_b.sql", "b", DB_LEDGER_APPLIED);
    row(3, "3_c.sql", "c", DB_LEDGER_APPLIED);
    row(4, "4_d.sql", "d", DB_LEDGER_DIRTY);
    row(5, "5_e.sql", "e", DB_LEDGER_APPLIED);
    row(7, "7_g.sql", "g", DB_LEDGER_APPLIED);
    build();
    assert_int_equal(st.n, 8);
    assert_int_equal(st.v[0].state, ENGINE_APPLIED);
    assert_int_equal(st.v[1].state, ENGINE_MODIFIED);
    assert_int_equal(st.v[2].state, ENGINE_RENAMED);
    assert_int_equal(st.v[3].state, ENGINE_DIRTY);
    assert_int_equal(st.v[4].state, ENGINE_MISSING);
    assert_null(st.v[4].m);
    assert_int_equal(st.v[5].state, ENGINE_OUT_OF_ORDER);
    assert_int_equal(st.v[6].state, ENGINE_MISSING);
    assert_int_equal(st.v[7].state, ENGINE_PENDING);
    assert_int_equal(st.newest_applied, 7);
    assert_int_equal(st.count[ENGINE_MISSING], 2);
}

static void test_dirty_blocks_first_with_mark_instructions(void **state)
{
    (void)state;
    file("0004_d.sql", "d");
    row(4, "0004_d.sql", "d", DB_LEDGER_DIRTY);
    build();
    assert_int_equal(engine_check(&st, &opts, -1, &err), -1);
    assert_int_equal(err.code, DD_EBLOCKED);
    assert_string_equal(dd_error_msg(&err), "prod is in a dirty state: 1 migration stopped part-way");
    assert_non_null(strstr(err.hint, "dbdeploy mark prod 0004 --applied"));
    assert_non_null(strstr(err.details.v[0], "stopped after statement 1 of 3"));
}

static void test_changed_files_are_listed(void **state)
{
    (void)state;
    file("1_a.sql", "a ");
    row(1, "1_a.sql", "a", DB_LEDGER_APPLIED);
    row(2, "2_b.sql", "b", DB_LEDGER_APPLIED);
    build();
    assert_int_equal(engine_check(&st, &opts, -1, &err), -1);
    assert_int_equal(err.code, DD_EBLOCKED);
    assert_string_equal(dd_error_msg(&err), "2 migrations applied to prod were changed since");
    assert_non_null(strstr(err.details.v[0], "modified: migrations/1_a.sql"));
    assert_non_null(strstr(err.details.v[1], "missing: migrations/2_b.sql (version 2)"));
}

static void test_out_of_order_respects_target_and_option(void **state)
{
    (void)state;
    file("1_a.sql", "a");
    file("2_b.sql", "b");
    file("3_c.sql", "c");
    row(1, "1_a.sql", "a", DB_LEDGER_APPLIED);
    row(3, "3_c.sql", "c", DB_LEDGER_APPLIED);
    build();
    assert_int_equal(engine_check(&st, &opts, -1, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "older than the newest version applied to prod (3)"));
    dd_error_release(&err);
    assert_int_equal(engine_check(&st, &opts, 1, &err), 0);                         /* --to 1: not involved */
    assert_int_equal(engine_check(&st, &opts, ENGINE_CHECK_APPLIED_ONLY, &err), 0); /* rollback */
    opts.out_of_order = true;
    assert_int_equal(engine_check(&st, &opts, -1, &err), 0);
}

static void test_plans_apply_up_to_target_and_rollback_newest_first(void **state)
{
    struct engine_plan plan = ENGINE_PLAN_INIT;

    (void)state;
    file("1_a.up.sql", "select 1;");
    file("1_a.down.sql", "select -1;");
    file("2_b.up.sql", "select 2;");
    file("3_c.up.sql", "select 3;");
    file("4_d.up.sql", "select 4;");
    row(1, "1_a.up.sql", "select 1;", DB_LEDGER_APPLIED);
    row(2, "2_b.up.sql", "select 2;", DB_LEDGER_APPLIED);
    build();
    assert_int_equal(engine_plan_apply(&plan, &st, &opts, 3, &err), 0);
    assert_int_equal(plan.n, 1);
    assert_int_equal(plan.v[0].m->version, 3);
    engine_plan_release(&plan);
    assert_int_equal(engine_plan_apply(&plan, &st, &opts, 9, &err), -1);
    assert_string_equal(dd_error_msg(&err), "no migration has version 9");
    dd_error_release(&err);
    /* 2 has no down file: refused unless allowed */
    assert_int_equal(engine_plan_rollback(&plan, &st, &opts, 0, 0, false, &err), -1);
    assert_int_equal(err.code, DD_EBLOCKED);
    assert_non_null(strstr(err.details.v[0], "no down file: migrations/2_b.up.sql"));
    dd_error_release(&err);
    assert_int_equal(engine_plan_rollback(&plan, &st, &opts, 0, 0, true, &err), 0);
    assert_int_equal(plan.n, 2);
    assert_int_equal(plan.v[0].m->version, 2);
    assert_true(plan.v[0].skip_sql);
    assert_int_equal(plan.v[1].m->version, 1);
    assert_false(plan.v[1].skip_sql);
    engine_plan_release(&plan);
    assert_int_equal(engine_plan_rollback(&plan, &st, &opts, 1, -1, true, &err), 0);
    assert_int_equal(plan.n, 1);
    engine_plan_release(&plan);
}

static void test_repeatables_run_when_new_or_changed(void **state)
{
    struct engine_plan plan = ENGINE_PLAN_INIT;

    (void)state;
    file("1_a.sql", "a");
    file("repeatable/rls.sql", "create policy p2 on t using (true);");
    file("R__views.sql", "create or replace view v as select 1;");
    file("repeatable/grants.sql", "grant select on t to app;");
    row(1, "1_a.sql", "a", DB_LEDGER_APPLIED);
    rep_row("R__views.sql", "create or replace view v as select 1;");
    rep_row("repeatable/rls.sql", "create policy p1 on t using (true);");
    build();
    assert_int_equal(st.n, 1);
    assert_int_equal(st.nrep, 3);
    assert_int_equal(st.nrep_changed, 2);
    assert_string_equal(st.rep[0].m->name, "R__views.sql");
    assert_string_equal(engine_rep_state(&st.rep[0]), "unchanged");
    assert_string_equal(st.rep[1].m->name, "repeatable/grants.sql");
    assert_string_equal(engine_rep_state(&st.rep[1]), "new");
    assert_string_equal(st.rep[2].m->name, "repeatable/rls.sql");
    assert_string_equal(engine_rep_state(&st.rep[2]), "changed");
    assert_int_equal(engine_check(&st, &opts, -1, &err), 0); /* an edited repeatable file is no violation */
    assert_int_equal(engine_plan_apply(&plan, &st, &opts, -1, &err), 0);
    assert_int_equal(plan.n, 0);
    assert_int_equal(plan.nrep, 2);
    assert_string_equal(plan.rep[0].script->path, "migrations/repeatable/grants.sql");
    assert_string_equal(plan.rep[1].script->path, "migrations/repeatable/rls.sql");
    assert_int_equal(plan.rep[1].exec.mode, MIGRATION_EXEC_TX);
    engine_plan_release(&plan);
}

static void test_repeatable_outside_a_transaction_is_refused(void **state)
{
    struct engine_plan plan = ENGINE_PLAN_INIT;

    (void)state;
    file("repeatable/idx.sql", "create index concurrently i on t (x);");
    build();
    assert_int_equal(engine_plan_apply(&plan, &st, &opts, -1, &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_non_null(strstr(dd_error_msg(&err), "migrations/repeatable/idx.sql:1:"));
    assert_non_null(strstr(dd_error_msg(&err), "a repeatable migration must run in a transaction"));
    assert_int_equal(plan.nrep, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_join_marks_every_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dirty_blocks_first_with_mark_instructions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_files_are_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_respects_target_and_option, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plans_apply_up_to_target_and_rollback_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeatables_run_when_new_or_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeatable_outside_a_transaction_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
