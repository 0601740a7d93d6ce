/* git/config_file.c: git-config syntax from a file or from committed bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>

#include "git_fixture.h"

/* Names in dir other than "." and ".." */
static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_read_buf_entries_in_order(void **state)
{
    static const char text[] =
        "[database]\n\turl = postgresql:///a\n[git]\n\tallow-dirty\n[gate]\n\trequires = staging\n";
    struct repo_config_entries e = REPO_CONFIG_ENTRIES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    char *tmpdir = fx_dir("tmp");

    (void)state;
    setenv("TMPDIR", tmpdir, 1);
    assert_int_equal(repo_config_read_buf(&e, text, strlen(text), "pipeline/prod.conf", &err), 0);
    assert_int_equal(e.n, 3);
    assert_string_equal(e.v[0].section, "database");
    assert_string_equal(e.v[0].value, "postgresql:///a");
    assert_string_equal(e.v[1].key, "allow-dirty");
    assert_null(e.v[1].value);
    assert_string_equal(e.v[2].value, "staging");
    /* the copy of the committed bytes does not outlive the call */
    assert_int_equal(count_entries(tmpdir), 0);
    repo_config_entries_release(&e);
    unsetenv("TMPDIR");
    free(tmpdir);
}

static void test_read_buf_error_names_the_committed_file(void **state)
{
    static const char text[] = "[database]\n\turl = x\n[broken\n";
    struct repo_config_entries e = REPO_CONFIG_ENTRIES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    char *tmpdir = fx_dir("tmp");

    (void)state;
    setenv("TMPDIR", tmpdir, 1);
    assert_int_equal(repo_config_read_buf(&e, text, strlen(text), "pipeline/prod.conf", &err), -1);
    assert_int_equal(err.code, DD_ECONFIG);
    assert_non_null(strstr(dd_error_msg(&err), "pipeline/prod.conf"));
    assert_null(strstr(dd_error_msg(&err), tmpdir));
    assert_int_equal(e.n, 0);
    assert_int_equal(count_entries(tmpdir), 0);
    dd_error_release(&err);
    unsetenv("TMPDIR");
    free(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_buf_entries_in_order),
        cmocka_unit_test(test_read_buf_error_names_the_committed_file),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
