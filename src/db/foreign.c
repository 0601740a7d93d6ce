#include "db/db.h"

#include <stdio.h>

#include "db/internal.h"
#include "util/buf.h"

/* "schema_migrations" or "app.schema_migrations", each part quoted. */
static char *quote_table(struct db_conn *c, const char *table)
{
    const char *dot = strchr(table, '.');
    char *a, *b, *out;

    if (!dot)
        return db_quote_ident(c, table);
    a = dd_xstrndup(table, (size_t)(dot - table));
    b = dd_xstrdup(dot + 1);
    {
        char *qa = db_quote_ident(c, a), *qb = db_quote_ident(c, b);
        out = dd_xasprintf("%s.%s", qa, qb);
        free(qa);
        free(qb);
    }
    free(a);
    free(b);
    return out;
}

static const char *versions_sql(enum db_foreign_tool tool)
{
    switch (tool) {
    case DB_FOREIGN_GOLANG_MIGRATE:
        return "SELECT version::text, dirty, NULL FROM %s";
    case DB_FOREIGN_FLYWAY:
        /* repeatable migrations and the SCHEMA row have no version; history is in installed_rank order */
        return "SELECT version, NOT success, type FROM %s WHERE version IS NOT NULL ORDER BY installed_rank";
    default:
        return "SELECT version::text, false, NULL FROM %s";
    }
}

/* Flyway's type column: what the row did to its version. */
static enum db_flyway_op flyway_op(const char *type)
{
    if (strcmp(type, "BASELINE") == 0)
        return DB_FLYWAY_BASELINE;
    if (strncmp(type, "UNDO_", 5) == 0 || strcmp(type, "DELETE") == 0)
        return DB_FLYWAY_UNDONE;
    return DB_FLYWAY_APPLIED;
}

static int missing_table(struct dd_error *err, struct db_conn *c, enum db_foreign_tool tool, const char *table)
{
    dd_error_set(err, DD_EINPUT, "there is no table '%s' in %s", table, PQdb(c->pg));
    dd_error_hint(err, "Point --table at the other tool's migrations table (for example --table public.%s).",
                  tool == DB_FOREIGN_FLYWAY ? "flyway_schema_history" : "schema_migrations");
    return -1;
}

int db_foreign_versions_read(struct db_foreign_versions *out, struct db_conn *c, enum db_foreign_tool tool,
                             const char *table, struct dd_error *err)
{
    char *qt = quote_table(c, table);
    char *sql = dd_xasprintf(versions_sql(tool), qt);
    bool missing;
    PGresult *res =
        db_exec_maybe_missing(c, &missing, sql, 0, NULL, "cannot read the other tool's migrations table", err);
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!res) {
        if (missing)
            missing_table(err, c, tool, table);
        goto cleanup;
    }
    out->n = (size_t)PQntuples(res);
    out->v = dd_xcalloc(out->n ? out->n : 1, sizeof(*out->v));
    if (tool == DB_FOREIGN_FLYWAY)
        out->op = dd_xcalloc(out->n ? out->n : 1, sizeof(*out->op));
    for (int i = 0; i < PQntuples(res); i++) {
        const char *v = PQgetvalue(res, i, 0);
        char *end;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || x < 0) {
            dd_error_set(err, DD_EINPUT, "'%s' in %s is not a numeric migration version", v, table);
            dd_error_hint(err, "dbdeploy versions are whole numbers; migrations with other versions cannot be "
                               "adopted.");
            goto cleanup;
        }
        out->v[i] = x;
        if (out->op)
            out->op[i] = flyway_op(PQgetvalue(res, i, 2));
        if (PQgetvalue(res, i, 1)[0] == 't' && !out->dirty) {
            out->dirty = true;
            out->dirty_version = x;
        }
    }
    rc = 0;
cleanup:
    if (rc < 0)
        db_foreign_versions_release(out);
    PQclear(res);
    free(sql);
    free(qt);
    return rc;
}

void db_foreign_versions_release(struct db_foreign_versions *f)
{
    free(f->v);
    free(f->op);
    memset(f, 0, sizeof(*f));
}

/*
 * The ledgers other tools keep, told apart by name and columns: golang-migrate's and dbmate's
 * tables share the name schema_migrations, but golang-migrate's has (version bigint, dirty
 * boolean) and dbmate's (version varchar). Sqitch keeps a whole registry schema, "sqitch".
 */
static const char find_sql[] =
    "SELECT n.nspname, c.relname,"
    " EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'dirty' AND NOT a.attisdropped),"
    " (SELECT t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
    "   WHERE a.attrelid = c.oid AND a.attname = 'version' AND NOT a.attisdropped)"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND n.nspname <> $1"
    "   AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
    "   AND (c.relname IN ('schema_migrations', 'flyway_schema_history')"
    "        OR (n.nspname = 'sqitch' AND c.relname = 'changes'))"
    " ORDER BY n.nspname = 'public' DESC, n.nspname, c.relname";

static bool classify(enum db_foreign_tool *out, const char *schema, const char *table, bool dirty, const char *vtype)
{
    if (strcmp(table, "flyway_schema_history") == 0)
        *out = DB_FOREIGN_FLYWAY;
    else if (strcmp(table, "changes") == 0 && strcmp(schema, "sqitch") == 0)
        *out = DB_FOREIGN_SQITCH;
    else if (dirty && strcmp(vtype, "int8") == 0)
        *out = DB_FOREIGN_GOLANG_MIGRATE;
    else if (!dirty && strcmp(vtype, "varchar") == 0)
        *out = DB_FOREIGN_DBMATE;
    else
        return false; /* some other tool's schema_migrations: nothing we can name */
    return true;
}

int db_foreign_find(struct db_foreign_ledger *out, struct db_conn *c, const char *skip_schema, struct dd_error *err)
{
    const char *params[1] = {skip_schema};
    PGresult *res = db_exec(c, find_sql, 1, params, "cannot look for other migration tools' tables", err);
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!res)
        goto cleanup;
    rc = 0;
    for (int i = 0; i < PQntuples(res) && !rc; i++) {
        const char *schema = PQgetvalue(res, i, 0), *table = PQgetvalue(res, i, 1);
        if (!classify(&out->tool, schema, table, PQgetvalue(res, i, 2)[0] == 't', PQgetvalue(res, i, 3)))
            continue;
        out->schema = dd_xstrdup(schema);
        out->table = dd_xstrdup(table);
        rc = 1;
    }
cleanup:
    PQclear(res);
    return rc;
}

void db_foreign_ledger_release(struct db_foreign_ledger *f)
{
    free(f->schema);
    free(f->table);
    memset(f, 0, sizeof(*f));
}

const char *db_foreign_tool_name(enum db_foreign_tool tool)
{
    switch (tool) {
    case DB_FOREIGN_GOLANG_MIGRATE:
        return "golang-migrate";
    case DB_FOREIGN_DBMATE:
        return "dbmate";
    case DB_FOREIGN_FLYWAY:
        return "flyway";
    case DB_FOREIGN_SQITCH:
        return "sqitch";
    }
    return "?";
}
