/* git/history.c: commit details, merge bases, who changed a file, who added it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "git_fixture.h"

static void test_commit_info_reads_author_subject_and_date(void **state)
{
    char *d = fx_repo("info"), *id;
    struct repo_commit_info c = REPO_COMMIT_INFO_INIT;
    struct dd_error err = DD_ERROR_INIT;
    char date[11];
    struct repo *r;
    long when = fx_state.next_date;

    (void)state;
    fx_write(d, "a", "a\n");
    id = fx_commit(d, "fix typo in orders\n\nlonger explanation\nover two lines");
    r = fx_open(d);
    assert_int_equal(repo_commit_info(&c, r, "HEAD", &err), 0);
    assert_string_equal(c.id, id);
    assert_int_equal(strlen(c.short_id), 7);
    assert_memory_equal(c.short_id, id, 7);
    assert_string_equal(c.author_name, "Alice Author");
    assert_string_equal(c.author_email, "alice@example.com");
    assert_string_equal(c.subject, "fix typo in orders");
    assert_int_equal(c.time, when);
    assert_int_equal(c.tz_offset_min, 60);
    repo_commit_date(date, &c);
    assert_string_equal(date, "2025-11-20");
    repo_commit_info_release(&c);
    repo_commit_info_release(&c);

    /* the author's local date, not UTC: 23:30 UTC is the next day at +0100 */
    c.time = 1763681400; /* 2025-11-20T23:30:00Z */
    c.tz_offset_min = 60;
    repo_commit_date(date, &c);
    assert_string_equal(date, "2025-11-21");
    c.tz_offset_min = 0;
    repo_commit_date(date, &c);
    assert_string_equal(date, "2025-11-20");

    assert_int_equal(repo_commit_info(&c, r, "nope", &err), -1);
    assert_string_equal(dd_error_msg(&err), "unknown revision 'nope'");
    dd_error_release(&err);
    repo_free(r);
    free(id);
    free(d);
}

static void test_merge_base_of_branches_and_unrelated_histories(void **state)
{
    char *d = fx_repo("mb"), *fork, *want_out = NULL;
    char out[REPO_OID_HEX_LEN + 1];
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "a", "1\n");
    fork = fx_commit(d, "fork point");
    fx_git(d, "checkout", "-q", "-b", "feature");
    fx_write(d, "b", "feature\n");
    free(fx_commit(d, "on feature"));
    fx_git(d, "checkout", "-q", "main");
    fx_write(d, "c", "main\n");
    free(fx_commit(d, "on main"));
    fx_git(d, "checkout", "-q", "--orphan", "lonely");
    fx_write(d, "z", "unrelated\n");
    free(fx_commit(d, "unrelated root"));
    fx_git(d, "checkout", "-q", "main");
    r = fx_open(d);
    assert_int_equal(repo_merge_base(out, r, "main", "feature", &err), 0);
    assert_string_equal(out, fork);
    fx_git_out(d, &want_out, "merge-base", "feature", "main");
    assert_string_equal(out, want_out);
    assert_int_equal(repo_merge_base(out, r, "main", "lonely", &err), 0);
    assert_string_equal(out, "");
    assert_int_equal(repo_merge_base(out, r, "main", "nope", &err), -1);
    assert_string_equal(dd_error_msg(&err), "unknown revision 'nope'");
    dd_error_release(&err);
    repo_free(r);
    free(want_out);
    free(fork);
    free(d);
}

/*
 * History of migrations/0003_x.sql: added (c1), unrelated commit (u1), edited (c2), unrelated
 * change in the same directory (u2), edited (c3). Returns the ids; blob_v1 is c1's content.
 */
struct linear {
    char *dir, *c1, *u1, *c2, *u2, *c3, *blob_v1, *blob_v3;
};

static void linear_make(struct linear *l)
{
    l->dir = fx_repo("linear");
    fx_write(l->dir, "migrations/0003_x.sql", "create table x (id int);\n");
    l->c1 = fx_commit(l->dir, "add x");
    l->blob_v1 = fx_rev(l->dir, "HEAD:migrations/0003_x.sql");
    fx_write(l->dir, "README", "unrelated\n");
    l->u1 = fx_commit(l->dir, "readme");
    fx_write(l->dir, "migrations/0003_x.sql", "create table x (id bigint);\n");
    l->c2 = fx_commit(l->dir, "fix typo");
    fx_write(l->dir, "migrations/0004_y.sql", "create table y ();\n");
    l->u2 = fx_commit(l->dir, "add y");
    fx_write(l->dir, "migrations/0003_x.sql", "create table x (id bigint not null);\n");
    l->c3 = fx_commit(l->dir, "tighten x");
    l->blob_v3 = fx_rev(l->dir, "HEAD:migrations/0003_x.sql");
}

static void linear_free(struct linear *l)
{
    free(l->dir);
    free(l->c1);
    free(l->u1);
    free(l->c2);
    free(l->u2);
    free(l->c3);
    free(l->blob_v1);
    free(l->blob_v3);
}

static void test_changes_since_lists_commits_after_the_applied_content(void **state)
{
    struct linear l;
    struct repo_commit_infos c = REPO_COMMIT_INFOS_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    linear_make(&l);
    r = fx_open(l.dir);
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", l.blob_v1, NULL, &err), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.v[0].id, l.c3); /* newest first */
    assert_string_equal(c.v[0].subject, "tighten x");
    assert_string_equal(c.v[1].id, l.c2);
    assert_string_equal(c.v[1].subject, "fix typo");
    assert_string_equal(c.v[1].author_name, "Alice Author");
    assert_false(c.truncated);
    repo_commit_infos_release(&c);
    repo_commit_infos_release(&c);

    /* the file still has the applied content: nothing changed it */
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", l.blob_v3, NULL, &err), 0);
    assert_int_equal(c.n, 0);
    /* from an older start */
    assert_int_equal(repo_path_changes_since(&c, r, l.u2, "migrations/0003_x.sql", l.blob_v1, NULL, &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.v[0].id, l.c2);
    repo_commit_infos_release(&c);
    /* no blob: every change back to the commit that added the file */
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", NULL, NULL, &err), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.v[2].id, l.c1);
    repo_commit_infos_release(&c);
    /* until: only commits not reachable from it */
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", NULL, l.u2, &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.v[0].id, l.c3);
    repo_commit_infos_release(&c);
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", NULL, "HEAD", &err), 0);
    assert_int_equal(c.n, 0);
    repo_free(r);
    linear_free(&l);
}

static void test_changes_since_counts_a_deletion(void **state)
{
    struct linear l;
    struct repo_commit_infos c = REPO_COMMIT_INFOS_INIT;
    struct dd_error err = DD_ERROR_INIT;
    char *del;
    struct repo *r;

    (void)state;
    linear_make(&l);
    fx_remove(l.dir, "migrations/0003_x.sql");
    del = fx_commit(l.dir, "drop x");
    r = fx_open(l.dir);
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", l.blob_v3, NULL, &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.v[0].id, del);
    assert_string_equal(c.v[0].subject, "drop x");
    repo_commit_infos_release(&c);
    repo_free(r);
    free(del);
    linear_free(&l);
}

static void test_changes_since_blames_the_branch_commit_not_the_merge(void **state)
{
    struct linear l;
    struct repo_commit_infos c = REPO_COMMIT_INFOS_INIT;
    struct dd_error err = DD_ERROR_INIT;
    char *side, *merge;
    struct repo *r;

    (void)state;
    linear_make(&l);
    fx_git(l.dir, "checkout", "-q", "-b", "fix");
    fx_write(l.dir, "migrations/0003_x.sql", "create table x (id bigint not null); -- on a branch\n");
    side = fx_commit(l.dir, "edit on a branch");
    fx_git(l.dir, "checkout", "-q", "main");
    fx_write(l.dir, "other.txt", "meanwhile on main\n");
    free(fx_commit(l.dir, "meanwhile"));
    fx_git(l.dir, "merge", "-q", "--no-ff", "-m", "merge fix", "fix");
    merge = fx_rev(l.dir, "HEAD");
    r = fx_open(l.dir);
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", l.blob_v3, NULL, &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.v[0].id, side);
    assert_string_not_equal(c.v[0].id, merge);
    repo_commit_infos_release(&c);
    repo_free(r);
    free(side);
    free(merge);
    linear_free(&l);
}

static void test_changes_since_rejects_bad_input(void **state)
{
    struct linear l;
    struct repo_commit_infos c = REPO_COMMIT_INFOS_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    linear_make(&l);
    r = fx_open(l.dir);
    assert_int_equal(repo_path_changes_since(&c, r, "nope", "migrations/0003_x.sql", NULL, NULL, &err), -1);
    assert_string_equal(dd_error_msg(&err), "unknown revision 'nope'");
    dd_error_release(&err);
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", "zz", NULL, &err), -1);
    assert_string_equal(dd_error_msg(&err), "'zz' is not an object id");
    dd_error_release(&err);
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0003_x.sql", NULL, "nope", &err), -1);
    assert_string_equal(dd_error_msg(&err), "unknown revision 'nope'");
    dd_error_release(&err);
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", ".", NULL, NULL, &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    dd_error_release(&err);
    assert_int_equal(c.n, 0);
    repo_free(r);
    linear_free(&l);
}

static void test_changes_since_in_project_subdirectory(void **state)
{
    char *d = fx_repo("histsub"), *proj = dd_path_join(d, "db"), *blob, *edit;
    struct repo_commit_infos c = REPO_COMMIT_INFOS_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "db/migrations/0001_a.sql", "a\n");
    fx_write(d, "migrations/0001_a.sql", "other project\n");
    free(fx_commit(d, "add"));
    blob = fx_rev(d, "HEAD:db/migrations/0001_a.sql");
    fx_write(d, "migrations/0001_a.sql", "other project, edited\n");
    free(fx_commit(d, "edit the other project"));
    fx_write(d, "db/migrations/0001_a.sql", "a, edited\n");
    edit = fx_commit(d, "edit ours");
    r = fx_open(proj);
    assert_int_equal(repo_path_changes_since(&c, r, "HEAD", "migrations/0001_a.sql", blob, NULL, &err), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.v[0].id, edit);
    repo_commit_infos_release(&c);
    repo_free(r);
    free(blob);
    free(edit);
    free(proj);
    free(d);
}

static void test_path_origin_finds_the_commit_that_added_the_file(void **state)
{
    struct linear l;
    struct repo_commit_info c = REPO_COMMIT_INFO_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    linear_make(&l);
    r = fx_open(l.dir);
    assert_int_equal(repo_path_origin(&c, r, "HEAD", "migrations/0003_x.sql", &err), 0);
    assert_string_equal(c.id, l.c1);
    assert_string_equal(c.subject, "add x");
    repo_commit_info_release(&c);
    assert_int_equal(repo_path_origin(&c, r, "HEAD", "migrations/0004_y.sql", &err), 0);
    assert_string_equal(c.id, l.u2);
    repo_commit_info_release(&c);
    assert_int_equal(repo_path_origin(&c, r, l.u1, "migrations/0004_y.sql", &err), -1);
    assert_int_equal(err.code, DD_EGIT);
    assert_non_null(strstr(dd_error_msg(&err), "'migrations/0004_y.sql' does not exist at"));
    assert_null(c.subject);
    dd_error_release(&err);
    repo_free(r);
    linear_free(&l);
}

static void test_path_origin_after_delete_and_re_add_is_the_re_add(void **state)
{
    char *d = fx_repo("readd"), *again;
    struct repo_commit_info c = REPO_COMMIT_INFO_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "migrations/0001_a.sql", "first life\n");
    free(fx_commit(d, "add"));
    fx_remove(d, "migrations/0001_a.sql");
    free(fx_commit(d, "remove"));
    fx_write(d, "migrations/0001_a.sql", "second life\n");
    again = fx_commit(d, "add again");
    fx_write(d, "migrations/0001_a.sql", "second life, edited\n");
    free(fx_commit(d, "edit"));
    r = fx_open(d);
    assert_int_equal(repo_path_origin(&c, r, "HEAD", "migrations/0001_a.sql", &err), 0);
    assert_string_equal(c.id, again);
    repo_commit_info_release(&c);
    repo_free(r);
    free(again);
    free(d);
}

/* A history longer than the walk limit, every commit editing the file: the walk stops and says so. */
static void test_changes_since_stops_at_the_walk_limit(void **state)
{
    char *d = fx_repo("long");
    struct repo_commit_infos c = REPO_COMMIT_INFOS_INIT;
    struct dd_proc p = DD_PROC_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf stream = DD_BUF_INIT;
    int n = REPO_WALK_MAX + 50;
    struct repo *r;

    (void)state;
    for (int i = 1; i <= n; i++) {
        char body[64];
        int len = snprintf(body, sizeof(body), "select %d;\n", i);
        dd_buf_addf(&stream, "commit refs/heads/main\nauthor A <a@x> %d +0000\ncommitter A <a@x> %d +0000\n",
                    1700000000 + i, 1700000000 + i);
        dd_buf_addf(&stream, "data 4\nedit\nM 100644 inline migrations/0001_a.sql\ndata %d\n%s\n", len, body);
    }
    dd_strv_pushv(&p.argv, FX_ARGS("git", "-C", d, "fast-import", "--quiet", "--force"));
    p.stdin_mode = DD_PROC_PIPE;
    p.stderr_mode = DD_PROC_CAPTURE;
    assert_int_equal(dd_proc_start(&p, &err), 0);
    assert_int_equal(dd_proc_write(&p, stream.buf, stream.len, &err), 0);
    assert_int_equal(dd_proc_finish(&p, &err), 0);
    r = fx_open(d);
    assert_int_equal(repo_path_changes_since(&c, r, "main", "migrations/0001_a.sql", NULL, NULL, &err), 0);
    assert_true(c.truncated);
    assert_int_equal(c.n, REPO_WALK_MAX);
    assert_string_equal(c.v[0].subject, "edit");
    repo_commit_infos_release(&c);
    assert_false(c.truncated);
    repo_free(r);
    dd_proc_release(&p);
    dd_buf_release(&stream);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_info_reads_author_subject_and_date),
        cmocka_unit_test(test_merge_base_of_branches_and_unrelated_histories),
        cmocka_unit_test(test_changes_since_lists_commits_after_the_applied_content),
        cmocka_unit_test(test_changes_since_counts_a_deletion),
        cmocka_unit_test(test_changes_since_blames_the_branch_commit_not_the_merge),
        cmocka_unit_test(test_changes_since_rejects_bad_input),
        cmocka_unit_test(test_changes_since_in_project_subdirectory),
        cmocka_unit_test(test_path_origin_finds_the_commit_that_added_the_file),
        cmocka_unit_test(test_path_origin_after_delete_and_re_add_is_the_re_add),
        cmocka_unit_test(test_changes_since_stops_at_the_walk_limit),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
