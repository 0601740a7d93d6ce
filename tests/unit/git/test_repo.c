/* git/repo.c: opening, resolving revisions, blob ids, the hooks directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "git_fixture.h"

static void test_open_at_top_has_empty_prefix(void **state)
{
    char *d = fx_repo("top"), *real = realpath(d, NULL);
    struct repo *r = fx_open(d);

    (void)state;
    assert_string_equal(repo_workdir(r), real);
    assert_string_equal(repo_path_prefix(r), "");
    repo_free(r);
    repo_free(NULL); /* accepts NULL */
    free(real);
    free(d);
}

static void test_open_finds_repository_from_subdirectory(void **state)
{
    char *d = fx_repo("sub"), *real = realpath(d, NULL), *proj = dd_path_join(d, "db/app/");
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    assert_int_equal(dd_mkdir_p(proj, 0755, &err), 0);
    r = fx_open(proj);
    assert_string_equal(repo_workdir(r), real);
    assert_int_equal(repo_workdir(r)[strlen(repo_workdir(r)) - 1] != '/', 1);
    assert_string_equal(repo_path_prefix(r), "db/app");
    repo_free(r);
    free(proj);
    free(real);
    free(d);
}

static void test_open_outside_repository_fails_with_hint(void **state)
{
    char *d = fx_dir("plain");
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r = (struct repo *)&err; /* must be reset to NULL */
    char *want = dd_xasprintf("not a git repository: '%s'", d);

    (void)state;
    assert_int_equal(repo_open(&r, d, &err), -1);
    assert_null(r);
    assert_int_equal(err.code, DD_EGIT);
    assert_string_equal(dd_error_msg(&err), want);
    assert_non_null(err.hint);
    dd_error_release(&err);
    free(want);
    free(d);
}

static void test_open_missing_directory_fails(void **state)
{
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r = NULL;
    char *d = dd_xasprintf("%s/does-not-exist", fx_state.tmp);

    (void)state;
    assert_int_equal(repo_open(&r, d, &err), -1);
    assert_int_equal(err.code, DD_EGIT);
    assert_non_null(strstr(dd_error_msg(&err), "does-not-exist"));
    dd_error_release(&err);
    free(d);
}

static void test_open_bare_repository_fails(void **state)
{
    char *d = fx_dir("bare");
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r = NULL;

    (void)state;
    fx_git(d, "init", "-q", "--bare");
    assert_int_equal(repo_open(&r, d, &err), -1);
    assert_int_equal(err.code, DD_EGIT);
    assert_non_null(strstr(dd_error_msg(&err), "bare repository"));
    dd_error_release(&err);
    free(d);
}

static void test_resolve_accepts_what_rev_parse_accepts(void **state)
{
    char *d = fx_repo("resolve"), *first, *second, *abbrev = NULL;
    char out[REPO_OID_HEX_LEN + 1];
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write(d, "a.txt", "a\n");
    first = fx_commit(d, "first");
    fx_git(d, "tag", "-a", "v1", "-m", "annotated");
    fx_write(d, "a.txt", "b\n");
    second = fx_commit(d, "second");
    fx_git(d, "update-ref", "refs/remotes/origin/main", first);
    fx_git(d, "branch", "feature", first);
    fx_git_out(d, &abbrev, "rev-parse", "--short", second);
    r = fx_open(d);

    assert_int_equal(repo_resolve(r, "HEAD", out, &err), 0);
    assert_string_equal(out, second);
    assert_int_equal(repo_resolve(r, "main", out, &err), 0);
    assert_string_equal(out, second);
    assert_int_equal(repo_resolve(r, "origin/main", out, &err), 0);
    assert_string_equal(out, first);
    assert_int_equal(repo_resolve(r, "feature", out, &err), 0);
    assert_string_equal(out, first);
    assert_int_equal(repo_resolve(r, "v1", out, &err), 0); /* annotated tag peeled to its commit */
    assert_string_equal(out, first);
    assert_int_equal(repo_resolve(r, abbrev, out, &err), 0);
    assert_string_equal(out, second);
    assert_int_equal(repo_resolve(r, first, out, &err), 0);
    assert_string_equal(out, first);
    assert_int_equal(repo_resolve(r, "HEAD~1", out, &err), 0);
    assert_string_equal(out, first);
    assert_true(repo_rev_exists(r, "origin/main"));
    assert_false(repo_rev_exists(r, "origin/nope"));
    assert_false(dd_error_isset(&err));
    repo_free(r);
    free(abbrev);
    free(first);
    free(second);
    free(d);
}

static void test_resolve_unknown_revision_names_it(void **state)
{
    char *d = fx_repo("unknown");
    char out[REPO_OID_HEX_LEN + 1] = "x";
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r = fx_open(d);

    (void)state;
    assert_int_equal(repo_resolve(r, "no-such-branch", out, &err), -1);
    assert_string_equal(out, "");
    assert_int_equal(err.code, DD_EGIT);
    assert_string_equal(dd_error_msg(&err), "unknown revision 'no-such-branch'");
    assert_non_null(err.hint);
    dd_error_release(&err);

    /* a tree is not a commit */
    assert_int_equal(repo_resolve(r, "HEAD^{tree}", out, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "'HEAD^{tree}' does not name a commit"));
    dd_error_release(&err);
    repo_free(r);
    free(d);
}

static void test_resolve_head_of_empty_repository_explains(void **state)
{
    char *d = fx_dir("empty");
    char out[REPO_OID_HEX_LEN + 1];
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_git(d, "init", "-q", "-b", "main");
    r = fx_open(d);
    assert_int_equal(repo_resolve(r, "HEAD", out, &err), -1);
    assert_non_null(strstr(dd_error_msg(&err), "no commits yet"));
    assert_false(repo_rev_exists(r, "HEAD"));
    dd_error_release(&err);
    repo_free(r);
    free(d);
}

static void test_blob_id_matches_git_hash_object(void **state)
{
    static const char lf[] = "create table t (id int);\n", crlf[] = "create table t (id int);\r\n";
    char *d = fx_dir("hash"), *want_lf = NULL, *want_crlf = NULL, *want_empty = NULL;
    char got[REPO_OID_HEX_LEN + 1];

    (void)state;
    fx_write(d, "lf.sql", lf);
    fx_write(d, "crlf.sql", crlf);
    fx_write(d, "empty", "");
    fx_git_out(d, &want_lf, "hash-object", "--no-filters", "lf.sql");
    fx_git_out(d, &want_crlf, "hash-object", "--no-filters", "crlf.sql");
    fx_git_out(d, &want_empty, "hash-object", "--no-filters", "empty");
    repo_blob_id(got, lf, strlen(lf));
    assert_string_equal(got, want_lf);
    repo_blob_id(got, crlf, strlen(crlf));
    assert_string_equal(got, want_crlf);
    assert_string_not_equal(want_lf, want_crlf); /* line endings are content */
    repo_blob_id(got, "", 0);
    assert_string_equal(got, want_empty);
    assert_string_equal(got, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    free(want_lf);
    free(want_crlf);
    free(want_empty);
    free(d);
}

static void test_read_blob_returns_exact_bytes(void **state)
{
    static const char data[] = "a\r\nb\0c";
    char *d = fx_repo("blob"), *id;
    struct dd_buf b = DD_BUF_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_write_n(d, "bin", data, sizeof(data) - 1);
    free(fx_commit(d, "binary"));
    id = fx_rev(d, "HEAD:bin");
    r = fx_open(d);
    assert_int_equal(repo_read_blob(&b, r, id, &err), 0);
    assert_int_equal(b.len, sizeof(data) - 1);
    assert_memory_equal(b.buf, data, b.len);
    dd_buf_reset(&b);
    assert_int_equal(repo_read_blob(&b, r, "0123456789012345678901234567890123456789", &err), -1);
    assert_int_equal(err.code, DD_EGIT);
    assert_non_null(strstr(dd_error_msg(&err), "0123456789012345678901234567890123456789"));
    dd_error_release(&err);
    assert_int_equal(repo_read_blob(&b, r, "xyz", &err), -1);
    assert_string_equal(dd_error_msg(&err), "'xyz' is not an object id");
    dd_error_release(&err);
    dd_buf_release(&b);
    repo_free(r);
    free(id);
    free(d);
}

static void test_hooks_dir_respects_core_hooks_path(void **state)
{
    char *d = fx_repo("hooks"), *real = realpath(d, NULL), *dir = NULL, *want;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r = fx_open(d);

    (void)state;
    assert_int_equal(repo_hooks_dir(&dir, r, &err), 0);
    want = dd_xasprintf("%s/.git/hooks", real);
    assert_string_equal(dir, want);
    free(dir);
    free(want);
    repo_free(r);

    fx_git(d, "config", "core.hooksPath", "tools/githooks/");
    r = fx_open(d);
    assert_int_equal(repo_hooks_dir(&dir, r, &err), 0);
    want = dd_xasprintf("%s/tools/githooks", real); /* relative to the top of the work tree */
    assert_string_equal(dir, want);
    free(dir);
    free(want);
    repo_free(r);

    fx_git(d, "config", "core.hooksPath", "/srv/hooks");
    r = fx_open(d);
    assert_int_equal(repo_hooks_dir(&dir, r, &err), 0);
    assert_string_equal(dir, "/srv/hooks");
    free(dir);
    repo_free(r);
    free(real);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_at_top_has_empty_prefix),
        cmocka_unit_test(test_open_finds_repository_from_subdirectory),
        cmocka_unit_test(test_open_outside_repository_fails_with_hint),
        cmocka_unit_test(test_open_missing_directory_fails),
        cmocka_unit_test(test_open_bare_repository_fails),
        cmocka_unit_test(test_resolve_accepts_what_rev_parse_accepts),
        cmocka_unit_test(test_resolve_unknown_revision_names_it),
        cmocka_unit_test(test_resolve_head_of_empty_repository_explains),
        cmocka_unit_test(test_blob_id_matches_git_hash_object),
        cmocka_unit_test(test_read_blob_returns_exact_bytes),
        cmocka_unit_test(test_hooks_dir_respects_core_hooks_path),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
