#include "unit.h"

#include "migrations/migrations.h"

/*
 * Files listed by name and blob id only, read later through the set's reader: once read, a
 * migration must be exactly what reading the bytes up front gives. The reader serves blobs from
 * a table in memory and counts its calls.
 */
struct blob {
    const char *name;
    const char *id;
    const char *data;
};

static const struct blob files[] = {
    {"0001_a.up.sql", "1111111111111111111111111111111111111111",
     "-- dbdeploy:statement-timeout=30s\nCREATE TABLE a (id int);\n"},
    {"0001_a.down.sql", "2222222222222222222222222222222222222222", "DROP TABLE a;\n"},
    {"0002_b.sql", "3333333333333333333333333333333333333333", "CREATE TABLE b (id int);\r\n"},
    {"0003_c.sql", "4444444444444444444444444444444444444444",
     "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY c_i ON c (id);\n\n-- migrate:down\nDROP INDEX c_i;\n"},
    {"README.md", "5555555555555555555555555555555555555555", "not a migration"},
};

static struct migration_source full_src, listed_src;
static struct migration_set full, listed;
static struct dd_error err;
static unsigned reads;
static bool fail_reads;

static int serve(void *arg, const char *blob_id, struct dd_buf *out, struct dd_error *e)
{
    (void)arg;
    reads++;
    if (fail_reads)
        return dd_error_set(e, DD_EGIT, "object not found");
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (strcmp(files[i].id, blob_id) == 0) {
            dd_buf_adds(out, files[i].data);
            return 0;
        }
    return dd_error_set(e, DD_EGIT, "unknown blob '%s'", blob_id);
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
    err = (struct dd_error)DD_ERROR_INIT;
    reads = 0;
    fail_reads = false;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    migration_set_release(&full);
    migration_set_release(&listed);
    migration_source_release(&full_src);
    migration_source_release(&listed_src);
    dd_error_release(&err);
    return 0;
}

static void build_both(void)
{
    assert_int_equal(migration_set_build(&full, &full_src, &err), 0);
    assert_int_equal(migration_set_build(&listed, &listed_src, &err), 0);
    listed.reader.read = serve;
}

static void assert_same_script(const struct migration_script *a, const struct migration_script *b)
{
    assert_int_equal(a->present, b->present);
    if (!a->present)
        return;
    assert_string_equal(a->path, b->path);
    assert_string_equal(a->blob_id, b->blob_id);
    assert_int_equal(a->sql.len, b->sql.len);
    assert_memory_equal(a->sql.buf, b->sql.buf, a->sql.len);
    assert_memory_equal(&a->directives, &b->directives, sizeof(a->directives));
}

static void test_listed_migrations_have_names_and_blob_ids_but_no_bytes(void **state)
{
    (void)state;
    build_both();
    assert_int_equal(listed.n, 3);
    assert_int_equal(reads, 0);
    for (size_t i = 0; i < listed.n; i++) {
        assert_true(listed.v[i].unread);
        assert_string_equal(listed.v[i].checksum, "");
        assert_int_equal(listed.v[i].up.sql.len, 0);
        assert_string_equal(listed.v[i].up.path, full.v[i].up.path);
        assert_string_equal(listed.v[i].up.blob_id, full.v[i].up.blob_id);
        assert_false(full.v[i].unread);
    }
    assert_int_equal(listed.v[0].format, MIGRATION_GOLANG);
    assert_true(listed.v[0].down.present);
    assert_string_equal(listed.v[0].down.blob_id, files[1].id);
    /* a single file's format and down section are only known once read */
    assert_int_equal(listed.v[2].format, MIGRATION_PLAIN);
    assert_false(listed.v[2].down.present);
}

static void test_reading_gives_what_reading_up_front_gives(void **state)
{
    (void)state;
    build_both();
    for (size_t i = 0; i < listed.n; i++) {
        const struct migration *before = &listed.v[i];

        assert_int_equal(migration_set_read(&listed, i, &err), 0);
        assert_ptr_equal(before, &listed.v[i]); /* borrowed pointers stay valid */
        assert_false(listed.v[i].unread);
        assert_int_equal(listed.v[i].version, full.v[i].version);
        assert_string_equal(listed.v[i].version_text, full.v[i].version_text);
        assert_string_equal(listed.v[i].name, full.v[i].name);
        assert_int_equal(listed.v[i].format, full.v[i].format);
        assert_string_equal(listed.v[i].checksum, full.v[i].checksum);
        assert_same_script(&listed.v[i].up, &full.v[i].up);
        assert_same_script(&listed.v[i].down, &full.v[i].down);
    }
    assert_int_equal(reads, 4); /* the golang pair is two blobs, the others one each */
    assert_int_equal(listed.v[2].format, MIGRATION_DBMATE);
    assert_true(listed.v[2].down.present);
    assert_true(listed.v[2].up.directives.no_transaction);
    /* reading again reads nothing */
    assert_int_equal(migration_set_read(&listed, 0, &err), 0);
    assert_int_equal(reads, 4);
}

static void test_a_failed_read_names_the_file_and_leaves_it_unread(void **state)
{
    struct dd_buf msg = DD_BUF_INIT;

    (void)state;
    build_both();
    fail_reads = true;
    assert_int_equal(migration_set_read(&listed, 1, &err), -1);
    assert_int_equal(err.code, DD_EGIT);
    assert_true(listed.v[1].unread);
    dd_error_render(&err, &msg);
    assert_non_null(strstr(msg.buf, "reading 'migrations/0002_b.sql'"));
    dd_buf_release(&msg);
    dd_error_release(&err);
    fail_reads = false;
    assert_int_equal(migration_set_read(&listed, 1, &err), 0);
    assert_string_equal(listed.v[1].checksum, full.v[1].checksum);
}

static void test_name_problems_are_found_without_reading(void **state)
{
    (void)state;
    migration_source_add_unread(&listed_src, "0002_b2.sql", "6666666666666666666666666666666666666666");
    migration_source_add_unread(&listed_src, "0009_x.down.sql", "7777777777777777777777777777777777777777");
    migration_source_add_unread(&listed_src, "x_bad.sql", "8888888888888888888888888888888888888888");
    assert_int_equal(migration_set_build(&listed, &listed_src, &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_int_equal(err.details.n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_listed_migrations_have_names_and_blob_ids_but_no_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reading_gives_what_reading_up_front_gives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_read_names_the_file_and_leaves_it_unread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_problems_are_found_without_reading, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
