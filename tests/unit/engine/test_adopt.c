#include "unit.h"

#include "engine/adopt.h"
#include "engine_fixture.h"

static struct db_foreign_versions fv_of(int64_t *v, size_t n, bool dirty)
{
    struct db_foreign_versions f = {v, n, dirty, NULL, 0};
    return f;
}

static void test_tool_names(void **state)
{
    enum db_foreign_tool t;

    (void)state;
    assert_int_equal(engine_adopt_tool(&t, "golang-migrate", &err), 0);
    assert_int_equal(t, DB_FOREIGN_GOLANG_MIGRATE);
    assert_int_equal(engine_adopt_tool(&t, "migrate", &err), 0);
    assert_int_equal(t, DB_FOREIGN_GOLANG_MIGRATE);
    assert_int_equal(engine_adopt_tool(&t, "dbmate", &err), 0);
    assert_int_equal(t, DB_FOREIGN_DBMATE);
    assert_int_equal(engine_adopt_tool(&t, "flyway", &err), 0);
    assert_int_equal(t, DB_FOREIGN_FLYWAY);
    assert_string_equal(engine_adopt_default_table(t), "flyway_schema_history");
    assert_int_equal(engine_adopt_tool(&t, "liquibase", &err), -1);
    assert_int_equal(err.code, DD_EUSAGE);
    assert_string_equal(dd_error_msg(&err), "'liquibase' is not a tool dbdeploy can adopt from");
    dd_error_release(&err);
    assert_int_equal(engine_adopt_tool(&t, NULL, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "--from golang-migrate, --from dbmate or --from flyway"));
}

/* Flyway's history replayed: baseline at 2 covers 1 and 2, 3 applied, 4 applied then undone. */
static void test_flyway_history_is_replayed(void **state)
{
    struct engine_adoption a = ENGINE_ADOPTION_INIT;
    int64_t v[] = {2, 3, 4, 4};
    enum db_flyway_op op[] = {DB_FLYWAY_BASELINE, DB_FLYWAY_APPLIED, DB_FLYWAY_APPLIED, DB_FLYWAY_UNDONE};
    struct db_foreign_versions fv = {v, 4, false, op, 0};

    (void)state;
    file("V1__a.sql", "a");
    file("V2__b.sql", "b");
    file("V3__c.sql", "c");
    file("V4__d.sql", "d");
    file("V5__e.sql", "e");
    build();
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_FLYWAY, &fv, "prod", &err), 0);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.versions[0], 1);
    assert_int_equal(a.versions[1], 2);
    assert_int_equal(a.versions[2], 3);
    engine_adoption_release(&a);

    fv.dirty = true;
    fv.dirty_version = 5;
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_FLYWAY, &fv, "prod", &err), -1);
    assert_int_equal(err.code, DD_EBLOCKED);
    assert_string_equal(dd_error_msg(&err), "Flyway recorded a failed migration on prod (version 5)");
    dd_error_release(&err);

    v[1] = 9; /* a version without a file */
    fv.dirty = false;
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_FLYWAY, &fv, "prod", &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_non_null(strstr(err.details.v[0], "version 9 is applied according to Flyway but has no file"));
}

static void test_golang_migrate_adopts_every_file_up_to_its_version(void **state)
{
    struct engine_adoption a = ENGINE_ADOPTION_INIT;
    int64_t at[] = {3}, unknown[] = {5};
    struct db_foreign_versions fv = fv_of(at, 1, false);

    (void)state;
    file("1_a.sql", "a");
    file("2_b.sql", "b");
    file("3_c.sql", "c");
    file("4_d.sql", "d");
    build();
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_GOLANG_MIGRATE, &fv, "prod", &err), 0);
    assert_int_equal(a.n, 3);
    assert_int_equal(a.versions[0], 1);
    assert_int_equal(a.versions[2], 3);
    engine_adoption_release(&a);

    fv.dirty = true;
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_GOLANG_MIGRATE, &fv, "prod", &err), -1);
    assert_int_equal(err.code, DD_EBLOCKED);
    assert_string_equal(dd_error_msg(&err), "golang-migrate left prod dirty at version 3");
    assert_null(a.versions);
    dd_error_release(&err);

    fv = fv_of(unknown, 1, false);
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_GOLANG_MIGRATE, &fv, "prod", &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    dd_error_release(&err);

    fv = fv_of(NULL, 0, false); /* an empty table: nothing ran */
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_GOLANG_MIGRATE, &fv, "prod", &err), 0);
    assert_int_equal(a.n, 0);
    engine_adoption_release(&a);
}

static void test_dbmate_lists_every_version_without_a_file(void **state)
{
    struct engine_adoption a = ENGINE_ADOPTION_INIT;
    int64_t ran[] = {1, 7, 2, 9};
    struct db_foreign_versions fv = fv_of(ran, 4, false);

    (void)state;
    file("1_a.sql", "a");
    file("2_b.sql", "b");
    build();
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_DBMATE, &fv, "prod", &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_string_equal(dd_error_msg(&err), "2 versions recorded by dbmate have no migration file");
    assert_int_equal(err.details.n, 2);
    assert_string_equal(err.details.v[0], "version 7 is applied according to dbmate but has no file");
    dd_error_release(&err);
    fv.n = 1;
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_DBMATE, &fv, "prod", &err), 0);
    assert_int_equal(a.n, 1);
    engine_adoption_release(&a);
}

static void test_check_counts_recorded_and_refuses_other_states(void **state)
{
    struct engine_adoption a = ENGINE_ADOPTION_INIT;
    int64_t at[] = {3};
    struct db_foreign_versions fv = fv_of(at, 1, false);

    (void)state;
    file("1_a.sql", "a");
    file("2_b.sql", "b");
    file("3_c.sql", "c");
    row(1, "1_a.sql", "a", DB_LEDGER_APPLIED);
    build();
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_GOLANG_MIGRATE, &fv, "prod", &err), 0);
    assert_int_equal(engine_adopt_check(&a, &st, &err), 0);
    assert_int_equal(a.already, 1);
    engine_adoption_release(&a);

    /* 3 recorded with other content: refused, naming it */
    row(3, "3_c.sql", "c was different", DB_LEDGER_APPLIED);
    engine_status_release(&st);
    engine_status_build(&st, &set, &ledger);
    assert_int_equal(engine_adopt_select(&a, &set, DB_FOREIGN_GOLANG_MIGRATE, &fv, "prod", &err), 0);
    assert_int_equal(engine_adopt_check(&a, &st, &err), -1);
    assert_int_equal(err.code, DD_EBLOCKED);
    assert_string_equal(dd_error_msg(&err), "migrations/3_c.sql is already in the ledger as modified");
    engine_adoption_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flyway_history_is_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tool_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_golang_migrate_adopts_every_file_up_to_its_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dbmate_lists_every_version_without_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_counts_recorded_and_refuses_other_states, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
