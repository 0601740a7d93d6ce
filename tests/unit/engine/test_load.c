#include "unit.h"

#include "engine/engine.h"

/*
 * engine_read_migrations: a listed migration whose ledger row recorded the same blob id takes
 * the row's checksum without being read; every other one is read and hashed. The statuses must
 * be those of a set read in full. Blobs come from a table in memory; the ledger is built by hand.
 */
struct blob {
    const char *name;
    const char *id;
    const char *data;
};

static const struct blob files[] = {
    {"1_a.sql", "1111111111111111111111111111111111111111", "CREATE TABLE a (id int);\n"},
    {"2_b.sql", "2222222222222222222222222222222222222222", "CREATE TABLE b (id int); -- edited\n"},
    {"3_c3.sql", "3333333333333333333333333333333333333333", "CREATE TABLE c (id int);\n"},
    {"4_d.sql", "4444444444444444444444444444444444444444", "CREATE TABLE d (id int);\n"},
    {"5_e.sql", "5555555555555555555555555555555555555555",
     "-- migrate:up\nCREATE TABLE e (id int);\n-- migrate:down\nDROP TABLE e;\n"},
    {"7_g.sql", "7777777777777777777777777777777777777777", "CREATE TABLE g (id int);\n"},
};

static struct migration_source full_src, listed_src;
static struct migration_set full, listed;
static struct db_ledger ledger;
static struct engine_status full_st, listed_st;
static struct engine_opts opts;
static struct dd_error err;
static unsigned reads;

static int serve(void *arg, const char *blob_id, struct dd_buf *out, struct dd_error *e)
{
    (void)arg;
    reads++;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (strcmp(files[i].id, blob_id) == 0) {
            dd_buf_adds(out, files[i].data);
            return 0;
        }
    return dd_error_set(e, DD_EGIT, "unknown blob '%s'", blob_id);
}

/* A ledger row for version v: file name, the blob id it recorded (NULL: none) and the content applied. */
static void row(int64_t v, const char *name, const char *blob, const char *applied)
{
    struct db_ledger_row *r;
    char sum[DD_CHECKSUM_LEN + 1];

    ledger.rows = realloc(ledger.rows, (ledger.n + 1) * sizeof(*ledger.rows));
    r = &ledger.rows[ledger.n++];
    memset(r, 0, sizeof(*r));
    dd_checksum(applied, strlen(applied), sum);
    r->version = v;
    r->name = dd_xstrdup(name);
    r->file = dd_xasprintf("migrations/%s", name);
    r->checksum = dd_xstrdup(sum);
    r->git_blob = blob ? dd_xstrdup(blob) : NULL;
    r->state = DB_LEDGER_APPLIED;
    ledger.exists = true;
}

static int setup(void **state)
{
    (void)state;
    migration_source_init(&full_src, "migrations", "abc");
    migration_source_init(&listed_src, "migrations", "abc");
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        migration_source_add(&full_src, files[i].name, files[i].data, strlen(files[i].data), files[i].id);
        migration_source_add_unread(&listed_src, files[i].name, files[i].id);
    }
    memset(&full, 0, sizeof(full));
    memset(&listed, 0, sizeof(listed));
    memset(&ledger, 0, sizeof(ledger));
    full_st = (struct engine_status)ENGINE_STATUS_INIT;
    listed_st = (struct engine_status)ENGINE_STATUS_INIT;
    memset(&opts, 0, sizeof(opts));
    opts.env = "prod";
    err = (struct dd_error)DD_ERROR_INIT;
    reads = 0;
    /* 1 applied as is; 2 edited since (another blob); 3 renamed (same blob); 4 applied before
     * blob ids were recorded; 5 applied as is (dbmate); 6 missing; 7 pending */
    row(1, "1_a.sql", files[0].id, files[0].data);
    row(2, "2_b.sql", "9999999999999999999999999999999999999999", "CREATE TABLE b (id int);\n");
    row(3, "3_c.sql", files[2].id, files[2].data);
    row(4, "4_d.sql", NULL, files[3].data);
    row(5, "5_e.sql", files[4].id, files[4].data);
    row(6, "6_f.sql", "6666666666666666666666666666666666666666", "CREATE TABLE f (id int);\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    engine_status_release(&full_st);
    engine_status_release(&listed_st);
    /* built by hand: its text is the test's, not in a strings block db_ledger_release frees */
    for (size_t i = 0; i < ledger.n; i++) {
        free(ledger.rows[i].name);
        free(ledger.rows[i].file);
        free(ledger.rows[i].checksum);
        free(ledger.rows[i].git_blob);
    }
    db_ledger_release(&ledger);
    migration_set_release(&full);
    migration_set_release(&listed);
    migration_source_release(&full_src);
    migration_source_release(&listed_src);
    dd_error_release(&err);
    return 0;
}

static void build_both(const struct db_ledger *vouching)
{
    assert_int_equal(migration_set_build(&full, &full_src, &err), 0);
    assert_int_equal(migration_set_build(&listed, &listed_src, &err), 0);
    listed.reader.read = serve;
    assert_int_equal(engine_read_migrations(&listed, vouching, &err), 0);
    engine_status_build(&full_st, &full, &ledger);
    engine_status_build(&listed_st, &listed, &ledger);
}

static void test_only_files_the_ledger_recorded_by_blob_stay_unread(void **state)
{
    (void)state;
    build_both(&ledger);
    assert_true(listed.v[0].unread);  /* 1: same blob */
    assert_false(listed.v[1].unread); /* 2: another blob */
    assert_true(listed.v[2].unread);  /* 3: same blob, new name */
    assert_false(listed.v[3].unread); /* 4: no blob recorded */
    assert_true(listed.v[4].unread);  /* 5: same blob */
    assert_false(listed.v[5].unread); /* 7: pending */
    assert_int_equal(reads, 3);
}

static void test_statuses_and_checksums_match_reading_everything(void **state)
{
    (void)state;
    build_both(&ledger);
    assert_int_equal(listed_st.n, full_st.n);
    for (size_t i = 0; i < full_st.n; i++) {
        assert_int_equal(listed_st.v[i].version, full_st.v[i].version);
        assert_int_equal(listed_st.v[i].state, full_st.v[i].state);
        if (full_st.v[i].m)
            assert_string_equal(listed_st.v[i].m->checksum, full_st.v[i].m->checksum);
    }
    assert_memory_equal(listed_st.count, full_st.count, sizeof(full_st.count));
    assert_int_equal(full_st.count[ENGINE_APPLIED], 3);
    assert_int_equal(full_st.count[ENGINE_MODIFIED], 1);
    assert_int_equal(full_st.count[ENGINE_RENAMED], 1);
    assert_int_equal(full_st.count[ENGINE_MISSING], 1);
    assert_int_equal(full_st.count[ENGINE_PENDING], 1);
}

static void test_without_a_ledger_everything_is_read(void **state)
{
    (void)state;
    build_both(NULL);
    for (size_t i = 0; i < listed.n; i++)
        assert_false(listed.v[i].unread);
    assert_int_equal(reads, 6);
}

static void test_rollback_reads_the_file_it_reverts(void **state)
{
    struct engine_plan plan = ENGINE_PLAN_INIT;

    (void)state;
    row(7, "7_g.sql", files[5].id, files[5].data); /* 7 applied too: newest first is 7, then 5 */
    build_both(&ledger);
    assert_true(listed.v[4].unread);
    assert_int_equal(engine_plan_rollback(&plan, &listed_st, &opts, 2, -1, true, &err), 0);
    assert_int_equal(plan.n, 2);
    assert_int_equal(plan.v[1].m->version, 5);
    assert_false(plan.v[1].m->unread);
    assert_false(plan.v[1].skip_sql); /* the dbmate down section is known once read */
    assert_non_null(strstr(plan.v[1].exec.text.buf, "DROP TABLE e;"));
    assert_true(plan.v[0].skip_sql); /* 7 has no down */
    engine_plan_release(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_only_files_the_ledger_recorded_by_blob_stay_unread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statuses_and_checksums_match_reading_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_without_a_ledger_everything_is_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_reads_the_file_it_reverts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
