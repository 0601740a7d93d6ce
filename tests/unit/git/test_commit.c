/* git/commit.c: committing generated files on HEAD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "git_fixture.h"

static void test_commit_files_commits_only_the_given_files(void **state)
{
    char *d = fx_repo("commit"), *parent, *head = NULL, *files = NULL, *staged = NULL, *author = NULL, *content = NULL,
         *status = NULL;
    char out[REPO_OID_HEX_LEN + 1];
    struct dd_strv paths = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "CHANGELOG.md", "# old\n");
    fx_write(d, "other.txt", "base\n");
    parent = fx_commit(d, "base");
    fx_write(d, "CHANGELOG.md", "# new entry\n");
    fx_write(d, "other.txt", "the user's staged work\n");
    fx_git(d, "add", "other.txt");
    r = fx_open(d);
    dd_strv_push(&paths, "CHANGELOG.md");
    assert_int_equal(repo_commit_files(r, &paths, "changelog: prod deploy", out, &err), 0);
    head = fx_rev(d, "HEAD");
    assert_string_equal(out, head);
    fx_git_out(d, &files, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD");
    assert_string_equal(files, "CHANGELOG.md");
    fx_git_out(d, &content, "show", "HEAD:CHANGELOG.md");
    assert_string_equal(content, "# new entry");
    fx_git_out(d, &author, "log", "-1", "--format=%an <%ae>|%cn|%s|%P");
    assert_true(strncmp(author, "Alice Author <alice@example.com>|Carol Committer|changelog: prod deploy|", 71) == 0);
    assert_non_null(strstr(author, parent));
    /* the user's staged change is still staged, and CHANGELOG.md is clean */
    fx_git_out(d, &staged, "diff", "--cached", "--name-only");
    assert_string_equal(staged, "other.txt");
    fx_git_out(d, &status, "status", "--porcelain");
    assert_string_equal(status, "M  other.txt");
    dd_strv_release(&paths);
    repo_free(r);
    free(parent);
    free(head);
    free(files);
    free(staged);
    free(author);
    free(content);
    free(status);
    free(d);
}

static void test_commit_files_nothing_to_commit_gives_empty_id(void **state)
{
    char *d = fx_repo("noop"), *before, *after;
    char out[REPO_OID_HEX_LEN + 1] = "x";
    struct dd_strv paths = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "CHANGELOG.md", "# same\n");
    before = fx_commit(d, "base");
    r = fx_open(d);
    dd_strv_push(&paths, "CHANGELOG.md");
    assert_int_equal(repo_commit_files(r, &paths, "nothing", out, &err), 0);
    assert_string_equal(out, "");
    after = fx_rev(d, "HEAD");
    assert_string_equal(before, after);
    dd_strv_release(&paths);
    repo_free(r);
    free(before);
    free(after);
    free(d);
}

static void test_commit_files_removes_deleted_and_works_in_subdirectory(void **state)
{
    char *d = fx_repo("commitsub"), *proj = dd_path_join(d, "db"), *files = NULL, *status = NULL;
    char out[REPO_OID_HEX_LEN + 1];
    struct dd_strv paths = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "db/old.md", "old\n");
    free(fx_commit(d, "base"));
    fx_remove(d, "db/old.md");
    fx_write(d, "db/changelog/prod.md", "new\n");
    r = fx_open(proj);
    dd_strv_push(&paths, "old.md");
    dd_strv_push(&paths, "changelog/prod.md");
    assert_int_equal(repo_commit_files(r, &paths, "regenerate", out, &err), 0);
    assert_int_equal(strlen(out), 40);
    fx_git_out(d, &files, "diff-tree", "--no-commit-id", "--name-status", "-r", "HEAD");
    assert_string_equal(files, "A\tdb/changelog/prod.md\nD\tdb/old.md");
    fx_git_out(d, &status, "status", "--porcelain");
    assert_string_equal(status, "");
    dd_strv_release(&paths);
    repo_free(r);
    free(files);
    free(status);
    free(proj);
    free(d);
}

static void test_commit_files_author_falls_back_to_config_then_dbdeploy(void **state)
{
    char *d = fx_repo("whom"), *who = NULL;
    char out[REPO_OID_HEX_LEN + 1];
    struct dd_strv paths = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    unsetenv("GIT_AUTHOR_NAME");
    unsetenv("GIT_AUTHOR_EMAIL");
    fx_git(d, "config", "user.name", "Config User");
    fx_git(d, "config", "user.email", "config@example.com");
    r = fx_open(d);
    dd_strv_push(&paths, "a.md");
    fx_write(d, "a.md", "1\n");
    assert_int_equal(repo_commit_files(r, &paths, "from config", out, &err), 0);
    fx_git_out(d, &who, "log", "-1", "--format=%an <%ae>");
    assert_string_equal(who, "Config User <config@example.com>");
    free(who);
    repo_free(r);

    fx_git(d, "config", "--unset", "user.name");
    fx_git(d, "config", "--unset", "user.email");
    r = fx_open(d);
    fx_write(d, "a.md", "2\n");
    assert_int_equal(repo_commit_files(r, &paths, "fallback", out, &err), 0);
    fx_git_out(d, &who, "log", "-1", "--format=%an <%ae>");
    assert_string_equal(who, "dbdeploy <dbdeploy@localhost>");
    free(who);
    repo_free(r);
    setenv("GIT_AUTHOR_NAME", "Alice Author", 1);
    setenv("GIT_AUTHOR_EMAIL", "alice@example.com", 1);
    dd_strv_release(&paths);
    free(d);
}

static void test_commit_files_in_empty_repository_and_bad_path(void **state)
{
    char *d = fx_dir("emptycommit"), *n = NULL;
    char out[REPO_OID_HEX_LEN + 1];
    struct dd_strv paths = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_git(d, "init", "-q", "-b", "main");
    fx_write(d, "first.md", "first\n");
    r = fx_open(d);
    dd_strv_push(&paths, "first.md");
    assert_int_equal(repo_commit_files(r, &paths, "root commit", out, &err), 0);
    fx_git_out(d, &n, "rev-list", "--count", "HEAD");
    assert_string_equal(n, "1");
    dd_strv_clear(&paths);
    dd_strv_push(&paths, "../escape.md");
    assert_int_equal(repo_commit_files(r, &paths, "bad", out, &err), -1);
    assert_int_equal(err.code, DD_EINPUT);
    assert_string_equal(out, "");
    dd_error_release(&err);
    dd_strv_release(&paths);
    repo_free(r);
    free(n);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_files_commits_only_the_given_files),
        cmocka_unit_test(test_commit_files_nothing_to_commit_gives_empty_id),
        cmocka_unit_test(test_commit_files_removes_deleted_and_works_in_subdirectory),
        cmocka_unit_test(test_commit_files_author_falls_back_to_config_then_dbdeploy),
        cmocka_unit_test(test_commit_files_in_empty_repository_and_bad_path),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
