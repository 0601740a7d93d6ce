#include "unit.h"

#include "../git/git_fixture.h"
#include "engine/engine.h"
#include "engine/immutable.h"

/* The shared immutability rules, on real repositories built with the git CLI. */

static void test_edit_kind_tells_line_endings_whitespace_and_content(void **state)
{
    (void)state;
    assert_int_equal(engine_edit_kind_of("a b;\n", 5, "a b;\r\n", 6), ENGINE_EDIT_LINE_ENDING);
    assert_int_equal(engine_edit_kind_of("a b;\n", 5, "a  b;  \n\n", 9), ENGINE_EDIT_WHITESPACE);
    assert_int_equal(engine_edit_kind_of("a b;\n", 5, "a c;\n", 5), ENGINE_EDIT_CONTENT);
    assert_int_equal(engine_edit_kind_of("ab", 2, "ab;", 3), ENGINE_EDIT_CONTENT);
    /* a NUL byte is content, never whitespace */
    assert_int_equal(engine_edit_kind_of("a\0b", 3, "ab", 2), ENGINE_EDIT_CONTENT);
}

static void test_change_origin_blames_the_first_edit_after_the_base(void **state)
{
    char *dir = fx_repo("origin"), *base, *first, *last, *blob = NULL;
    struct repo *r;
    struct engine_change_origin o = ENGINE_CHANGE_ORIGIN_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    fx_write(dir, "migrations/1_a.sql", "create table a (id int);\n");
    base = fx_commit(dir, "published");
    fx_git_out(dir, &blob, "rev-parse", "HEAD:migrations/1_a.sql");
    fx_write(dir, "migrations/1_a.sql", "create table a (id bigint);\n");
    first = fx_commit(dir, "first edit");
    fx_write(dir, "migrations/2_b.sql", "create table b (id int);\n");
    free(fx_commit(dir, "unrelated"));
    fx_write(dir, "migrations/1_a.sql", "create table a (id bigint not null);\n");
    last = fx_commit(dir, "second edit");
    r = fx_open(dir);

    assert_int_equal(engine_change_origin(&o, r, "HEAD", "migrations/1_a.sql", blob, base, &err), 0);
    assert_string_equal(o.first.id, first);
    assert_string_equal(o.first.subject, "first edit");
    assert_int_equal(o.later, 1);
    engine_change_origin_release(&o);

    /* nothing after the newest commit changed it */
    assert_int_equal(engine_change_origin(&o, r, "HEAD", "migrations/1_a.sql", blob, last, &err), 0);
    assert_string_equal(o.first.id, "");
    assert_int_equal(o.later, 0);
    engine_change_origin_release(&o);
    engine_change_origin_release(&o); /* twice is fine */

    repo_free(r);
    dd_error_release(&err);
    free(blob);
    free(base);
    free(first);
    free(last);
    free(dir);
}

/* engine_protected_branch's answer equals want (NULL: none); the result is the caller's to free. */
static void assert_protected(struct repo *r, const char *configured, const char *want)
{
    char *got = engine_protected_branch(r, configured);

    if (want)
        assert_string_equal(got, want);
    else
        assert_null(got);
    free(got);
}

static void test_protected_branch_prefers_configured_then_origin_main_then_main(void **state)
{
    char *dir = fx_repo("protected");
    struct repo *r = fx_open(dir);

    (void)state;
    assert_protected(r, "release", "release");
    assert_protected(r, NULL, "main");
    fx_git(dir, "update-ref", "refs/remotes/origin/main", "HEAD");
    assert_protected(r, NULL, "origin/main");
    /* what origin/HEAD points to (as git clone sets it) is the remote's main branch */
    fx_git(dir, "update-ref", "refs/remotes/origin/trunk", "HEAD");
    fx_git(dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk");
    assert_protected(r, NULL, "origin/trunk");
    fx_git(dir, "symbolic-ref", "-d", "refs/remotes/origin/HEAD");
    fx_git(dir, "update-ref", "-d", "refs/remotes/origin/trunk");
    fx_git(dir, "update-ref", "-d", "refs/remotes/origin/main");
    fx_git(dir, "branch", "-q", "-m", "main", "master");
    assert_protected(r, NULL, "master");
    fx_git(dir, "branch", "-q", "-m", "master", "trunk");
    assert_protected(r, NULL, NULL);
    repo_free(r);
    free(dir);
}

static void test_changelog_records_read_every_environment_at_a_commit(void **state)
{
    char *dir = fx_repo("changelogs");
    struct repo *r;
    struct changelog_records recs = CHANGELOG_RECORDS_INIT;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    fx_write(dir, "pipeline/prod.conf", "[database]\n\turl = postgresql:///x\n");
    fx_write(dir, "pipeline/staging.conf", "[database]\n\turl = postgresql:///x\n");
    fx_write(dir, "changelog/prod/CHANGELOG.md",
             "<!-- dbdeploy:applied env=prod version=1 checksum=sha256:aa file=migrations/1_a.sql -->\n");
    fx_write(dir, "changelog/staging/CHANGELOG.md",
             "<!-- dbdeploy:applied env=staging version=1 checksum=sha256:aa file=migrations/1_a.sql -->\n"
             "<!-- dbdeploy:applied env=staging version=2 checksum=sha256:bb file=migrations/2_b.sql -->\n");
    free(fx_commit(dir, "changelogs"));
    r = fx_open(dir);
    assert_int_equal(engine_changelog_records(&recs, r, dir, "HEAD", &err), 0);
    assert_int_equal(recs.n, 3);
    assert_string_equal(recs.v[0].env, "prod");
    assert_string_equal(recs.v[2].env, "staging");
    assert_int_equal(recs.v[2].version, 2);
    changelog_records_release(&recs);
    repo_free(r);
    dd_error_release(&err);
    free(dir);
}

static void test_verify_lists_edits_and_out_of_order_additions(void **state)
{
    char *dir = fx_repo("verify"), *base, *head, *first;
    struct repo *r;
    struct migration_set set = MIGRATION_SET_INIT;
    struct engine_verify v;
    struct dd_error err = DD_ERROR_INIT;

    (void)state;
    fx_write(dir, "migrations/0001_a.up.sql", "create table a (id int);\n");
    fx_write(dir, "migrations/0005_e.up.sql", "create table e (id int);\n");
    base = fx_commit(dir, "published");
    fx_write(dir, "migrations/0001_a.up.sql", "create table a (id int);\r\n");
    first = fx_commit(dir, "crlf");
    fx_write(dir, "migrations/0005_e.down.sql", "drop table e;\n"); /* a down for a published up: fine */
    fx_write(dir, "migrations/0003_c.up.sql", "create table c (id int);\n");
    fx_write(dir, "migrations/README.md", "notes\n");
    head = fx_commit(dir, "more");
    r = fx_open(dir);
    assert_int_equal(engine_load_migrations_at(&set, r, "migrations", head, &err), 0);

    memset(&v, 0, sizeof(v));
    dd_strv_init(&v.problems);
    dd_strv_init(&v.kinds);
    v.repo = r;
    v.root = dir;
    v.dir = "migrations";
    v.base_name = "main";
    snprintf(v.base, sizeof(v.base), "%s", base);
    snprintf(v.head, sizeof(v.head), "%s", head);
    assert_int_equal(engine_verify_published(&v, &set, &err), 0);
    assert_int_equal(v.problems.n, 2);
    /* in path order */
    assert_string_equal(v.kinds.v[0], "modified");
    assert_non_null(strstr(v.problems.v[0], "\"crlf\""));
    assert_non_null(strstr(v.problems.v[0], "only line endings differ"));
    assert_string_equal(v.kinds.v[1], "out-of-order");
    assert_non_null(strstr(v.problems.v[1], "out of order: migrations/0003_c.up.sql (version 3 is not above 5"));
    engine_verify_release(&v);

    /* allowed out of order: only the edit is left */
    dd_strv_init(&v.problems);
    dd_strv_init(&v.kinds);
    v.allow_out_of_order = true;
    assert_int_equal(engine_verify_published(&v, &set, &err), 0);
    assert_int_equal(v.problems.n, 1);
    engine_verify_release(&v);

    migration_set_release(&set);
    repo_free(r);
    dd_error_release(&err);
    free(base);
    free(first);
    free(head);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        UNIT_TEST(test_edit_kind_tells_line_endings_whitespace_and_content),
        UNIT_TEST(test_change_origin_blames_the_first_edit_after_the_base),
        UNIT_TEST(test_protected_branch_prefers_configured_then_origin_main_then_main),
        UNIT_TEST(test_changelog_records_read_every_environment_at_a_commit),
        UNIT_TEST(test_verify_lists_edits_and_out_of_order_additions),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
