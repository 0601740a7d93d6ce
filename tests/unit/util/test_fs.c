#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"

static char *tmpdir;

static int setup(void **state)
{
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    assert_int_equal(dd_mkdtemp(&tmpdir, "dd-unit-fs", &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    dd_rm_rf(tmpdir);
    free(tmpdir);
    tmpdir = NULL;
    return 0;
}

/* A committed or planted symlink must never be written through (it could point at any file). */
static void test_atomic_write_refuses_symlink(void **state)
{
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf victim = DD_BUF_INIT;
    char *target = dd_path_join(tmpdir, "victim");
    char *link = dd_path_join(tmpdir, "CHANGELOG.md");

    (void)state;
    assert_int_equal(dd_write_file_atomic(target, "keep", 4, 0600, &err), 0);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(dd_write_file_atomic(link, "evil", 4, 0644, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), link));
    assert_non_null(strstr(dd_error_msg(&err), "symbolic link"));
    assert_non_null(err.hint);
    assert_int_equal(dd_read_file(&victim, target, &err), 0);
    assert_string_equal(victim.buf, "keep");
    dd_error_release(&err);
    dd_buf_release(&victim);
    free(target);
    free(link);
}

/* The old code wrote through "<path>.tmp.<pid>": a link planted there redirected the write. */
static void test_atomic_write_ignores_planted_temp_names(void **state)
{
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf got = DD_BUF_INIT;
    char *target = dd_path_join(tmpdir, "victim");
    char *path = dd_path_join(tmpdir, "out.md");
    char *planted = dd_xasprintf("%s.tmp.%ld", path, (long)getpid());
    struct stat st;

    (void)state;
    assert_int_equal(dd_write_file_atomic(target, "keep", 4, 0600, &err), 0);
    assert_int_equal(symlink(target, planted), 0);
    assert_int_equal(dd_write_file_atomic(path, "new", 3, 0644, &err), 0);
    assert_int_equal(dd_read_file(&got, target, &err), 0);
    assert_string_equal(got.buf, "keep");
    dd_buf_setlen(&got, 0);
    assert_int_equal(dd_read_file(&got, path, &err), 0);
    assert_string_equal(got.buf, "new");
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0644);
    dd_buf_release(&got);
    free(target);
    free(path);
    free(planted);
}

static void test_read_regular_refuses_symlink(void **state)
{
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf got = DD_BUF_INIT;
    char *link = dd_path_join(tmpdir, "CHANGELOG.md");

    (void)state;
    assert_int_equal(symlink("/proc/self/environ", link), 0);
    assert_int_equal(dd_read_regular_file(&got, link, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "symbolic link"));
    assert_int_equal(got.len, 0);
    dd_error_release(&err);
    dd_buf_release(&got);
    free(link);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_atomic_write_refuses_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_write_ignores_planted_temp_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_regular_refuses_symlink, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
