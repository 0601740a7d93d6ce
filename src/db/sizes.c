#include "db/db.h"

#include <stdlib.h>

#include "db/internal.h"

/*
 * The planner's row estimate (reltuples) and total size of every table. A table that was never
 * analyzed has reltuples -1 since PostgreSQL 14; the statistics collector's live-tuple count
 * stands in for it then.
 */
static const char sizes_sql[] =
    "SELECT CASE WHEN n.nspname = 'public' THEN c.relname::text ELSE n.nspname || '.' || c.relname END,"
    " CASE WHEN c.reltuples >= 0 THEN c.reltuples::float8 ELSE coalesce(s.n_live_tup, 0)::float8 END,"
    " pg_total_relation_size(c.oid)"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid"
    " WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname <> 'information_schema'"
    " AND n.nspname NOT LIKE 'pg\\_%'";

int db_table_sizes_read(struct db_table_sizes *out, struct db_conn *c, struct dd_error *err)
{
    PGresult *res = db_exec(c, sizes_sql, 0, NULL, "cannot read table sizes from the catalog", err);
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (!res)
        goto cleanup;
    out->n = (size_t)PQntuples(res);
    out->v = dd_xcalloc(out->n ? out->n : 1, sizeof(*out->v));
    for (size_t i = 0; i < out->n; i++) {
        out->v[i].name = dd_xstrdup(PQgetvalue(res, (int)i, 0));
        out->v[i].rows = strtod(PQgetvalue(res, (int)i, 1), NULL);
        out->v[i].bytes = strtoll(PQgetvalue(res, (int)i, 2), NULL, 10);
    }
    rc = 0;
cleanup:
    PQclear(res);
    return rc;
}

void db_table_sizes_release(struct db_table_sizes *s)
{
    for (size_t i = 0; s && i < s->n; i++)
        free(s->v[i].name);
    if (s) {
        free(s->v);
        memset(s, 0, sizeof(*s));
    }
}
