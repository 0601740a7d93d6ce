#include "db/rehearsal.h"

#include <stdio.h>
#include <stdlib.h>

#include "db/internal.h"
#include "version.h"

void db_rehearsal_release(struct db_rehearsal *r)
{
    if (!r)
        return;
    free(r->env);
    free(r->git_commit);
    free(r->plan);
    free(r->result);
    free(r->finished_at);
    free(r->rehearsed_by);
    free(r->archive);
    free(r->server);
    free(r->migrations);
    free(r->locks);
    free(r->error);
    memset(r, 0, sizeof(*r));
}

int db_rehearsal_insert(struct db_conn *c, const char *schema, struct db_rehearsal *r, struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char started[32], finished[32], total[32];
    char *q = dd_xasprintf("INSERT INTO %s.rehearsals (env, git_commit, plan, result, started_at, finished_at, "
                           "rehearsed_by, archive, server, total_ms, migrations, locks, error, dbdeploy_version) "
                           "VALUES ($1, $2, $3, $4, to_timestamp($5::float8 / 1000), to_timestamp($6::float8 / 1000), "
                           "$7, $8, $9, $10::bigint, $11::jsonb, $12::jsonb, $13, $14) RETURNING id",
                           qs);
    const char *params[] = {r->env,
                            r->git_commit,
                            r->plan,
                            r->result,
                            started,
                            finished,
                            r->rehearsed_by,
                            r->archive,
                            r->server,
                            total,
                            r->migrations ? r->migrations : "[]",
                            r->locks ? r->locks : "[]",
                            r->error,
                            DBDEPLOY_VERSION};
    PGresult *res;
    int rc = -1;

    snprintf(started, sizeof(started), "%llu", (unsigned long long)r->started_ms);
    snprintf(finished, sizeof(finished), "%llu", (unsigned long long)r->finished_ms);
    snprintf(total, sizeof(total), "%lld", (long long)r->total_ms);
    res = db_exec_one_row(c, q, 14, params, "cannot record the rehearsal in the ledger", err);
    if (!res)
        goto cleanup;
    r->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    rc = 0;
cleanup:
    PQclear(res);
    free(q);
    free(qs);
    return rc;
}

int db_rehearsal_find(struct db_rehearsal *out, bool *found, struct db_conn *c, const char *schema, const char *env,
                      bool matching, const char *commit, const char *plan, struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char *table = dd_xasprintf("%s.rehearsals", qs);
    char *exists = NULL;
    const char *tparams[] = {table};
    const char *params[] = {env, matching ? "true" : "false", commit, plan};
    char *q = NULL;
    PGresult *res = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    *found = false;
    /* an older ledger has no such table: read-only commands never upgrade it */
    if (db_query_value(c, &exists, "SELECT to_regclass($1) IS NOT NULL", 1, tparams, err) < 0)
        goto cleanup;
    if (!exists || strcmp(exists, "t") != 0) {
        rc = 0;
        goto cleanup;
    }
    q = dd_xasprintf("SELECT id, env, git_commit, plan, result, "
                     "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                     "(extract(epoch FROM now() - finished_at) * 1000)::bigint, rehearsed_by, archive, server, "
                     "total_ms, migrations::text, locks::text, error FROM %s WHERE env = $1 AND (NOT $2::bool OR "
                     "(git_commit IS NOT DISTINCT FROM $3 AND plan = $4 AND result = 'passed')) ORDER BY id DESC "
                     "LIMIT 1",
                     table);
    res = db_exec(c, q, 4, params, "cannot read the rehearsals from the ledger", err);
    if (!res)
        goto cleanup;
    if (PQntuples(res) == 1) {
        out->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        out->env = db_value_dup(res, 0, 1);
        out->git_commit = db_value_dup(res, 0, 2);
        out->plan = db_value_dup(res, 0, 3);
        out->result = db_value_dup(res, 0, 4);
        out->finished_at = db_value_dup(res, 0, 5);
        out->age_ms = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
        out->rehearsed_by = db_value_dup(res, 0, 7);
        out->archive = db_value_dup(res, 0, 8);
        out->server = db_value_dup(res, 0, 9);
        out->total_ms = strtoll(PQgetvalue(res, 0, 10), NULL, 10);
        out->migrations = db_value_dup(res, 0, 11);
        out->locks = db_value_dup(res, 0, 12);
        out->error = db_value_dup(res, 0, 13);
        *found = true;
    }
    rc = 0;
cleanup:
    PQclear(res);
    free(q);
    free(exists);
    free(table);
    free(qs);
    return rc;
}

int db_session_read_only(struct db_conn *c, bool on, struct dd_error *err)
{
    const char *params[] = {on ? "on" : "off"};

    return db_query_value(c, NULL, "SELECT set_config('default_transaction_read_only', $1, false)", 1, params, err);
}

int db_relation_oid_floor(struct db_conn *c, char **out, struct dd_error *err)
{
    *out = NULL;
    return db_query_value(c, out, "SELECT coalesce(max(oid::text::bigint), 0)::text FROM pg_class", 0, NULL, err);
}

int db_exclusive_locks(struct db_conn *c, const char *floor, struct dd_strv *out, struct dd_error *err)
{
    const char *params[] = {floor};
    PGresult *res = db_exec(c,
                            "SELECT coalesce(n.nspname || '.' || cl.relname, l.relation::text) FROM pg_locks l "
                            "LEFT JOIN pg_class cl ON cl.oid = l.relation "
                            "LEFT JOIN pg_namespace n ON n.oid = cl.relnamespace "
                            "WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted "
                            "AND l.mode = 'AccessExclusiveLock' AND l.relation::text::bigint <= $1::bigint "
                            "ORDER BY 1",
                            1, params, "cannot read the locks held", err);
    int rc = res ? 0 : -1;

    for (int i = 0; res && i < PQntuples(res); i++)
        dd_strv_push(out, PQgetvalue(res, i, 0));
    PQclear(res);
    return rc;
}
