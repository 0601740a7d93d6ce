/*
 * Every file of the real-world corpus (../shared/corpus: six sets, 851 files) parses with
 * libpg_query, and libpg_query agrees with migrations/sql.c on every statement boundary.
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

/*
 * The one file PostgreSQL itself rejects (corpus README: a real upstream bug, "NOT NULL,;"):
 * it must fail here too, at that spot.
 */
#define BROKEN_FILE "migrations/20250408120918_app_config_cols.down.sql"

static void check_script(const struct migration_script *sc, size_t *nstmts, size_t *broken)
{
    struct lint_parsed p;
    char msg[256];
    size_t pos = 0;

    if (!sc->present)
        return;
    if (strcmp(sc->path, BROKEN_FILE) == 0) {
        assert_int_equal(lint_parse(&p, sc->sql.buf, sc->sql.len, msg, sizeof(msg), &pos), -1);
        assert_string_equal(msg, "syntax error at or near \";\"");
        assert_memory_equal(sc->sql.buf + pos - 9, "NOT NULL,;", 10);
        (*broken)++;
        return;
    }
    if (lint_parse(&p, sc->sql.buf, sc->sql.len, msg, sizeof(msg), &pos) < 0)
        fail_msg("%s: byte %zu: %s", sc->path, pos, msg);
    *nstmts += p.n;
    lint_parsed_release(&p);
    if (lint_check_split(sc->sql.buf, sc->sql.len, msg, sizeof(msg)) < 0)
        fail_msg("%s: %s", sc->path, msg);
}

static void test_every_corpus_file_parses_and_splits_alike(void **state)
{
    char *corpus = corpus_dir();
    size_t files = 0, stmts = 0, broken = 0;

    (void)state;
    assert_true(dd_is_dir(corpus));
    for (size_t s = 0; s < DD_ARRAY_SIZE(sets); s++) {
        struct migration_source src = MIGRATION_SOURCE_INIT;
        struct migration_set set = MIGRATION_SET_INIT;
        struct dd_error err = DD_ERROR_INIT;
        char *root = dd_xasprintf("%s/%s", corpus, sets[s]);

        if (migration_source_read_fs(&src, root, "migrations", &err) < 0 || migration_set_build(&set, &src, &err) < 0)
            fail_msg("%s: %s", sets[s], dd_error_msg(&err));
        files += src.n;
        for (size_t i = 0; i < set.n; i++) {
            check_script(&set.v[i].up, &stmts, &broken);
            check_script(&set.v[i].down, &stmts, &broken);
        }
        migration_set_release(&set);
        migration_source_release(&src);
        dd_error_release(&err);
        free(root);
    }
    print_message("corpus: %zu files, %zu statements\n", files, stmts);
    assert_int_equal(files, 851);
    assert_int_equal(broken, 1);
    assert_true(stmts > 3000);
    free(corpus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_corpus_file_parses_and_splits_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
