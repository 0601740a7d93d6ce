#include "db/ledger.h"

#include <stdio.h>
#include <string.h>

#include "db/internal.h"
#include "util/buf.h"
#include "util/hash.h"

/* Bumped when the ledger tables change shape; a newer ledger is refused rather than misread. */
#define LEDGER_FORMAT 1

char *db_quote_ident(struct db_conn *c, const char *ident)
{
    char *q = PQescapeIdentifier(c->pg, ident, strlen(ident));
    char *copy;

    if (!q)
        DD_BUG("cannot quote identifier '%s'", ident);
    copy = dd_xstrdup(q);
    PQfreemem(q);
    return copy;
}

/* The repeatables table; missing on a ledger created before it (created by the next db_ledger_ensure). */
static int load_repeatables(struct db_ledger *out, struct db_conn *c, const char *qs, struct dd_error *err)
{
    char *sql = dd_xasprintf("SELECT name, file, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
                             "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), applied_by, git_commit, git_blob FROM %s.repeatables "
                             "ORDER BY name COLLATE \"C\"",
                             qs);
    PGresult *res = PQexec(c->pg, sql);
    const char *state;
    int rc = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (!state || strcmp(state, "42P01") != 0)
            rc = db_error_from_result(err, res, c->pg, "cannot read the ledger's repeatable migrations");
        goto cleanup;
    }
    out->nrep = (size_t)PQntuples(res);
    out->rep = dd_xcalloc(out->nrep ? out->nrep : 1, sizeof(*out->rep));
    for (size_t i = 0; i < out->nrep; i++) {
        struct db_ledger_repeatable *r = &out->rep[i];
        r->name = db_value_dup(res, (int)i, 0);
        r->file = db_value_dup(res, (int)i, 1);
        r->checksum = db_value_dup(res, (int)i, 2);
        r->applied_at = db_value_dup(res, (int)i, 3);
        r->applied_by = db_value_dup(res, (int)i, 4);
        r->git_commit = db_value_dup(res, (int)i, 5);
        r->git_blob = db_value_dup(res, (int)i, 6);
    }
cleanup:
    PQclear(res);
    free(sql);
    return rc;
}

/* The text columns of a ledger row, in the order of the SELECT below (NULL: none there). */
static char **row_texts(struct db_ledger_row *r, int col)
{
    switch (col) {
    case 1:
        return &r->name;
    case 2:
        return &r->file;
    case 3:
        return &r->checksum;
    case 8:
        return &r->dirty_op;
    case 9:
        return &r->error;
    case 10:
        return &r->applied_at;
    case 11:
        return &r->applied_by;
    case 13:
        return &r->git_commit;
    case 14:
        return &r->git_blob;
    case 15:
        return &r->changes;
    default:
        return NULL;
    }
}

/*
 * Every row's text in one block (out->strings): with 10,000 rows, one allocation instead of
 * 100,000 was a tenth of `status`.
 */
static void copy_rows(struct db_ledger *out, const PGresult *res)
{
    int n = PQntuples(res);
    size_t total = 0;
    char *p;

    for (int i = 0; i < n; i++)
        for (int col = 1; col < PQnfields(res); col++)
            if (!PQgetisnull(res, i, col))
                total += (size_t)PQgetlength(res, i, col) + 1;
    p = out->strings = dd_xmalloc(total ? total : 1);
    out->n = out->alloc = (size_t)n;
    out->rows = dd_xcalloc(out->n ? out->n : 1, sizeof(*out->rows));
    for (int i = 0; i < n; i++) {
        struct db_ledger_row *r = &out->rows[i];

        r->version = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        r->state = strcmp(PQgetvalue(res, i, 4), "dirty") == 0 ? DB_LEDGER_DIRTY : DB_LEDGER_APPLIED;
        r->transactional = PQgetvalue(res, i, 5)[0] == 't';
        r->statements_done = (int)strtol(PQgetvalue(res, i, 6), NULL, 10);
        r->statements_total = (int)strtol(PQgetvalue(res, i, 7), NULL, 10);
        r->duration_ms = strtoll(PQgetvalue(res, i, 12), NULL, 10);
        for (int col = 1; col < PQnfields(res); col++) {
            char **slot = row_texts(r, col);
            size_t len = (size_t)PQgetlength(res, i, col);

            if (!slot || PQgetisnull(res, i, col))
                continue;
            memcpy(p, PQgetvalue(res, i, col), len + 1);
            *slot = p;
            p += len + 1;
        }
    }
}

static void ledger_query(struct dd_buf *sql, const char *qs, bool with_changes)
{
    dd_buf_reset(sql);
    dd_buf_addf(sql,
                "SELECT version, name, file, checksum, state, transactional, statements_done, statements_total, "
                "dirty_op, error, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                "applied_by, duration_ms, git_commit, git_blob, %s FROM %s.migrations m ORDER BY version",
                with_changes ? "changes" : "NULL::text", qs);
}

/* The last result of the query in flight (as PQexec returns it); NULL when the connection broke. */
static PGresult *take_result(struct db_conn *c)
{
    PGresult *res = NULL, *r;

    while ((r = PQgetResult(c->pg))) {
        PQclear(res);
        res = r;
    }
    return res;
}

int db_ledger_prefetch(struct db_conn *c, const char *schema, struct dd_error *err)
{
    struct dd_buf sql = DD_BUF_INIT;
    char *qs = db_quote_ident(c, schema);
    int rc = 0;

    if (c->prefetched_schema)
        DD_BUG("db_ledger_prefetch: a ledger query is already in flight");
    ledger_query(&sql, qs, true);
    if (!PQsendQuery(c->pg, sql.buf))
        rc = db_error_from_result(err, NULL, c->pg, "cannot read the ledger");
    else
        c->prefetched_schema = dd_xstrdup(schema);
    dd_buf_release(&sql);
    free(qs);
    return rc;
}

/* The ledger's rows: the prefetched answer when there is one for this schema, else asked now. */
static PGresult *ledger_result(struct db_conn *c, const char *schema, const char *qs, bool with_changes,
                               struct dd_buf *sql)
{
    char *pending = c->prefetched_schema;

    c->prefetched_schema = NULL;
    if (pending) {
        bool mine = with_changes && strcmp(pending, schema) == 0;
        PGresult *res = take_result(c);

        free(pending);
        if (mine)
            return res;
        PQclear(res);
    }
    ledger_query(sql, qs, with_changes);
    return PQexec(c->pg, sql->buf);
}

int db_ledger_load(struct db_ledger *out, struct db_conn *c, const char *schema, struct dd_error *err)
{
    struct dd_buf sql = DD_BUF_INIT;
    char *qs = db_quote_ident(c, schema);
    PGresult *res = NULL;
    const char *state = NULL;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    /*
     * One round trip: a missing schema or table simply means nothing was ever applied. A ledger
     * from before the changes column is read again without it (read-only commands never upgrade
     * the ledger); to_jsonb(m) ->> 'changes' would cover both in one query, at four times the
     * server's time.
     */
    for (int with_changes = 1; with_changes >= 0; with_changes--) {
        PQclear(res);
        res = ledger_result(c, schema, qs, with_changes, &sql);
        state = PQresultStatus(res) == PGRES_TUPLES_OK ? NULL : PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (!state || strcmp(state, "42703") != 0)
            break;
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0)) {
            rc = 0; /* undefined table / schema: no ledger yet */
            goto cleanup;
        }
        db_error_from_result(err, res, c->pg, "cannot read the ledger");
        goto cleanup;
    }
    out->exists = true;
    copy_rows(out, res);
    rc = load_repeatables(out, c, qs, err);
cleanup:
    PQclear(res);
    dd_buf_release(&sql);
    free(qs);
    if (rc < 0)
        db_ledger_release(out);
    return rc;
}

const struct db_ledger_row *db_ledger_find(const struct db_ledger *l, int64_t version)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->rows[mid].version == version)
            return &l->rows[mid];
        if (l->rows[mid].version < version)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void db_ledger_release(struct db_ledger *l)
{
    free(l->strings); /* the rows' text */
    free(l->rows);
    for (size_t i = 0; i < l->nrep; i++) {
        struct db_ledger_repeatable *r = &l->rep[i];
        free(r->name);
        free(r->file);
        free(r->checksum);
        free(r->applied_at);
        free(r->applied_by);
        free(r->git_commit);
        free(r->git_blob);
    }
    free(l->rep);
    memset(l, 0, sizeof(*l));
}

const struct db_ledger_repeatable *db_ledger_find_repeatable(const struct db_ledger *l, const char *name)
{
    for (size_t i = 0; i < l->nrep; i++)
        if (strcmp(l->rep[i].name, name) == 0)
            return &l->rep[i];
    return NULL;
}

/*
 * Whether the ledger already is what the script `ddl` (hashed into ddl_hex) makes it: its info
 * row 'ddl' holds that hash, written by the script itself, and its format is one we read. Read
 * only, so it takes none of the script's table locks; any doubt (no ledger yet, an older or
 * newer script ran last, a query error) answers no and the caller runs the idempotent script.
 */
static bool ledger_current(struct db_conn *c, const char *qs, const char *ddl_hex)
{
    char *info = dd_xasprintf("%s.info", qs);
    const char *params[] = {info};
    char *sql = dd_xasprintf("SELECT max(value) FILTER (WHERE key = 'ddl') = '%s' AND max(value) FILTER "
                             "(WHERE key = 'format') = '%d' FROM %s.info WHERE key IN ('ddl', 'format')",
                             ddl_hex, LEDGER_FORMAT, qs);
    PGresult *res = PQexecParams(c->pg, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, params, NULL, NULL, 0);
    bool current = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

    PQclear(res);
    res = current ? PQexec(c->pg, sql) : NULL;
    current = current && PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    free(sql);
    free(info);
    return current;
}

int db_ledger_ensure(struct db_conn *c, const char *schema, struct dd_error *err)
{
    struct dd_buf sql = DD_BUF_INIT;
    char *qs = db_quote_ident(c, schema);
    PGresult *res = NULL;
    char *format = NULL;
    char ddl_hex[DD_SHA256_HEX_LEN + 1];
    int rc = -1;

    /* the whole script is one implicit transaction: the ledger appears complete or not at all */
    dd_buf_addf(&sql,
                "SET LOCAL client_min_messages = warning;\n"
                "CREATE SCHEMA IF NOT EXISTS %1$s;\n"
                "COMMENT ON SCHEMA %1$s IS 'dbdeploy ledger: applied migrations and deployments';\n"
                "CREATE TABLE IF NOT EXISTS %1$s.info (key text PRIMARY KEY, value text NOT NULL);\n"
                "INSERT INTO %1$s.info VALUES ('format', '%2$d') ON CONFLICT (key) DO NOTHING;\n"
                "CREATE TABLE IF NOT EXISTS %1$s.migrations (\n"
                "  version bigint PRIMARY KEY,\n"
                "  name text NOT NULL,\n"
                "  file text NOT NULL,\n"
                "  checksum text NOT NULL CHECK (checksum ~ '^sha256:[0-9a-f]{64}$'),\n"
                "  state text NOT NULL CHECK (state IN ('applied', 'dirty')),\n"
                "  transactional boolean NOT NULL,\n"
                "  statements_done integer NOT NULL DEFAULT 0,\n"
                "  statements_total integer NOT NULL DEFAULT 0,\n"
                "  dirty_op text CHECK (dirty_op IN ('apply', 'rollback')),\n"
                "  error text,\n"
                "  applied_at timestamptz NOT NULL DEFAULT now(),\n"
                "  applied_by text NOT NULL,\n"
                "  duration_ms bigint NOT NULL DEFAULT 0,\n"
                "  git_commit text,\n"
                "  git_blob text,\n"
                "  dbdeploy_version text NOT NULL\n"
                ");\n"
                "CREATE TABLE IF NOT EXISTS %1$s.deployments (\n"
                "  id bigserial PRIMARY KEY,\n"
                "  env text NOT NULL,\n"
                "  git_commit text,\n"
                "  deployed_by text NOT NULL,\n"
                "  started_at timestamptz NOT NULL,\n"
                "  finished_at timestamptz NOT NULL,\n"
                "  result text NOT NULL,\n"
                "  versions bigint[] NOT NULL DEFAULT '{}',\n"
                "  stages jsonb NOT NULL DEFAULT '[]',\n"
                "  archive text,\n"
                "  error text,\n"
                "  dbdeploy_version text NOT NULL\n"
                ");\n"
                "CREATE TABLE IF NOT EXISTS %1$s.deployment_migrations (\n"
                "  deployment_id bigint NOT NULL REFERENCES %1$s.deployments (id) ON DELETE CASCADE,\n"
                "  version bigint NOT NULL,\n"
                "  name text NOT NULL,\n"
                "  file text NOT NULL,\n"
                "  checksum text NOT NULL,\n"
                "  duration_ms bigint NOT NULL,\n"
                "  status text NOT NULL CHECK (status IN ('applied', 'restored', 'failed')),\n"
                "  PRIMARY KEY (deployment_id, version)\n"
                ");\n"
                /* schema upgrades of existing ledgers: additive, so older dbdeploy versions still read it */
                "ALTER TABLE %1$s.deployments ADD COLUMN IF NOT EXISTS recovery text;\n"
                /* dbdeploy rehearse ENV: one row per rehearsal of a plan on a copy (db/rehearsal.h) */
                "CREATE TABLE IF NOT EXISTS %1$s.rehearsals (\n"
                "  id bigserial PRIMARY KEY,\n"
                "  env text NOT NULL,\n"
                "  git_commit text,\n"
                "  plan text NOT NULL,\n"
                "  result text NOT NULL CHECK (result IN ('passed', 'failed')),\n"
                "  started_at timestamptz NOT NULL,\n"
                "  finished_at timestamptz NOT NULL,\n"
                "  rehearsed_by text NOT NULL,\n"
                "  archive text,\n"
                "  server text,\n"
                "  total_ms bigint NOT NULL,\n"
                "  migrations jsonb NOT NULL DEFAULT '[]',\n"
                "  locks jsonb NOT NULL DEFAULT '[]',\n"
                "  error text,\n"
                "  dbdeploy_version text NOT NULL\n"
                ");\n"
                "ALTER TABLE %1$s.deployments ADD COLUMN IF NOT EXISTS guard jsonb;\n"
                "INSERT INTO %1$s.info VALUES ('lock-protocol', '2') ON CONFLICT (key) DO UPDATE SET value = '2';\n"
                /* this transaction's id, for the foreign-write guard's list of dbdeploy's own (db/guard.h) */
                "SELECT set_config('dbdeploy.ledger_xid', txid_current()::text, false);\n"
                "ALTER TABLE %1$s.deployments ADD COLUMN IF NOT EXISTS lint jsonb;\n"
                "ALTER TABLE %1$s.migrations ADD COLUMN IF NOT EXISTS changes text;\n"
                "ALTER TABLE %1$s.deployments ADD COLUMN IF NOT EXISTS kind text;\n"
                "ALTER TABLE %1$s.deployments ADD COLUMN IF NOT EXISTS git_user text;\n"
                "ALTER TABLE %1$s.deployments ADD COLUMN IF NOT EXISTS drift text;\n"
                "ALTER TABLE %1$s.deployment_migrations ADD COLUMN IF NOT EXISTS changes text;\n"
                "CREATE TABLE IF NOT EXISTS %1$s.repeatables (\n"
                "  name text PRIMARY KEY,\n"
                "  file text NOT NULL,\n"
                "  checksum text NOT NULL CHECK (checksum ~ '^sha256:[0-9a-f]{64}$'),\n"
                "  applied_at timestamptz NOT NULL DEFAULT now(),\n"
                "  applied_by text NOT NULL,\n"
                "  duration_ms bigint NOT NULL DEFAULT 0,\n"
                "  git_commit text,\n"
                "  git_blob text,\n"
                "  dbdeploy_version text NOT NULL\n"
                ");\n",
                qs, LEDGER_FORMAT);
    /* most calls find the ledger as this script leaves it: skip its DDL and the locks it takes */
    dd_sha256_hex(sql.buf, sql.len, ddl_hex);
    if (ledger_current(c, qs, ddl_hex)) {
        rc = 0;
        goto cleanup;
    }
    dd_buf_addf(&sql,
                "INSERT INTO %1$s.info VALUES ('ddl', '%2$s') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;\n"
                "SELECT value FROM %1$s.info WHERE key = 'format';",
                qs, ddl_hex);
    res = db_exec(c, sql.buf, 0, NULL, "cannot create the ledger", err);
    if (!res) {
        dd_error_hint(err,
                      "The deploying role needs CREATE on the database (for schema '%s'), or create the "
                      "schema for it in advance.",
                      schema);
        goto cleanup;
    }
    format = PQntuples(res) ? dd_xstrdup(PQgetvalue(res, 0, 0)) : NULL;
    if (!format || strtol(format, NULL, 10) > LEDGER_FORMAT) {
        dd_error_set(err, DD_EBLOCKED, "the ledger in schema '%s' has format '%s', newer than this dbdeploy reads (%d)",
                     schema, format ? format : "?", LEDGER_FORMAT);
        dd_error_hint(err, "Upgrade dbdeploy; an older version could misread the newer ledger.");
        goto cleanup;
    }
    rc = 0;
cleanup:
    PQclear(res);
    free(format);
    dd_buf_release(&sql);
    free(qs);
    return rc;
}
