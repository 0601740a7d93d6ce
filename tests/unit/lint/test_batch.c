/*
 * lint_batch_run parses on several threads but must find exactly what lint_script on each script
 * in turn finds, in the same order: checked on the whole real-world corpus (../shared/corpus)
 * and on a small batch whose findings depend on the scripts before them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "lint/internal.h"
#include "migrations/migrations.h"
#include "util/fs.h"

#include "corpus_fixture.h"

/* Text and JSON renderings of a run: everything a user sees of it. */
static char *render(const struct lint_run *r)
{
    struct dd_buf b = DD_BUF_INIT;

    lint_render_text(&b, r);
    lint_render_json(&b, r);
    dd_buf_addf(&b, "\n%zu files, %zu statements, %zu errors, %zu warnings\n", r->files, r->statements, r->errors,
                r->warnings);
    return dd_buf_detach(&b, NULL);
}

/* Lint the inputs one by one with lint_script (threads == -1) or as one batch. */
static char *lint_inputs(const struct lint_input *v, size_t n, int threads)
{
    struct lint_run r;
    struct lint_batch b = LINT_BATCH_INIT;
    char *out;

    lint_run_init(&r);
    for (size_t i = 0; i < n; i++) {
        if (threads < 0)
            lint_script(&r, v[i].path, v[i].sql, v[i].len, v[i].single_tx);
        else
            lint_batch_add(&b, v[i].path, v[i].sql, v[i].len, v[i].single_tx);
    }
    if (threads >= 0) {
        lint_batch_run(&r, &b, (unsigned)threads);
        assert_int_equal(b.n, 0); /* emptied, ready for more */
    }
    out = render(&r);
    lint_batch_release(&b);
    lint_run_release(&r);
    return out;
}

static void test_corpus_batches_match_sequential_lint(void **state)
{
    char *corpus = corpus_dir();
    size_t total_findings = 0;

    (void)state;
    assert_true(dd_is_dir(corpus));
    for (size_t s = 0; s < DD_ARRAY_SIZE(sets); s++) {
        struct migration_source src = MIGRATION_SOURCE_INIT;
        struct migration_set set = MIGRATION_SET_INIT;
        struct dd_error err = DD_ERROR_INIT;
        char *root = dd_xasprintf("%s/%s", corpus, sets[s]), *seq;
        struct lint_input *v;
        size_t n = 0;

        if (migration_source_read_fs(&src, root, "migrations", &err) < 0 || migration_set_build(&set, &src, &err) < 0)
            fail_msg("%s: %s", sets[s], dd_error_msg(&err));
        /* as 'dbdeploy lint FILES' orders them: ups by version, then downs newest first */
        v = dd_xcalloc(2 * set.n + 1, sizeof(*v));
        for (size_t i = 0; i < set.n; i++)
            if (set.v[i].up.present)
                v[n++] = (struct lint_input){set.v[i].up.path, set.v[i].up.sql.buf, set.v[i].up.sql.len, i % 3 != 0};
        for (size_t i = set.n; i-- > 0;)
            if (set.v[i].down.present)
                v[n++] = (struct lint_input){set.v[i].down.path, set.v[i].down.sql.buf, set.v[i].down.sql.len, true};
        seq = lint_inputs(v, n, -1);
        for (int threads = 0; threads <= 4; threads++) {
            char *got = lint_inputs(v, n, threads);
            if (strcmp(got, seq) != 0)
                fail_msg("%s: %d threads find otherwise than lint_script", sets[s], threads);
            free(got);
        }
        total_findings += (size_t)(strstr(seq, "\"findings\":[]") == NULL);
        free(seq);
        free(v);
        migration_set_release(&set);
        migration_source_release(&src);
        dd_error_release(&err);
        free(root);
    }
    assert_true(total_findings >= 3); /* the comparison covers findings, not only empty runs */
    free(corpus);
}

/* Context crosses scripts: a table created by an earlier script is new, whichever thread parsed it. */
static void test_batch_keeps_context_and_order(void **state)
{
    static const char *const sql[] = {
        "CREATE TABLE t0 (id int);",
        "CREATE INDEX ON t0 (id);\nCREATE INDEX ON old (id);",
        "SELECT (;",
        "DROP TABLE old2;",
    };
    struct lint_input v[64];
    char path[DD_ARRAY_SIZE(v)][32];
    char *seq, *par;

    (void)state;
    for (size_t i = 0; i < DD_ARRAY_SIZE(v); i++) {
        snprintf(path[i], sizeof(path[i]), "%03zu.sql", i);
        v[i] = (struct lint_input){path[i], sql[i % 4], strlen(sql[i % 4]), true};
    }
    seq = lint_inputs(v, DD_ARRAY_SIZE(v), -1);
    par = lint_inputs(v, DD_ARRAY_SIZE(v), 8);
    assert_string_equal(par, seq);
    assert_non_null(strstr(seq, "001.sql:2:1: error: index-without-concurrently: old:"));
    assert_null(strstr(seq, "index-without-concurrently: t0"));
    assert_non_null(strstr(seq, "002.sql:1:9: error: syntax-error:"));
    assert_non_null(strstr(seq, "063.sql:1:1: error: drop-table: old2:"));
    assert_non_null(strstr(seq, "64 files, 64 statements, 48 errors, 0 warnings"));
    free(seq);
    free(par);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_batches_match_sequential_lint),
        cmocka_unit_test(test_batch_keeps_context_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
