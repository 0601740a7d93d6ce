/* git/status.c: uncommitted changes under a directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git_fixture.h"

#include <git2.h>

static void test_dirty_paths_empty_when_clean(void **state)
{
    char *d = fx_repo("clean");
    struct dd_strv v = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_a.sql", "a\n");
    free(fx_commit(d, "a"));
    fx_write(d, "README", "dirty, but outside migrations\n");
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 0);
    repo_free(r);
    free(d);
}

static void test_dirty_paths_lists_staged_unstaged_and_untracked(void **state)
{
    char *d = fx_repo("dirty");
    struct dd_strv v = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_edit.sql", "a\n");
    fx_write(d, "migrations/0002_staged.sql", "b\n");
    fx_write(d, "migrations/0003_gone.sql", "c\n");
    fx_write(d, ".gitignore", "*.bak\n");
    free(fx_commit(d, "base"));
    fx_write(d, "migrations/0001_edit.sql", "a, edited\n");   /* unstaged */
    fx_write(d, "migrations/0002_staged.sql", "b, staged\n"); /* staged */
    fx_git(d, "add", "migrations/0002_staged.sql");
    fx_remove(d, "migrations/0003_gone.sql");
    fx_write(d, "migrations/0004_new.sql", "d\n"); /* added to the index */
    fx_git(d, "add", "migrations/0004_new.sql");
    fx_write(d, "migrations/0005_untracked.sql", "e\n");
    fx_write(d, "migrations/deeper/0006_nested.sql", "f\n"); /* untracked dirs are listed file by file */
    fx_write(d, "migrations/0001_edit.sql.bak", "ignored\n");
    fx_write(d, "migrations2/0001_other.sql", "a sibling that shares the prefix\n");
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 6);
    assert_string_equal(v.v[0], "modified: migrations/0001_edit.sql");
    assert_string_equal(v.v[1], "modified: migrations/0002_staged.sql");
    assert_string_equal(v.v[2], "deleted: migrations/0003_gone.sql");
    assert_string_equal(v.v[3], "added: migrations/0004_new.sql");
    assert_string_equal(v.v[4], "untracked: migrations/0005_untracked.sql");
    assert_string_equal(v.v[5], "untracked: migrations/deeper/0006_nested.sql");
    dd_strv_release(&v);
    repo_free(r);
    free(d);
}

static void test_dirty_paths_line_endings_alone_are_a_change(void **state)
{
    char *d = fx_repo("crlfdirty");
    struct dd_strv v = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_a.sql", "select 1;\n");
    free(fx_commit(d, "a"));
    fx_write(d, "migrations/0001_a.sql", "select 1;\r\n");
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.v[0], "modified: migrations/0001_a.sql");
    dd_strv_release(&v);
    repo_free(r);
    free(d);
}

static void test_dirty_paths_in_project_subdirectory(void **state)
{
    char *d = fx_repo("dirtysub"), *proj = dd_path_join(d, "db");
    struct dd_strv v = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "db/migrations/0001_a.sql", "a\n");
    free(fx_commit(d, "a"));
    fx_write(d, "db/migrations/0001_a.sql", "a, edited\n");
    fx_write(d, "db/migrations/0002_b.sql", "b\n");
    fx_write(d, "migrations/0001_top.sql", "another project\n");
    r = fx_open(proj);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.v[0], "modified: migrations/0001_a.sql");
    assert_string_equal(v.v[1], "untracked: migrations/0002_b.sql");
    dd_strv_release(&v);
    /* the whole project */
    assert_int_equal(repo_dirty_paths(&v, r, ".", &err), 0);
    assert_int_equal(v.n, 2);
    dd_strv_release(&v);
    assert_int_equal(repo_dirty_paths(&v, r, "../migrations", &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    dd_error_release(&err);
    repo_free(r);
    free(proj);
    free(d);
}

/*
 * The clean case is answered from the index's stat data: an edit in place that keeps the size,
 * the inode and the modification time (restored on purpose) still changes the ctime, so it is
 * found.
 * So are files that only ignore rules or subdirectories hide from a quick look.
 */
static void test_dirty_paths_same_size_edit_with_old_mtime(void **state)
{
    char *d = fx_repo("sametime");
    char *path;
    struct stat st;
    struct timespec times[2];
    struct dd_strv v = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;
    int fd;

    (void)state;
    fx_write(d, "migrations/0001_a.sql", "aaaa\n");
    fx_write(d, ".gitignore", "*.bak\n");
    free(fx_commit(d, "a"));
    path = dd_xasprintf("%s/migrations/0001_a.sql", d);
    assert_int_equal(stat(path, &st), 0);
    sleep(1); /* past the index's own timestamp, so the entry is not racily clean */
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 0);
    fd = open(path, O_WRONLY); /* in place: the same inode */
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "bbbb\n", 5), 5);
    close(fd);
    times[0] = st.st_atim;
    times[1] = st.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.v[0], "modified: migrations/0001_a.sql");
    dd_strv_clear(&v);
    fx_git(d, "checkout", "--", "migrations/0001_a.sql");
    fx_write(d, "migrations/0001_a.sql.bak", "ignored: still clean\n");
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 0);
    fx_write(d, "migrations/sub/0002_b.sql", "untracked in a subdirectory\n");
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.v[0], "untracked: migrations/sub/0002_b.sql");
    dd_strv_release(&v);
    repo_free(r);
    free(path);
    free(d);
}

/*
 * Racy git: an edit in the same clock tick as `git add` leaves size, inode, mtime and ctime as
 * the index recorded them. Only the index's own mtime tells: an entry not older than the index
 * file must be re-hashed. Built here by giving the index the stat data of the edited file while
 * it keeps the committed id, then dating the index file.
 */
static void test_dirty_paths_racily_clean_entry_is_rehashed(void **state)
{
    char *d = fx_repo("racy");
    char *path, *index_path;
    struct stat st;
    struct timespec times[2];
    struct dd_strv v = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    git_repository *g = NULL;
    git_index *idx = NULL;
    git_index_entry e;
    struct repo *r;
    int fd;

    (void)state;
    fx_write(d, "migrations/0001_a.sql", "aaaa\n");
    free(fx_commit(d, "a"));
    path = dd_xasprintf("%s/migrations/0001_a.sql", d);
    index_path = dd_xasprintf("%s/.git/index", d);
    fd = open(path, O_WRONLY); /* same size, same inode */
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "bbbb\n", 5), 5);
    close(fd);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(git_repository_open(&g, d), 0);
    assert_int_equal(git_repository_index(&idx, g), 0);
    e = *git_index_get_bypath(idx, "migrations/0001_a.sql", 0);
    e.ctime.seconds = (int32_t)st.st_ctim.tv_sec;
    e.ctime.nanoseconds = (uint32_t)st.st_ctim.tv_nsec;
    e.mtime.seconds = (int32_t)st.st_mtim.tv_sec;
    e.mtime.nanoseconds = (uint32_t)st.st_mtim.tv_nsec;
    e.ino = (uint32_t)st.st_ino;
    e.dev = (uint32_t)st.st_dev;
    e.file_size = (uint32_t)st.st_size;
    assert_int_equal(git_index_add(idx, &e), 0);
    assert_int_equal(git_index_write(idx), 0);
    git_index_free(idx);
    git_repository_free(g);

    /* the index written in the same instant as the edit: racily clean, so the contents decide */
    times[0] = st.st_mtim;
    times[1] = st.st_mtim;
    assert_int_equal(utimensat(AT_FDCWD, index_path, times, 0), 0);
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.v[0], "modified: migrations/0001_a.sql");
    dd_strv_clear(&v);
    repo_free(r);

    /* dated a second later, the same stat data is trusted (git status says clean too) */
    times[0].tv_sec = times[1].tv_sec = st.st_mtim.tv_sec + 1;
    assert_int_equal(utimensat(AT_FDCWD, index_path, times, 0), 0);
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 0);
    dd_strv_release(&v);
    repo_free(r);
    free(index_path);
    free(path);
    free(d);
}

/*
 * Thousands of files: the lstat checks run on two threads, each over half of the entries. An
 * edit in either half is found (a half left unchecked would call the tree clean).
 */
static void test_dirty_paths_many_files_both_halves(void **state)
{
    char *d = fx_repo("many");
    char *index_path = dd_xasprintf("%s/.git/index", d);
    struct dd_strv v = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct timespec times[2];
    struct repo *r;
    const char *edits[] = {"migrations/0100_m.sql", "migrations/2400_m.sql"};

    (void)state;
    for (int i = 1; i <= 2500; i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "migrations/%04d_m.sql", i);
        fx_write(d, rel, "select 1;\n");
    }
    free(fx_commit(d, "2500 files"));
    /* an index newer than every file: no entry is racily clean, the stat data decides */
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec += 60;
    times[1] = times[0];
    assert_int_equal(utimensat(AT_FDCWD, index_path, times, 0), 0);
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 0);
    repo_free(r);
    for (size_t k = 0; k < 2; k++) {
        char *expected = dd_xasprintf("modified: %s", edits[k]);
        fx_write(d, edits[k], "select 2, 3;\n");
        r = fx_open(d);
        assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
        assert_int_equal(v.n, 1);
        assert_string_equal(v.v[0], expected);
        dd_strv_clear(&v);
        repo_free(r);
        fx_write(d, edits[k], "select 1;\n"); /* the same bytes again: the index's stat data no longer match */
        fx_git(d, "update-index", "--refresh");
        assert_int_equal(utimensat(AT_FDCWD, index_path, times, 0), 0);
        free(expected);
    }
    /* an untracked file beside them: the directory is read on the second thread */
    fx_write(d, "migrations/2600_untracked.sql", "select 4;\n");
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.v[0], "untracked: migrations/2600_untracked.sql");
    repo_free(r);
    dd_strv_release(&v);
    free(index_path);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dirty_paths_empty_when_clean),
        cmocka_unit_test(test_dirty_paths_racily_clean_entry_is_rehashed),
        cmocka_unit_test(test_dirty_paths_lists_staged_unstaged_and_untracked),
        cmocka_unit_test(test_dirty_paths_line_endings_alone_are_a_change),
        cmocka_unit_test(test_dirty_paths_in_project_subdirectory),
        cmocka_unit_test(test_dirty_paths_same_size_edit_with_old_mtime),
        cmocka_unit_test(test_dirty_paths_many_files_both_halves),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
