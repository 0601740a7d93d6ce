#ifndef DBDEPLOY_TESTS_UNIT_ENGINE_FIXTURE_H
#define DBDEPLOY_TESTS_UNIT_ENGINE_FIXTURE_H

/*
 * Shared by the engine unit tests. Include after unit.h.
 */
#include "engine/engine.h"
#include "util/hash.h"

/* Files and ledger rows are built in memory: the join and the refusal rules need no database. */
static struct migration_source src;
static struct migration_set set;
static struct db_ledger ledger;
static struct engine_status st;
static struct engine_opts opts;
static struct dd_error err;

DD_UNUSED static int setup(void **state)
{
    (void)state;
    migration_source_init(&src, "migrations", NULL);
    memset(&set, 0, sizeof(set));
    memset(&ledger, 0, sizeof(ledger));
    st = (struct engine_status)ENGINE_STATUS_INIT;
    memset(&opts, 0, sizeof(opts));
    opts.env = "prod";
    opts.schema = "dbdeploy";
    err = (struct dd_error)DD_ERROR_INIT;
    return 0;
}

DD_UNUSED static int teardown(void **state)
{
    (void)state;
    engine_status_release(&st);
    for (size_t i = 0; i < ledger.n; i++) {
        free(ledger.rows[i].file);
        free(ledger.rows[i].checksum);
    }
    free(ledger.rows);
    for (size_t i = 0; i < ledger.nrep; i++) {
        free(ledger.rep[i].name);
        free(ledger.rep[i].checksum);
    }
    free(ledger.rep);
    migration_set_release(&set);
    migration_source_release(&src);
    dd_error_release(&err);
    return 0;
}

DD_UNUSED static void file(const char *name, const char *sql)
{
    migration_source_add(&src, name, sql, strlen(sql), NULL);
}

/* A ledger row for version v recorded with this file name and the checksum of `sql`. */
DD_UNUSED static void row(int64_t v, const char *file_name, const char *sql, enum db_ledger_state state)
{
    struct db_ledger_row *r;
    char sum[DD_CHECKSUM_LEN + 1];

    ledger.rows = realloc(ledger.rows, (ledger.n + 1) * sizeof(*ledger.rows));
    r = &ledger.rows[ledger.n++];
    memset(r, 0, sizeof(*r));
    dd_checksum(sql, strlen(sql), sum);
    r->version = v;
    r->file = dd_xasprintf("migrations/%s", file_name);
    r->checksum = dd_xstrdup(sum);
    r->state = state;
    r->statements_total = 3;
    r->statements_done = 1;
    ledger.exists = true;
}

/* The ledger's record of the last run of repeatable migration `name` ("repeatable/x.sql"), of these bytes. */
DD_UNUSED static void rep_row(const char *name, const char *sql)
{
    struct db_ledger_repeatable *r;
    char sum[DD_CHECKSUM_LEN + 1];

    ledger.rep = realloc(ledger.rep, (ledger.nrep + 1) * sizeof(*ledger.rep));
    r = &ledger.rep[ledger.nrep++];
    memset(r, 0, sizeof(*r));
    dd_checksum(sql, strlen(sql), sum);
    r->name = dd_xstrdup(name);
    r->checksum = dd_xstrdup(sum);
    ledger.exists = true;
}

DD_UNUSED static void build(void)
{
    assert_int_equal(migration_set_build(&set, &src, &err), 0);
    engine_status_build(&st, &set, &ledger);
}

#endif
