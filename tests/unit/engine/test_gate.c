#include "unit.h"

#include "engine/gate.h"
#include "engine_fixture.h"

/* Files here joined with another environment's ledger: the one rule both gates apply. */

static void test_readiness_reports_every_difference_in_version_order(void **state)
{
    struct engine_gate_result g = ENGINE_GATE_RESULT_INIT;

    (void)state;
    file("1_a.sql", "a");
    file("2_b.sql", "b edited");
    file("3_c2.sql", "c");
    file("4_d.sql", "d");
    file("6_f.sql", "f");
    row(1, "1_a.sql", "a", DB_LEDGER_APPLIED);
    row(2, "2_b.sql", "b", DB_LEDGER_APPLIED);
    row(3, "3_c.sql", "c", DB_LEDGER_APPLIED);
    row(4, "4_d.sql", "d", DB_LEDGER_DIRTY);
    row(5, "5_e.sql", "e", DB_LEDGER_APPLIED);
    build();
    engine_gate_compare(&g, &st, "staging", ENGINE_GATE_READINESS, NULL);
    assert_int_equal(g.n, 5);
    assert_string_equal(engine_gate_kind_name(g.v[0].kind), "modified");
    assert_non_null(strstr(g.v[0].message, "migrations/2_b.sql differs from what staging applied (sha256:"));
    assert_string_equal(engine_gate_kind_name(g.v[1].kind), "renamed");
    assert_string_equal(g.v[1].message, "migrations/3_c2.sql was applied on staging as migrations/3_c.sql");
    assert_string_equal(engine_gate_kind_name(g.v[2].kind), "dirty");
    assert_string_equal(g.v[2].message, "migrations/4_d.sql is dirty on staging (stopped after statement 1 of 3)");
    assert_string_equal(engine_gate_kind_name(g.v[3].kind), "extra");
    assert_int_equal(g.v[3].version, 5);
    assert_string_equal(g.v[3].message, "migrations/5_e.sql is applied on staging but no longer in this commit");
    assert_string_equal(engine_gate_kind_name(g.v[4].kind), "missing");
    assert_string_equal(g.v[4].message, "migrations/6_f.sql is not applied on staging");
    engine_gate_result_release(&g);
    engine_gate_result_release(&g);
}

static void test_promotion_looks_only_at_the_pending_versions(void **state)
{
    struct engine_gate_result g = ENGINE_GATE_RESULT_INIT;
    const struct migration *m3, *m4, *m6;
    struct engine_step steps[3];
    struct engine_plan pending = {steps, 3, false, NULL, 0};

    (void)state;
    file("1_a.sql", "a edited"); /* not about to be applied: not the promotion's business */
    file("3_c2.sql", "c");       /* same bytes under another name: the same migration */
    file("4_d.sql", "d");
    file("6_f.sql", "f");
    row(1, "1_a.sql", "a", DB_LEDGER_APPLIED);
    row(3, "3_c.sql", "c", DB_LEDGER_APPLIED);
    row(4, "4_d.sql", "d", DB_LEDGER_DIRTY);
    row(9, "9_z.sql", "z", DB_LEDGER_APPLIED); /* extra there: irrelevant */
    build();
    m3 = migration_set_find(&set, 3);
    m4 = migration_set_find(&set, 4);
    m6 = migration_set_find(&set, 6);
    memset(steps, 0, sizeof(steps));
    steps[0].m = m3;
    steps[1].m = m4;
    steps[2].m = m6;
    engine_gate_compare(&g, &st, "staging", ENGINE_GATE_PROMOTION, &pending);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.v[0].kind, ENGINE_GATE_DIRTY);
    assert_int_equal(g.v[0].version, 4);
    /* 6 is below staging's newest (9): out of order there, and so simply not applied */
    assert_int_equal(g.v[1].kind, ENGINE_GATE_MISSING);
    assert_string_equal(g.v[1].message, "migrations/6_f.sql is not applied on staging");
    engine_gate_result_release(&g);

    pending.n = 1; /* only 3: passes */
    engine_gate_compare(&g, &st, "staging", ENGINE_GATE_PROMOTION, &pending);
    assert_int_equal(g.n, 0);
    engine_gate_result_release(&g);
}

/* A repeatable migration about to run elsewhere must have run on the gate's environment with these bytes. */
static void test_repeatables_new_or_changed_there_fail_both_gates(void **state)
{
    struct engine_gate_result g = ENGINE_GATE_RESULT_INIT;
    struct engine_step steps[1], rep_steps[2];
    struct engine_plan pending = {steps, 0, false, rep_steps, 0};

    (void)state;
    file("1_a.sql", "a");
    file("repeatable/same.sql", "create view same as select 1");
    file("repeatable/edited.sql", "create view edited as select 2");
    file("repeatable/new.sql", "create view new as select 3");
    row(1, "1_a.sql", "a", DB_LEDGER_APPLIED);
    rep_row("repeatable/same.sql", "create view same as select 1");
    rep_row("repeatable/edited.sql", "create view edited as select 1");
    build();
    assert_int_equal(st.nrep, 3);

    engine_gate_compare(&g, &st, "staging", ENGINE_GATE_READINESS, NULL);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.v[0].version, -1);
    assert_int_equal(g.v[0].kind, ENGINE_GATE_MODIFIED);
    assert_non_null(strstr(
        g.v[0].message, "migrations/repeatable/edited.sql (repeatable) differs from what staging last ran (sha256:"));
    assert_int_equal(g.v[1].kind, ENGINE_GATE_MISSING);
    assert_string_equal(g.v[1].message, "migrations/repeatable/new.sql (repeatable) has never run on staging");
    engine_gate_result_release(&g);

    /* promotion: only the repeatable migrations about to run count */
    memset(rep_steps, 0, sizeof(rep_steps));
    for (size_t i = 0; i < st.nrep; i++)
        if (strcmp(st.rep[i].m->name, "repeatable/same.sql") == 0 ||
            strcmp(st.rep[i].m->name, "repeatable/new.sql") == 0)
            rep_steps[pending.nrep++].m = st.rep[i].m;
    assert_int_equal(pending.nrep, 2);
    engine_gate_compare(&g, &st, "staging", ENGINE_GATE_PROMOTION, &pending);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.v[0].file, "migrations/repeatable/new.sql");
    engine_gate_result_release(&g);
    pending.nrep = 0;
    for (size_t i = 0; i < st.nrep; i++)
        if (strcmp(st.rep[i].m->name, "repeatable/same.sql") == 0)
            rep_steps[pending.nrep++].m = st.rep[i].m;
    engine_gate_compare(&g, &st, "staging", ENGINE_GATE_PROMOTION, &pending);
    assert_int_equal(g.n, 0);
    engine_gate_result_release(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_readiness_reports_every_difference_in_version_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_promotion_looks_only_at_the_pending_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeatables_new_or_changed_there_fail_both_gates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
