/*
 * Probes for the data-loss guard. Names arrive as the parser read them (unquoted, case-folded):
 * they are quoted here and resolved by the server (to_regclass), so a probe finds exactly the
 * relation the migration's statement will find, through the session's search_path.
 */
#include "db/dataloss.h"

#include <stdio.h>
#include <stdlib.h>

#include "db/internal.h"

/* '"schema"."table"' or '"table"' (caller frees). */
static char *qualified(struct db_conn *c, const char *schema, const char *table)
{
    char *qt = db_quote_ident(c, table), *out;

    if (!schema)
        return qt;
    {
        char *qs = db_quote_ident(c, schema);
        out = dd_xasprintf("%s.%s", qs, qt);
        free(qs);
    }
    free(qt);
    return out;
}

/* One value of a query (NULL when no row or NULL); -1 with err on failure. */
static int value(struct db_conn *c, char **out, const char *sql, int n, const char *const *params, struct dd_error *err)
{
    if (db_query_value(c, out, sql, n, params, err) < 0)
        return dd_error_wrap(err, "checking what the migration changes (data-loss guard)");
    return 0;
}

int db_count_rows(struct db_conn *c, const char *schema, const char *table, const char *column, int64_t limit,
                  int64_t *out, struct dd_error *err)
{
    char *rel = qualified(c, schema, table), *qc = NULL, *found = NULL, *sql = NULL, *n = NULL;
    char lim[32];
    const char *p1[] = {rel, column};
    const char *p2[] = {lim};
    int rc = -1;

    *out = -1;
    snprintf(lim, sizeof(lim), "%lld", (long long)limit);
    if (column)
        rc = value(c, &found,
                   "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 "
                   "AND NOT attisdropped",
                   2, p1, err);
    else
        rc = value(c, &found, "SELECT to_regclass($1)::oid", 1, p1, err);
    if (rc < 0 || !found)
        goto cleanup;
    if (column) {
        qc = db_quote_ident(c, column);
        sql = dd_xasprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s IS NOT NULL LIMIT $1::bigint) s", rel, qc);
    } else {
        sql = dd_xasprintf("SELECT count(*) FROM (SELECT 1 FROM %s LIMIT $1::bigint) s", rel);
    }
    rc = value(c, &n, sql, 1, p2, err);
    if (rc == 0 && n)
        *out = strtoll(n, NULL, 10);
cleanup:
    free(rel);
    free(qc);
    free(found);
    free(sql);
    free(n);
    return rc;
}

int db_schema_tables_with_rows(struct db_conn *c, const char *schema, size_t max, struct dd_strv *out,
                               struct dd_error *err)
{
    const char *params[] = {schema};
    PGresult *res = db_exec(c,
                            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 "
                            "AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
                            1, params, "cannot list the tables of a schema", err);
    int rc = -1;

    if (!res)
        goto cleanup;
    for (int i = 0; i < PQntuples(res) && out->n < max; i++) {
        /* the name was quoted by the server: safe to put into the text */
        char *sql = dd_xasprintf("SELECT 1 FROM %s LIMIT 1", PQgetvalue(res, i, 0)), *one = NULL;
        int r = value(c, &one, sql, 0, NULL, err);
        free(sql);
        if (r < 0)
            goto cleanup;
        if (one)
            dd_strv_push(out, PQgetvalue(res, i, 0));
        free(one);
    }
    rc = 0;
cleanup:
    PQclear(res);
    return rc;
}

int db_column_type(struct db_conn *c, const char *schema, const char *table, const char *column, char **typname,
                   int *typmod, struct dd_error *err)
{
    char *rel = qualified(c, schema, table), *v = NULL;
    const char *params[] = {rel, column};
    int rc;

    *typname = NULL;
    *typmod = -1;
    rc = value(c, &v,
               "SELECT t.typname || ' ' || a.atttypmod FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
               "WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped",
               2, params, err);
    if (rc == 0 && v && strchr(v, ' ')) {
        char *sp = strrchr(v, ' ');
        *typmod = (int)strtol(sp + 1, NULL, 10);
        *typname = dd_xstrndup(v, (size_t)(sp - v));
    }
    free(v);
    free(rel);
    return rc;
}

int db_guard_snapshot(struct db_conn *c, char **out, struct dd_error *err)
{
    return value(c, out,
                 "SELECT coalesce((SELECT array_agg(indexrelid::int8) FROM pg_index WHERE NOT indisvalid), '{}')::text"
                 " || '|' || coalesce((SELECT array_agg(oid::int8) FROM pg_constraint WHERE NOT convalidated), "
                 "'{}')::text",
                 0, NULL, err);
}

int db_guard_new_leftovers(struct db_conn *c, const char *snapshot, struct dd_strv *indexes,
                           struct dd_strv *constraints, struct dd_error *err)
{
    const char *bar = snapshot ? strchr(snapshot, '|') : NULL;
    char *idx = bar ? dd_xstrndup(snapshot, (size_t)(bar - snapshot)) : dd_xstrdup("{}");
    const char *params[] = {idx, bar ? bar + 1 : "{}"};
    PGresult *res = db_exec(
        c,
        "WITH t AS (SELECT c.oid, CASE WHEN n.nspname = 'public' THEN c.relname::text "
        "ELSE n.nspname || '.' || c.relname END AS key FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace) "
        "SELECT 'i', t.key || E'\\t' || i.indexrelid::regclass::text || ' on ' || i.indrelid::regclass::text "
        "FROM pg_index i JOIN t ON t.oid = i.indrelid "
        "WHERE NOT i.indisvalid AND NOT i.indexrelid::int8 = ANY ($1::int8[]) "
        "UNION ALL SELECT 'c', t.key || E'\\t' || quote_ident(conname) || ' on ' || conrelid::regclass::text "
        "FROM pg_constraint JOIN t ON t.oid = conrelid "
        "WHERE NOT convalidated AND NOT pg_constraint.oid::int8 = ANY ($2::int8[]) ORDER BY 1, 2",
        2, params, "cannot read invalid indexes and constraints", err);
    int rc = -1;

    if (!res) {
        dd_error_wrap(err, "checking what the migration left behind (data-loss guard)");
        goto cleanup;
    }
    for (int i = 0; i < PQntuples(res); i++)
        dd_strv_push(PQgetvalue(res, i, 0)[0] == 'i' ? indexes : constraints, PQgetvalue(res, i, 1));
    rc = 0;
cleanup:
    PQclear(res);
    free(idx);
    return rc;
}
