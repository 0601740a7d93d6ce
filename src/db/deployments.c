#include "db/ledger.h"

#include <stdio.h>

#include "db/internal.h"
#include "util/buf.h"
#include "util/fs.h"
#include "version.h"

/* deployments.lint, a column newer than the row's others: its own statement in the insert's transaction. */
static int set_lint(struct db_conn *c, const char *qs, const struct db_deployment *d, struct dd_error *err)
{
    char *q = dd_xasprintf("UPDATE %s.deployments SET lint = $2::jsonb WHERE id = $1::bigint", qs);
    char id[32];
    const char *params[] = {id, d->lint_json};
    PGresult *res;
    int rc;

    snprintf(id, sizeof(id), "%lld", (long long)d->id);
    res = db_exec(c, q, 2, params, "cannot record the deployment's lint", err);
    rc = res ? 0 : -1;
    PQclear(res);
    free(q);
    return rc;
}

/* The suppressions each deployment used, from deployments.lint (absent on older ledgers: none). */
static int load_allows(struct db_deployments *out, struct db_conn *c, const char *qs, const char *env,
                       struct dd_error *err)
{
    char *q = dd_xasprintf("SELECT d.id, s.v ->> 'rule', s.v ->> 'file', coalesce(s.v ->> 'line', '0'), "
                           "s.v ->> 'reason' FROM %s.deployments d, jsonb_array_elements(coalesce(to_jsonb(d) -> "
                           "'lint' -> 'suppressions', '[]'::jsonb)) WITH ORDINALITY AS s(v, k) WHERE d.env = $1 AND "
                           "s.v ->> 'reason' IS NOT NULL AND coalesce((s.v ->> 'used')::bigint, 0) > 0 "
                           "ORDER BY d.id, s.k",
                           qs);
    const char *params[] = {env};
    PGresult *res = db_exec(c, q, 1, params, "cannot read the deployments' lint suppressions", err);
    int rc = res ? 0 : -1;

    for (int r = 0, k = 0; res && r < PQntuples(res); r++) {
        int64_t id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        struct db_deployment *d;
        struct db_deployment_allow *a;
        while ((size_t)k < out->n && out->v[k].id < id)
            k++;
        if ((size_t)k >= out->n || out->v[k].id != id)
            continue;
        d = &out->v[k];
        d->allow = dd_xrealloc(d->allow, (d->nallow + 1) * sizeof(*d->allow));
        a = &d->allow[d->nallow++];
        a->rule = db_value_dup(res, r, 1);
        a->file = db_value_dup(res, r, 2);
        a->line = strtoll(PQgetvalue(res, r, 3), NULL, 10);
        a->reason = db_value_dup(res, r, 4);
    }
    PQclear(res);
    free(q);
    return rc;
}

int db_deployment_insert(struct db_conn *c, const char *schema, struct db_deployment *d, struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char *ins = NULL, *ins_m = NULL;
    struct dd_buf versions = DD_BUF_INIT;
    PGresult *res = NULL;
    int rc = -1;

    dd_buf_addch(&versions, '{');
    for (size_t i = 0; i < d->n; i++)
        dd_buf_addf(&versions, "%s%lld", i ? "," : "", (long long)d->m[i].version);
    dd_buf_addch(&versions, '}');
    ins =
        dd_xasprintf("INSERT INTO %s.deployments (env, git_commit, deployed_by, started_at, finished_at, result, "
                     "versions, stages, archive, error, dbdeploy_version, recovery, kind, git_user, drift, guard) "
                     "VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7::bigint[], $8::jsonb, $9, $10, $11, "
                     "$12, $14, $15, $16, "
                     /* this transaction is dbdeploy's own too: a later undo must not count it as foreign */
                     "$13::jsonb || jsonb_build_object('record_xid', txid_current(), 'ledger_xid', "
                     "nullif(current_setting('dbdeploy.ledger_xid', true), '')::bigint)) RETURNING id",
                     qs);
    /* what an applied migration changed is in its ledger row by now; kept here for the changelog */
    ins_m = dd_xasprintf("INSERT INTO %1$s.deployment_migrations (deployment_id, version, name, file, checksum, "
                         "duration_ms, status, changes) VALUES ($1::bigint, $2::bigint, $3, $4, $5, $6::bigint, $7, "
                         "(SELECT changes FROM %1$s.migrations WHERE version = $2::bigint AND $7 = 'applied')) "
                         "RETURNING changes",
                         qs);
    res = db_exec(c, "BEGIN", 0, NULL, "cannot record the deployment", err);
    if (!res)
        goto cleanup;
    PQclear(res);
    {
        const char *params[] = {d->env,           d->git_commit,
                                d->deployed_by,   d->started_at,
                                d->finished_at,   d->result,
                                versions.buf,     d->stages_json ? d->stages_json : "[]",
                                d->archive,       d->error,
                                DBDEPLOY_VERSION, d->recovery,
                                d->guard_json,    d->kind ? d->kind : "deploy",
                                d->git_user,      d->drift};
        res = db_exec(c, ins, 16, params, "cannot record the deployment", err);
    }
    if (!res)
        goto cleanup;
    d->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    for (size_t i = 0; i < d->n; i++) {
        char id[32], v[32], ms[32];
        const char *params[] = {id, v, d->m[i].name, d->m[i].file, d->m[i].checksum, ms, d->m[i].status};
        snprintf(id, sizeof(id), "%lld", (long long)d->id);
        snprintf(v, sizeof(v), "%lld", (long long)d->m[i].version);
        snprintf(ms, sizeof(ms), "%lld", (long long)d->m[i].duration_ms);
        PQclear(res);
        res = db_exec(c, ins_m, 7, params, "cannot record the deployment's migrations", err);
        if (!res)
            goto cleanup;
        /* the caller renders the changelog entry from d: the same text a reload gives */
        free(d->m[i].changes);
        d->m[i].changes = db_value_dup(res, 0, 0);
    }
    PQclear(res);
    res = NULL;
    if (d->lint_json && set_lint(c, qs, d, err) < 0)
        goto cleanup;
    res = db_exec(c, "COMMIT", 0, NULL, "cannot record the deployment", err);
    if (!res)
        goto cleanup;
    rc = 0;
cleanup:
    PQclear(res);
    if (rc < 0)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    dd_buf_release(&versions);
    free(ins);
    free(ins_m);
    free(qs);
    return rc;
}

int db_deployments_load(struct db_deployments *out, struct db_conn *c, const char *schema, const char *env,
                        struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char *q1 = NULL, *q2 = NULL;
    const char *params[] = {env};
    PGresult *res = NULL;
    bool missing;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    /* to_jsonb(d) ->> 'recovery' is NULL on a ledger from before that column (read-only commands
     * such as log and changelog do not upgrade the ledger) */
    q1 = dd_xasprintf("SELECT id, env, git_commit, deployed_by, "
                      "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
                      "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), result, archive, "
                      "error, to_jsonb(d) ->> 'recovery', to_jsonb(d) ->> 'kind', to_jsonb(d) ->> 'git_user', "
                      "stages::text, to_jsonb(d) ->> 'drift' FROM %s.deployments d WHERE env = $1 ORDER BY id",
                      qs);
    q2 = dd_xasprintf(
        "SELECT m.deployment_id, m.version, m.name, m.file, m.checksum, m.duration_ms, m.status, "
        "to_jsonb(m) ->> 'changes' FROM %s.deployment_migrations m JOIN %s.deployments d ON d.id = m.deployment_id "
        "WHERE d.env = $1 ORDER BY m.deployment_id, m.version",
        qs, qs);
    res = db_exec_maybe_missing(c, &missing, q1, 1, params, "cannot read the deployments", err);
    if (!res) {
        if (missing)
            rc = 0; /* no ledger: no deployments */
        goto cleanup;
    }
    out->n = (size_t)PQntuples(res);
    out->v = dd_xcalloc(out->n ? out->n : 1, sizeof(*out->v));
    for (size_t i = 0; i < out->n; i++) {
        struct db_deployment *d = &out->v[i];
        d->id = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
        d->env = db_value_dup(res, (int)i, 1);
        d->git_commit = db_value_dup(res, (int)i, 2);
        d->deployed_by = db_value_dup(res, (int)i, 3);
        d->started_at = db_value_dup(res, (int)i, 4);
        d->finished_at = db_value_dup(res, (int)i, 5);
        d->result = db_value_dup(res, (int)i, 6);
        d->archive = db_value_dup(res, (int)i, 7);
        d->recovery = db_value_dup(res, (int)i, 9);
        d->error = db_value_dup(res, (int)i, 8);
        d->kind = db_value_dup(res, (int)i, 10);
        d->git_user = db_value_dup(res, (int)i, 11);
        d->stages_json = db_value_dup(res, (int)i, 12);
        d->drift = db_value_dup(res, (int)i, 13);
    }
    PQclear(res);
    res = db_exec(c, q2, 1, params, "cannot read the deployments' migrations", err);
    if (!res)
        goto cleanup;
    /* both are ordered by deployment id: walk them together */
    for (int r = 0, k = 0; r < PQntuples(res); r++) {
        int64_t id = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        struct db_deployment *d;
        struct db_deployment_migration *m;
        while ((size_t)k < out->n && out->v[k].id < id)
            k++;
        if ((size_t)k >= out->n || out->v[k].id != id)
            continue;
        d = &out->v[k];
        d->m = dd_xrealloc(d->m, (d->n + 1) * sizeof(*d->m));
        m = &d->m[d->n++];
        m->version = strtoll(PQgetvalue(res, r, 1), NULL, 10);
        m->name = db_value_dup(res, r, 2);
        m->file = db_value_dup(res, r, 3);
        m->checksum = db_value_dup(res, r, 4);
        m->duration_ms = strtoll(PQgetvalue(res, r, 5), NULL, 10);
        m->status = db_value_dup(res, r, 6);
        m->changes = db_value_dup(res, r, 7);
    }
    if (load_allows(out, c, qs, env, err) < 0)
        goto cleanup;
    rc = 0;
cleanup:
    PQclear(res);
    free(q1);
    free(q2);
    free(qs);
    if (rc < 0)
        db_deployments_release(out);
    return rc;
}

void db_deployment_release(struct db_deployment *d)
{
    free(d->env);
    free(d->git_commit);
    free(d->deployed_by);
    free(d->started_at);
    free(d->finished_at);
    free(d->result);
    free(d->stages_json);
    free(d->archive);
    free(d->recovery);
    free(d->drift);
    free(d->error);
    free(d->guard_json);
    free(d->kind);
    free(d->git_user);
    for (size_t k = 0; k < d->n; k++) {
        free(d->m[k].name);
        free(d->m[k].file);
        free(d->m[k].checksum);
        free(d->m[k].status);
        free(d->m[k].changes);
    }
    free(d->m);
    free(d->lint_json);
    for (size_t k = 0; k < d->nallow; k++) {
        free(d->allow[k].rule);
        free(d->allow[k].file);
        free(d->allow[k].reason);
    }
    free(d->allow);
    memset(d, 0, sizeof(*d));
}

void db_deployments_release(struct db_deployments *l)
{
    for (size_t i = 0; i < l->n; i++)
        db_deployment_release(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

int db_deployment_restore_refused(struct db_conn *c, const char *schema, const char *env, const char *archive,
                                  struct dd_error *err)
{
    struct db_deployments l = {NULL, 0};
    const struct db_deployment *last;
    int rc = -1;

    if (db_deployments_load(&l, c, schema, env, err) < 0)
        goto cleanup;
    last = l.n ? &l.v[l.n - 1] : NULL;
    rc = 0;
    if (!last || !last->recovery || strcmp(last->recovery, "refused") != 0 || !last->archive ||
        strcmp(dd_basename(last->archive), dd_basename(archive)) != 0)
        goto cleanup;
    rc = dd_error_set(err, DD_EBLOCKED,
                      "deployment #%lld did not restore %s because other sessions had written to %s since the "
                      "backup; restoring it now discards their writes",
                      (long long)last->id, archive, env);
    dd_error_hint(err, "Nothing was changed. If those writes may be lost, run again with --discard-writes.");
cleanup:
    db_deployments_release(&l);
    return rc;
}

int db_deployments_snapshot(char **out_deployments, char **out_migrations, struct db_conn *c, const char *schema,
                            struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    char *q1 =
        dd_xasprintf("SELECT coalesce(jsonb_agg(to_jsonb(d) ORDER BY id), '[]')::text FROM %s.deployments d", qs);
    char *q2 = dd_xasprintf("SELECT coalesce(jsonb_agg(to_jsonb(m)), '[]')::text FROM %s.deployment_migrations m", qs);
    int rc = -1;

    *out_deployments = *out_migrations = NULL;
    if (db_query_value(c, out_deployments, q1, 0, NULL, err) < 0 ||
        db_query_value(c, out_migrations, q2, 0, NULL, err) < 0) {
        free(*out_deployments);
        *out_deployments = NULL;
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(q1);
    free(q2);
    free(qs);
    return rc;
}

int db_deployments_carry(struct db_conn *c, const char *schema, const char *deployments, const char *migrations,
                         struct dd_error *err)
{
    char *qs = db_quote_ident(c, schema);
    /* one statement, one transaction: the history comes back whole or not at all */
    char *sql =
        dd_xasprintf("WITH gone AS (SELECT r.* FROM jsonb_populate_recordset(NULL::%1$s.deployments, $1::jsonb) r "
                     "WHERE NOT EXISTS (SELECT 1 FROM %1$s.deployments x WHERE x.id = r.id)), "
                     "d AS (INSERT INTO %1$s.deployments SELECT * FROM gone RETURNING id), "
                     "m AS (INSERT INTO %1$s.deployment_migrations SELECT r.* FROM "
                     "jsonb_populate_recordset(NULL::%1$s.deployment_migrations, $2::jsonb) r WHERE r.deployment_id IN "
                     "(SELECT id FROM gone) RETURNING 1) "
                     "SELECT setval(pg_get_serial_sequence('%1$s.deployments', 'id'), "
                     "greatest((SELECT max(id) FROM gone), (SELECT max(id) FROM %1$s.deployments), 1)) "
                     "FROM (SELECT count(*) FROM d) a, (SELECT count(*) FROM m) b",
                     qs);
    const char *params[] = {deployments, migrations};
    char *v = NULL;
    int rc = db_query_value(c, &v, sql, 2, params, err);

    if (rc < 0)
        dd_error_wrap(err, "cannot carry the deployment history across the restore");
    free(v);
    free(sql);
    free(qs);
    return rc;
}
