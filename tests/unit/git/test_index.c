/*
 * git/index.c: the index file read in place. Every entry it reports must be the one libgit2
 * reads from the same file (index versions 2, 3 and 4), and whatever it does not understand
 * (a split index, a cut-off file) must come back as "cannot tell", never as a wrong answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git_fixture.h"

#include "git/internal.h"

struct seen {
    size_t n;
    char paths[16][128];
    struct repo_index_entry e[16];
};

static bool collect(const struct repo_index_entry *e, const char *name, void *arg)
{
    struct seen *s = arg;

    assert_true(s->n < 16);
    assert_string_equal(e->path + strlen(e->path) - strlen(name), name);
    snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", e->path);
    s->e[s->n] = *e;
    s->e[s->n].path = NULL; /* valid during the callback only */
    s->n++;
    return true;
}

static bool stop_at_first(const struct repo_index_entry *e, const char *name, void *arg)
{
    (void)e;
    (void)name;
    (*(size_t *)arg)++;
    return false;
}

static char *index_path_of(const char *dir)
{
    return dd_path_join(dir, ".git/index");
}

/* The walk's entries under prefix equal libgit2's, field by field. */
static void assert_same_as_libgit2(const char *dir, const char *prefix, size_t expected)
{
    struct seen s = {0};
    struct timespec mtime;
    char *path = index_path_of(dir);
    git_repository *repo = NULL;
    git_index *idx = NULL;
    size_t k = 0;

    assert_int_equal(repo_index_walk(path, prefix, collect, &s, &mtime), REPO_INDEX_DONE);
    assert_int_equal(s.n, expected);
    assert_int_equal(git_repository_open(&repo, dir), 0);
    assert_int_equal(git_repository_index(&idx, repo), 0);
    for (size_t i = 0; i < git_index_entrycount(idx); i++) {
        const git_index_entry *g = git_index_get_byindex(idx, i);

        if (strncmp(g->path, prefix, strlen(prefix)) != 0)
            continue;
        assert_true(k < s.n);
        assert_string_equal(s.paths[k], g->path);
        assert_memory_equal(s.e[k].oid, g->id.id, REPO_OID_RAW);
        assert_int_equal(s.e[k].mode, g->mode);
        assert_int_equal(s.e[k].size, g->file_size);
        assert_int_equal(s.e[k].ino, g->ino);
        assert_int_equal(s.e[k].mtime_s, (uint32_t)g->mtime.seconds);
        assert_int_equal(s.e[k].mtime_ns, g->mtime.nanoseconds);
        assert_int_equal(s.e[k].ctime_s, (uint32_t)g->ctime.seconds);
        assert_int_equal((s.e[k].flags >> 12) & 3, git_index_entry_stage(g));
        assert_int_equal(s.e[k].flags_ext & 0x6000, g->flags_extended & 0x6000);
        k++;
    }
    assert_int_equal(k, s.n);
    git_index_free(idx);
    git_repository_free(repo);
    free(path);
}

/* A repository with migrations (one name long enough to need more than one padding block) and other files. */
static char *repo_with_files(const char *name)
{
    char *d = fx_repo(name);

    fx_write(d, "README", "outside\n");
    fx_write(d, "migrations/0001_a.sql", "create table a (id int);\n");
    fx_write(d, "migrations/0002_b.sql", "create table b (id int);\n");
    fx_write(d, "migrations/0003_a_much_longer_name_than_the_others_to_vary_the_padding.sql", "select 3;\n");
    fx_write(d, "migrations/sub/0004_nested.sql", "select 4;\n");
    fx_write(d, "migrationsX/0001_sibling.sql", "shares the prefix without the slash\n");
    free(fx_commit(d, "files"));
    return d;
}

static void test_version_2_matches_libgit2(void **state)
{
    char *d = repo_with_files("v2");

    (void)state;
    fx_git(d, "update-index", "--index-version", "2");
    assert_same_as_libgit2(d, "migrations/", 4);
    assert_same_as_libgit2(d, "", 6);
    free(d);
}

static void test_version_3_intent_to_add_flag(void **state)
{
    char *d = repo_with_files("v3");
    struct seen s = {0};
    struct timespec mtime;
    char *path = index_path_of(d);

    (void)state;
    fx_write(d, "migrations/0005_new.sql", "select 5;\n");
    fx_git(d, "add", "-N", "migrations/0005_new.sql"); /* an extended flag: git writes version 3 */
    assert_same_as_libgit2(d, "migrations/", 5);
    assert_int_equal(repo_index_walk(path, "migrations/0005", collect, &s, &mtime), REPO_INDEX_DONE);
    assert_int_equal(s.n, 1);
    assert_true(s.e[0].flags & 0x4000);
    assert_true(s.e[0].flags_ext & 0x2000);
    free(path);
    free(d);
}

static void test_version_4_prefix_compressed_paths(void **state)
{
    char *d = repo_with_files("v4");

    (void)state;
    fx_git(d, "update-index", "--index-version", "4");
    assert_same_as_libgit2(d, "migrations/", 4);
    assert_same_as_libgit2(d, "", 6);
    free(d);
}

static void test_stops_when_the_callback_says_so(void **state)
{
    char *d = repo_with_files("stop");
    char *path = index_path_of(d);
    struct timespec mtime;
    struct stat st;
    size_t calls = 0;

    (void)state;
    assert_int_equal(repo_index_walk(path, "migrations/", stop_at_first, &calls, &mtime), REPO_INDEX_STOPPED);
    assert_int_equal(calls, 1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(mtime.tv_sec, st.st_mtim.tv_sec);
    assert_int_equal(mtime.tv_nsec, st.st_mtim.tv_nsec);
    free(path);
    free(d);
}

/* Entries kept in a shared index file: this walk does not follow it, so it cannot tell. */
static void test_split_index_is_unknown(void **state)
{
    char *d = repo_with_files("split");
    char *path = index_path_of(d);
    struct seen s = {0};
    struct timespec mtime;

    (void)state;
    fx_git(d, "update-index", "--split-index");
    assert_int_equal(repo_index_walk(path, "migrations/", collect, &s, &mtime), REPO_INDEX_UNKNOWN);
    free(path);
    free(d);
}

static void test_missing_or_foreign_file_is_unknown(void **state)
{
    char *d = fx_repo("noindex");
    char *path = index_path_of(d);
    struct seen s = {0};
    struct timespec mtime;

    (void)state;
    assert_int_equal(repo_index_walk(path, "", collect, &s, &mtime), REPO_INDEX_DONE); /* no entries yet */
    fx_remove(d, ".git/index");
    assert_int_equal(repo_index_walk(path, "", collect, &s, &mtime), REPO_INDEX_UNKNOWN);
    fx_write(d, ".git/index", "DIRC but not really an index file at all, long enough for a header\n");
    assert_int_equal(repo_index_walk(path, "", collect, &s, &mtime), REPO_INDEX_UNKNOWN);
    assert_int_equal(s.n, 0);
    free(path);
    free(d);
}

/*
 * Every prefix of a real index file (both path encodings): the walk never reads past the end
 * (ASan), and when it says it read the whole file, it saw every entry the whole file has.
 */
static void check_every_cut(const char *d)
{
    struct dd_error err = DD_ERROR_INIT;
    struct dd_buf whole = DD_BUF_INIT;
    char *path = index_path_of(d), *cut = dd_path_join(d, "cut-index");
    struct timespec mtime;
    struct seen all = {0};

    assert_int_equal(dd_read_file(&whole, path, &err), 0);
    assert_int_equal(repo_index_walk(path, "", collect, &all, &mtime), REPO_INDEX_DONE);
    for (size_t len = 0; len < whole.len; len++) {
        struct seen s = {0};
        int rc;

        fx_write_n(d, "cut-index", whole.buf, len);
        rc = repo_index_walk(cut, "", collect, &s, &mtime);
        assert_true(rc == REPO_INDEX_DONE || rc == REPO_INDEX_UNKNOWN);
        if (rc == REPO_INDEX_DONE)
            assert_int_equal(s.n, all.n);
    }
    dd_buf_release(&whole);
    free(cut);
    free(path);
}

static void test_cut_off_files_are_never_misread(void **state)
{
    char *d = repo_with_files("cuts");

    (void)state;
    fx_git(d, "update-index", "--index-version", "2");
    check_every_cut(d);
    fx_git(d, "update-index", "--index-version", "4");
    check_every_cut(d);
    free(d);
}

/* The status fast path on a version 4 index: a clean tree is clean, an edit is still seen. */
static void test_dirty_paths_on_version_4_index(void **state)
{
    char *d = repo_with_files("v4dirty");
    struct dd_strv v = DD_STRV_INIT;
    struct dd_error err = DD_ERROR_INIT;
    struct repo *r;

    (void)state;
    fx_git(d, "update-index", "--index-version", "4");
    sleep(1); /* the files must be older than the index to be trusted by their stat data */
    fx_git(d, "update-index", "--really-refresh");
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 0);
    repo_free(r);
    fx_write(d, "migrations/0002_b.sql", "create table b (id bigint);\n");
    r = fx_open(d);
    assert_int_equal(repo_dirty_paths(&v, r, "migrations", &err), 0);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.v[0], "modified: migrations/0002_b.sql");
    dd_strv_release(&v);
    repo_free(r);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_2_matches_libgit2),
        cmocka_unit_test(test_version_3_intent_to_add_flag),
        cmocka_unit_test(test_version_4_prefix_compressed_paths),
        cmocka_unit_test(test_stops_when_the_callback_says_so),
        cmocka_unit_test(test_split_index_is_unknown),
        cmocka_unit_test(test_missing_or_foreign_file_is_unknown),
        cmocka_unit_test(test_cut_off_files_are_never_misread),
        cmocka_unit_test(test_dirty_paths_on_version_4_index),
    };
    return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
