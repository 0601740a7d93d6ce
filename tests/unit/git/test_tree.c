/* git/tree.c: one directory of a committed tree, and how it differs between commits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "git_fixture.h"

static void test_read_dir_lists_regular_files_directly_inside_in_byte_order(void **state)
{
    char *d = fx_repo("readdir"), *want_id;
    struct repo_files f = REPO_FILES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/b.sql", "b\n");
    fx_write(d, "migrations/a.sql", "a\n");
    fx_write(d, "migrations/B.sql", "B\n");
    fx_write(d, "migrations/a-b.sql", "ab\n");
    fx_write(d, "migrations/a/nested.sql", "nested\n"); /* in a subdirectory: not listed */
    fx_write(d, "migrations2/other.sql", "other\n");
    free(fx_commit(d, "files"));
    r = fx_open(d);
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "migrations", true, &err), 0);
    assert_int_equal(f.n, 4);
    assert_string_equal(f.v[0].name, "B.sql");
    assert_string_equal(f.v[1].name, "a-b.sql");
    assert_string_equal(f.v[2].name, "a.sql");
    assert_string_equal(f.v[3].name, "b.sql");
    assert_string_equal(f.v[2].path, "migrations/a.sql");
    assert_int_equal(f.v[2].len, 2);
    assert_string_equal(f.v[2].data, "a\n");
    want_id = fx_rev(d, "HEAD:migrations/a.sql");
    assert_string_equal(f.v[2].blob_id, want_id);
    repo_files_release(&f);
    repo_files_release(&f); /* twice is fine */

    /* without data: same list, ids, no contents; trailing slash and ./ are the same dir */
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "./migrations/", false, &err), 0);
    assert_int_equal(f.n, 4);
    assert_null(f.v[2].data);
    assert_string_equal(f.v[2].blob_id, want_id);
    repo_files_release(&f);
    free(want_id);
    repo_free(r);
    free(d);
}

static void test_read_dir_skips_symlinks(void **state)
{
    char *d = fx_repo("symlink"), *link;
    struct repo_files f = REPO_FILES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_a.sql", "a\n");
    link = dd_path_join(d, "migrations/0002_link.sql");
    assert_int_equal(symlink("0001_a.sql", link), 0);
    free(fx_commit(d, "with a symlink"));
    r = fx_open(d);
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "migrations", true, &err), 0);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.v[0].name, "0001_a.sql");
    repo_files_release(&f);
    repo_free(r);
    free(link);
    free(d);
}

static void test_read_dir_reads_the_commit_not_the_work_tree(void **state)
{
    char *d = fx_repo("committed");
    struct repo_files f = REPO_FILES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_a.sql", "v1\n");
    free(fx_commit(d, "v1"));
    fx_write(d, "migrations/0001_a.sql", "v2\n");
    free(fx_commit(d, "v2"));
    fx_write(d, "migrations/0001_a.sql", "uncommitted\n");
    fx_write(d, "migrations/0002_new.sql", "untracked\n");
    r = fx_open(d);
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "migrations", true, &err), 0);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.v[0].data, "v2\n");
    repo_files_release(&f);
    assert_int_equal(repo_read_dir(&f, r, "HEAD~1", "migrations", true, &err), 0);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.v[0].data, "v1\n");
    repo_files_release(&f);
    repo_free(r);
    free(d);
}

static void test_read_dir_missing_dir_is_empty_and_file_is_an_error(void **state)
{
    char *d = fx_repo("missing");
    struct repo_files f = REPO_FILES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "notadir", "x\n");
    free(fx_commit(d, "a file"));
    r = fx_open(d);
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "migrations", true, &err), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "notadir", true, &err), -1);
    assert_int_equal(err.code, DD_EGIT);
    assert_non_null(strstr(dd_error_msg(&err), "'notadir' is not a directory"));
    assert_int_equal(f.n, 0);
    dd_error_release(&err);
    assert_int_equal(repo_read_dir(&f, r, "nope", "migrations", true, &err), -1);
    assert_string_equal(dd_error_msg(&err), "unknown revision 'nope'");
    dd_error_release(&err);
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "../migrations", true, &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_string_equal(dd_error_msg(&err), "path '../migrations' leaves the project directory");
    dd_error_release(&err);
    repo_free(r);
    free(d);
}

static void test_read_dir_of_project_in_subdirectory(void **state)
{
    char *d = fx_repo("subproj"), *proj = dd_path_join(d, "services/db");
    struct repo_files f = REPO_FILES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_top.sql", "top\n"); /* another project's, at the top */
    fx_write(d, "services/db/migrations/0001_sub.sql", "sub\n");
    free(fx_commit(d, "two projects"));
    r = fx_open(proj);
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "migrations", true, &err), 0);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.v[0].path, "migrations/0001_sub.sql");
    assert_string_equal(f.v[0].data, "sub\n");
    repo_files_release(&f);
    /* "." is the project root itself */
    fx_write(d, "services/db/README", "readme\n");
    free(fx_commit(d, "readme"));
    assert_int_equal(repo_read_dir(&f, r, "HEAD", ".", false, &err), 0);
    assert_int_equal(f.n, 1);
    assert_string_equal(f.v[0].path, "README");
    repo_files_release(&f);
    repo_free(r);
    free(proj);
    free(d);
}

/* Reading 1000 loose objects returns every file, in order, with its data. Its speed is measured
 * by bench/apply (status with 1,000 and 10,000 migrations), not asserted here: a timed unit test
 * only measures how loaded the machine is. */
static void test_read_dir_reads_1000_files(void **state)
{
    char *d = fx_repo("many");
    struct repo_files f = REPO_FILES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        char name[64], body[256];
        snprintf(name, sizeof(name), "migrations/%04d_step.sql", i);
        snprintf(body, sizeof(body), "-- step %d\ncreate table t%d (id bigint primary key, note text);\n", i, i);
        fx_write(d, name, body);
    }
    free(fx_commit(d, "1000 migrations")); /* loose objects */
    r = fx_open(d);
    assert_int_equal(repo_read_dir(&f, r, "HEAD", "migrations", true, &err), 0);
    assert_int_equal(f.n, 1000);
    assert_string_equal(f.v[0].name, "0000_step.sql");
    assert_string_equal(f.v[999].name, "0999_step.sql");
    assert_non_null(strstr(f.v[999].data, "create table t999"));
    repo_files_release(&f);
    repo_free(r);
    free(d);
}

static const struct repo_change *find_change(const struct repo_changes *c, const char *path)
{
    for (size_t i = 0; i < c->n; i++)
        if (dd_streq(c->v[i].new_path, path) || (!c->v[i].new_path && dd_streq(c->v[i].old_path, path)))
            return &c->v[i];
    return NULL;
}

static void test_diff_dir_reports_added_modified_deleted_renamed(void **state)
{
    char *d = fx_repo("diff"), *old, *new, *blob_c_old, *blob_c_new;
    struct repo_changes c = REPO_CHANGES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    const struct repo_change *x;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_keep.sql", "keep\n");
    fx_write(d, "migrations/0002_edit.sql", "edit me\n");
    fx_write(d, "migrations/0003_drop.sql", "drop me\n");
    fx_write(d, "migrations/0004_move.sql", "move me\n");
    fx_write(d, "migrations/0005_crlf.sql", "select 1;\n");
    fx_write(d, "migrations/sub/deep.sql", "deep\n");
    fx_write(d, "other/x.sql", "x\n");
    old = fx_commit(d, "old");
    blob_c_old = fx_rev(d, "HEAD:migrations/0005_crlf.sql");
    fx_write(d, "migrations/0002_edit.sql", "edited\n");
    fx_remove(d, "migrations/0003_drop.sql");
    fx_remove(d, "migrations/0004_move.sql");
    fx_write(d, "migrations/0006_moved.sql", "move me\n");
    fx_write(d, "migrations/0005_crlf.sql", "select 1;\r\n");
    fx_write(d, "migrations/0007_new.sql", "new\n");
    fx_write(d, "migrations/sub/deep.sql", "changed, but not directly inside\n");
    fx_write(d, "other/x.sql", "changed elsewhere\n");
    new = fx_commit(d, "new");
    blob_c_new = fx_rev(d, "HEAD:migrations/0005_crlf.sql");
    r = fx_open(d);
    assert_int_equal(repo_diff_dir(&c, r, old, new, "migrations", &err), 0);
    assert_int_equal(c.n, 5);
    /* sorted by path (the new one for renames) */
    assert_string_equal(c.v[0].old_path, "migrations/0002_edit.sql");
    assert_string_equal(c.v[1].old_path, "migrations/0003_drop.sql");
    assert_string_equal(c.v[2].old_path, "migrations/0005_crlf.sql");
    assert_string_equal(c.v[3].new_path, "migrations/0006_moved.sql");
    assert_string_equal(c.v[4].new_path, "migrations/0007_new.sql");

    x = find_change(&c, "migrations/0002_edit.sql");
    assert_int_equal(x->status, 'M');
    assert_string_equal(x->old_path, "migrations/0002_edit.sql");
    x = find_change(&c, "migrations/0003_drop.sql");
    assert_int_equal(x->status, 'D');
    assert_null(x->new_path);
    assert_string_equal(x->new_blob, "");
    x = find_change(&c, "migrations/0006_moved.sql");
    assert_int_equal(x->status, 'R');
    assert_string_equal(x->old_path, "migrations/0004_move.sql");
    assert_string_equal(x->old_blob, x->new_blob);
    x = find_change(&c, "migrations/0005_crlf.sql"); /* line endings only: still a change */
    assert_int_equal(x->status, 'M');
    assert_string_equal(x->old_blob, blob_c_old);
    assert_string_equal(x->new_blob, blob_c_new);
    x = find_change(&c, "migrations/0007_new.sql");
    assert_int_equal(x->status, 'A');
    assert_null(x->old_path);
    assert_string_equal(x->old_blob, "");
    repo_changes_release(&c);
    repo_changes_release(&c);

    /* reversed: the rename goes the other way, additions become deletions */
    assert_int_equal(repo_diff_dir(&c, r, new, old, "migrations", &err), 0);
    assert_int_equal(c.n, 5);
    x = find_change(&c, "migrations/0004_move.sql");
    assert_int_equal(x->status, 'R');
    assert_string_equal(x->old_path, "migrations/0006_moved.sql");
    assert_int_equal(find_change(&c, "migrations/0007_new.sql")->status, 'D');
    assert_int_equal(find_change(&c, "migrations/0003_drop.sql")->status, 'A');
    repo_changes_release(&c);
    repo_free(r);
    free(blob_c_old);
    free(blob_c_new);
    free(old);
    free(new);
    free(d);
}

static void test_diff_dir_rename_with_edit_is_delete_and_add(void **state)
{
    char *d = fx_repo("renedit"), *old, *new;
    struct repo_changes c = REPO_CHANGES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_a.sql", "create table a (id int);\n");
    fx_write(d, "migrations/0002_dup.sql", "same\n");
    fx_write(d, "migrations/0003_dup.sql", "same\n");
    old = fx_commit(d, "old");
    fx_remove(d, "migrations/0001_a.sql");
    fx_write(d, "migrations/0001_b.sql", "create table a (id bigint);\n");
    /* two identical files, one renamed: exactly one rename pairs up */
    fx_remove(d, "migrations/0003_dup.sql");
    fx_write(d, "migrations/0004_dup.sql", "same\n");
    new = fx_commit(d, "new");
    r = fx_open(d);
    assert_int_equal(repo_diff_dir(&c, r, old, new, "migrations/", &err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(find_change(&c, "migrations/0001_a.sql")->status, 'D');
    assert_int_equal(find_change(&c, "migrations/0001_b.sql")->status, 'A');
    assert_int_equal(find_change(&c, "migrations/0004_dup.sql")->status, 'R');
    assert_string_equal(find_change(&c, "migrations/0004_dup.sql")->old_path, "migrations/0003_dup.sql");
    repo_changes_release(&c);
    repo_free(r);
    free(old);
    free(new);
    free(d);
}

static void test_diff_dir_edge_cases(void **state)
{
    char *d = fx_repo("diffedge"), *empty, *one;
    struct repo_changes c = REPO_CHANGES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    empty = fx_rev(d, "HEAD");
    fx_write(d, "migrations/0001_a.sql", "a\n");
    fx_write(d, "migrations/0002_b.sql", "b\n");
    one = fx_commit(d, "two files");
    fx_write(d, "README", "unrelated\n");
    free(fx_commit(d, "unrelated"));
    r = fx_open(d);
    /* no old commit: everything is added */
    assert_int_equal(repo_diff_dir(&c, r, NULL, "HEAD", "migrations", &err), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.v[0].status, 'A');
    assert_int_equal(c.v[1].status, 'A');
    repo_changes_release(&c);
    /* directory missing in the old commit */
    assert_int_equal(repo_diff_dir(&c, r, empty, one, "migrations", &err), 0);
    assert_int_equal(c.n, 2);
    repo_changes_release(&c);
    /* unchanged directory */
    assert_int_equal(repo_diff_dir(&c, r, one, "HEAD", "migrations", &err), 0);
    assert_int_equal(c.n, 0);
    /* bad revision */
    assert_int_equal(repo_diff_dir(&c, r, "nope", "HEAD", "migrations", &err), -1);
    assert_int_equal(err.code, DD_EGIT);
    assert_string_equal(dd_error_msg(&err), "unknown revision 'nope'");
    assert_int_equal(c.n, 0);
    dd_error_release(&err);
    repo_free(r);
    free(empty);
    free(one);
    free(d);
}

static void test_diff_dir_of_project_in_subdirectory(void **state)
{
    char *d = fx_repo("diffsub"), *proj = dd_path_join(d, "db"), *old;
    struct repo_changes c = REPO_CHANGES_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "db/migrations/0001_a.sql", "a\n");
    fx_write(d, "migrations/0001_a.sql", "top-level, other project\n");
    old = fx_commit(d, "old");
    fx_write(d, "db/migrations/0001_a.sql", "a changed\n");
    fx_write(d, "migrations/0001_a.sql", "top-level changed\n");
    free(fx_commit(d, "new"));
    r = fx_open(proj);
    assert_int_equal(repo_diff_dir(&c, r, old, "HEAD", "migrations", &err), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.v[0].status, 'M');
    assert_string_equal(c.v[0].new_path, "migrations/0001_a.sql");
    repo_changes_release(&c);
    repo_free(r);
    free(old);
    free(proj);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_dir_lists_regular_files_directly_inside_in_byte_order),
        cmocka_unit_test(test_read_dir_skips_symlinks),
        cmocka_unit_test(test_read_dir_reads_the_commit_not_the_work_tree),
        cmocka_unit_test(test_read_dir_missing_dir_is_empty_and_file_is_an_error),
        cmocka_unit_test(test_read_dir_of_project_in_subdirectory),
        cmocka_unit_test(test_read_dir_reads_1000_files),
        cmocka_unit_test(test_diff_dir_reports_added_modified_deleted_renamed),
        cmocka_unit_test(test_diff_dir_rename_with_edit_is_delete_and_add),
        cmocka_unit_test(test_diff_dir_edge_cases),
        cmocka_unit_test(test_diff_dir_of_project_in_subdirectory),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
